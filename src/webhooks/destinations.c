/*
 * destinations.c — create, read, update, delete webhook destinations, and
 * the event catalogue.
 *
 * Validation collects every problem as a `details` entry. The answer's code
 * is the specific one when all problems are of one kind (URL, or unknown
 * event), else SERVER_REQUEST_VALIDATION_FAILED. A URL is checked against
 * private address space here and again at every delivery (netguard.h).
 * A tenant has at most WH_MAX_DESTINATIONS destinations; one more is 400
 * SERVER_REQUEST_VALIDATION_FAILED with {url, too_many_destinations}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/audit.h"
#include "core/json.h"
#include "core/util.h"
#include "webhooks/internal.h"
#include "webhooks/netguard.h"
#include "webhooks/outbox.h"
#include "webhooks/queue.h"
#include "webhooks/webhooks.h"

#define NAME_MAX_CHARS 100
/* Destinations per tenant. A constant: a RINGNITY_ setting would need a
 * field in core/config.h, which this module does not own. */
#define WH_MAX_DESTINATIONS 20
#define MANUAL_DISABLE_REASON "Disabled through the API."
#define HOOK_COLUMNS "id, name, url, events, enabled, disabled_reason, created_at, updated_at"

/* ---- the destination object --------------------------------------------- */

static json_t *hook_json(const rn_rows *rows, int row)
{
    char created[32], updated[32];
    rn_time_format(rn_rows_int(rows, row, 6, 0), created, sizeof created);
    rn_time_format(rn_rows_int(rows, row, 7, 0), updated, sizeof updated);
    json_t *events = json_loads(rn_rows_get(rows, row, 3), 0, NULL);
    const char *reason = rn_rows_get(rows, row, 5);
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:s, s:s}", "id",
                     rn_rows_get(rows, row, 0), "name", rn_rows_get(rows, row, 1), "url",
                     rn_rows_get(rows, row, 2), "events", events ? events : json_array(),
                     "enabled", rn_rows_int(rows, row, 4, 0) != 0, "disabledReason",
                     reason ? json_string(reason) : json_null(), "createdAt", created,
                     "updatedAt", updated);
}

/* The destination as JSON (new reference), NULL when absent, or *failed. */
static json_t *hook_load(rn_db *db, const char *tenant_id, const char *id, bool *failed)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT " HOOK_COLUMNS " FROM webhooks"
                                " WHERE tenant_id = $1 AND id = $2",
                                RN_PARAMS(RN_T(tenant_id), RN_T(id)));
    *failed = rows == NULL;
    json_t *out = rows && rn_rows_count(rows) == 1 ? hook_json(rows, 0) : NULL;
    rn_rows_free(rows);
    return out;
}

/* Replies with the destination, or the right error. */
static void reply_hook(rn_req *r, int status, const char *id)
{
    bool failed;
    json_t *hook = hook_load(rn_req_db(r), r->who.tenant_id, id, &failed);
    if (!hook) {
        rn_reply_error(r, failed ? RN_SERVER_INTERNAL_ERROR : RN_SERVER_WEBHOOK_NOT_FOUND, NULL,
                       NULL);
        return;
    }
    rn_reply_json(r, status, hook);
}

/* ---- field checks ------------------------------------------------------- */

typedef struct {
    json_t *details;
    int url_issues, event_issues, other_issues;
    rn_url_verdict verdict;
} checks;

static void issue(checks *c, int *counter, const char *field, const char *what)
{
    rn_detail_add(c->details, field, what);
    (*counter)++;
}

static const char *verdict_issue(rn_url_verdict v)
{
    switch (v) {
    case RN_URL_SCHEME_NOT_ALLOWED:
        return "https_required";
    case RN_URL_PRIVATE_ADDRESS:
        return "private_address";
    case RN_URL_UNRESOLVABLE:
        return "unresolvable_host";
    case RN_URL_DNS_TIMEOUT:
        return "dns_timeout";
    case RN_URL_DNS_BUSY:
        return "dns_busy";
    default:
        return "invalid_url";
    }
}

/* A create or PATCH waits for its name lookup on a request thread, which
 * serves other connections too: it waits at most this long, or the
 * delivery timeout if that is shorter. */
#define CHECK_DNS_MAX_MS 2000

static long check_timeout_ms(const rn_req *r)
{
    long t = (long)r->app->cfg.webhook_timeout_ms;
    return t < CHECK_DNS_MAX_MS ? t : CHECK_DNS_MAX_MS;
}

static const char *check_url(rn_req *r, json_t *v, checks *c)
{
    if (!json_is_string(v)) {
        issue(c, &c->other_issues, "url", "must_be_string");
        return NULL;
    }
    const char *url = json_string_value(v);
    rn_url_verdict verdict = RN_URL_INVALID;
    if (strlen(url) <= RN_URL_MAX_LEN && !rn_has_control(url, false))
        verdict = rn_url_check_as(r->who.tenant_id, url, r->app->cfg.webhook_allow_private,
                                  check_timeout_ms(r), NULL, 0);
    if (verdict == RN_URL_OK)
        return url;
    c->verdict = verdict;
    issue(c, &c->url_issues, "url", verdict_issue(verdict));
    return NULL;
}

/* Adds one subscription to list unless already there; false if unknown. */
static bool add_event(json_t *list, const char *type)
{
    if (strcmp(type, "*") != 0 && !rn_event_type_known(type))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (strcmp(json_string_value(v), type) == 0) return true;
    json_array_append_new(list, json_string(type));
    return true;
}

/* Validated, de-duplicated subscriptions; ["*"] when "*" is among them. */
static json_t *check_events(json_t *v, checks *c)
{
    if (!json_is_array(v) || json_array_size(v) == 0) {
        issue(c, &c->other_issues, "events", "must_be_non_empty_array");
        return NULL;
    }
    json_t *list = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char field[32];
        snprintf(field, sizeof field, "events[%zu]", i);
        if (!json_is_string(item))
            issue(c, &c->other_issues, field, "must_be_string");
        else if (!add_event(list, json_string_value(item)))
            issue(c, &c->event_issues, field, "unknown_event");
    }
    bool any = false;
    json_array_foreach(list, i, item) any = any || strcmp(json_string_value(item), "*") == 0;
    if (any) {
        json_decref(list);
        list = json_pack("[s]", "*");
    }
    return list;
}

static void check_secret(json_t *v, checks *c, const char **out)
{
    if (!json_is_string(v))
        issue(c, &c->other_issues, "secret", "must_be_string");
    else if (!wh_secret_acceptable(json_string_value(v)))
        issue(c, &c->other_issues, "secret", "must_be_16_to_128_printable_ascii");
    else
        *out = json_string_value(v);
}

/* Replies with the collected details; returns -1 if there were any. */
static int reply_checks(rn_req *r, checks *c)
{
    int total = c->url_issues + c->event_issues + c->other_issues;
    if (total == 0) {
        json_decref(c->details);
        return 0;
    }
    if (c->url_issues == total) {
        char message[160];
        snprintf(message, sizeof message, "The webhook URL is invalid: %s.",
                 rn_url_verdict_text(c->verdict));
        rn_reply_error(r, RN_SERVER_WEBHOOK_URL_INVALID, message, c->details);
    } else if (c->event_issues == total) {
        rn_reply_invalid(r, RN_SERVER_WEBHOOK_EVENT_INVALID, c->details);
    } else {
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, c->details);
    }
    return -1;
}

/* ---- the fields of a create or an update -------------------------------- */

typedef struct {
    const char *name;  /* NULL: unchanged */
    const char *url;   /* NULL: unchanged */
    json_t *events;    /* owned; NULL: unchanged */
    int enabled;       /* -1 unchanged, 0, 1 */
    const char *secret;
    long long grace_s; /* -1: not given */
} hook_fields;

static void check_common(rn_req *r, json_t *body, hook_fields *f, checks *c)
{
    json_t *v;
    if (json_object_get(body, "name") &&
        rn_json_opt_text(body, "name", NAME_MAX_CHARS, false, &f->name, c->details) != 0)
        c->other_issues++;
    else if (json_object_get(body, "name") && !f->name)
        f->name = "";
    if ((v = json_object_get(body, "url")))
        f->url = check_url(r, v, c);
    if ((v = json_object_get(body, "events")))
        f->events = check_events(v, c);
    if ((v = json_object_get(body, "enabled")) && !json_is_boolean(v))
        issue(c, &c->other_issues, "enabled", "must_be_boolean");
    else if (v)
        f->enabled = json_is_true(v) ? 1 : 0;
    if ((v = json_object_get(body, "secret")))
        check_secret(v, c, &f->secret);
}

static void check_grace(json_t *body, hook_fields *f, checks *c)
{
    json_t *v = json_object_get(body, "secretGraceSeconds");
    if (!v)
        return;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > WH_SECRET_GRACE_MAX_S)
        issue(c, &c->other_issues, "secretGraceSeconds", "must_be_integer_0_to_86400");
    else if (!json_object_get(body, "secret"))
        issue(c, &c->other_issues, "secretGraceSeconds", "requires_secret");
    else
        f->grace_s = json_integer_value(v);
}

/* Parses the body into f. Returns 0, or -1 after replying. */
static int read_fields(rn_req *r, bool creating, hook_fields *f)
{
    static const char *const create_fields[] = {"name", "url", "events", "enabled", "secret",
                                                NULL};
    static const char *const update_fields[] = {"name",   "url",    "events",
                                                "enabled", "secret", "secretGraceSeconds",
                                                NULL};
    *f = (hook_fields){.enabled = -1, .grace_s = -1};
    checks c = {.details = json_array()};
    c.other_issues +=
        rn_json_reject_unknown(r->json, creating ? create_fields : update_fields, NULL,
                               c.details);
    if (creating && !json_object_get(r->json, "url"))
        issue(&c, &c.other_issues, "url", "required");
    if (creating && !json_object_get(r->json, "events"))
        issue(&c, &c.other_issues, "events", "required");
    check_common(r, r->json, f, &c);
    if (!creating)
        check_grace(r->json, f, &c);
    if (reply_checks(r, &c) == 0)
        return 0;
    json_decref(f->events);
    f->events = NULL;
    return -1;
}

/* ---- list --------------------------------------------------------------- */

static void list_page(rn_req *r, int limit, const char *after, const char *list_name)
{
    rn_rows *rows = rn_db_query(rn_req_db(r),
                                "SELECT " HOOK_COLUMNS " FROM webhooks WHERE tenant_id = $1"
                                " AND id > $2 ORDER BY id LIMIT $3",
                                RN_PARAMS(RN_T(r->who.tenant_id), RN_T(after), RN_I(limit + 1)));
    if (!rows) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    int n = rn_rows_count(rows);
    json_t *data = json_array();
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(data, hook_json(rows, i));
    char *next = n > limit ? wh_cursor_encode(r->app->master_key, list_name,
                                              rn_rows_get(rows, limit - 1, 0))
                           : NULL;
    rn_rows_free(rows);
    rn_reply_json(r, 200, json_pack("{s:o, s:o}", "data", data, "nextCursor",
                                    next ? json_string(next) : json_null()));
    free(next);
}

void rn_webhooks_list(rn_req *r)
{
    int limit;
    if (rn_req_limit(r, &limit) != 0)
        return;
    char list_name[96], after[64] = "";
    snprintf(list_name, sizeof list_name, "webhooks|%s", r->who.tenant_id);
    const char *cursor = rn_req_query(r, "cursor");
    if (cursor && wh_cursor_decode(r->app->master_key, list_name, cursor, after,
                                   sizeof after) != 0) {
        rn_reply_error(r, RN_SERVER_CURSOR_INVALID, NULL, NULL);
        return;
    }
    list_page(r, limit, after, list_name);
}

/* ---- create ------------------------------------------------------------- */

/* Destinations in one tenant are counted and the new one inserted in one
 * transaction, serialised per tenant: SQLite's BEGIN IMMEDIATE already
 * holds the one write lock, and on PostgreSQL the tenant row is locked
 * first. FOR NO KEY UPDATE serialises creates for that tenant without
 * blocking the foreign-key checks of other inserts that name the tenant.
 * Returns 0 when there is room, 1 when the tenant is at the cap, -1. */
static int cap_check(rn_db *db, const char *tenant_id)
{
    if (rn_db_dialect(db) == RN_DB_POSTGRES) {
        rn_rows *lock = rn_db_query(db, "SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
                                    RN_PARAMS(RN_T(tenant_id)));
        if (!lock)
            return -1;
        rn_rows_free(lock);
    }
    rn_rows *rows = rn_db_query(db, "SELECT COUNT(*) FROM webhooks WHERE tenant_id = $1",
                                RN_PARAMS(RN_T(tenant_id)));
    long long n = rows ? rn_rows_int(rows, 0, 0, -1) : -1;
    rn_rows_free(rows);
    if (n < 0)
        return -1;
    return n >= WH_MAX_DESTINATIONS ? 1 : 0;
}

static int insert_row(rn_req *r, rn_db *db, const char *id, const hook_fields *f,
                      const char *sealed, const char *events)
{
    long long now = rn_now_ms();
    long long n = rn_db_exec(
        db,
        "INSERT INTO webhooks (tenant_id, id, name, url, events, enabled,"
        " disabled_reason, secret_sealed, old_secret_sealed, old_secret_until,"
        " consecutive_failures, created_at, updated_at) VALUES ($1, $2, $3, $4, $5,"
        " $6, $7, $8, NULL, NULL, 0, $9, $9)",
        RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id), RN_T(f->name ? f->name : ""), RN_T(f->url),
                  RN_T(events), RN_I(f->enabled != 0),
                  RN_T(f->enabled == 0 ? MANUAL_DISABLE_REASON : NULL), RN_T(sealed),
                  RN_I(now)));
    if (n != 1)
        return -1;
    json_t *details = json_pack("{s:O}", "events", f->events);
    int rc = rn_audit_request(r, "webhook.created", id, details);
    json_decref(details);
    return rc;
}

/* 0 created, 1 the tenant already has WH_MAX_DESTINATIONS, -1 failed. */
static int create_row(rn_req *r, const char *id, const hook_fields *f, const char *secret)
{
    char *sealed = wh_secret_seal(r->app->master_key, secret);
    char *events = json_dumps(f->events, JSON_COMPACT);
    rn_db *db = rn_req_db(r);
    int rc = -1;
    if (sealed && events && rn_db_begin(db) == 0) {
        rc = cap_check(db, r->who.tenant_id);
        if (rc == 0)
            rc = insert_row(r, db, id, f, sealed, events);
        if (rc == 0)
            rc = rn_db_commit(db);
        else
            rn_db_rollback(db);
    }
    free(sealed);
    free(events);
    return rc;
}

static void reply_cap_reached(rn_req *r)
{
    json_t *details = json_array();
    rn_detail_add(details, "url", "too_many_destinations");
    char message[96];
    snprintf(message, sizeof message, "A tenant can have at most %d webhook destinations.",
             WH_MAX_DESTINATIONS);
    rn_reply_error(r, RN_SERVER_REQUEST_VALIDATION_FAILED, message, details);
}

void rn_webhooks_create(rn_req *r)
{
    hook_fields f;
    if (read_fields(r, true, &f) != 0)
        return;
    char id[48], generated[64] = "";
    rn_id_new("wh", id, sizeof id);
    if (!f.secret)
        wh_secret_generate(generated, sizeof generated);
    int rc = create_row(r, id, &f, f.secret ? f.secret : generated);
    json_decref(f.events);
    if (rc == 1) {
        reply_cap_reached(r);
        return;
    }
    bool failed;
    json_t *hook = rc == 0 ? hook_load(rn_req_db(r), r->who.tenant_id, id, &failed) : NULL;
    if (!hook) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    /* The one time a secret is shown: only one the server generated. */
    if (generated[0])
        json_object_set_new(hook, "secret", json_string(generated));
    rn_reply_json(r, 201, hook);
}

/* ---- read --------------------------------------------------------------- */

void rn_webhooks_get(rn_req *r)
{
    const char *id = rn_req_param(r, 0);
    if (!rn_id_valid("wh", id)) {
        rn_reply_error(r, RN_SERVER_WEBHOOK_NOT_FOUND, NULL, NULL);
        return;
    }
    reply_hook(r, 200, id);
}

void rn_webhooks_event_types(rn_req *r)
{
    json_t *data = json_array();
    for (const char *const *t = RN_EVENT_TYPES; *t; t++)
        json_array_append_new(data, json_pack("{s:s, s:s}", "type", *t, "description",
                                              wh_event_description(*t)));
    rn_reply_json(r, 200, json_pack("{s:o}", "data", data));
}

/* ---- update ------------------------------------------------------------- */

typedef struct {
    char *sealed, *old_sealed, *events;
    long long old_until;
    bool was_enabled;
} hook_state;

/* Current secret and state of the destination: 0, 1 absent, -1 failed. */
static int state_load(rn_db *db, const char *tenant_id, const char *id, hook_state *s)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT secret_sealed, enabled FROM webhooks"
                                " WHERE tenant_id = $1 AND id = $2",
                                RN_PARAMS(RN_T(tenant_id), RN_T(id)));
    if (!rows)
        return -1;
    int rc = rn_rows_count(rows) == 1 ? 0 : 1;
    if (rc == 0) {
        s->old_sealed = strdup(rn_rows_get(rows, 0, 0));
        s->was_enabled = rn_rows_int(rows, 0, 1, 0) != 0;
    }
    rn_rows_free(rows);
    return rc;
}

static int update_secret(rn_req *r, rn_db *db, const char *id, const hook_fields *f,
                         hook_state *s)
{
    s->sealed = wh_secret_seal(r->app->master_key, f->secret);
    bool grace = f->grace_s > 0;
    s->old_until = grace ? rn_now_ms() + f->grace_s * 1000 : 0;
    if (!s->sealed)
        return -1;
    return rn_db_exec(db,
                      "UPDATE webhooks SET secret_sealed = $3, old_secret_sealed = $4,"
                      " old_secret_until = $5 WHERE tenant_id = $1 AND id = $2",
                      RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id), RN_T(s->sealed),
                                RN_T(grace ? s->old_sealed : NULL),
                                grace ? RN_I(s->old_until) : RN_NULLP)) == 1
               ? 0
               : -1;
}

static int update_enabled(rn_req *r, rn_db *db, const char *id, int enabled, bool was_enabled)
{
    if (enabled < 0 || (enabled == 1) == was_enabled)
        return 0;
    if (enabled == 0)
        return rn_db_exec(db,
                          "UPDATE webhooks SET enabled = 0, disabled_reason = $3"
                          " WHERE tenant_id = $1 AND id = $2",
                          RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id),
                                    RN_T(MANUAL_DISABLE_REASON))) == 1
                   ? 0
                   : -1;
    if (rn_db_exec(db,
                   "UPDATE webhooks SET enabled = 1, disabled_reason = NULL,"
                   " consecutive_failures = 0 WHERE tenant_id = $1 AND id = $2",
                   RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id))) != 1)
        return -1;
    /* Whatever waited while it was disabled goes out now, in order. */
    return wh_queue_resume(db, r->who.tenant_id, id, rn_now_ms());
}

static int update_plain(rn_req *r, rn_db *db, const char *id, const hook_fields *f,
                        hook_state *s)
{
    if (f->events)
        s->events = json_dumps(f->events, JSON_COMPACT);
    return rn_db_exec(db,
                      "UPDATE webhooks SET name = COALESCE($3, name), url = COALESCE($4, url),"
                      " events = COALESCE($5, events), updated_at = $6"
                      " WHERE tenant_id = $1 AND id = $2",
                      RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id), RN_T(f->name), RN_T(f->url),
                                RN_T(s->events), RN_I(rn_now_ms()))) == 1
               ? 0
               : -1;
}

static json_t *update_audit_details(const hook_fields *f)
{
    json_t *changed = json_array();
    static const char *const names[] = {"name", "url", "events", "enabled", "secret"};
    const bool set[] = {f->name != NULL, f->url != NULL, f->events != NULL, f->enabled >= 0,
                        f->secret != NULL};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (set[i])
            json_array_append_new(changed, json_string(names[i]));
    json_t *d = json_pack("{s:o}", "changed", changed);
    if (f->secret)
        json_object_set_new(d, "secretGraceSeconds", json_integer(f->grace_s > 0 ? f->grace_s : 0));
    if (f->enabled >= 0)
        json_object_set_new(d, "enabled", json_boolean(f->enabled));
    return d;
}

/* All changes in one transaction: 0, 1 when the destination is absent, -1. */
static int update_apply(rn_req *r, const char *id, const hook_fields *f)
{
    rn_db *db = rn_req_db(r);
    hook_state s = {0};
    if (rn_db_begin(db) != 0)
        return -1;
    int rc = state_load(db, r->who.tenant_id, id, &s);
    if (rc == 0)
        rc = update_plain(r, db, id, f, &s);
    if (rc == 0 && f->secret)
        rc = update_secret(r, db, id, f, &s);
    if (rc == 0)
        rc = update_enabled(r, db, id, f->enabled, s.was_enabled);
    json_t *details = rc == 0 ? update_audit_details(f) : NULL;
    if (rc == 0)
        rc = rn_audit_request(r, "webhook.updated", id, details);
    json_decref(details);
    if (rc == 0)
        rc = rn_db_commit(db);
    else
        rn_db_rollback(db);
    free(s.sealed);
    free(s.old_sealed);
    free(s.events);
    return rc;
}

void rn_webhooks_update(rn_req *r)
{
    const char *id = rn_req_param(r, 0);
    hook_fields f;
    if (read_fields(r, false, &f) != 0)
        return;
    int rc = rn_id_valid("wh", id) ? update_apply(r, id, &f) : 1;
    json_decref(f.events);
    if (rc != 0) {
        rn_reply_error(r, rc > 0 ? RN_SERVER_WEBHOOK_NOT_FOUND : RN_SERVER_INTERNAL_ERROR, NULL,
                       NULL);
        return;
    }
    reply_hook(r, 200, id);
}

/* ---- delete ------------------------------------------------------------- */

/* 0, 1 when absent, -1 failed. */
static int delete_apply(rn_req *r, const char *id)
{
    rn_db *db = rn_req_db(r);
    if (rn_db_begin(db) != 0)
        return -1;
    long long n = rn_db_exec(db, "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2",
                             RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id)));
    if (n != 1) {
        rn_db_rollback(db);
        return n == 0 ? 1 : -1;
    }
    if (wh_queue_drop(db, r->who.tenant_id, id) != 0 ||
        rn_audit_request(r, "webhook.deleted", id, NULL) != 0) {
        rn_db_rollback(db);
        return -1;
    }
    return rn_db_commit(db);
}

void rn_webhooks_delete(rn_req *r)
{
    const char *id = rn_req_param(r, 0);
    int rc = rn_id_valid("wh", id) ? delete_apply(r, id) : 1;
    if (rc != 0) {
        rn_reply_error(r, rc > 0 ? RN_SERVER_WEBHOOK_NOT_FOUND : RN_SERVER_INTERNAL_ERROR, NULL,
                       NULL);
        return;
    }
    rn_reply_empty(r, 204);
}
