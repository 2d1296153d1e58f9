/*
 * test_webhooks_queue.c — the delivery queue (src/webhooks/queue.c) against
 * real stores: SQLite in a temporary file and, when RN_TEST_PG_URL names a
 * PostgreSQL database we may create databases from, a fresh database there
 * (dropped at the end). Without that variable the PostgreSQL group reports
 * itself skipped.
 *
 * Each case starts from empty webhook tables and a new tenant, drives
 * fan-out, claims and finishes by hand (no threads, no HTTP), and asserts the
 * exact rows left behind. The last cases run threads against one store to
 * show that concurrent claims never hand one head out twice and that fan-out
 * racing with finishes never strands a queued row without a head.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/util.h"
#include "store/db.h"
#include "store_fixture.h"
#include "store/migrate.h"
#include "tenants/tenants.h"
#include "webhooks/internal.h"
#include "webhooks/outbox.h"
#include "webhooks/queue.h"

static const unsigned char MASTER[32] = {42};

typedef struct {
    rn_test_store s;
    char tenant[48];
    wh_schedule schedule;
    wh_policy policy;
} fixture;

/* ---- stores ------------------------------------------------------------- */

static int setup_sqlite(void **state)
{
    return rn_test_fixture_open(state, sizeof(fixture), false, "whq", 6);
}

static int setup_pg(void **state)
{
    return rn_test_fixture_open(state, sizeof(fixture), true, "whq", 6);
}

/* Empty webhook tables, a new tenant, and the policy "1,1,2" / 15 failures. */
static int fresh(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    rn_db_exec_script(f->s.db, "DELETE FROM webhook_attempts; DELETE FROM webhook_deliveries;"
                             " DELETE FROM webhooks; DELETE FROM events;"
                             " DELETE FROM audit_log");
    if (rn_test_tenant(&f->s, "Asia/Jakarta", "ID", f->tenant) != 0)
        return -1;
    wh_schedule_parse("1,1,2", &f->schedule);
    f->policy = (wh_policy){.schedule = &f->schedule, .max_failures = 15, .node = "node_a"};
    return 0;
}

#define NEED_STORE(state)                                                   \
    fixture *f = *(state);                                                  \
    if (!f)                                                                 \
        skip();

/* ---- helpers ------------------------------------------------------------ */

static void add_hook(fixture *f, const char *id, const char *events, int enabled)
{
    char *sealed = wh_secret_seal(MASTER, "secret-0123456789abcdef");
    long long n = rn_db_exec(
        f->s.db,
        "INSERT INTO webhooks (tenant_id, id, name, url, events, enabled, disabled_reason,"
        " secret_sealed, old_secret_sealed, old_secret_until, consecutive_failures, created_at,"
        " updated_at) VALUES ($1, $2, 'h', 'https://example.com/h', $3, $4, NULL, $5, NULL,"
        " NULL, 0, 1, 1)",
        RN_PARAMS(RN_T(f->tenant), RN_T(id), RN_T(events), RN_I(enabled), RN_T(sealed)));
    free(sealed);
    assert_int_equal(n, 1);
}

static void emit(fixture *f, const char *type, char *id_out)
{
    json_t *data = json_pack("{s:s}", "k", "v");
    assert_int_equal(rn_event_emit(f->s.db, f->tenant, type, data, id_out, 48), 0);
    json_decref(data);
}

/* The start most cases share: destination wh_a takes every event; `first`
 * and then `second` (unless NULL) are emitted, ids in e1 and e2, and fanned out. */
static void queue_on_wh_a(fixture *f, const char *first, char *e1, const char *second, char *e2)
{
    add_hook(f, "wh_a", "[\"*\"]", 1);
    emit(f, first, e1);
    if (second)
        emit(f, second, e2);
    wh_fanout(f->s.db, 100);
}

/* One text column of the (hook, event) delivery, or "" when it is NULL or
 * there is no such delivery. The answer lives until the next call. */
static const char *delivery_text(fixture *f, const char *column, const char *hook,
                                 const char *event)
{
    static char out[48];
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2"
             " AND event_id = $3",
             column);
    rn_rows *rows = rn_db_query(f->s.db, sql, RN_PARAMS(RN_T(f->tenant), RN_T(hook), RN_T(event)));
    const char *v = rows && rn_rows_count(rows) ? rn_rows_get(rows, 0, 0) : NULL;
    snprintf(out, sizeof out, "%s", v ? v : "");
    rn_rows_free(rows);
    return out;
}

/* Status of the (hook, event) delivery, or "" when there is none. */
static const char *status_of(fixture *f, const char *hook, const char *event)
{
    return delivery_text(f, "status", hook, event);
}

/* Claimed by whom, or "" when nobody holds the (hook, event) delivery. */
static const char *claimed_by(fixture *f, const char *hook, const char *event)
{
    return delivery_text(f, "claimed_by", hook, event);
}

static long long scalar(fixture *f, const char *sql)
{
    rn_rows *rows = rn_db_query(f->s.db, sql, RN_PARAMS(RN_T(f->tenant)));
    long long v = rows ? rn_rows_int(rows, 0, 0, -999) : -999;
    rn_rows_free(rows);
    return v;
}

static rn_send_result answer(long status, long retry_after)
{
    rn_send_result r = {.http_status = status, .duration_ms = 3, .retry_after_s = retry_after};
    if (status < 200 || status > 299)
        snprintf(r.error, sizeof r.error, "HTTP %ld", status);
    return r;
}

static int claim(fixture *f, const char *node, long long now, wh_job *jobs, int n)
{
    return wh_claim(f->s.db, node, now, now + 30000, jobs, n);
}

/* ---- fan-out ------------------------------------------------------------ */

static void fanout_queues_one_head_per_subscribed_enabled_destination(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_all", "[\"*\"]", 1);
    add_hook(f, "wh_created", "[\"contact.created\"]", 1);
    add_hook(f, "wh_off", "[\"*\"]", 0);
    char e1[48], e2[48], e3[48];
    emit(f, "contact.created", e1);
    emit(f, "contact.updated", e2);
    emit(f, "contact.created", e3);
    assert_int_equal(wh_fanout(f->s.db, 100), 3);
    assert_string_equal(status_of(f, "wh_all", e1), "pending");
    assert_string_equal(status_of(f, "wh_all", e2), "queued");
    assert_string_equal(status_of(f, "wh_all", e3), "queued");
    assert_string_equal(status_of(f, "wh_created", e1), "pending");
    assert_string_equal(status_of(f, "wh_created", e2), "");
    assert_string_equal(status_of(f, "wh_created", e3), "queued");
    assert_string_equal(status_of(f, "wh_off", e1), "");
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM events WHERE tenant_id = $1"
                               " AND fanned_out = 1"),
                     3);
    assert_int_equal(wh_fanout(f->s.db, 100), 0);
}

static void fanout_ignores_test_events_and_respects_the_batch_limit(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_all", "[\"*\"]", 1);
    rn_db_exec(f->s.db,
               "INSERT INTO events (tenant_id, id, type, created_at, payload, fanned_out)"
               " VALUES ($1, 'evt_test', 'call.ended', 1, '{}', 2)",
               RN_PARAMS(RN_T(f->tenant)));
    char id[48];
    for (int i = 0; i < 5; i++)
        emit(f, "call.started", id);
    assert_int_equal(wh_fanout(f->s.db, 2), 2);
    assert_int_equal(wh_fanout(f->s.db, 2), 2);
    assert_int_equal(wh_fanout(f->s.db, 2), 1);
    assert_int_equal(wh_fanout(f->s.db, 2), 0);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"), 5);
    assert_string_equal(status_of(f, "wh_all", "evt_test"), "");
}

/* ---- claims ------------------------------------------------------------- */

static void claims_take_only_heads_and_honour_leases(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_a", "[\"*\"]", 1);
    add_hook(f, "wh_b", "[\"*\"]", 1);
    char e1[48], e2[48];
    emit(f, "ticket.created", e1);
    emit(f, "ticket.updated", e2);
    wh_fanout(f->s.db, 100);
    wh_job jobs[8];
    long long now = rn_now_ms();
    assert_int_equal(claim(f, "node_a", now, jobs, 8), 2);
    assert_string_equal(jobs[0].event_id, e1);
    assert_string_equal(jobs[1].event_id, e1);
    assert_int_equal(jobs[0].attempts, 0);
    assert_string_equal(jobs[0].event_type, "ticket.created");
    assert_int_equal(claim(f, "node_b", now, jobs, 8), 0);
    /* The lease (30 s) runs out: another node takes both heads over. */
    assert_int_equal(claim(f, "node_b", now + 30001, jobs, 8), 2);
    assert_int_equal(claim(f, "node_a", now + 30001, jobs, 8), 0);
}

static void released_claims_can_be_taken_again_at_once(void **state)
{
    NEED_STORE(state);
    char e1[48];
    queue_on_wh_a(f, "ticket.created", e1, NULL, NULL);
    wh_job jobs[2];
    long long now = rn_now_ms();
    assert_int_equal(claim(f, "node_a", now, jobs, 2), 1);
    wh_release(f->s.db, "node_b", jobs, 1); /* not the holder: no effect */
    assert_int_equal(claim(f, "node_b", now, jobs, 2), 0);
    wh_release(f->s.db, "node_a", jobs, 1);
    assert_int_equal(claim(f, "node_b", now, jobs, 2), 1);
    assert_int_equal(wh_release_all(f->s.db), 0);
    assert_int_equal(claim(f, "node_c", now, jobs, 2), 1);
}

/* ---- finishing ---------------------------------------------------------- */

static void success_records_the_attempt_and_promotes_the_next_event(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_a", "[\"*\"]", 1);
    char e1[48], e2[48], e3[48];
    emit(f, "contact.created", e1);
    emit(f, "contact.updated", e2);
    emit(f, "contact.deleted", e3);
    wh_fanout(f->s.db, 100);
    wh_job job, next;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    rn_send_result ok = answer(200, -1);
    wh_outcome out;
    bool has_next = false;
    assert_int_equal(wh_finish_and_next(f->s.db, &job, true, &ok, &f->policy, 1, &out,
                                        rn_now_ms() + 30000, &next, &has_next),
                     0);
    assert_string_equal(out.status, "succeeded");
    assert_int_equal(out.number, 1);
    assert_true(rn_id_valid("dlv", out.attempt_id));
    assert_string_equal(status_of(f, "wh_a", e1), "succeeded");
    assert_string_equal(status_of(f, "wh_a", e2), "pending");
    assert_string_equal(status_of(f, "wh_a", e3), "queued");
    assert_true(has_next);
    assert_string_equal(next.event_id, e2);
    assert_string_equal(next.event_type, "contact.updated");
    /* The promoted row is already ours: nobody else can claim it. */
    assert_int_equal(claim(f, "node_b", rn_now_ms(), &job, 1), 0);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1"
                               " AND status = 'succeeded' AND response_status = 200"
                               " AND origin = 'automatic' AND attempt = 1"),
                     1);
}

/* Records a success of `job` with wh_finish_one, asking for the next one. */
static int finish_one_ok(fixture *f, const wh_job *job, wh_job *next, bool *has_next,
                         wh_job_data *next_data)
{
    rn_send_result ok = answer(200, -1);
    wh_outcome out;
    wh_finish_item it = {.job = job, .send_ok = true, .res = &ok,
                         .lease_until = rn_now_ms() + 30000, .next = next,
                         .has_next = has_next, .out = &out, .rc = -1, .next_data = next_data};
    *has_next = false;
    int rc = wh_finish_one(f->s.db, &f->policy, &it);
    assert_string_equal(out.status, "succeeded");
    return rc;
}

static void finish_one_hands_over_the_next_delivery_with_its_data(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_a", "[\"*\"]", 1);
    char e[3][48];
    emit(f, "contact.created", e[0]);
    emit(f, "contact.updated", e[1]);
    emit(f, "contact.deleted", e[2]);
    wh_fanout(f->s.db, 100);
    bool pg = rn_db_dialect(f->s.db) == RN_DB_POSTGRES;
    wh_job job, next;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    for (int i = 0; i < 2; i++) {
        wh_job_data data = {0};
        bool has_next;
        assert_int_equal(finish_one_ok(f, &job, &next, &has_next, &data), 0);
        assert_string_equal(status_of(f, "wh_a", e[i]), "succeeded");
        assert_string_equal(status_of(f, "wh_a", e[i + 1]), "pending");
        assert_string_equal(claimed_by(f, "wh_a", e[i + 1]), "node_a");
        assert_true(has_next);
        assert_string_equal(next.event_id, e[i + 1]);
        assert_int_equal(next.attempts, 0);
        /* PostgreSQL brings the data along; SQLite's worker loads it itself. */
        assert_int_equal(data.rows != NULL, pg);
        if (pg) {
            assert_string_equal(data.url, "https://example.com/h");
            json_t *payload = json_loads(data.payload, 0, NULL);
            assert_string_equal(json_string_value(json_object_get(payload, "id")), e[i + 1]);
            json_decref(payload);
            char secret[WH_SECRET_MAX + 1];
            assert_int_equal(wh_secret_open(MASTER, data.sealed, secret, sizeof secret), 0);
            assert_string_equal(secret, "secret-0123456789abcdef");
            assert_null(data.old_sealed);
        }
        wh_job_data_free(&data);
        job = next;
    }
    wh_job_data data = {0};
    bool has_next;
    assert_int_equal(finish_one_ok(f, &job, &next, &has_next, &data), 0);
    assert_false(has_next);
    assert_null(data.rows);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"
                               " AND status = 'succeeded'"),
                     3);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1"
                               " AND status = 'succeeded' AND attempt = 1"),
                     3);
}

static void a_disabled_destination_gets_its_next_head_unclaimed(void **state)
{
    NEED_STORE(state);
    char e1[48], e2[48];
    queue_on_wh_a(f, "ticket.created", e1, "ticket.updated", e2);
    wh_job job, next;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    rn_db_exec(f->s.db, "UPDATE webhooks SET enabled = 0 WHERE tenant_id = $1",
               RN_PARAMS(RN_T(f->tenant)));
    wh_job_data data = {0};
    bool has_next;
    assert_int_equal(finish_one_ok(f, &job, &next, &has_next, &data), 0);
    assert_false(has_next);
    assert_null(data.rows);
    assert_string_equal(status_of(f, "wh_a", e1), "succeeded");
    assert_string_equal(status_of(f, "wh_a", e2), "pending");
    assert_string_equal(claimed_by(f, "wh_a", e2), "");
}

static void failures_retry_on_the_schedule_then_give_up(void **state)
{
    NEED_STORE(state);
    char e1[48], e2[48];
    queue_on_wh_a(f, "call.started", e1, "call.ended", e2);
    rn_send_result bad = answer(500, -1);
    wh_job job;
    wh_outcome out;
    long long now = rn_now_ms();
    const long long waits[] = {1000, 1000, 2000};
    for (int attempt = 1; attempt <= 3; attempt++) {
        assert_int_equal(claim(f, "node_a", now, &job, 1), 1);
        assert_int_equal(job.attempts, attempt - 1);
        long long before = rn_now_ms();
        assert_int_equal(wh_finish(f->s.db, &job, false, &bad, &f->policy, 0, &out), 0);
        assert_string_equal(out.status, "pending");
        assert_int_equal(out.number, attempt);
        /* rnd 0 is the low end of the jitter: 80% of the schedule entry. */
        assert_in_range(out.next_attempt_at - before, waits[attempt - 1] * 8 / 10,
                        waits[attempt - 1] * 8 / 10 + 50);
        assert_int_equal(claim(f, "node_a", before, &job, 1), 0); /* not due yet */
        assert_string_equal(status_of(f, "wh_a", e2), "queued");
        now = out.next_attempt_at;
    }
    assert_int_equal(claim(f, "node_a", now, &job, 1), 1);
    assert_int_equal(wh_finish(f->s.db, &job, false, &bad, &f->policy, 0, &out), 0);
    assert_string_equal(out.status, "failed");
    assert_int_equal(out.next_attempt_at, 0);
    assert_string_equal(status_of(f, "wh_a", e1), "failed");
    assert_string_equal(status_of(f, "wh_a", e2), "pending");
    assert_int_equal(scalar(f, "SELECT consecutive_failures FROM webhooks WHERE tenant_id = $1"),
                     4);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1"
                               " AND next_attempt_at IS NOT NULL AND status = 'pending'"),
                     3);
}

static void a_success_resets_the_failure_run(void **state)
{
    NEED_STORE(state);
    char e1[48];
    queue_on_wh_a(f, "call.started", e1, NULL, NULL);
    rn_send_result bad = answer(502, -1), ok = answer(204, -1);
    wh_job job;
    wh_outcome out;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    wh_finish(f->s.db, &job, false, &bad, &f->policy, 0, &out);
    assert_int_equal(scalar(f, "SELECT consecutive_failures FROM webhooks WHERE tenant_id = $1"),
                     1);
    assert_int_equal(claim(f, "node_a", out.next_attempt_at, &job, 1), 1);
    wh_finish(f->s.db, &job, true, &ok, &f->policy, 0, &out);
    assert_string_equal(out.status, "succeeded");
    assert_int_equal(out.number, 2);
    assert_int_equal(scalar(f, "SELECT consecutive_failures FROM webhooks WHERE tenant_id = $1"),
                     0);
}

static void a_run_of_failures_disables_with_a_system_audit_entry(void **state)
{
    NEED_STORE(state);
    f->policy.max_failures = 2;
    char e1[48];
    queue_on_wh_a(f, "conversation.created", e1, NULL, NULL);
    rn_send_result bad = answer(500, -1);
    wh_job job;
    wh_outcome out;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    wh_finish(f->s.db, &job, false, &bad, &f->policy, 0, &out);
    assert_false(out.disabled);
    assert_int_equal(claim(f, "node_a", out.next_attempt_at, &job, 1), 1);
    assert_int_equal(wh_finish(f->s.db, &job, false, &bad, &f->policy, 0, &out), 0);
    assert_true(out.disabled);
    assert_string_equal(out.status, "failed"); /* no automatic attempt follows */
    assert_int_equal(out.next_attempt_at, 0);
    assert_int_equal(scalar(f, "SELECT enabled FROM webhooks WHERE tenant_id = $1"), 0);
    rn_rows *rows = rn_db_query(f->s.db,
                                "SELECT disabled_reason FROM webhooks WHERE tenant_id = $1",
                                RN_PARAMS(RN_T(f->tenant)));
    assert_string_equal(rn_rows_get(rows, 0, 0),
                        "Disabled after 2 consecutive failed deliveries.");
    rn_rows_free(rows);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND"
                               " actor = 'system' AND action = 'webhook.disabled'"
                               " AND target = 'wh_a'"),
                     1);
    /* The queue waits while disabled, and resumes when enabled again. */
    assert_string_equal(status_of(f, "wh_a", e1), "pending");
    assert_int_equal(claim(f, "node_a", rn_now_ms() + 3600000, &job, 1), 0);
    rn_db_exec(f->s.db, "UPDATE webhooks SET enabled = 1 WHERE tenant_id = $1",
               RN_PARAMS(RN_T(f->tenant)));
    assert_int_equal(wh_queue_resume(f->s.db, f->tenant, "wh_a", rn_now_ms()), 0);
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    assert_string_equal(job.event_id, e1);
}

static void http_410_disables_at_once(void **state)
{
    NEED_STORE(state);
    char e1[48];
    queue_on_wh_a(f, "conversation.closed", e1, NULL, NULL);
    rn_send_result gone = answer(410, -1);
    wh_job job;
    wh_outcome out;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    assert_int_equal(wh_finish(f->s.db, &job, false, &gone, &f->policy, 0, &out), 0);
    assert_true(out.disabled);
    assert_string_equal(out.status, "failed");
    rn_rows *rows = rn_db_query(f->s.db,
                                "SELECT enabled, disabled_reason FROM webhooks"
                                " WHERE tenant_id = $1",
                                RN_PARAMS(RN_T(f->tenant)));
    assert_int_equal(rn_rows_int(rows, 0, 0, -1), 0);
    assert_string_equal(rn_rows_get(rows, 0, 1), "The receiver answered HTTP 410 Gone.");
    rn_rows_free(rows);
}

static void retry_after_sets_the_next_attempt(void **state)
{
    NEED_STORE(state);
    char e1[48];
    queue_on_wh_a(f, "ticket.created", e1, NULL, NULL);
    rn_send_result busy = answer(429, 7);
    wh_job job;
    wh_outcome out;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    long long before = rn_now_ms();
    wh_finish(f->s.db, &job, false, &busy, &f->policy, 0, &out);
    assert_string_equal(out.status, "pending");
    assert_in_range(out.next_attempt_at - before, 7000, 7050);
}

static void a_lost_lease_records_the_attempt_but_leaves_the_queue_alone(void **state)
{
    NEED_STORE(state);
    char e1[48], e2[48];
    queue_on_wh_a(f, "ticket.created", e1, "ticket.updated", e2);
    wh_job mine, theirs;
    long long now = rn_now_ms();
    assert_int_equal(claim(f, "node_a", now, &mine, 1), 1);
    assert_int_equal(claim(f, "node_b", now + 30001, &theirs, 1), 1);
    rn_send_result ok = answer(200, -1);
    wh_outcome out;
    assert_int_equal(wh_finish(f->s.db, &mine, true, &ok, &f->policy, 0, &out), 0);
    assert_string_equal(status_of(f, "wh_a", e1), "pending"); /* node_b still holds it */
    assert_string_equal(status_of(f, "wh_a", e2), "queued");
    f->policy.node = "node_b";
    assert_int_equal(wh_finish(f->s.db, &theirs, true, &ok, &f->policy, 0, &out), 0);
    assert_int_equal(out.number, 2);
    assert_string_equal(status_of(f, "wh_a", e1), "succeeded");
    assert_string_equal(status_of(f, "wh_a", e2), "pending");
}

static void a_deleted_destination_leaves_nothing_to_finish(void **state)
{
    NEED_STORE(state);
    char e1[48];
    queue_on_wh_a(f, "ticket.created", e1, NULL, NULL);
    wh_job job;
    wh_outcome out;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    rn_db_exec(f->s.db, "DELETE FROM webhooks WHERE tenant_id = $1", RN_PARAMS(RN_T(f->tenant)));
    assert_int_equal(wh_queue_drop(f->s.db, f->tenant, "wh_a"), 0);
    wh_job_data data;
    assert_int_equal(wh_job_load(f->s.db, &job, &data), 1);
    wh_job_data_free(&data);
    rn_send_result ok = answer(200, -1);
    assert_int_equal(wh_finish(f->s.db, &job, true, &ok, &f->policy, 0, &out), 1);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1"), 0);
}

static void job_load_returns_the_outbox_bytes(void **state)
{
    NEED_STORE(state);
    char e1[48];
    queue_on_wh_a(f, "ticket.created", e1, NULL, NULL);
    wh_job job;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    wh_job_data data;
    assert_int_equal(wh_job_load(f->s.db, &job, &data), 0);
    assert_string_equal(data.url, "https://example.com/h");
    json_t *payload = json_loads(data.payload, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(payload, "id")), e1);
    assert_string_equal(json_string_value(json_object_get(payload, "tenantId")), f->tenant);
    json_decref(payload);
    char secret[WH_SECRET_MAX + 1];
    assert_int_equal(wh_secret_open(MASTER, data.sealed, secret, sizeof secret), 0);
    assert_string_equal(secret, "secret-0123456789abcdef");
    wh_job_data_free(&data);
}

static void finish_run_records_a_batch_in_one_transaction(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_a", "[\"*\"]", 1);
    add_hook(f, "wh_b", "[\"*\"]", 1);
    add_hook(f, "wh_c", "[\"*\"]", 1);
    char e1[48], e2[48];
    emit(f, "ticket.created", e1);
    emit(f, "ticket.updated", e2);
    wh_fanout(f->s.db, 100);
    wh_job jobs[3];
    assert_int_equal(claim(f, "node_a", rn_now_ms(), jobs, 3), 3);
    rn_db_exec(f->s.db, "DELETE FROM webhooks WHERE tenant_id = $1 AND id = 'wh_c'",
               RN_PARAMS(RN_T(f->tenant)));
    rn_send_result ok = answer(200, -1), bad = answer(500, -1);
    wh_outcome out[3];
    wh_job next[3];
    bool has_next[3] = {true, true, true};
    wh_finish_item items[3];
    for (int i = 0; i < 3; i++) {
        const char *hook = jobs[i].webhook_id;
        bool is_a = strcmp(hook, "wh_a") == 0;
        items[i] = (wh_finish_item){.job = &jobs[i], .send_ok = strcmp(hook, "wh_b") != 0,
                                    .res = strcmp(hook, "wh_b") != 0 ? &ok : &bad,
                                    .lease_until = rn_now_ms() + 30000,
                                    .next = is_a ? &next[i] : NULL, .has_next = &has_next[i],
                                    .out = &out[i], .rc = -1};
    }
    assert_int_equal(rn_db_begin(f->s.db), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(wh_finish_run(f->s.db, &f->policy, &items[i]), 0);
    assert_int_equal(rn_db_commit(f->s.db), 0);
    for (int i = 0; i < 3; i++) {
        const char *hook = jobs[i].webhook_id;
        if (strcmp(hook, "wh_a") == 0) {
            assert_int_equal(items[i].rc, 0);
            assert_string_equal(out[i].status, "succeeded");
            assert_true(has_next[i]);
            assert_string_equal(next[i].event_id, e2);
        } else if (strcmp(hook, "wh_b") == 0) {
            assert_int_equal(items[i].rc, 0);
            assert_string_equal(out[i].status, "pending");
            assert_false(has_next[i]);
        } else {
            assert_int_equal(items[i].rc, 1);
            assert_false(has_next[i]);
        }
    }
    assert_string_equal(status_of(f, "wh_a", e1), "succeeded");
    assert_string_equal(status_of(f, "wh_b", e1), "pending");
    assert_string_equal(status_of(f, "wh_b", e2), "queued");
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1"), 2);
}

static void a_destination_never_has_two_heads(void **state)
{
    NEED_STORE(state);
    char e1[48], e2[48];
    queue_on_wh_a(f, "call.started", e1, "call.ended", e2);
    assert_int_equal(rn_db_exec(f->s.db,
                                "UPDATE webhook_deliveries SET status = 'pending'"
                                " WHERE tenant_id = $1 AND event_id = $2",
                                RN_PARAMS(RN_T(f->tenant), RN_T(e2))),
                     -1);
    assert_int_equal(rn_db_last_error(f->s.db), RN_DB_ERR_CONSTRAINT);
    /* An election with a head in place changes nothing. */
    wh_job next;
    bool has = false;
    assert_int_equal(wh_elect(f->s.db, f->tenant, "wh_a", "node_a", rn_now_ms() + 1000, &next,
                              &has),
                     0);
    assert_false(has);
    assert_string_equal(status_of(f, "wh_a", e2), "queued");
}

static void the_sweep_elects_a_head_for_a_headless_queue(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_a", "[\"*\"]", 1);
    add_hook(f, "wh_off", "[\"*\"]", 1);
    char e1[48], e2[48], e3[48];
    emit(f, "call.started", e1);
    emit(f, "call.ended", e2);
    emit(f, "call.ended", e3);
    wh_fanout(f->s.db, 100);
    /* As if a node died between committing a finish and electing. */
    rn_db_exec(f->s.db,
               "UPDATE webhook_deliveries SET status = 'succeeded' WHERE tenant_id = $1"
               " AND event_id = $2",
               RN_PARAMS(RN_T(f->tenant), RN_T(e1)));
    rn_db_exec(f->s.db, "UPDATE webhooks SET enabled = 0 WHERE tenant_id = $1 AND id = 'wh_off'",
               RN_PARAMS(RN_T(f->tenant)));
    wh_job job;
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 0);
    assert_int_equal(wh_sweep(f->s.db), 1); /* not the disabled one */
    assert_string_equal(status_of(f, "wh_a", e2), "pending");
    assert_string_equal(status_of(f, "wh_a", e3), "queued");
    assert_string_equal(status_of(f, "wh_off", e2), "queued");
    assert_int_equal(wh_sweep(f->s.db), 0);
    assert_int_equal(claim(f, "node_a", rn_now_ms(), &job, 1), 1);
    assert_string_equal(job.event_id, e2);
}

/* ---- concurrency -------------------------------------------------------- */

typedef struct {
    fixture *f;
    int id;
    int claimed;
    char events[64][100];
} claimer;

static void *claim_thread(void *arg)
{
    claimer *c = arg;
    rn_db *db = rn_pool_acquire(c->f->s.pool);
    char node[16];
    snprintf(node, sizeof node, "node_%d", c->id);
    for (int round = 0; round < 40 && c->claimed < 64; round++) {
        wh_job jobs[4];
        int n = wh_claim(db, node, rn_now_ms(), rn_now_ms() + 60000, jobs, 4);
        for (int i = 0; i < n && c->claimed < 64; i++)
            snprintf(c->events[c->claimed++], sizeof c->events[0], "%s/%s", jobs[i].webhook_id,
                     jobs[i].event_id);
    }
    rn_pool_release(c->f->s.pool, db);
    return NULL;
}

static void concurrent_claims_never_hand_out_a_head_twice(void **state)
{
    NEED_STORE(state);
    char id[48];
    for (int h = 0; h < 24; h++) {
        snprintf(id, sizeof id, "wh_%02d", h);
        add_hook(f, id, "[\"*\"]", 1);
    }
    emit(f, "agent.presence.changed", id);
    emit(f, "agent.presence.changed", id);
    assert_int_equal(wh_fanout(f->s.db, 100), 2);
    claimer c[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].f = f;
        c[i].id = i;
        pthread_create(&t[i], NULL, claim_thread, &c[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += c[i].claimed;
    }
    assert_int_equal(total, 24); /* one head per destination, each once */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < c[i].claimed; j++)
            for (int k = 0; k < 4; k++)
                for (int m = 0; m < c[k].claimed; m++)
                    if (i != k || j != m)
                        assert_string_not_equal(c[i].events[j], c[k].events[m]);
}

typedef struct {
    fixture *f;
    int rounds;
} racer;

static void *emit_and_fanout_thread(void *arg)
{
    racer *r = arg;
    rn_db *db = rn_pool_acquire(r->f->s.pool);
    for (int i = 0; i < r->rounds; i++) {
        json_t *data = json_object();
        rn_event_emit(db, r->f->tenant, "contact.updated", data, NULL, 0);
        json_decref(data);
        wh_fanout(db, 10);
    }
    rn_pool_release(r->f->s.pool, db);
    return NULL;
}

static void *claim_and_finish_thread(void *arg)
{
    racer *r = arg;
    rn_db *db = rn_pool_acquire(r->f->s.pool);
    wh_policy p = r->f->policy;
    p.node = "node_racer";
    rn_send_result ok = answer(200, -1);
    for (int i = 0; i < r->rounds * 3; i++) {
        wh_job job;
        wh_outcome out;
        if (wh_claim(db, p.node, rn_now_ms(), rn_now_ms() + 60000, &job, 1) == 1)
            wh_finish(db, &job, true, &ok, &p, 0, &out);
    }
    rn_pool_release(r->f->s.pool, db);
    return NULL;
}

static void fanout_racing_finishes_never_strands_a_queued_row(void **state)
{
    NEED_STORE(state);
    add_hook(f, "wh_a", "[\"*\"]", 1);
    add_hook(f, "wh_b", "[\"contact.updated\"]", 1);
    racer r = {.f = f, .rounds = 60};
    pthread_t t[3];
    pthread_create(&t[0], NULL, emit_and_fanout_thread, &r);
    pthread_create(&t[1], NULL, claim_and_finish_thread, &r);
    pthread_create(&t[2], NULL, claim_and_finish_thread, &r);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    while (wh_fanout(f->s.db, 100) > 0)
        ;
    /* Invariant: a destination with queued rows has exactly one pending head. */
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM (SELECT webhook_id FROM webhook_deliveries"
                               " WHERE tenant_id = $1 AND status = 'pending'"
                               " GROUP BY webhook_id HAVING COUNT(*) > 1) x"),
                     0);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries q WHERE q.tenant_id = $1"
                               " AND q.status = 'queued' AND NOT EXISTS (SELECT 1 FROM"
                               " webhook_deliveries p WHERE p.tenant_id = q.tenant_id AND"
                               " p.webhook_id = q.webhook_id AND p.status = 'pending')"),
                     0);
    /* Draining what is left delivers everything, in event order. */
    rn_send_result ok = answer(200, -1);
    wh_job job;
    wh_outcome out;
    while (claim(f, "node_a", rn_now_ms(), &job, 1) == 1)
        wh_finish(f->s.db, &job, true, &ok, &f->policy, 0, &out);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"
                               " AND status <> 'succeeded'"),
                     0);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"),
                     120);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries da"
                               " ON da.tenant_id = a.tenant_id AND da.webhook_id = a.webhook_id"
                               " AND da.event_id = a.event_id WHERE a.tenant_id = $1 AND EXISTS"
                               " (SELECT 1 FROM webhook_attempts b JOIN webhook_deliveries db"
                               " ON db.tenant_id = b.tenant_id AND db.webhook_id = b.webhook_id"
                               " AND db.event_id = b.event_id WHERE b.tenant_id = a.tenant_id"
                               " AND b.webhook_id = a.webhook_id AND db.event_seq > da.event_seq"
                               " AND b.created_at < a.created_at)"),
                     0);
}

#define CASES(prefix)                                                                        \
    {                                                                                        \
        cmocka_unit_test_setup(fanout_queues_one_head_per_subscribed_enabled_destination,    \
                               fresh),                                                       \
            cmocka_unit_test_setup(fanout_ignores_test_events_and_respects_the_batch_limit,  \
                                   fresh),                                                   \
            cmocka_unit_test_setup(claims_take_only_heads_and_honour_leases, fresh),         \
            cmocka_unit_test_setup(released_claims_can_be_taken_again_at_once, fresh),       \
            cmocka_unit_test_setup(success_records_the_attempt_and_promotes_the_next_event,  \
                                   fresh),                                                   \
            cmocka_unit_test_setup(finish_one_hands_over_the_next_delivery_with_its_data,   \
                                   fresh),                                                   \
            cmocka_unit_test_setup(a_disabled_destination_gets_its_next_head_unclaimed,      \
                                   fresh),                                                   \
            cmocka_unit_test_setup(failures_retry_on_the_schedule_then_give_up, fresh),      \
            cmocka_unit_test_setup(a_success_resets_the_failure_run, fresh),                 \
            cmocka_unit_test_setup(a_run_of_failures_disables_with_a_system_audit_entry,     \
                                   fresh),                                                   \
            cmocka_unit_test_setup(http_410_disables_at_once, fresh),                        \
            cmocka_unit_test_setup(retry_after_sets_the_next_attempt, fresh),                \
            cmocka_unit_test_setup(                                                          \
                a_lost_lease_records_the_attempt_but_leaves_the_queue_alone, fresh),         \
            cmocka_unit_test_setup(a_deleted_destination_leaves_nothing_to_finish, fresh),   \
            cmocka_unit_test_setup(job_load_returns_the_outbox_bytes, fresh),                \
            cmocka_unit_test_setup(finish_run_records_a_batch_in_one_transaction, fresh),   \
            cmocka_unit_test_setup(a_destination_never_has_two_heads, fresh),                \
            cmocka_unit_test_setup(the_sweep_elects_a_head_for_a_headless_queue, fresh),     \
            cmocka_unit_test_setup(concurrent_claims_never_hand_out_a_head_twice, fresh),    \
            cmocka_unit_test_setup(fanout_racing_finishes_never_strands_a_queued_row, fresh), \
    }

int main(void)
{
    const struct CMUnitTest sqlite_cases[] = CASES(sqlite);
    const struct CMUnitTest pg_cases[] = CASES(pg);
    int failed = cmocka_run_group_tests_name("queue on SQLite", sqlite_cases, setup_sqlite,
                                             rn_test_fixture_close);
    failed += cmocka_run_group_tests_name("queue on PostgreSQL", pg_cases, setup_pg,
                                          rn_test_fixture_close);
    return failed;
}
