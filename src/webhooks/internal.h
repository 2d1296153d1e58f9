/*
 * internal.h — what the webhook files share among themselves (not for other
 * modules; their public faces are webhooks.h and dispatcher.h).
 *
 * The model, in three tables (migration 4):
 *   webhooks            a destination; its secret sealed under a key derived
 *                       from the master key (it must be recoverable to sign);
 *   webhook_deliveries  one row per event x destination: the queue. Per
 *                       destination exactly one row is 'pending' (the head,
 *                       attempted at next_attempt_at) and later ones wait as
 *                       'queued'; a finished head promotes the next queued
 *                       row in event-id order. That gives in-order delivery
 *                       with one attempt in flight per destination;
 *   webhook_attempts    the log the API shows: one `dlv_` row per attempt.
 *
 * Ownership: functions returning char * or json_t * hand over a new
 * allocation or reference; everything else borrows.
 */
#ifndef RN_WEBHOOKS_INTERNAL_H
#define RN_WEBHOOKS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "webhooks/sender.h"

/* ---- secrets (secrets.c) ------------------------------------------------ */

/* Accepted secrets are 16..128 printable ASCII characters without spaces. */
#define WH_SECRET_MIN 16
#define WH_SECRET_MAX 128
#define WH_SECRET_GRACE_MAX_S 86400

/* "whsec_" + 32 base62 characters from the CSPRNG (cap >= 40). */
void wh_secret_generate(char *out, size_t cap);
/* True if s is an acceptable tenant-chosen secret. */
bool wh_secret_acceptable(const char *s);
/* Seals a secret for the webhooks table (caller frees), NULL on failure. */
char *wh_secret_seal(const unsigned char master[32], const char *secret);
/* Opens a sealed secret into out (cap >= WH_SECRET_MAX + 1). 0 or -1. */
int wh_secret_open(const unsigned char master[32], const char *sealed, char *out, size_t cap);
/* The X-Ringnity-Signature value: "sha256=<new>", plus " sha256=<old>" when
 * old_secret is not NULL (rotation grace). cap >= 2 * RN_SIGNATURE_LEN. */
void wh_signature_header(const char *secret, const char *old_secret, long long timestamp,
                         const char *body, size_t len, char *out, size_t cap);

/* ---- retry schedule (schedule.c) ---------------------------------------- */

#define WH_SCHEDULE_MAX 32
#define WH_RETRY_AFTER_MAX_S 86400

typedef struct {
    int count;
    long long seconds[WH_SCHEDULE_MAX];
} wh_schedule;

/* Parses "5,300,1800": 1..32 integers 0..604800. 0, or -1 if malformed. */
int wh_schedule_parse(const char *text, wh_schedule *out);
/* Delay before the next automatic attempt after `failed_attempts` failures
 * (1 after the first), in ms: the schedule entry with +-20% jitter (rnd is a
 * uniform 32-bit random number), or Retry-After seconds (clamped to 1 s ..
 * 24 h) when the receiver sent one. -1 when the schedule is exhausted. */
long long wh_retry_delay_ms(const wh_schedule *s, int failed_attempts, long retry_after_s,
                            uint32_t rnd);

/* ---- cursors (cursor.c) -------------------------------------------------- */

/* An opaque cursor naming the list it belongs to (list: e.g.
 * "deliveries|wh_...||") and the last id shown, MAC'd under a key derived
 * from the master key. Caller frees. */
char *wh_cursor_encode(const unsigned char master[32], const char *list, const char *last_id);
/* 0 and the last id, or -1 when tampered with or made for another list. */
int wh_cursor_decode(const unsigned char master[32], const char *list, const char *cursor,
                     char *last_id, size_t cap);

/* ---- text --------------------------------------------------------------- */

/* A copy of s that is valid UTF-8 (invalid bytes become U+FFFD) and holds
 * no NUL: receivers' bodies go into TEXT columns and JSON. Caller frees. */
char *wh_text_sanitize(const char *s);

/* ---- the event catalogue (catalog.c) ------------------------------------ */

/* One-line description of a known event type, or NULL. */
const char *wh_event_description(const char *type);
/* Realistic sample `data` for an event type (new reference). */
json_t *wh_event_sample(const char *type);
/* The full delivery body {id, type, createdAt, tenantId, data} as compact
 * text, exactly as rn_event_emit writes it (caller frees). */
char *wh_event_payload(const char *event_id, const char *type, long long created_ms,
                       const char *tenant_id, json_t *data);
/* True if a subscription list (JSON array text) covers the event type. */
bool wh_events_match(const char *events_json, const char *type);

/* ---- one attempt: sign, send, record (attempt.c) ------------------------ */

typedef enum { WH_ORIGIN_AUTOMATIC, WH_ORIGIN_TEST, WH_ORIGIN_REDELIVER } wh_origin;

/* Everything needed to sign and send one event to one destination. */
typedef struct {
    const char *tenant_id;
    const char *webhook_id;
    const char *url;
    const char *secret;     /* opened */
    const char *old_secret; /* opened, during a rotation grace; or NULL */
    const char *event_id;
    const char *event_type;
    const char *payload; /* the outbox bytes, sent unchanged */
} wh_target;

/* Signs and POSTs the payload with the contract's headers. Returns what
 * rn_webhook_send returns; free res with rn_send_result_free. */
int wh_attempt_send(void *curl, const wh_target *t, int allow_private, long timeout_ms,
                    rn_send_result *res);

/* What one attempt row records. */
typedef struct {
    const char *tenant_id, *webhook_id, *event_id, *event_type;
    wh_origin origin;
    const char *status; /* "succeeded" | "pending" | "failed" */
    const rn_send_result *res;
    long long next_attempt_at; /* ms, or 0 */
    int number;                /* the attempt number, or 0 to look it up */
} wh_attempt_row;

/* Inserts the row with the next attempt number for (webhook, event);
 * writes its `dlv_` id to id_out (>= 48) and the number to *number. */
int wh_attempt_insert(rn_db *db, const wh_attempt_row *a, char *id_out, int *number);
/* The attempt's API object, read back by id (new reference), or NULL. */
json_t *wh_attempt_get(rn_db *db, const char *tenant_id, const char *attempt_id);
/* The API object from a row of WH_ATTEMPT_COLUMNS (new reference). */
json_t *wh_attempt_json(const rn_rows *rows, int row);
#define WH_ATTEMPT_COLUMNS                                                                 \
    "id, webhook_id, event_id, event_type, attempt, status, response_status, duration_ms," \
    " error, response_body, created_at, next_attempt_at, origin"

/* One JSON log line per attempt (never the secret or the signature). */
void wh_attempt_log(const wh_attempt_row *a, const char *attempt_id, int number);

/* Opens the destination's current secret and, while the rotation grace
 * lasts, its old one (old[0] = '\0' otherwise). 0 or -1. */
int wh_secrets_open(const unsigned char master[32], const char *sealed, const char *old_sealed,
                    long long old_until, long long now_ms, char *secret, char *old,
                    size_t cap);

#endif
