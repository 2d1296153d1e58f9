/*
 * deliveries.c — the attempt log, test sends and redeliveries.
 *
 * A test send is a real event with a fresh `evt_` id and a sample payload.
 * It is stored in the outbox already marked as never to be fanned out
 * (fanned_out = 2), so it reaches only the destination it was sent to, and
 * a later redelivery of that attempt finds its exact bytes like any other.
 * Test sends and redeliveries happen inside the request, outside the
 * destination's queue: they neither wait for it nor count towards
 * disabling it, and they work on a disabled destination (to check a fix
 * before enabling it again). Both answer 201 with the recorded attempt,
 * whatever the receiver said.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/audit.h"
#include "core/json.h"
#include "core/util.h"
#include "http/metrics.h"
#include "webhooks/internal.h"
#include "webhooks/outbox.h"
#include "webhooks/webhooks.h"

#define TEST_EVENT_MARK 2

/* ---- the log ------------------------------------------------------------ */

typedef struct {
    const char *webhook_id, *event_id, *status;
} log_filters;

/* Reads and checks ?webhookId= &eventId= &status=. 0, or -1 after replying. */
static int read_filters(rn_req *r, log_filters *f)
{
    json_t *details = json_array();
    f->webhook_id = rn_req_query(r, "webhookId");
    f->event_id = rn_req_query(r, "eventId");
    f->status = rn_req_query(r, "status");
    if (f->webhook_id && !rn_id_valid("wh", f->webhook_id))
        rn_detail_add(details, "webhookId", "invalid_format");
    if (f->event_id && !rn_id_valid("evt", f->event_id))
        rn_detail_add(details, "eventId", "invalid_format");
    if (f->status && strcmp(f->status, "succeeded") != 0 && strcmp(f->status, "failed") != 0 &&
        strcmp(f->status, "pending") != 0)
        rn_detail_add(details, "status", "must_be_succeeded_failed_or_pending");
    if (json_array_size(details) == 0) {
        json_decref(details);
        return 0;
    }
    rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
    return -1;
}

/* Newest first, filtered; the SQL text depends only on which filters are
 * present, so each of the eight shapes is one cached statement. */
static rn_rows *log_query(rn_req *r, const log_filters *f, const char *before, int limit)
{
    char sql[512];
    rn_param p[6];
    int n = 0;
    p[n++] = RN_T(r->who.tenant_id);
    int len = snprintf(sql, sizeof sql,
                       "SELECT " WH_ATTEMPT_COLUMNS " FROM webhook_attempts WHERE tenant_id = $1");
    const char *names[] = {"webhook_id", "event_id", "status"};
    const char *values[] = {f->webhook_id, f->event_id, f->status};
    for (int i = 0; i < 3; i++) {
        if (!values[i])
            continue;
        p[n++] = RN_T(values[i]);
        len += snprintf(sql + len, sizeof sql - (size_t)len, " AND %s = $%d", names[i], n);
    }
    if (before[0]) {
        p[n++] = RN_T(before);
        len += snprintf(sql + len, sizeof sql - (size_t)len, " AND id < $%d", n);
    }
    p[n++] = RN_I(limit + 1);
    snprintf(sql + len, sizeof sql - (size_t)len, " ORDER BY id DESC LIMIT $%d", n);
    return rn_db_query(rn_req_db(r), sql, n, p);
}

void rn_webhooks_deliveries(rn_req *r)
{
    int limit;
    log_filters f;
    if (rn_req_limit(r, &limit) != 0 || read_filters(r, &f) != 0)
        return;
    char list_name[256], before[64] = "";
    snprintf(list_name, sizeof list_name, "deliveries|%s|%s|%s|%s", r->who.tenant_id,
             f.webhook_id ? f.webhook_id : "", f.event_id ? f.event_id : "",
             f.status ? f.status : "");
    const char *cursor = rn_req_query(r, "cursor");
    if (cursor && wh_cursor_decode(r->app->master_key, list_name, cursor, before,
                                   sizeof before) != 0) {
        rn_reply_error(r, RN_SERVER_CURSOR_INVALID, NULL, NULL);
        return;
    }
    rn_rows *rows = log_query(r, &f, before, limit);
    if (!rows) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    int count = rn_rows_count(rows);
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++)
        json_array_append_new(data, wh_attempt_json(rows, i));
    char *next = count > limit ? wh_cursor_encode(r->app->master_key, list_name,
                                                  rn_rows_get(rows, limit - 1, 0))
                               : NULL;
    rn_rows_free(rows);
    rn_reply_json(r, 200, json_pack("{s:o, s:o}", "data", data, "nextCursor",
                                    next ? json_string(next) : json_null()));
    free(next);
}

/* ---- sending now -------------------------------------------------------- */

/* A destination and an event, read from one row of SEND_COLUMNS. */
#define SEND_COLUMNS                                                                    \
    "w.id, w.url, w.secret_sealed, w.old_secret_sealed, w.old_secret_until, e.id, e.type," \
    " e.payload"

typedef struct {
    wh_origin origin;
    const char *action;  /* audit */
    const char *source;  /* the attempt redelivered, or NULL */
} send_kind;

/* Sends the event of `rows` (SEND_COLUMNS) now. 0 when it succeeded. */
static int send_now(rn_req *r, const rn_rows *rows, rn_send_result *res)
{
    char secret[WH_SECRET_MAX + 1], old[WH_SECRET_MAX + 1];
    if (wh_secrets_open(r->app->master_key, rn_rows_get(rows, 0, 2), rn_rows_get(rows, 0, 3),
                        rn_rows_int(rows, 0, 4, 0), rn_now_ms(), secret, old,
                        sizeof secret) != 0) {
        memset(res, 0, sizeof *res);
        res->retry_after_s = -1;
        snprintf(res->error, sizeof res->error, "internal error");
        return -1;
    }
    wh_target t = {.tenant_id = r->who.tenant_id,
                   .webhook_id = rn_rows_get(rows, 0, 0),
                   .url = rn_rows_get(rows, 0, 1),
                   .secret = secret,
                   .old_secret = old[0] ? old : NULL,
                   .event_id = rn_rows_get(rows, 0, 5),
                   .event_type = rn_rows_get(rows, 0, 6),
                   .payload = rn_rows_get(rows, 0, 7)};
    int rc = wh_attempt_send(NULL, &t, r->app->cfg.webhook_allow_private,
                             (long)r->app->cfg.webhook_timeout_ms, res);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(old, sizeof old);
    return rc;
}

/* The attempt row and its audit entry, in one transaction. 0 or -1. */
static int record_now(rn_req *r, const wh_attempt_row *a, const send_kind *kind, char *id,
                      int *number)
{
    rn_db *db = rn_req_db(r);
    int rc = rn_db_begin(db);
    if (rc == 0)
        rc = wh_attempt_insert(db, a, id, number);
    json_t *details = json_pack("{s:s, s:s, s:s}", "event", a->event_type, "attemptId", id,
                                "status", a->status);
    if (kind->source)
        json_object_set_new(details, "redeliveredAttemptId", json_string(kind->source));
    if (rc == 0)
        rc = rn_audit_request(r, kind->action, a->webhook_id, details);
    json_decref(details);
    if (rc == 0)
        return rn_db_commit(db);
    rn_db_rollback(db);
    return -1;
}

/* Sends the event of `rows` now, records the attempt and its audit entry,
 * and replies 201 with it. */
static void send_and_reply(rn_req *r, const rn_rows *rows, const send_kind *kind)
{
    rn_send_result res;
    bool ok = send_now(r, rows, &res) == 0;
    wh_attempt_row a = {.tenant_id = r->who.tenant_id,
                        .webhook_id = rn_rows_get(rows, 0, 0),
                        .event_id = rn_rows_get(rows, 0, 5),
                        .event_type = rn_rows_get(rows, 0, 6),
                        .origin = kind->origin,
                        .status = ok ? "succeeded" : "failed",
                        .res = &res};
    char id[48] = "";
    int number = 0;
    int rc = record_now(r, &a, kind, id, &number);
    wh_attempt_log(&a, rc == 0 ? id : "", number);
    rn_metrics_delivery(ok ? "succeeded" : "failed");
    rn_send_result_free(&res);
    json_t *attempt = rc == 0 ? wh_attempt_get(rn_req_db(r), r->who.tenant_id, id) : NULL;
    if (!attempt) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    rn_reply_json(r, 201, attempt);
}

/* ---- test --------------------------------------------------------------- */

/* Checks {webhookId, event}. 0, or -1 after replying. */
static int read_test_body(rn_req *r, const char **webhook_id, const char **event)
{
    static const char *const allowed[] = {"webhookId", "event", NULL};
    json_t *details = json_array();
    int others = rn_json_reject_unknown(r->json, allowed, NULL, details);
    json_t *w = json_object_get(r->json, "webhookId");
    json_t *e = json_object_get(r->json, "event");
    *webhook_id = json_string_value(w);
    *event = json_string_value(e);
    if (!json_is_string(w)) {
        rn_detail_add(details, "webhookId", w ? "must_be_string" : "required");
        others++;
    }
    if (!json_is_string(e)) {
        rn_detail_add(details, "event", e ? "must_be_string" : "required");
        others++;
    }
    bool unknown = *event && !rn_event_type_known(*event);
    if (unknown)
        rn_detail_add(details, "event", "unknown_event");
    if (json_array_size(details) == 0) {
        json_decref(details);
        return 0;
    }
    rn_reply_invalid(r, others ? RN_SERVER_REQUEST_VALIDATION_FAILED
                               : RN_SERVER_WEBHOOK_EVENT_INVALID,
                     details);
    return -1;
}

/* Writes the test event to the outbox, marked never to be fanned out. */
static int store_test_event(rn_db *db, const char *tenant_id, const char *type, char *id,
                            size_t cap)
{
    long long now = rn_now_ms();
    rn_id_new("evt", id, cap);
    json_t *data = wh_event_sample(type);
    char *payload = wh_event_payload(id, type, now, tenant_id, data);
    json_decref(data);
    long long n = payload ? rn_db_exec(db,
                                       "INSERT INTO events (tenant_id, id, type, created_at,"
                                       " payload, fanned_out) VALUES ($1, $2, $3, $4, $5, $6)",
                                       RN_PARAMS(RN_T(tenant_id), RN_T(id), RN_T(type),
                                                 RN_I(now), RN_T(payload),
                                                 RN_I(TEST_EVENT_MARK)))
                          : -1;
    free(payload);
    return n == 1 ? 0 : -1;
}

void rn_webhooks_test(rn_req *r)
{
    const char *webhook_id, *type;
    if (read_test_body(r, &webhook_id, &type) != 0)
        return;
    rn_db *db = rn_req_db(r);
    const char *tenant = r->who.tenant_id;
    rn_rows *hook = rn_id_valid("wh", webhook_id)
                        ? rn_db_query(db,
                                      "SELECT id FROM webhooks WHERE tenant_id = $1 AND id = $2",
                                      RN_PARAMS(RN_T(tenant), RN_T(webhook_id)))
                        : NULL;
    bool found = hook && rn_rows_count(hook) == 1;
    rn_rows_free(hook);
    if (!found) {
        rn_reply_error(r, RN_SERVER_WEBHOOK_NOT_FOUND, NULL, NULL);
        return;
    }
    char event_id[48];
    rn_rows *rows = NULL;
    if (store_test_event(db, tenant, type, event_id, sizeof event_id) == 0)
        rows = rn_db_query(db,
                           "SELECT " SEND_COLUMNS " FROM webhooks w JOIN events e"
                           " ON e.tenant_id = w.tenant_id AND e.id = $3"
                           " WHERE w.tenant_id = $1 AND w.id = $2",
                           RN_PARAMS(RN_T(tenant), RN_T(webhook_id), RN_T(event_id)));
    if (!rows || rn_rows_count(rows) != 1) {
        rn_rows_free(rows);
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    send_kind kind = {.origin = WH_ORIGIN_TEST, .action = "webhook.tested"};
    send_and_reply(r, rows, &kind);
    rn_rows_free(rows);
}

/* ---- redeliver ---------------------------------------------------------- */

void rn_webhooks_redeliver(rn_req *r)
{
    const char *id = rn_req_param(r, 0);
    rn_rows *rows = NULL;
    if (rn_id_valid("dlv", id))
        rows = rn_db_query(rn_req_db(r),
                           "SELECT " SEND_COLUMNS " FROM webhook_attempts a"
                           " JOIN webhooks w ON w.tenant_id = a.tenant_id AND w.id = a.webhook_id"
                           " JOIN events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id"
                           " WHERE a.tenant_id = $1 AND a.id = $2",
                           RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id)));
    if (rows && rn_rows_count(rows) == 1) {
        send_kind kind = {.origin = WH_ORIGIN_REDELIVER,
                          .action = "webhook.redelivered",
                          .source = id};
        send_and_reply(r, rows, &kind);
    } else if (rows || !rn_id_valid("dlv", id)) {
        rn_reply_error(r, RN_SERVER_WEBHOOK_DELIVERY_NOT_FOUND, NULL, NULL);
    } else {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
    }
    rn_rows_free(rows);
}
