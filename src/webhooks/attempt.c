/*
 * attempt.c — one delivery attempt, whoever makes it (the dispatcher, a
 * test, a redelivery): the contract's headers and signature around the
 * outbox bytes, the `dlv_` log row, and the operator's log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "webhooks/internal.h"

static const char *const ORIGIN_NAMES[] = {"automatic", "test", "redeliver"};

int wh_attempt_send(void *curl, const wh_target *t, int allow_private, long timeout_ms,
                    rn_send_result *res)
{
    long long ts = rn_now_ms() / 1000;
    size_t len = strlen(t->payload);
    char sig[2 * RN_SIGNATURE_LEN];
    wh_signature_header(t->secret, t->old_secret, ts, t->payload, len, sig, sizeof sig);

    char h_event[160], h_delivery[96], h_time[48], h_sig[2 * RN_SIGNATURE_LEN + 32];
    snprintf(h_event, sizeof h_event, "X-Ringnity-Event: %s", t->event_type);
    snprintf(h_delivery, sizeof h_delivery, "X-Ringnity-Delivery: %s", t->event_id);
    snprintf(h_time, sizeof h_time, "X-Ringnity-Timestamp: %lld", ts);
    snprintf(h_sig, sizeof h_sig, "X-Ringnity-Signature: %s", sig);
    const char *const headers[] = {h_event, h_delivery, h_time, h_sig, NULL};
    return rn_webhook_send_as(t->tenant_id, curl, t->url, allow_private, t->payload, len, headers,
                              timeout_ms, res);
}

/* ---- text --------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f)))
        return 0; /* overlong, surrogate */
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f)))
        return 0; /* overlong, above U+10FFFF */
    return n;
}

char *wh_text_sanitize(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(3 * len + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
            continue;
        }
        memcpy(o, p, n);
        o += n;
        p += n;
    }
    *o = '\0';
    return out;
}

/* ---- the log row -------------------------------------------------------- */

static int next_number(rn_db *db, const wh_attempt_row *a)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT COALESCE(MAX(attempt), 0) FROM webhook_attempts"
                                " WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3",
                                RN_PARAMS(RN_T(a->tenant_id), RN_T(a->webhook_id),
                                          RN_T(a->event_id)));
    int n = rows ? (int)rn_rows_int(rows, 0, 0, -1) + 1 : -1;
    rn_rows_free(rows);
    return n;
}

int wh_attempt_insert(rn_db *db, const wh_attempt_row *a, char *id_out, int *number)
{
    int n = a->number > 0 ? a->number : next_number(db, a);
    if (n < 1)
        return -1;
    rn_id_new("dlv", id_out, 48);
    const rn_send_result *res = a->res;
    char *body = res->body ? wh_text_sanitize(res->body) : NULL;
    long long changed = rn_db_exec(
        db,
        "INSERT INTO webhook_attempts (tenant_id, id, webhook_id, event_id, event_type, attempt,"
        " origin, status, response_status, duration_ms, error, response_body, created_at,"
        " next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        RN_PARAMS(RN_T(a->tenant_id), RN_T(id_out), RN_T(a->webhook_id), RN_T(a->event_id),
                  RN_T(a->event_type), RN_I(n), RN_T(ORIGIN_NAMES[a->origin]), RN_T(a->status),
                  res->http_status > 0 ? RN_I(res->http_status) : RN_NULLP,
                  RN_I(res->duration_ms), RN_T(res->error[0] ? res->error : NULL), RN_T(body),
                  RN_I(rn_now_ms()),
                  a->next_attempt_at > 0 ? RN_I(a->next_attempt_at) : RN_NULLP));
    free(body);
    *number = n;
    return changed == 1 ? 0 : -1;
}

static json_t *time_or_null(const rn_rows *rows, int row, int col)
{
    if (rn_rows_is_null(rows, row, col))
        return json_null();
    char when[32];
    rn_time_format(rn_rows_int(rows, row, col, 0), when, sizeof when);
    return json_string(when);
}

static json_t *text_or_null(const rn_rows *rows, int row, int col)
{
    const char *s = rn_rows_get(rows, row, col);
    return s ? json_string(s) : json_null();
}

json_t *wh_attempt_json(const rn_rows *rows, int row)
{
    json_t *status = rn_rows_is_null(rows, row, 6)
                         ? json_null()
                         : json_integer(rn_rows_int(rows, row, 6, 0));
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:s}", "id",
                     rn_rows_get(rows, row, 0), "webhookId", rn_rows_get(rows, row, 1),
                     "eventId", rn_rows_get(rows, row, 2), "event", rn_rows_get(rows, row, 3),
                     "attempt", (json_int_t)rn_rows_int(rows, row, 4, 0), "status",
                     rn_rows_get(rows, row, 5), "responseStatus", status, "durationMs",
                     (json_int_t)rn_rows_int(rows, row, 7, 0), "error",
                     text_or_null(rows, row, 8), "responseBody", text_or_null(rows, row, 9),
                     "createdAt", time_or_null(rows, row, 10), "nextAttemptAt",
                     time_or_null(rows, row, 11), "trigger", rn_rows_get(rows, row, 12));
}

json_t *wh_attempt_get(rn_db *db, const char *tenant_id, const char *attempt_id)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT " WH_ATTEMPT_COLUMNS " FROM webhook_attempts"
                                " WHERE tenant_id = $1 AND id = $2",
                                RN_PARAMS(RN_T(tenant_id), RN_T(attempt_id)));
    json_t *out = rows && rn_rows_count(rows) == 1 ? wh_attempt_json(rows, 0) : NULL;
    rn_rows_free(rows);
    return out;
}

void wh_attempt_log(const wh_attempt_row *a, const char *attempt_id, int number)
{
    const rn_send_result *res = a->res;
    json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:s}", "tenant",
                          a->tenant_id, "webhookId", a->webhook_id, "eventId", a->event_id,
                          "deliveryId", attempt_id, "attempt", number, "status", a->status,
                          "trigger", ORIGIN_NAMES[a->origin], "durationMs",
                          (json_int_t)res->duration_ms, "event", a->event_type);
    json_object_set_new(f, "responseStatus",
                        res->http_status > 0 ? json_integer(res->http_status) : json_null());
    if (res->error[0])
        json_object_set_new(f, "error", json_string(res->error));
    bool ok = strcmp(a->status, "succeeded") == 0;
    rn_log(ok ? RN_LOG_INFO : RN_LOG_WARN, "webhook delivery", f);
    json_decref(f);
}
