/*
 * http.h — the request context handlers receive, and how they answer.
 *
 * The server resolves the route, authenticates the caller, enforces scope
 * and rate limits, and parses the JSON body before a handler runs. A handler
 * therefore sees a verified principal (r->who) and, for POST/PATCH, a JSON
 * object (r->json). It answers with exactly one rn_reply_* call.
 *
 * Memory: everything hanging off rn_req belongs to the request and is freed
 * when the response has been sent. rn_reply_json steals its json_t.
 */
#ifndef RN_HTTP_HTTP_H
#define RN_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "core/errors.h"
#include "store/db.h"

struct MHD_Connection;
typedef struct rn_req rn_req;
typedef void (*rn_handler)(rn_req *r);
/* A request's store writes, run by rn_req_write. arg belongs to the request. */
typedef void (*rn_write_fn)(rn_req *r, void *arg);

typedef enum {
    RN_AUTH_NONE,       /* public */
    RN_AUTH_SERVER_KEY, /* tenant server key (+ scope) */
    RN_AUTH_SDK,        /* SDK token of route->audience (+ scope) */
    RN_AUTH_DASHBOARD   /* dashboard session cookie */
} rn_auth_kind;

typedef enum {
    RN_BODY_JSON = 0, /* POST/PATCH need a JSON object body */
    RN_BODY_NONE = 1  /* no body expected; one that is sent must still be JSON */
} rn_body_rule;

typedef struct rn_route {
    const char *method;
    const char *pattern; /* "/api/server/contacts/{id}" */
    rn_auth_kind auth;
    const char *scope;    /* required scope, or NULL */
    const char *audience; /* for RN_AUTH_SDK: "ringnity:agent", ... */
    rn_handler handler;
    rn_body_rule body;
    /* Read-only: on SQLite, authentication and the handler read from one
     * snapshot (one WAL read lock for the request instead of one per
     * statement). The handler must not open a transaction of its own. */
    bool snapshot;
} rn_route;

#define RN_MAX_PATH_PARAMS 3
#define RN_MAX_REPLY_HEADERS 12

/* Who is calling, once authenticated. */
typedef struct {
    char tenant_id[48];
    char tenant_slug[64];
    char tenant_timezone[64];
    char tenant_country[8];
    char key_id[48];   /* server key id, or "" */
    char actor[64];    /* key id, staff id, or "cli" */
    char scopes[1024]; /* space separated, as granted */
    char subject[160]; /* SDK token `sub` */
    json_t *claims;    /* SDK token claims (owned), or NULL */
    long long key_used_ms; /* a server key's last use to record, or 0 */
} rn_principal;

struct rn_req {
    rn_app *app;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char request_id[136];
    char client_ip[64];
    long long started_ms;
    bool began_after_stop; /* arrived once shutdown had begun: refused */
    bool http11;           /* HTTP/1.1 requires a Host header */

    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    json_t *json; /* parsed body object, or NULL */

    const rn_route *route;
    int route_index;
    bool handler_ran; /* false: the pipeline answered before the handler */
    char *params[RN_MAX_PATH_PARAMS];
    bool authenticated;
    rn_principal who;
    rn_db *db; /* taken from the pool on first rn_req_db() */
    bool db_unavailable; /* the pool had none to give: do not wait again */
    bool snapshot;       /* r->db holds the route's read snapshot (rn_route) */

    int status;
    char *reply;
    size_t reply_len;
    const char *content_type;
    char *reply_headers[RN_MAX_REPLY_HEADERS][2];
    int reply_header_count;
    /* Header names and values live here while they fit (no malloc per
     * header); larger ones are strdup'ed. */
    char reply_header_text[512];
    size_t reply_header_used;
    const char *error_code; /* for the log line */

    /* rn_req_write: the work, its argument (freed with write_free when the
     * request ends), and where it is (http/writer.h). */
    rn_write_fn write_fn;
    void *write_arg;
    void (*write_free)(void *arg);
    enum { RN_WRITE_NONE, RN_WRITE_QUEUED, RN_WRITE_DONE } write_state;
    struct rn_req *write_next;
    int idem; /* rn_idem_state of this request, for when a queued write ends */
};

/* The request's store connection (taken on first use, returned at the end).
 * NULL means the store is unreachable: reply SERVER_UNAVAILABLE. */
rn_db *rn_req_db(rn_req *r);
const char *rn_req_query(rn_req *r, const char *name);
const char *rn_req_header(rn_req *r, const char *name);
/* How many times a header was sent (credentials must not be repeated). */
int rn_req_header_count(rn_req *r, const char *name);
/* Path parameter by position ({id} is 0). */
const char *rn_req_param(rn_req *r, int i);
/* True if the principal holds scope (exact match in the space-separated list). */
bool rn_req_has_scope(const rn_req *r, const char *scope);

void rn_reply_json(rn_req *r, int status, json_t *body);
void rn_reply_text(rn_req *r, int status, const char *content_type, const char *text, size_t len);
void rn_reply_empty(rn_req *r, int status);
/* The contract's error shape. message NULL uses the table's; details stolen (may be NULL). */
void rn_reply_error(rn_req *r, rn_err code, const char *message, json_t *details);
/* Shorthand for validation failures: code with a details array (stolen). */
void rn_reply_invalid(rn_req *r, rn_err code, json_t *details);
void rn_reply_header(rn_req *r, const char *name, const char *value);

/* Runs fn(r, arg), which writes to the store in transactions of its own and
 * answers. On SQLite the call returns at once and fn runs later on the
 * writer thread, in one commit with other requests' writes (http/writer.h),
 * so fn must take everything it needs from arg and r, not from the caller's
 * stack, and must be able to run a second time if the group fails. arg
 * belongs to the request from here on: free_arg(arg) runs when the request
 * ends (free_arg may be NULL). */
void rn_req_write(rn_req *r, rn_write_fn fn, void *arg, void (*free_arg)(void *arg));

/* Parses ?limit= (1..100, default 25): returns -1 after replying 400. */
int rn_req_limit(rn_req *r, int *limit);

#endif
