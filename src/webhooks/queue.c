/*
 * queue.c — fan-out, head election, claims and finishing: the SQL behind the
 * dispatcher.
 *
 * A destination's deliveries form a queue in event_seq order. A unique
 * partial index allows one 'pending' row per destination, the head; the rest
 * wait as 'queued'. Whoever may have left a destination without a head
 * (fan-out after queueing rows, a finish after completing the head) then
 * elects the smallest queued row, in a statement that sees every committed
 * row. Two electors racing either pick the same row (its row lock lets one
 * win, the other finds it no longer queued) or different rows, and then the
 * unique index refuses the second: never two heads, never a missed one. An
 * elector that dies between its commit and its election leaves a headless
 * queue, which wh_sweep repairs. No destination row is locked, so fan-out
 * never waits for attempts being recorded, nor they for it.
 *
 * On PostgreSQL one node fans out at a time (an advisory lock) and claims
 * take rows with FOR UPDATE SKIP LOCKED, leaving a lease. On SQLite the
 * dispatcher runs all of this inside one writer's transactions.
 */
#include "webhooks/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/audit.h"
#include "core/log.h"
#include "core/util.h"

#define FANOUT_LOCK_KEY "7267426"

static bool is_pg(rn_db *db)
{
    return rn_db_dialect(db) == RN_DB_POSTGRES;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- fan-out ------------------------------------------------------------ */

static bool fanout_lock(rn_db *db)
{
    if (!is_pg(db))
        return true;
    rn_rows *rows =
        rn_db_query(db, "SELECT pg_try_advisory_xact_lock(" FANOUT_LOCK_KEY ")", RN_NOPARAMS);
    const char *v = rows ? rn_rows_get(rows, 0, 0) : NULL;
    bool got = v && v[0] == 't';
    rn_rows_free(rows);
    return got;
}

/* Oldest first: the PostgreSQL identity column, or SQLite's rowid. */
static rn_rows *fanout_events(rn_db *db, int limit)
{
    return rn_db_query(db,
                       is_pg(db) ? "SELECT tenant_id, id, type, seq FROM events"
                                   " WHERE fanned_out = 0 ORDER BY tenant_id, seq LIMIT $1"
                                   " FOR UPDATE SKIP LOCKED"
                                 : "SELECT tenant_id, id, type, rowid FROM events"
                                   " WHERE fanned_out = 0 ORDER BY tenant_id, rowid LIMIT $1",
                       RN_PARAMS(RN_I(limit)));
}

/* The tenant's enabled destinations. */
static rn_rows *fanout_hooks(rn_db *db, const char *tenant_id)
{
    return rn_db_query(db,
                       "SELECT id, events FROM webhooks WHERE tenant_id = $1 AND enabled = 1"
                       " ORDER BY id",
                       RN_PARAMS(RN_T(tenant_id)));
}

/* Destinations a fan-out queued rows for, to elect their heads. */
typedef struct {
    char (*pairs)[2][48];
    int n, cap;
} touched;

static void touched_add(touched *t, const char *tenant_id, const char *webhook_id)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->pairs[i][1], webhook_id) == 0 && strcmp(t->pairs[i][0], tenant_id) == 0)
            return;
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        void *grown = realloc(t->pairs, sizeof *t->pairs * (size_t)cap);
        if (!grown)
            return; /* the sweep elects what we could not remember */
        t->pairs = grown;
        t->cap = cap;
    }
    copy(t->pairs[t->n][0], 48, tenant_id);
    copy(t->pairs[t->n][1], 48, webhook_id);
    t->n++;
}

static int fanout_one(rn_db *db, const rn_rows *hooks, const rn_rows *events, int row,
                      touched *t)
{
    const char *tenant_id = rn_rows_get(events, row, 0);
    const char *event_id = rn_rows_get(events, row, 1);
    const char *type = rn_rows_get(events, row, 2);
    long long now = rn_now_ms();
    for (int i = 0; i < rn_rows_count(hooks); i++) {
        if (!wh_events_match(rn_rows_get(hooks, i, 1), type))
            continue;
        const char *hook = rn_rows_get(hooks, i, 0);
        long long n = rn_db_exec(
            db,
            "INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type,"
            " event_seq, status, attempts, next_attempt_at, created_at, updated_at) VALUES"
            " ($1, $2, $3, $4, $6, 'queued', 0, $5, $5, $5) ON CONFLICT DO NOTHING",
            RN_PARAMS(RN_T(tenant_id), RN_T(hook), RN_T(event_id), RN_T(type), RN_I(now),
                      RN_I(rn_rows_int(events, row, 3, 0))));
        if (n < 0)
            return -1;
        touched_add(t, tenant_id, hook);
    }
    return rn_db_exec(db, "UPDATE events SET fanned_out = 1 WHERE tenant_id = $1 AND id = $2",
                      RN_PARAMS(RN_T(tenant_id), RN_T(event_id))) == 1
               ? 0
               : -1;
}

/* PostgreSQL: one tenant's events [from, to) in two statements, the rows as
 * comma-separated arrays (ids and type names never hold a comma), instead
 * of two round trips per event. */
typedef struct {
    char *text;
    size_t len;
    FILE *f;
} csv;

static void csv_open(csv *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
}

static void csv_add(csv *c, const char *v)
{
    if (c->f)
        fprintf(c->f, "%s%s", ftell(c->f) > 0 ? "," : "", v);
}

static char *csv_close(csv *c)
{
    if (c->f)
        fclose(c->f);
    return c->text;
}

/* The tenant's (event, destination) pairs as arrays, and its event ids. */
typedef struct {
    csv hooks, events, types, seqs, ids;
    int pairs;
} pg_batch;

static void pg_batch_collect(pg_batch *b, const rn_rows *hooks, const rn_rows *events,
                             int from, int to, touched *t)
{
    const char *tenant = rn_rows_get(events, from, 0);
    for (int row = from; row < to; row++) {
        csv_add(&b->ids, rn_rows_get(events, row, 1));
        for (int i = 0; i < rn_rows_count(hooks); i++) {
            if (!wh_events_match(rn_rows_get(hooks, i, 1), rn_rows_get(events, row, 2)))
                continue;
            csv_add(&b->hooks, rn_rows_get(hooks, i, 0));
            csv_add(&b->events, rn_rows_get(events, row, 1));
            csv_add(&b->types, rn_rows_get(events, row, 2));
            csv_add(&b->seqs, rn_rows_get(events, row, 3));
            touched_add(t, tenant, rn_rows_get(hooks, i, 0));
            b->pairs++;
        }
    }
}

static int pg_batch_write(rn_db *db, const char *tenant, char *const text[5], int pairs,
                          int nevents)
{
    if (pairs > 0 &&
        rn_db_exec(db,
                   "INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type,"
                   " event_seq, status, attempts, next_attempt_at, created_at, updated_at)"
                   " SELECT $1, x.h, x.e, x.t, CAST(x.s AS BIGINT), 'queued', 0,"
                   " CAST($2 AS BIGINT), CAST($2 AS BIGINT), CAST($2 AS BIGINT)"
                   " FROM unnest(string_to_array($3, ','), string_to_array($4, ','),"
                   " string_to_array($5, ','), string_to_array($6, ',')) AS x(h, e, t, s)"
                   " ON CONFLICT DO NOTHING",
                   RN_PARAMS(RN_T(tenant), RN_I(rn_now_ms()), RN_T(text[0]), RN_T(text[1]),
                             RN_T(text[2]), RN_T(text[3]))) < 0)
        return -1;
    return rn_db_exec(db,
                      "UPDATE events SET fanned_out = 1 WHERE tenant_id = $1"
                      " AND id = ANY(string_to_array($2, ','))",
                      RN_PARAMS(RN_T(tenant), RN_T(text[4]))) == nevents
               ? 0
               : -1;
}

/* PostgreSQL: one tenant's events [from, to) in two statements, the rows as
 * comma-separated arrays (ids and type names never hold a comma), instead
 * of two round trips per event. */
static int fanout_tenant_pg(rn_db *db, const rn_rows *hooks, const rn_rows *events, int from,
                            int to, touched *t)
{
    pg_batch b = {.pairs = 0};
    csv *all[] = {&b.hooks, &b.events, &b.types, &b.seqs, &b.ids};
    for (size_t i = 0; i < 5; i++)
        csv_open(all[i]);
    pg_batch_collect(&b, hooks, events, from, to, t);
    char *text[5];
    bool ok = true;
    for (size_t i = 0; i < 5; i++)
        ok = (text[i] = csv_close(all[i])) != NULL && ok;
    int rc = ok ? pg_batch_write(db, rn_rows_get(events, from, 0), text, b.pairs, to - from)
                : -1;
    for (size_t i = 0; i < 5; i++)
        free(text[i]);
    return rc;
}

static int fanout_batch(rn_db *db, const rn_rows *events, touched *t)
{
    int count = rn_rows_count(events);
    int rc = 0;
    for (int from = 0; from < count && rc == 0;) {
        const char *tenant = rn_rows_get(events, from, 0);
        int to = from + 1;
        while (to < count && strcmp(rn_rows_get(events, to, 0), tenant) == 0)
            to++;
        rn_rows *hooks = fanout_hooks(db, tenant);
        if (!hooks)
            rc = -1;
        else if (is_pg(db))
            rc = fanout_tenant_pg(db, hooks, events, from, to, t);
        for (int i = from; i < to && rc == 0 && !is_pg(db); i++)
            rc = fanout_one(db, hooks, events, i, t);
        rn_rows_free(hooks);
        from = to;
    }
    return rc;
}

/* Queues a batch; returns events handled or -1. Fills t. */
static int fanout_queue(rn_db *db, int limit, touched *t)
{
    rn_rows *events = fanout_events(db, limit);
    if (!events)
        return -1;
    int n = rn_rows_count(events);
    int rc = n > 0 ? fanout_batch(db, events, t) : 0;
    rn_rows_free(events);
    return rc == 0 ? n : -1;
}

static int elect_touched(rn_db *db, const touched *t)
{
    int rc = 0;
    for (int i = 0; i < t->n && rc == 0; i++)
        rc = wh_elect(db, t->pairs[i][0], t->pairs[i][1], NULL, 0, NULL, NULL);
    return rc;
}

int wh_fanout_run(rn_db *db, int limit)
{
    touched t = {0};
    int n = fanout_queue(db, limit, &t);
    if (n > 0 && elect_touched(db, &t) != 0)
        n = -1;
    free(t.pairs);
    return n;
}

/* Whether any event waits to be fanned out: one cheap statement (the
 * partial index of such events) instead of the four of an empty round
 * (begin, lock, select, rollback), every BUSY_POLL_MS. 1, 0, or -1. */
static int fanout_waiting(rn_db *db)
{
    /* The order is the index's: a scan of it, never of the whole table. */
    rn_rows *rows = rn_db_query(
        db, "SELECT 1 FROM events WHERE fanned_out = 0 ORDER BY tenant_id LIMIT 1", RN_NOPARAMS);
    if (!rows)
        return -1;
    int n = rn_rows_count(rows);
    rn_rows_free(rows);
    return n > 0;
}

int wh_fanout(rn_db *db, int limit)
{
    int waiting = fanout_waiting(db);
    if (waiting <= 0)
        return waiting;
    if (rn_db_begin(db) != 0)
        return -1;
    if (!fanout_lock(db)) {
        rn_db_rollback(db);
        return 0;
    }
    touched t = {0};
    int n = fanout_queue(db, limit, &t);
    if (n <= 0) {
        rn_db_rollback(db);
    } else if (rn_db_commit(db) != 0) {
        n = -1;
    } else {
        /* After the commit, so that each election sees the new rows. */
        elect_touched(db, &t);
    }
    free(t.pairs);
    return n;
}

/* ---- heads -------------------------------------------------------------- */

int wh_elect(rn_db *db, const char *tenant_id, const char *webhook_id, const char *node,
             long long lease_until, wh_job *next, bool *has_next)
{
    rn_rows *rows = rn_db_query(
        db,
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3,"
        " updated_at = $3, claimed_by = $4, claimed_until = $5"
        " WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'queued'"
        " AND event_seq = (SELECT MIN(event_seq) FROM webhook_deliveries"
        " WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'queued')"
        " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries"
        " WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'pending')"
        " RETURNING event_id, event_type, attempts",
        RN_PARAMS(RN_T(tenant_id), RN_T(webhook_id), RN_I(rn_now_ms()), RN_T(node),
                  node ? RN_I(lease_until) : RN_NULLP));
    if (!rows) /* another elector's head won the unique index: fine outside a transaction */
        return rn_db_last_error(db) == RN_DB_ERR_CONSTRAINT ? 0 : -1;
    if (next && node && rn_rows_count(rows) == 1) {
        copy(next->tenant_id, sizeof next->tenant_id, tenant_id);
        copy(next->webhook_id, sizeof next->webhook_id, webhook_id);
        copy(next->event_id, sizeof next->event_id, rn_rows_get(rows, 0, 0));
        copy(next->event_type, sizeof next->event_type, rn_rows_get(rows, 0, 1));
        next->attempts = (int)rn_rows_int(rows, 0, 2, 0);
        *has_next = true;
    }
    rn_rows_free(rows);
    return 0;
}

int wh_sweep(rn_db *db)
{
    rn_rows *rows = rn_db_query(
        db,
        "SELECT w.tenant_id, w.id FROM webhooks w WHERE w.enabled = 1 AND EXISTS (SELECT 1"
        " FROM webhook_deliveries q WHERE q.tenant_id = w.tenant_id AND q.webhook_id = w.id"
        " AND q.status = 'queued') AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p"
        " WHERE p.tenant_id = w.tenant_id AND p.webhook_id = w.id AND p.status = 'pending')",
        RN_NOPARAMS);
    if (!rows)
        return -1;
    int n = rn_rows_count(rows);
    for (int i = 0; i < n; i++)
        wh_elect(db, rn_rows_get(rows, i, 0), rn_rows_get(rows, i, 1), NULL, 0, NULL, NULL);
    rn_rows_free(rows);
    return n;
}

/* ---- claims ------------------------------------------------------------- */

#define CLAIM_HEAD                                                                          \
    "UPDATE webhook_deliveries SET claimed_by = $1, claimed_until = $2"                     \
    " WHERE (tenant_id, webhook_id, event_id) IN ("                                         \
    " SELECT d.tenant_id, d.webhook_id, d.event_id FROM webhook_deliveries d"               \
    " JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id"                 \
    " WHERE d.status = 'pending' AND d.next_attempt_at <= $3"                               \
    " AND (d.claimed_until IS NULL OR d.claimed_until < $3) AND w.enabled = 1"              \
    " ORDER BY d.next_attempt_at LIMIT $4"
#define CLAIM_TAIL ") RETURNING tenant_id, webhook_id, event_id, event_type, attempts"

int wh_claim(rn_db *db, const char *node, long long now, long long lease_until, wh_job *jobs,
             int n)
{
    rn_rows *rows = rn_db_query(db,
                                is_pg(db) ? CLAIM_HEAD " FOR UPDATE OF d SKIP LOCKED" CLAIM_TAIL
                                          : CLAIM_HEAD CLAIM_TAIL,
                                RN_PARAMS(RN_T(node), RN_I(lease_until), RN_I(now), RN_I(n)));
    if (!rows)
        return -1;
    int got = rn_rows_count(rows);
    for (int i = 0; i < got && i < n; i++) {
        copy(jobs[i].tenant_id, sizeof jobs[i].tenant_id, rn_rows_get(rows, i, 0));
        copy(jobs[i].webhook_id, sizeof jobs[i].webhook_id, rn_rows_get(rows, i, 1));
        copy(jobs[i].event_id, sizeof jobs[i].event_id, rn_rows_get(rows, i, 2));
        copy(jobs[i].event_type, sizeof jobs[i].event_type, rn_rows_get(rows, i, 3));
        jobs[i].attempts = (int)rn_rows_int(rows, i, 4, 0);
    }
    rn_rows_free(rows);
    return got < n ? got : n;
}

void wh_release(rn_db *db, const char *node, const wh_job *jobs, int n)
{
    for (int i = 0; i < n; i++)
        rn_db_exec(db,
                   "UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL"
                   " WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3"
                   " AND claimed_by = $4",
                   RN_PARAMS(RN_T(jobs[i].tenant_id), RN_T(jobs[i].webhook_id),
                             RN_T(jobs[i].event_id), RN_T(node)));
}

int wh_release_all(rn_db *db)
{
    return rn_db_exec(db,
                      "UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL"
                      " WHERE status = 'pending' AND claimed_by IS NOT NULL",
                      RN_NOPARAMS) < 0
               ? -1
               : 0;
}

/* ---- one job ------------------------------------------------------------ */

int wh_job_load(rn_db *db, const wh_job *job, wh_job_data *out)
{
    memset(out, 0, sizeof *out);
    out->rows = rn_db_query(
        db,
        "SELECT w.url, w.secret_sealed, w.old_secret_sealed, w.old_secret_until, e.payload"
        " FROM webhooks w JOIN events e ON e.tenant_id = w.tenant_id AND e.id = $3"
        " WHERE w.tenant_id = $1 AND w.id = $2",
        RN_PARAMS(RN_T(job->tenant_id), RN_T(job->webhook_id), RN_T(job->event_id)));
    if (!out->rows)
        return -1;
    if (rn_rows_count(out->rows) != 1)
        return 1;
    out->url = rn_rows_get(out->rows, 0, 0);
    out->sealed = rn_rows_get(out->rows, 0, 1);
    out->old_sealed = rn_rows_get(out->rows, 0, 2);
    out->old_until = rn_rows_int(out->rows, 0, 3, 0);
    out->payload = rn_rows_get(out->rows, 0, 4);
    return 0;
}

void wh_job_data_free(wh_job_data *d)
{
    rn_rows_free(d->rows);
    memset(d, 0, sizeof *d);
}

int wh_abandon(rn_db *db, const wh_job *job, const char *node)
{
    if (rn_db_exec(db,
                   "UPDATE webhook_deliveries SET status = 'failed', claimed_by = NULL,"
                   " claimed_until = NULL, updated_at = $5 WHERE tenant_id = $1"
                   " AND webhook_id = $2 AND event_id = $3 AND claimed_by = $4",
                   RN_PARAMS(RN_T(job->tenant_id), RN_T(job->webhook_id), RN_T(job->event_id),
                             RN_T(node), RN_I(rn_now_ms()))) < 0)
        return -1;
    return wh_elect(db, job->tenant_id, job->webhook_id, NULL, 0, NULL, NULL);
}

/* ---- finishing an attempt ----------------------------------------------- */

typedef struct {
    bool enabled;
    long long failures_before;
    long long failures; /* consecutive, after this attempt */
    const char *delivery_status;
    bool final;
    const char *disable_reason; /* NULL: stays as it is */
    char reason[96];
} finish_plan;

/* Reads what the decision needs, plus the number this attempt gets, in one
 * round trip. No lock: only the holder of a delivery's claim finishes it.
 * 0, 1 when the destination is gone, or -1. */
#define FINISH_LOCK                                                                        \
    "SELECT enabled, consecutive_failures, (SELECT COALESCE(MAX(attempt), 0)"            \
    " FROM webhook_attempts WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3)" \
    " FROM webhooks WHERE tenant_id = $1 AND id = $2"

static int finish_lock(rn_db *db, const wh_job *job, finish_plan *plan, int *number)
{
    rn_rows *rows = rn_db_query(
        db, FINISH_LOCK,
        RN_PARAMS(RN_T(job->tenant_id), RN_T(job->webhook_id), RN_T(job->event_id)));
    if (!rows)
        return -1;
    int found = rn_rows_count(rows) == 1;
    if (found) {
        plan->enabled = rn_rows_int(rows, 0, 0, 0) != 0;
        plan->failures_before = rn_rows_int(rows, 0, 1, 0);
        *number = (int)rn_rows_int(rows, 0, 2, 0) + 1;
    }
    rn_rows_free(rows);
    return found ? 0 : 1;
}

static void finish_decide(const wh_job *job, bool send_ok, const rn_send_result *res,
                          const wh_policy *p, uint32_t rnd, finish_plan *plan, wh_outcome *out)
{
    long long now = rn_now_ms();
    plan->failures = send_ok ? 0 : plan->failures_before + 1;
    plan->final = true;
    plan->delivery_status = send_ok ? "succeeded" : "failed";
    out->status = plan->delivery_status;
    out->next_attempt_at = 0;
    long long delay = send_ok ? -1 : wh_retry_delay_ms(p->schedule, job->attempts + 1,
                                                       res->retry_after_s, rnd);
    if (delay >= 0) {
        plan->final = false;
        plan->delivery_status = "pending";
        out->next_attempt_at = now + delay;
    }
    bool gone = !send_ok && res->http_status == 410;
    if (plan->enabled && gone) {
        snprintf(plan->reason, sizeof plan->reason, "The receiver answered HTTP 410 Gone.");
        plan->disable_reason = plan->reason;
    } else if (plan->enabled && !send_ok && plan->failures >= p->max_failures) {
        snprintf(plan->reason, sizeof plan->reason,
                 "Disabled after %lld consecutive failed deliveries.", plan->failures);
        plan->disable_reason = plan->reason;
    }
    /* A disabled destination's queue waits for it to be enabled again: no
     * automatic attempt is scheduled, so this attempt reads as failed. */
    if (!plan->final && (plan->disable_reason || !plan->enabled)) {
        out->status = "failed";
        out->next_attempt_at = 0;
    } else if (!plan->final) {
        out->status = "pending";
    }
    out->disabled = plan->disable_reason != NULL;
}

static long long finish_delivery(rn_db *db, const wh_job *job, const finish_plan *plan,
                                 const wh_outcome *out, const wh_policy *p)
{
    long long next = plan->final ? 0 : out->next_attempt_at ? out->next_attempt_at : rn_now_ms();
    return rn_db_exec(db,
                      "UPDATE webhook_deliveries SET status = $4, attempts = $5,"
                      " next_attempt_at = $6, claimed_by = NULL, claimed_until = NULL,"
                      " updated_at = $7 WHERE tenant_id = $1 AND webhook_id = $2"
                      " AND event_id = $3 AND status = 'pending' AND claimed_by = $8",
                      RN_PARAMS(RN_T(job->tenant_id), RN_T(job->webhook_id),
                                RN_T(job->event_id), RN_T(plan->delivery_status),
                                RN_I(job->attempts + 1), next ? RN_I(next) : RN_NULLP,
                                RN_I(rn_now_ms()), RN_T(p->node)));
}

static int finish_destination(rn_db *db, const wh_job *job, const finish_plan *plan)
{
    if (!plan->disable_reason && plan->failures == plan->failures_before)
        return 0; /* the common case, a success after a success: nothing to write */
    if (!plan->disable_reason)
        return rn_db_exec(db,
                          "UPDATE webhooks SET consecutive_failures = $3"
                          " WHERE tenant_id = $1 AND id = $2",
                          RN_PARAMS(RN_T(job->tenant_id), RN_T(job->webhook_id),
                                    RN_I(plan->failures))) == 1
                   ? 0
                   : -1;
    long long n = rn_db_exec(db,
                             "UPDATE webhooks SET consecutive_failures = $3, enabled = 0,"
                             " disabled_reason = $4, updated_at = $5"
                             " WHERE tenant_id = $1 AND id = $2",
                             RN_PARAMS(RN_T(job->tenant_id), RN_T(job->webhook_id),
                                       RN_I(plan->failures), RN_T(plan->disable_reason),
                                       RN_I(rn_now_ms())));
    json_t *details = json_pack("{s:s, s:I}", "reason", plan->disable_reason,
                                "consecutiveFailures", (json_int_t)plan->failures);
    rn_audit_entry e = {.tenant_id = job->tenant_id,
                        .actor = "system",
                        .action = "webhook.disabled",
                        .target = job->webhook_id,
                        .details = details};
    int rc = n == 1 && rn_audit_record(db, &e) == 0 ? 0 : -1;
    json_decref(details);
    return rc;
}

typedef struct {
    long long lease_until;
    wh_job *next; /* NULL: do not claim the next one */
    bool *has_next;
    wh_job_data *next_data; /* NULL, or empty: filled when the next came loaded */
} finish_next;

/* The attempt's row and its consequences. *elect: the delivery is finished,
 * so the destination needs a new head; *keep: and its worker may claim it. */
static int finish_steps(rn_db *db, const wh_job *job, bool send_ok, const rn_send_result *res,
                        const wh_policy *p, uint32_t rnd, wh_outcome *out, bool *elect,
                        bool *keep)
{
    finish_plan plan = {0};
    int number = 0;
    int found = finish_lock(db, job, &plan, &number);
    if (found != 0)
        return found;
    finish_decide(job, send_ok, res, p, rnd, &plan, out);
    wh_attempt_row row = {.tenant_id = job->tenant_id,
                          .webhook_id = job->webhook_id,
                          .event_id = job->event_id,
                          .event_type = job->event_type,
                          .origin = WH_ORIGIN_AUTOMATIC,
                          .status = out->status,
                          .res = res,
                          .next_attempt_at = out->next_attempt_at,
                          .number = number};
    if (wh_attempt_insert(db, &row, out->attempt_id, &out->number) != 0)
        return -1;
    long long held = finish_delivery(db, job, &plan, out, p);
    if (held < 0)
        return -1;
    if (held == 0) { /* our lease ran out and another claim took over */
        out->disabled = false;
        return 0;
    }
    if (finish_destination(db, job, &plan) != 0)
        return -1;
    *elect = plan.final;
    *keep = plan.final && plan.enabled && !plan.disable_reason;
    return 0;
}

static int finish_elect(rn_db *db, const wh_job *job, const wh_policy *p, bool keep,
                        const finish_next *fn)
{
    bool claim = keep && fn->next;
    return wh_elect(db, job->tenant_id, job->webhook_id, claim ? p->node : NULL, fn->lease_until,
                    claim ? fn->next : NULL, fn->has_next);
}

/* PostgreSQL, a success (the common case): the attempt row, the delivery
 * and the failure count in one statement instead of a five-statement
 * transaction; each statement is a round trip, and round trips are most of
 * what a delivery costs there. Sub-statements share one snapshot.
 *
 * With $14 = 1 the same statement also elects the destination's next head
 * (x), claims it for $12 when the destination is enabled, and returns what
 * its attempt needs (the load of wh_job_load): one round trip per delivery
 * of a busy destination instead of three. x reads d's output, so the old
 * head has left 'pending' before x writes the new one and the unique index
 * of heads never sees two. x only sees queued rows committed before the
 * statement began; when it finds none, the caller elects after the commit
 * as before (a fan-out that committed meanwhile may have found our head
 * still pending and left the election to us). */
#define FINISH_OK_PG                                                                          \
    "WITH h AS (SELECT enabled, url, secret_sealed, old_secret_sealed, old_secret_until"       \
    " FROM webhooks WHERE tenant_id = $1 AND id = $2),"                                        \
    " n AS (SELECT COALESCE(MAX(attempt), 0) + 1 AS attempt FROM webhook_attempts"             \
    " WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3),"                            \
    " a AS (INSERT INTO webhook_attempts (tenant_id, id, webhook_id, event_id, event_type,"    \
    " attempt, origin, status, response_status, duration_ms, error, response_body, created_at," \
    " next_attempt_at) SELECT $1, $4, $2, $3, $5, n.attempt, 'automatic', 'succeeded',"        \
    " CAST($6 AS INTEGER), CAST($7 AS BIGINT), NULL, CAST($8 AS TEXT), CAST($9 AS BIGINT),"   \
    " NULL FROM n, h RETURNING attempt),"                                                      \
    " d AS (UPDATE webhook_deliveries SET status = 'succeeded', attempts = CAST($10 AS INTEGER)," \
    " next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL,"                        \
    " updated_at = CAST($9 AS BIGINT) WHERE tenant_id = $1 AND webhook_id = $2"                \
    " AND event_id = $3 AND status = 'pending' AND claimed_by = $11 RETURNING 1 AS held),"     \
    " w AS (UPDATE webhooks SET consecutive_failures = 0 WHERE tenant_id = $1 AND id = $2"     \
    " AND consecutive_failures <> 0 AND EXISTS (SELECT 1 FROM d) RETURNING 1),"                \
    " x AS (UPDATE webhook_deliveries q SET status = 'pending',"                               \
    " next_attempt_at = CAST($9 AS BIGINT), updated_at = CAST($9 AS BIGINT),"                  \
    " claimed_by = CASE WHEN h.enabled <> 0 THEN CAST($12 AS TEXT) END,"                       \
    " claimed_until = CASE WHEN h.enabled <> 0 AND CAST($12 AS TEXT) IS NOT NULL"              \
    " THEN CAST($13 AS BIGINT) END FROM d, h WHERE CAST($14 AS INTEGER) = 1"                   \
    " AND q.tenant_id = $1 AND q.webhook_id = $2 AND q.status = 'queued'"                      \
    " AND q.event_seq = (SELECT MIN(event_seq) FROM webhook_deliveries"                        \
    " WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'queued')"                         \
    " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1"                   \
    " AND webhook_id = $2 AND status = 'pending' AND event_id <> $3)"                          \
    " RETURNING q.event_id, q.event_type, q.attempts)"                                         \
    " SELECT (SELECT attempt FROM a), (SELECT COUNT(*) FROM d), (SELECT enabled FROM h),"      \
    " (SELECT COUNT(*) FROM w), x.event_id, x.event_type, x.attempts, h.url, h.secret_sealed,"  \
    " h.old_secret_sealed, h.old_secret_until, v.payload FROM (SELECT 1) AS one"               \
    " LEFT JOIN x ON TRUE LEFT JOIN h ON x.event_id IS NOT NULL"                               \
    " LEFT JOIN events v ON v.tenant_id = $1 AND v.id = x.event_id"

/* Columns of FINISH_OK_PG's answer. */
enum { OK_ATTEMPT, OK_HELD, OK_ENABLED, OK_RESET, OK_NEXT_EVENT, OK_NEXT_TYPE,
       OK_NEXT_ATTEMPTS, OK_URL, OK_SEALED, OK_OLD_SEALED, OK_OLD_UNTIL, OK_PAYLOAD };

/* chain: also elect the next head in the same statement. */
static rn_rows *finish_ok_query(rn_db *db, const wh_job *job, const rn_send_result *res,
                                const wh_policy *p, const finish_next *fn, bool chain,
                                const char *attempt_id)
{
    char *body = res->body ? wh_text_sanitize(res->body) : NULL;
    bool claim = chain && fn->next;
    rn_rows *rows = rn_db_query(
        db, FINISH_OK_PG,
        RN_PARAMS(RN_T(job->tenant_id), RN_T(job->webhook_id), RN_T(job->event_id),
                  RN_T(attempt_id), RN_T(job->event_type),
                  res->http_status > 0 ? RN_I(res->http_status) : RN_NULLP,
                  RN_I(res->duration_ms), RN_T(body), RN_I(rn_now_ms()), RN_I(job->attempts + 1),
                  RN_T(p->node), claim ? RN_T(p->node) : RN_NULLP, RN_I(fn->lease_until),
                  RN_I(chain ? 1 : 0)));
    free(body);
    return rows;
}

/* The head FINISH_OK_PG elected and claimed for us: the job, and its data
 * when the caller wants it and both rows still exist. Takes `rows`. */
static void finish_ok_next(rn_rows *rows, const wh_job *job, const finish_next *fn)
{
    wh_job *next = fn->next;
    copy(next->tenant_id, sizeof next->tenant_id, job->tenant_id);
    copy(next->webhook_id, sizeof next->webhook_id, job->webhook_id);
    copy(next->event_id, sizeof next->event_id, rn_rows_get(rows, 0, OK_NEXT_EVENT));
    copy(next->event_type, sizeof next->event_type, rn_rows_get(rows, 0, OK_NEXT_TYPE));
    next->attempts = (int)rn_rows_int(rows, 0, OK_NEXT_ATTEMPTS, 0);
    *fn->has_next = true;
    wh_job_data *nd = fn->next_data;
    if (!nd || rn_rows_is_null(rows, 0, OK_URL) || rn_rows_is_null(rows, 0, OK_PAYLOAD)) {
        rn_rows_free(rows); /* the worker loads it, and finds out what vanished */
        return;
    }
    nd->rows = rows;
    nd->url = rn_rows_get(rows, 0, OK_URL);
    nd->sealed = rn_rows_get(rows, 0, OK_SEALED);
    nd->old_sealed = rn_rows_get(rows, 0, OK_OLD_SEALED);
    nd->old_until = rn_rows_int(rows, 0, OK_OLD_UNTIL, 0);
    nd->payload = rn_rows_get(rows, 0, OK_PAYLOAD);
}

/* 0, 1 when the destination is gone, -1. *elect: the caller must still
 * elect a head after the commit; *keep: and may claim it. */
static int finish_ok_pg(rn_db *db, const wh_job *job, const rn_send_result *res,
                        const wh_policy *p, const finish_next *fn, wh_outcome *out, bool *elect,
                        bool *keep)
{
    rn_id_new("dlv", out->attempt_id, sizeof out->attempt_id);
    rn_rows *rows = finish_ok_query(db, job, res, p, fn, true, out->attempt_id);
    if (!rows && rn_db_last_error(db) == RN_DB_ERR_CONSTRAINT) /* another elector's head */
        rows = finish_ok_query(db, job, res, p, fn, false, out->attempt_id);
    if (!rows)
        return -1;
    if (rn_rows_is_null(rows, 0, OK_ATTEMPT)) {
        rn_rows_free(rows);
        return 1;
    }
    out->status = "succeeded";
    out->number = (int)rn_rows_int(rows, 0, OK_ATTEMPT, 0);
    bool held = rn_rows_int(rows, 0, OK_HELD, 0) == 1;
    bool enabled = rn_rows_int(rows, 0, OK_ENABLED, 0) != 0;
    bool chained = !rn_rows_is_null(rows, 0, OK_NEXT_EVENT);
    *elect = held && !chained;
    *keep = held && enabled;
    if (chained && enabled && fn->next)
        finish_ok_next(rows, job, fn);
    else
        rn_rows_free(rows);
    return 0;
}

/* Its own transaction, then the election once the finish is visible. */
static int finish_run(rn_db *db, const wh_job *job, bool send_ok, const rn_send_result *res,
                      const wh_policy *p, uint32_t rnd, wh_outcome *out, const finish_next *fn)
{
    memset(out, 0, sizeof *out);
    if (fn->has_next)
        *fn->has_next = false;
    bool elect = false, keep = false;
    if (send_ok && is_pg(db)) {
        int rc = finish_ok_pg(db, job, res, p, fn, out, &elect, &keep);
        if (rc != 0)
            return rc;
    } else {
        if (rn_db_begin(db) != 0)
            return -1;
        int rc = finish_steps(db, job, send_ok, res, p, rnd, out, &elect, &keep);
        if (rc != 0) {
            rn_db_rollback(db);
            return rc;
        }
        if (rn_db_commit(db) != 0)
            return -1;
    }
    /* A failed election leaves a headless queue for the sweep to repair:
     * the attempt itself is recorded, so this is still a success. */
    if (elect)
        finish_elect(db, job, p, keep, fn);
    return 0;
}

int wh_finish(rn_db *db, const wh_job *job, bool send_ok, const rn_send_result *res,
              const wh_policy *p, uint32_t rnd, wh_outcome *out)
{
    finish_next none = {0};
    return finish_run(db, job, send_ok, res, p, rnd, out, &none);
}

int wh_finish_and_next(rn_db *db, const wh_job *job, bool send_ok, const rn_send_result *res,
                       const wh_policy *p, uint32_t rnd, wh_outcome *out,
                       long long lease_until, wh_job *next, bool *has_next)
{
    finish_next fn = {.lease_until = lease_until, .next = next, .has_next = has_next};
    return finish_run(db, job, send_ok, res, p, rnd, out, &fn);
}

int wh_finish_one(rn_db *db, const wh_policy *p, wh_finish_item *it)
{
    finish_next fn = {.lease_until = it->lease_until, .next = it->next,
                      .has_next = it->has_next, .next_data = it->next_data};
    it->rc = finish_run(db, it->job, it->send_ok, it->res, p, it->rnd, it->out, &fn);
    return it->rc;
}

int wh_finish_run(rn_db *db, const wh_policy *p, wh_finish_item *it)
{
    finish_next fn = {.lease_until = it->lease_until, .next = it->next,
                      .has_next = it->has_next};
    memset(it->out, 0, sizeof *it->out);
    if (it->has_next)
        *it->has_next = false;
    bool elect = false, keep = false;
    it->rc = finish_steps(db, it->job, it->send_ok, it->res, p, it->rnd, it->out, &elect, &keep);
    if (it->rc == 0 && elect && finish_elect(db, it->job, p, keep, &fn) != 0)
        it->rc = -1;
    return it->rc < 0 ? -1 : 0;
}

/* ---- runs --------------------------------------------------------------- */

/* The head (k = 0) and the first queued rows after it, with their
 * payloads and the destination's sending data. The queued rows come in
 * event_seq order: the order successive elections would pick them. The
 * limit is part of the text: with it a parameter, PostgreSQL planned the
 * query afresh on every call. */
#define RUN_TAIL 15
_Static_assert(RUN_TAIL == WH_RUN_MAX - 1, "a run is its head and RUN_TAIL rows behind it");
#define RUN_TEXT(n) #n
#define RUN_TAIL_TEXT(n) RUN_TEXT(n)
#define RUN_LOAD                                                                            \
    "SELECT x.event_id, x.event_type, x.attempts, e.payload, w.url, w.secret_sealed,"       \
    " w.old_secret_sealed, w.old_secret_until, x.k FROM (SELECT 0 AS k, h.event_seq,"       \
    " h.event_id, h.event_type, h.attempts FROM webhook_deliveries h WHERE h.tenant_id = $1" \
    " AND h.webhook_id = $2 AND h.event_id = $3 UNION ALL SELECT * FROM (SELECT 1,"         \
    " q.event_seq, q.event_id, q.event_type, q.attempts FROM webhook_deliveries q"          \
    " WHERE q.tenant_id = $1 AND q.webhook_id = $2 AND q.status = 'queued'"                 \
    " AND q.event_id <> $3 ORDER BY q.event_seq LIMIT " RUN_TAIL_TEXT(RUN_TAIL) ") AS t) AS x" \
    " JOIN webhooks w ON w.tenant_id = $1 AND w.id = $2"                                    \
    " LEFT JOIN events e ON e.tenant_id = $1 AND e.id = x.event_id ORDER BY x.k, x.event_seq"

enum { RUN_EVENT, RUN_TYPE, RUN_ATTEMPTS, RUN_PAYLOAD, RUN_URL, RUN_SEALED, RUN_OLD_SEALED,
       RUN_OLD_UNTIL, RUN_K };

/* Fills run from rows laid out as RUN_LOAD's answer from column `base` on
 * (head first); takes the rows. 0, or 1 when the head is not there or its
 * event vanished (run is then empty but owns the rows). */
static int run_fill(wh_run *run, rn_rows *rows, int base, const wh_job *head, int max)
{
    memset(run, 0, sizeof *run);
    run->rows = rows;
    if (rn_rows_count(rows) < 1 || rn_rows_int(rows, 0, base + RUN_K, 1) != 0 ||
        rn_rows_is_null(rows, 0, base + RUN_PAYLOAD))
        return 1;
    run->url = rn_rows_get(rows, 0, base + RUN_URL);
    run->sealed = rn_rows_get(rows, 0, base + RUN_SEALED);
    run->old_sealed = rn_rows_get(rows, 0, base + RUN_OLD_SEALED);
    run->old_until = rn_rows_int(rows, 0, base + RUN_OLD_UNTIL, 0);
    run->jobs[0] = *head;
    run->payloads[0] = rn_rows_get(rows, 0, base + RUN_PAYLOAD);
    run->n = 1;
    for (int i = 1; i < rn_rows_count(rows) && run->n < max; i++) {
        if (rn_rows_is_null(rows, i, base + RUN_PAYLOAD))
            break; /* its event vanished: it is abandoned once it is the head */
        wh_job *j = &run->jobs[run->n];
        copy(j->tenant_id, sizeof j->tenant_id, head->tenant_id);
        copy(j->webhook_id, sizeof j->webhook_id, head->webhook_id);
        copy(j->event_id, sizeof j->event_id, rn_rows_get(rows, i, base + RUN_EVENT));
        copy(j->event_type, sizeof j->event_type, rn_rows_get(rows, i, base + RUN_TYPE));
        j->attempts = (int)rn_rows_int(rows, i, base + RUN_ATTEMPTS, 0);
        run->payloads[run->n++] = rn_rows_get(rows, i, base + RUN_PAYLOAD);
    }
    return 0;
}

int wh_run_load(rn_db *db, const wh_job *head, int max, wh_run *run)
{
    memset(run, 0, sizeof *run);
    if (max > WH_RUN_MAX || max < 1)
        max = WH_RUN_MAX;
    rn_rows *rows = rn_db_query(db, RUN_LOAD,
                                RN_PARAMS(RN_T(head->tenant_id), RN_T(head->webhook_id),
                                          RN_T(head->event_id)));
    return rows ? run_fill(run, rows, 0, head, max) : -1;
}

void wh_run_free(wh_run *run)
{
    rn_rows_free(run->rows);
    memset(run, 0, sizeof *run);
}

static void seq_mark(wh_finish_item *items, int from, int n, int rc)
{
    for (int i = from; i < n; i++) {
        items[i].rc = rc;
        if (items[i].has_next)
            *items[i].has_next = false;
    }
}

/* items[i + 1] is the head the finish of items[i] elected for us. */
static bool seq_is_next(const wh_finish_item *items, int i, const wh_job *elected)
{
    return strcmp(elected->event_id, items[i + 1].job->event_id) == 0;
}

int wh_finish_seq_run(rn_db *db, const wh_policy *p, wh_finish_item *items, int n)
{
    for (int i = 0; i < n; i++) {
        wh_finish_item it = items[i];
        wh_job elected;
        bool has = false;
        bool inner = i + 1 < n;
        if (inner) {
            it.next = &elected;
            it.has_next = &has;
        }
        if (wh_finish_run(db, p, &it) != 0)
            return -1;
        items[i].rc = it.rc;
        if (!inner)
            return 0;
        if (it.rc != 0) {
            seq_mark(items, i + 1, n, it.rc);
            return 0;
        }
        if (!has || !seq_is_next(items, i, &elected)) {
            if (has) /* not the delivery we sent: give it back at once */
                wh_release(db, p->node, &elected, 1);
            seq_mark(items, i + 1, n, 2);
            return 0;
        }
    }
    return 0;
}

/* PostgreSQL: the successes items[0..s) in one statement. r holds one row
 * per attempt; g finishes the head while we still hold it, q the queued
 * rows behind it (only then), w resets the failure count and x elects the
 * next head as FINISH_OK_PG does, excluding the rows of r, which the
 * statement's snapshot still shows queued. x claims the head for $6 when
 * the destination is enabled. With $10 = 1 and the head ours, nq takes the
 * queued rows behind it, and the answer is the next run laid out as
 * RUN_LOAD's (from column SEQ_RUN on, one row per delivery) so that the
 * worker needs no load: one round trip per run. Without a next head the
 * answer is one row, its run columns NULL. */
#define FINISH_SEQ_PG                                                                         \
    "WITH r AS (SELECT * FROM json_to_recordset(CAST($3 AS json)) AS r(k integer, e text,"   \
    " t text, i text, s integer, d bigint, b text, n integer)),"                              \
    " h AS (SELECT enabled, url, secret_sealed, old_secret_sealed, old_secret_until"          \
    " FROM webhooks WHERE tenant_id = $1 AND id = $2),"                                       \
    " a AS (INSERT INTO webhook_attempts (tenant_id, id, webhook_id, event_id, event_type,"   \
    " attempt, origin, status, response_status, duration_ms, error, response_body, created_at," \
    " next_attempt_at) SELECT $1, r.i, $2, r.e, r.t, (SELECT COALESCE(MAX(z.attempt), 0) + 1" \
    " FROM webhook_attempts z WHERE z.tenant_id = $1 AND z.webhook_id = $2"                   \
    " AND z.event_id = r.e), 'automatic', 'succeeded', r.s, r.d, NULL, r.b,"                 \
    " CAST($4 AS BIGINT), NULL FROM r, h RETURNING id, attempt),"                             \
    " g AS (UPDATE webhook_deliveries u SET status = 'succeeded', attempts = r.n,"            \
    " next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL,"                       \
    " updated_at = CAST($4 AS BIGINT) FROM r WHERE r.k = 0 AND u.tenant_id = $1"              \
    " AND u.webhook_id = $2 AND u.event_id = r.e AND u.status = 'pending'"                    \
    " AND u.claimed_by = $5 RETURNING 1),"                                                    \
    " q AS (UPDATE webhook_deliveries u SET status = 'succeeded', attempts = u.attempts + 1," \
    " next_attempt_at = NULL, updated_at = CAST($4 AS BIGINT) WHERE EXISTS (SELECT 1 FROM g)" \
    " AND u.tenant_id = $1 AND u.webhook_id = $2"                                             \
    " AND u.event_id = ANY(ARRAY(SELECT e FROM r WHERE k > 0)) AND u.status = 'queued'"       \
    " RETURNING 1),"                                                                          \
    " w AS (UPDATE webhooks SET consecutive_failures = 0 WHERE tenant_id = $1 AND id = $2"    \
    " AND consecutive_failures <> 0 AND EXISTS (SELECT 1 FROM g) RETURNING 1),"               \
    " x AS (UPDATE webhook_deliveries v SET status = 'pending',"                              \
    " next_attempt_at = CAST($4 AS BIGINT), updated_at = CAST($4 AS BIGINT),"                 \
    " claimed_by = CASE WHEN h.enabled <> 0 THEN CAST($6 AS TEXT) END,"                       \
    " claimed_until = CASE WHEN h.enabled <> 0 AND CAST($6 AS TEXT) IS NOT NULL"              \
    " THEN CAST($7 AS BIGINT) END FROM g, h WHERE CAST($8 AS INTEGER) = 1"                    \
    " AND v.tenant_id = $1 AND v.webhook_id = $2 AND v.status = 'queued'"                     \
    " AND v.event_id NOT IN (SELECT e FROM r)"                                                \
    " AND v.event_seq = (SELECT MIN(event_seq) FROM webhook_deliveries WHERE tenant_id = $1"  \
    " AND webhook_id = $2 AND status = 'queued' AND event_id NOT IN (SELECT e FROM r))"       \
    " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1"                  \
    " AND webhook_id = $2 AND status = 'pending' AND event_id <> $9)"                         \
    " RETURNING v.event_seq, v.event_id, v.event_type, v.attempts, v.claimed_by),"            \
    " nq AS (SELECT z.event_seq, z.event_id, z.event_type, z.attempts FROM x,"               \
    " webhook_deliveries z WHERE CAST($10 AS INTEGER) = 1 AND x.claimed_by IS NOT NULL"       \
    " AND z.tenant_id = $1 AND z.webhook_id = $2 AND z.status = 'queued'"                     \
    " AND z.event_id NOT IN (SELECT e FROM r) AND z.event_id <> x.event_id"                   \
    " ORDER BY z.event_seq LIMIT " RUN_TAIL_TEXT(RUN_TAIL) "),"                               \
    " u AS (SELECT 0 AS k, event_seq, event_id, event_type, attempts FROM x"                  \
    " UNION ALL SELECT 1, event_seq, event_id, event_type, attempts FROM nq)"                 \
    " SELECT (SELECT COUNT(*) FROM a), (SELECT COUNT(*) FROM g), (SELECT enabled FROM h),"    \
    " (SELECT string_agg(id || ':' || attempt, ',') FROM a), (SELECT claimed_by FROM x),"     \
    " u.event_id, u.event_type, u.attempts, e.payload, h.url, h.secret_sealed,"               \
    " h.old_secret_sealed, h.old_secret_until, u.k FROM (SELECT 1) AS one"                    \
    " LEFT JOIN u ON TRUE LEFT JOIN h ON u.event_id IS NOT NULL"                              \
    " LEFT JOIN events e ON e.tenant_id = $1 AND e.id = u.event_id ORDER BY u.k, u.event_seq"

/* Columns of FINISH_SEQ_PG's answer; the next run's start at SEQ_RUN. */
enum { SEQ_ADDED, SEQ_HELD, SEQ_ENABLED, SEQ_NUMBERS, SEQ_NEXT_CLAIMED, SEQ_RUN };

/* The successes as r's JSON rows; gives each its attempt id. Caller frees. */
static char *seq_rows_json(wh_finish_item *items, int s)
{
    json_t *arr = json_array();
    for (int i = 0; i < s && arr; i++) {
        const rn_send_result *res = items[i].res;
        const wh_job *job = items[i].job;
        rn_id_new("dlv", items[i].out->attempt_id, sizeof items[i].out->attempt_id);
        char *body = res->body ? wh_text_sanitize(res->body) : NULL;
        json_t *row = json_pack("{s:i, s:s, s:s, s:s, s:o, s:I, s:o, s:i}", "k", i, "e",
                                job->event_id, "t", job->event_type, "i",
                                items[i].out->attempt_id, "s",
                                res->http_status > 0 ? json_integer(res->http_status)
                                                     : json_null(),
                                "d", (json_int_t)res->duration_ms, "b",
                                body ? json_string(body) : json_null(), "n",
                                job->attempts + 1);
        free(body);
        if (!row || json_array_append_new(arr, row) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

/* load: also return the next run (see FINISH_SEQ_PG). */
static rn_rows *seq_query(rn_db *db, const wh_policy *p, const wh_finish_item *items,
                          const char *json, bool claim, bool chain, bool load)
{
    const wh_job *head = items[0].job;
    return rn_db_query(db, FINISH_SEQ_PG,
                       RN_PARAMS(RN_T(head->tenant_id), RN_T(head->webhook_id), RN_T(json),
                                 RN_I(rn_now_ms()), RN_T(p->node),
                                 claim ? RN_T(p->node) : RN_NULLP,
                                 RN_I(items[0].lease_until), RN_I(chain ? 1 : 0),
                                 RN_T(head->event_id), RN_I(load ? 1 : 0)));
}

/* Fills the outcomes of the s recorded successes; SEQ_NUMBERS lists each
 * attempt as "<attempt id>:<number>", comma separated. */
static void seq_outcomes(const rn_rows *rows, wh_finish_item *items, int s)
{
    const char *numbers = rn_rows_get(rows, 0, SEQ_NUMBERS);
    for (int i = 0; i < s; i++) {
        wh_outcome *out = items[i].out;
        out->status = "succeeded";
        items[i].rc = 0;
        const char *at = numbers ? strstr(numbers, out->attempt_id) : NULL;
        size_t len = strlen(out->attempt_id);
        if (at && at[len] == ':')
            out->number = atoi(at + len + 1);
    }
}

/* The head x elected, when it was claimed for us. */
static bool seq_elected(const rn_rows *rows, const wh_policy *p, const wh_job *head,
                        wh_job *out)
{
    const char *by = rn_rows_get(rows, 0, SEQ_NEXT_CLAIMED);
    if (rn_rows_is_null(rows, 0, SEQ_RUN + RUN_EVENT) || !by || strcmp(by, p->node) != 0)
        return false;
    copy(out->tenant_id, sizeof out->tenant_id, head->tenant_id);
    copy(out->webhook_id, sizeof out->webhook_id, head->webhook_id);
    copy(out->event_id, sizeof out->event_id, rn_rows_get(rows, 0, SEQ_RUN + RUN_EVENT));
    copy(out->event_type, sizeof out->event_type, rn_rows_get(rows, 0, SEQ_RUN + RUN_TYPE));
    out->attempts = (int)rn_rows_int(rows, 0, SEQ_RUN + RUN_ATTEMPTS, 0);
    return true;
}

/* After the successes are committed: the failed delivery, or the next head
 * for the caller. *got: x claimed `elected` for us; chained: x elected a
 * head at all (when it did not, for example because the queued rows came
 * after the statement's snapshot, we elect now, as finish_run does). */
static void seq_after(rn_db *db, const wh_policy *p, wh_finish_item *items, int s, int n,
                      wh_job *elected, bool got, bool chained, bool enabled)
{
    wh_finish_item *last = &items[n - 1];
    bool want = enabled && (s < n || last->next);
    if (!chained)
        wh_elect(db, last->job->tenant_id, last->job->webhook_id, want ? p->node : NULL,
                 last->lease_until, want ? elected : NULL, &got);
    if (s < n) { /* items[s] failed: record it if it is the head we now hold */
        if (got && strcmp(elected->event_id, items[s].job->event_id) == 0) {
            wh_finish_one(db, p, &items[s]);
            return;
        }
        if (got)
            wh_release(db, p->node, elected, 1);
        seq_mark(items, s, n, 2);
        return;
    }
    if (got && last->next) {
        *last->next = *elected;
        *last->has_next = true;
    } else if (got) {
        wh_release(db, p->node, elected, 1);
    }
}

/* The next run came with the answer (load): hand it to the caller when the
 * head it starts with is the one claimed for the caller. Takes `rows`. */
static void seq_next_run(rn_rows *rows, bool load, wh_finish_item *last)
{
    if (!load || !last->has_next || !*last->has_next) {
        rn_rows_free(rows);
        return;
    }
    if (run_fill(last->next_run, rows, SEQ_RUN, last->next, WH_RUN_MAX) == 0 &&
        strcmp(last->next->event_id, rn_rows_get(rows, 0, SEQ_RUN + RUN_EVENT)) == 0)
        return;
    wh_run_free(last->next_run); /* the worker loads it, and finds out what vanished */
}

static int finish_seq_pg(rn_db *db, const wh_policy *p, wh_finish_item *items, int s, int n)
{
    char *json = seq_rows_json(items, s);
    if (!json)
        return -1;
    /* A failed last delivery must become ours to record it, even when the
     * caller wants no next head. */
    wh_finish_item *last = &items[n - 1];
    bool claim = s < n || last->next != NULL;
    bool load = s == n && last->next && last->next_run;
    rn_rows *rows = seq_query(db, p, items, json, claim, true, load);
    if (!rows && rn_db_last_error(db) == RN_DB_ERR_CONSTRAINT) /* another elector's head */
        rows = seq_query(db, p, items, json, claim, false, false);
    free(json);
    if (!rows)
        return -1;
    if (rn_rows_int(rows, 0, SEQ_ADDED, 0) == 0) { /* the destination is gone */
        rn_rows_free(rows);
        seq_mark(items, 0, n, 1);
        return 0;
    }
    seq_outcomes(rows, items, s);
    bool held = rn_rows_int(rows, 0, SEQ_HELD, 0) == 1;
    bool enabled = rn_rows_int(rows, 0, SEQ_ENABLED, 0) != 0;
    wh_job elected;
    bool got = held && seq_elected(rows, p, items[0].job, &elected);
    bool chained = !rn_rows_is_null(rows, 0, SEQ_RUN + RUN_EVENT);
    if (!held) { /* our lease ran out: another node has the queue now */
        rn_rows_free(rows);
        seq_mark(items, s, n, 2);
        return 0;
    }
    seq_after(db, p, items, s, n, &elected, got, chained, enabled);
    seq_next_run(rows, load, last);
    return 0;
}

int wh_finish_seq(rn_db *db, const wh_policy *p, wh_finish_item *items, int n)
{
    for (int i = 0; i < n; i++) {
        memset(items[i].out, 0, sizeof *items[i].out);
        items[i].rc = -1;
        if (items[i].has_next)
            *items[i].has_next = false;
    }
    if (n <= 0)
        return 0;
    int s = items[n - 1].send_ok ? n : n - 1;
    if (is_pg(db) && s > 0)
        return finish_seq_pg(db, p, items, s, n);
    if (n == 1)
        return wh_finish_one(db, p, &items[0]) < 0 ? -1 : 0;
    if (rn_db_begin(db) != 0)
        return -1;
    bool failed = wh_finish_seq_run(db, p, items, n) != 0;
    if (!failed && rn_db_commit(db) == 0)
        return 0;
    if (failed)
        rn_db_rollback(db);
    seq_mark(items, 0, n, -1);
    return -1;
}

/* ---- destination changes ------------------------------------------------ */

int wh_queue_resume(rn_db *db, const char *tenant_id, const char *webhook_id, long long now)
{
    if (rn_db_exec(db,
                   "UPDATE webhook_deliveries SET next_attempt_at = $3, updated_at = $3"
                   " WHERE tenant_id = $1 AND webhook_id = $2 AND status = 'pending'",
                   RN_PARAMS(RN_T(tenant_id), RN_T(webhook_id), RN_I(now))) < 0)
        return -1;
    return wh_elect(db, tenant_id, webhook_id, NULL, 0, NULL, NULL);
}

int wh_queue_drop(rn_db *db, const char *tenant_id, const char *webhook_id)
{
    if (rn_db_exec(db, "DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2",
                   RN_PARAMS(RN_T(tenant_id), RN_T(webhook_id))) < 0)
        return -1;
    return rn_db_exec(db, "DELETE FROM webhook_attempts WHERE tenant_id = $1 AND webhook_id = $2",
                      RN_PARAMS(RN_T(tenant_id), RN_T(webhook_id))) < 0
               ? -1
               : 0;
}
