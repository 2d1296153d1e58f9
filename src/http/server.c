#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/idempotency.h"
#include "core/json.h"
#include "core/log.h"
#include "core/text.h"
#include "core/util.h"
#include "http/headwatch.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/writer.h"

struct rn_server {
    struct MHD_Daemon *daemon;
    rn_app *app;
};

/* Requests between their first byte and their completion, for shutdown. */
static _Atomic int in_flight;

/* A request head must be complete this long after the connection started
 * waiting for it (see http/headwatch.h); one server per process. */
#define HEAD_DEADLINE_MS 10000
static rn_headwatch *head_watch;

/* Group commit of request writes, on SQLite only (http/writer.h). */
static rn_writer *writer;

static rn_headwatch_conn *watched(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = info ? rn_headwatch_add(head_watch, info->connect_fd) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        rn_headwatch_remove(head_watch, *socket_context);
        *socket_context = NULL;
    }
}

/* ---- request context ------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool request_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void client_address(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

static rn_req *req_new(rn_app *app, struct MHD_Connection *c, const char *url, const char *method)
{
    rn_req *r = calloc(1, sizeof *r);
    in_flight++;
    r->app = app;
    r->conn = c;
    r->method = method;
    r->path = url;
    r->started_ms = rn_mono_ms();
    r->began_after_stop = app->stopping;
    r->route_index = -1;
    const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && request_id_ok(rid))
        snprintf(r->request_id, sizeof r->request_id, "%s", rid);
    else
        rn_id_new("req", r->request_id, sizeof r->request_id);
    client_address(c, r->client_ip, sizeof r->client_ip);
    return r;
}

/* A copy of s for a reply header: in the request's own buffer if it fits. */
static char *header_text(rn_req *r, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > sizeof r->reply_header_text - r->reply_header_used)
        return strdup(s);
    char *p = r->reply_header_text + r->reply_header_used;
    memcpy(p, s, n);
    r->reply_header_used += n;
    return p;
}

static void header_text_free(rn_req *r, char *p)
{
    uintptr_t base = (uintptr_t)r->reply_header_text, at = (uintptr_t)p;
    if (at < base || at >= base + sizeof r->reply_header_text)
        free(p);
}

static void req_free(rn_req *r)
{
    if (r->write_free)
        r->write_free(r->write_arg);
    if (r->db)
        rn_pool_release(r->app->pool, r->db);
    for (int i = 0; i < RN_MAX_PATH_PARAMS; i++)
        free(r->params[i]);
    for (int i = 0; i < r->reply_header_count; i++) {
        header_text_free(r, r->reply_headers[i][0]);
        header_text_free(r, r->reply_headers[i][1]);
    }
    json_decref(r->json);
    json_decref(r->who.claims);
    free(r->body);
    free(r->reply);
    free(r);
}

static void body_append(rn_req *r, const char *data, size_t len)
{
    if (r->body_too_large)
        return;
    if (r->body_len + len > (size_t)r->app->cfg.max_body_bytes) {
        r->body_too_large = true;
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        return;
    }
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        r->body = realloc(r->body, cap);
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
}

/* ---- accessors and replies (http.h) ------------------------------------ */

rn_db *rn_req_db(rn_req *r)
{
    if (!r->db && !r->db_unavailable) {
        r->db = rn_pool_acquire(r->app->pool);
        r->db_unavailable = r->db == NULL;
        /* A route's snapshot begins with its first read (http.h). It is
         * only an optimisation: without one (PostgreSQL, or BEGIN failed)
         * each statement reads on its own. */
        if (r->db && r->route && r->route->snapshot && rn_db_dialect(r->db) == RN_DB_SQLITE)
            r->snapshot = rn_db_begin_read(r->db) == 0;
    }
    return r->db;
}

const char *rn_req_query(rn_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *rn_req_header(rn_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

typedef struct {
    const char *name;
    int count;
} header_count;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    header_count *hc = cls;
    if (strcasecmp(key, hc->name) == 0)
        hc->count++;
    return MHD_YES;
}

int rn_req_header_count(rn_req *r, const char *name)
{
    header_count hc = {name, 0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &hc);
    return hc.count;
}

const char *rn_req_param(rn_req *r, int i)
{
    return i >= 0 && i < RN_MAX_PATH_PARAMS ? r->params[i] : NULL;
}

bool rn_req_has_scope(const rn_req *r, const char *scope)
{
    size_t n = strlen(scope);
    for (const char *p = r->who.scopes; (p = strstr(p, scope)) != NULL; p += n) {
        bool starts = p == r->who.scopes || p[-1] == ' ';
        bool ends = p[n] == '\0' || p[n] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}

void rn_reply_text(rn_req *r, int status, const char *content_type, const char *text, size_t len)
{
    free(r->reply);
    r->reply = malloc(len + 1);
    memcpy(r->reply, text, len);
    r->reply[len] = '\0';
    r->reply_len = len;
    r->status = status;
    r->content_type = content_type;
}

void rn_reply_json(rn_req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    free(r->reply);
    r->reply = text;
    r->reply_len = strlen(text);
    r->status = status;
    r->content_type = "application/json";
}

void rn_reply_empty(rn_req *r, int status)
{
    free(r->reply);
    r->reply = NULL;
    r->reply_len = 0;
    r->status = status;
    r->content_type = NULL;
}

void rn_reply_error(rn_req *r, rn_err code, const char *message, json_t *details)
{
    json_t *err = json_pack("{s:s, s:s, s:s}", "code", rn_err_code(code), "message",
                            message ? message : rn_err_message(code), "requestId",
                            r->request_id);
    if (details && json_array_size(details) > 0)
        json_object_set(err, "details", details);
    json_decref(details);
    r->error_code = rn_err_code(code);
    rn_reply_json(r, rn_err_status(code), json_pack("{s:o}", "error", err));
}

void rn_reply_invalid(rn_req *r, rn_err code, json_t *details)
{
    rn_reply_error(r, code, NULL, details);
}

void rn_reply_header(rn_req *r, const char *name, const char *value)
{
    for (int i = 0; i < r->reply_header_count; i++) {
        if (strcasecmp(r->reply_headers[i][0], name) == 0) {
            header_text_free(r, r->reply_headers[i][1]);
            r->reply_headers[i][1] = header_text(r, value);
            return;
        }
    }
    if (r->reply_header_count == RN_MAX_REPLY_HEADERS)
        return;
    r->reply_headers[r->reply_header_count][0] = header_text(r, name);
    r->reply_headers[r->reply_header_count][1] = header_text(r, value);
    r->reply_header_count++;
}

void rn_req_write(rn_req *r, rn_write_fn fn, void *arg, void (*free_arg)(void *arg))
{
    r->write_arg = arg;
    r->write_free = free_arg;
    if (!writer) {
        fn(r, arg);
        return;
    }
    /* The request waits without a connection: the writer brings its own. */
    if (r->db) {
        rn_pool_release(r->app->pool, r->db);
        r->db = NULL;
    }
    r->write_fn = fn;
    r->write_state = RN_WRITE_QUEUED;
}

/* From the writer thread: r's work is over, let libmicrohttpd send it. */
static void write_done(rn_req *r)
{
    r->write_state = RN_WRITE_DONE;
    MHD_resume_connection(r->conn);
}

int rn_req_limit(rn_req *r, int *limit)
{
    const char *s = rn_req_query(r, "limit");
    long long v = 25;
    if (s && rn_parse_int(s, 1, 100, &v) != 0) {
        json_t *details = json_array();
        rn_detail_add(details, "limit", "must_be_integer_1_to_100");
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
        return -1;
    }
    *limit = (int)v;
    return 0;
}

/* ---- the pipeline ------------------------------------------------------ */

static bool method_has_body(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0;
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Parses the body into r->json. Returns 0, or -1 after replying. */
static int read_body(rn_req *r)
{
    if (!method_has_body(r->method))
        return 0;
    if (r->body_len == 0) {
        if (r->route->body == RN_BODY_NONE)
            return 0;
        rn_reply_error(r, RN_SERVER_REQUEST_INVALID_JSON, "A JSON object body is required.",
                       NULL);
        return -1;
    }
    if (!is_json_type(rn_req_header(r, "Content-Type"))) {
        rn_reply_error(r, RN_SERVER_UNSUPPORTED_MEDIA_TYPE, NULL, NULL);
        return -1;
    }
    char why[96], message[160];
    r->json = rn_json_parse_object(r->body, r->body_len, why, sizeof why);
    if (!r->json) {
        snprintf(message, sizeof message, "The request body is not a valid JSON object: %s.", why);
        rn_reply_error(r, RN_SERVER_REQUEST_INVALID_JSON, message, NULL);
        return -1;
    }
    return 0;
}

static int authenticate(rn_req *r)
{
    switch (r->route->auth) {
    case RN_AUTH_NONE:
        return 0;
    case RN_AUTH_SERVER_KEY:
        return rn_auth_server_key(r);
    case RN_AUTH_SDK:
        return rn_auth_sdk_token(r);
    case RN_AUTH_DASHBOARD:
        return rn_auth_dashboard(r);
    }
    return -1;
}

typedef struct {
    bool nul;
    int content_length;
} header_scan;

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    header_scan *hs = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size))
        hs->nul = true;
    if (strcasecmp(key, "Content-Length") == 0)
        hs->content_length++;
    return MHD_YES;
}

/* Header values with a NUL byte would be cut short where they are read, and
 * two Content-Length headers are a request-smuggling vector: refuse both. */
static bool headers_sane(rn_req *r)
{
    header_scan hs = {false, 0};
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, scan_header, &hs);
    if (!hs.nul && hs.content_length <= 1)
        return true;
    rn_reply_error(r, RN_SERVER_REQUEST_VALIDATION_FAILED,
                   hs.nul ? "A header contains a NUL character."
                          : "More than one Content-Length header.",
                   NULL);
    rn_reply_header(r, "Connection", "close");
    return false;
}

/* After the handler has answered; for a write queued on the writer, on the
 * writer's thread right after the write, inside its group (http/writer.h). */
static void handler_ended(rn_req *r)
{
    if (r->status == 0)
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
    if (r->idem == RN_IDEM_PROCEED)
        rn_idempotency_finish(r);
}

/* Authentication, the body, idempotency and the handler. */
static void run_route(rn_req *r)
{
    int refused = authenticate(r);
    /* A found key's use is recorded even when the request is then refused
     * (scope, rate limit); now, before a write may suspend the request,
     * unless a snapshot is open (after it, in dispatch). */
    if (!r->snapshot)
        rn_auth_record_use(r);
    if (refused != 0 || read_body(r) != 0)
        return;
    r->idem = rn_idempotency_begin(r);
    if (r->idem == RN_IDEM_ANSWERED)
        return;
    r->handler_ran = true;
    r->route->handler(r);
    if (r->write_state != RN_WRITE_QUEUED)
        handler_ended(r);
}

static void dispatch(rn_req *r)
{
    if (!headers_sane(r))
        return;
    if (r->http11 && !rn_req_header(r, "Host")) {
        rn_reply_error(r, RN_SERVER_REQUEST_VALIDATION_FAILED, "HTTP/1.1 needs a Host header.",
                       NULL);
        return;
    }
    char allow[64];
    /* HEAD is GET without a body (libmicrohttpd drops the body). */
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    r->route_index = rn_router_match(method, r->path, r->params, allow, sizeof allow);
    if (r->route_index < 0) {
        if (allow[0]) {
            rn_reply_header(r, "Allow", allow);
            rn_reply_error(r, RN_SERVER_METHOD_NOT_ALLOWED, NULL, NULL);
        } else {
            rn_reply_error(r, RN_SERVER_ROUTE_NOT_FOUND, NULL, NULL);
        }
        return;
    }
    r->route = &RN_ROUTES[r->route_index];
    if (r->body_too_large) {
        rn_reply_error(r, RN_SERVER_REQUEST_TOO_LARGE, NULL, NULL);
        return;
    }
    run_route(r);
    if (r->snapshot) {
        rn_db_rollback(r->db); /* nothing to keep: it only read */
        r->snapshot = false;
        rn_auth_record_use(r);
    }
}

static bool has_reply_header(const rn_req *r, const char *name)
{
    for (int i = 0; i < r->reply_header_count; i++)
        if (strcasecmp(r->reply_headers[i][0], name) == 0)
            return true;
    return false;
}

static enum MHD_Result send_reply(rn_req *r)
{
    /* Nothing needs the store any more: a connection held until the answer
     * has gone out could leave a worker thread waiting on the pool for it
     * while that same thread is the one that would send the answer. */
    if (r->db) {
        rn_pool_release(r->app->pool, r->db);
        r->db = NULL;
    }
    struct MHD_Response *resp;
    if (r->reply) {
        resp = MHD_create_response_from_buffer(r->reply_len, r->reply, MHD_RESPMEM_MUST_FREE);
        r->reply = NULL; /* MHD owns it now */
    } else {
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    if (!has_reply_header(r, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    /* Browser SDK routes: pipeline errors (413, 415, bad JSON) must be
     * readable cross-origin too. Handlers decide their own answers, and
     * give a refused origin no Access-Control-Allow-Origin at all. */
    bool sdk = strncmp(r->path, "/api/sdk/", 9) == 0;
    if (sdk && !r->handler_ran && !has_reply_header(r, "Access-Control-Allow-Origin"))
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < r->reply_header_count; i++)
        MHD_add_response_header(resp, r->reply_headers[i][0], r->reply_headers[i][1]);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    rn_app *app = cls;
    rn_req *r = *con_cls;
    if (!r) {
        rn_headwatch_busy(watched(c));
        r = req_new(app, c, url, method);
        *con_cls = r;
        r->http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
        /* A client that waits for 100 Continue and announces a body over the
         * limit is refused before it sends it (answering now keeps
         * libmicrohttpd from saying 100 Continue). Other clients are already
         * sending: their body is read and dropped, so they see the 413
         * instead of a reset connection. */
        long long announced = 0;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
        if (!expect || strcasecmp(expect, "100-continue") != 0 || !cl ||
            rn_parse_int(cl, 0, (1LL << 62), &announced) != 0 ||
            announced <= app->cfg.max_body_bytes)
            return MHD_YES;
        r->body_too_large = true;
        dispatch(r);
        rn_reply_header(r, "Connection", "close");
        return send_reply(r);
    }
    if (*upload_data_size) {
        body_append(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->write_state == RN_WRITE_DONE) /* resumed by the writer: answered */
        return send_reply(r);
    if (r->began_after_stop) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, "The server is shutting down.", NULL);
        rn_reply_header(r, "Connection", "close");
    } else {
        dispatch(r);
    }
    if (r->write_state == RN_WRITE_QUEUED) {
        MHD_suspend_connection(c);
        rn_writer_push(writer, r);
        return MHD_YES;
    }
    return send_reply(r);
}

static void put_member(rn_text *t, const char *name, const char *value)
{
    rn_text_puts(t, name);
    rn_text_json_string(t, value);
}

static void log_request(rn_req *r, long long duration)
{
    rn_log_level level = r->status >= 500 ? RN_LOG_ERROR : RN_LOG_INFO;
    if (!rn_log_enabled(level))
        return;
    char stack[768];
    rn_text t;
    rn_text_on_stack(&t, stack, sizeof stack);
    put_member(&t, "\"requestId\":", r->request_id);
    put_member(&t, ",\"method\":", r->method);
    put_member(&t, ",\"route\":", r->route ? r->route->pattern : "unmatched");
    put_member(&t, ",\"path\":", r->path);
    rn_text_puts(&t, ",\"status\":");
    rn_text_int(&t, r->status);
    rn_text_puts(&t, ",\"durationMs\":");
    rn_text_int(&t, duration);
    put_member(&t, ",\"clientIp\":", r->client_ip);
    if (r->authenticated && r->who.tenant_id[0])
        put_member(&t, ",\"tenant\":", r->who.tenant_id);
    if (r->who.key_id[0])
        put_member(&t, ",\"keyId\":", r->who.key_id);
    if (r->error_code)
        put_member(&t, ",\"errorCode\":", r->error_code);
    if (!t.failed)
        rn_log_members(level, "request", t.text);
    rn_text_free(&t);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    rn_req *r = *con_cls;
    rn_headwatch_idle(watched(c));
    if (!r)
        return;
    long long duration = rn_mono_ms() - r->started_ms;
    if (r->status) {
        rn_metrics_observe(r->route_index, r->status, duration);
        log_request(r, duration);
    }
    req_free(r);
    in_flight--;
    *con_cls = NULL;
}

/* Percent-decoding for the path and query arguments, except that "%00"
 * stays as it is: a NUL would silently cut the path or a value short (so
 * "/healthz%00x" must not become "/healthz"). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *out = s;
    for (const char *in = s; *in; in++) {
        int hi, lo;
        if (*in == '%' && (hi = hexval(in[1])) >= 0 && (lo = hexval(in[2])) >= 0 &&
            (hi | lo) != 0) {
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* ---- start and stop ---------------------------------------------------- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return -1;
    long long port;
    if (rn_parse_int(colon + 1, 0, 65535, &port) != 0)
        return -1;
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= sizeof host)
        return -1;
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -1;
}

rn_server *rn_server_start(rn_app *app, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_listen(app->cfg.listen, &ss, &sslen) != 0) {
        snprintf(err, errlen, "RINGNITY_LISTEN must be host:port (got \"%s\")", app->cfg.listen);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    rn_server *srv = calloc(1, sizeof *srv);
    srv->app = app;
    head_watch = rn_headwatch_start(HEAD_DEADLINE_MS);
    if (rn_pool_dialect(app->pool) == RN_DB_SQLITE)
        writer = rn_writer_start(app->pool, &RN_WRITER_HOOKS, handler_ended, write_done);
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, app, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)app->cfg.threads, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, app, MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT,
        4096u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not permitted)",
                 app->cfg.listen);
        rn_headwatch_stop(head_watch);
        head_watch = NULL;
        rn_writer_stop(writer);
        writer = NULL;
        free(srv);
        return NULL;
    }
    return srv;
}

void rn_server_stop(rn_server *srv, int grace_ms)
{
    if (!srv)
        return;
    srv->app->stopping = 1;
    /* Closing the listening socket at once refuses new connections, instead
     * of leaving them queued unanswered until the process exits. */
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    long long deadline = rn_mono_ms() + grace_ms;
    while (rn_mono_ms() < deadline) {
        if (in_flight == 0)
            break;
        usleep(20 * 1000);
    }
    /* Whatever is still queued is written (and its connection resumed)
     * before libmicrohttpd closes the connections. */
    rn_writer_stop(writer);
    writer = NULL;
    MHD_stop_daemon(srv->daemon);
    rn_headwatch_stop(head_watch);
    head_watch = NULL;
    free(srv);
}
