/*
 * test_webhooks_run.c — runs of a destination's deliveries (wh_run_load,
 * wh_finish_seq in src/webhooks/queue.c) against real stores: SQLite in a
 * temporary file and, when RN_TEST_PG_URL is set, a fresh PostgreSQL
 * database (the group reports itself skipped otherwise). The two stores
 * record a run differently (one statement on PostgreSQL, the single path
 * per delivery on SQLite); every case asserts the same rows on both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/util.h"
#include "store/db.h"
#include "store_fixture.h"
#include "tenants/tenants.h"
#include "webhooks/internal.h"
#include "webhooks/outbox.h"
#include "webhooks/queue.h"

static const unsigned char MASTER[32] = {7};

typedef struct {
    rn_test_store s;
    char tenant[48];
    wh_schedule schedule;
    wh_policy policy;
} fixture;

static int setup_sqlite(void **state)
{
    return rn_test_fixture_open(state, sizeof(fixture), false, "whrun", 2);
}

static int setup_pg(void **state)
{
    return rn_test_fixture_open(state, sizeof(fixture), true, "whrun", 2);
}

/* Empty webhook tables, a new tenant, destination wh_a on every event, and
 * the policy "1,1,2" with `max_failures` 3. */
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
    f->policy = (wh_policy){.schedule = &f->schedule, .max_failures = 3, .node = "node_a"};
    char *sealed = wh_secret_seal(MASTER, "secret-0123456789abcdef");
    long long n = rn_db_exec(
        f->s.db,
        "INSERT INTO webhooks (tenant_id, id, name, url, events, enabled, disabled_reason,"
        " secret_sealed, old_secret_sealed, old_secret_until, consecutive_failures, created_at,"
        " updated_at) VALUES ($1, 'wh_a', 'h', 'https://example.com/a', '[\"*\"]', 1, NULL, $2,"
        " NULL, NULL, 0, 1, 1)",
        RN_PARAMS(RN_T(f->tenant), RN_T(sealed)));
    free(sealed);
    return n == 1 ? 0 : -1;
}

#define NEED_STORE(state)                                                   \
    fixture *f = *(state);                                                  \
    if (!f)                                                                 \
        skip();

/* ---- helpers ------------------------------------------------------------ */

/* n events on wh_a, fanned out; ids[i] in the order they were written. */
static void queue_events(fixture *f, int n, char ids[][48])
{
    for (int i = 0; i < n; i++) {
        json_t *data = json_pack("{s:i}", "i", i);
        assert_int_equal(rn_event_emit(f->s.db, f->tenant, "contact.created", data, ids[i], 48),
                         0);
        json_decref(data);
    }
    assert_int_equal(wh_fanout(f->s.db, 100), n);
}

static const char *status_of(fixture *f, const char *event)
{
    static char out[32];
    rn_rows *rows = rn_db_query(f->s.db,
                                "SELECT status FROM webhook_deliveries WHERE tenant_id = $1"
                                " AND webhook_id = 'wh_a' AND event_id = $2",
                                RN_PARAMS(RN_T(f->tenant), RN_T(event)));
    snprintf(out, sizeof out, "%s", rows && rn_rows_count(rows) ? rn_rows_get(rows, 0, 0) : "");
    rn_rows_free(rows);
    return out;
}

/* One integer about the tenant, or -999. */
static long long scalar(fixture *f, const char *sql)
{
    rn_rows *rows = rn_db_query(f->s.db, sql, RN_PARAMS(RN_T(f->tenant)));
    long long v = rows ? rn_rows_int(rows, 0, 0, -999) : -999;
    rn_rows_free(rows);
    return v;
}

/* The attempt rows of one event: count, and the last one's fields. */
typedef struct {
    int count;
    long long number, response_status, next_attempt_at;
    char status[16];
} attempt_info;

static attempt_info attempts_of(fixture *f, const char *event)
{
    attempt_info a = {0};
    rn_rows *rows = rn_db_query(f->s.db,
                                "SELECT attempt, status, response_status, next_attempt_at"
                                " FROM webhook_attempts WHERE tenant_id = $1"
                                " AND webhook_id = 'wh_a' AND event_id = $2 ORDER BY attempt",
                                RN_PARAMS(RN_T(f->tenant), RN_T(event)));
    assert_non_null(rows);
    a.count = rn_rows_count(rows);
    if (a.count > 0) {
        int last = a.count - 1;
        a.number = rn_rows_int(rows, last, 0, -1);
        snprintf(a.status, sizeof a.status, "%s", rn_rows_get(rows, last, 1));
        a.response_status = rn_rows_int(rows, last, 2, -1);
        a.next_attempt_at = rn_rows_int(rows, last, 3, -1);
    }
    rn_rows_free(rows);
    return a;
}

static rn_send_result answer(long status)
{
    rn_send_result r = {.http_status = status, .duration_ms = 4, .retry_after_s = -1};
    if (status < 200 || status > 299)
        snprintf(r.error, sizeof r.error, "HTTP %ld", status);
    return r;
}

/* Claims wh_a's head for node_a and loads a run of at most max. */
static void claim_run(fixture *f, int max, wh_run *run)
{
    wh_job head;
    long long now = rn_now_ms();
    assert_int_equal(wh_claim(f->s.db, "node_a", now, now + 30000, &head, 1), 1);
    assert_int_equal(wh_run_load(f->s.db, &head, max, run), 0);
}

/* The run's first `sent` attempts as items: all 200 but the last, which
 * answers last_status. next/has_next go on the last item. */
typedef struct {
    rn_send_result res[WH_RUN_MAX];
    wh_outcome out[WH_RUN_MAX];
    wh_finish_item items[WH_RUN_MAX];
    wh_job next;
    bool has_next;
} run_record;

static void record_setup(run_record *r, wh_run *run, int sent, long last_status, bool want_next)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < sent; i++) {
        r->res[i] = answer(i + 1 == sent ? last_status : 200);
        r->items[i] = (wh_finish_item){.job = &run->jobs[i],
                                       .send_ok = r->res[i].error[0] == '\0',
                                       .res = &r->res[i],
                                       .rnd = 0,
                                       .lease_until = rn_now_ms() + 30000,
                                       .out = &r->out[i],
                                       .rc = -1};
    }
    r->items[sent - 1].next = want_next ? &r->next : NULL;
    r->items[sent - 1].has_next = &r->has_next;
}

/* ---- loading ------------------------------------------------------------ */

static void a_run_is_the_head_then_the_queued_rows_in_order(void **state)
{
    NEED_STORE(state);
    char ids[5][48];
    queue_events(f, 5, ids);
    wh_run run;
    claim_run(f, 3, &run);
    assert_int_equal(run.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(run.jobs[i].event_id, ids[i]);
        assert_string_equal(run.jobs[i].event_type, "contact.created");
        assert_string_equal(run.jobs[i].webhook_id, "wh_a");
        assert_int_equal(run.jobs[i].attempts, 0);
        json_t *body = json_loads(run.payloads[i], 0, NULL);
        assert_string_equal(json_string_value(json_object_get(body, "id")), ids[i]);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(body, "data"), "i")),
                         i);
        json_decref(body);
    }
    assert_string_equal(run.url, "https://example.com/a");
    assert_non_null(run.sealed);
    assert_null(run.old_sealed);
    wh_run_free(&run);
}

static void a_run_stops_before_a_row_whose_event_vanished(void **state)
{
    NEED_STORE(state);
    char ids[4][48];
    queue_events(f, 4, ids);
    rn_db_exec(f->s.db, "DELETE FROM events WHERE tenant_id = $1 AND id = $2",
               RN_PARAMS(RN_T(f->tenant), RN_T(ids[2])));
    wh_run run;
    claim_run(f, WH_RUN_MAX, &run);
    assert_int_equal(run.n, 2);
    assert_string_equal(run.jobs[1].event_id, ids[1]);
    wh_run_free(&run);
}

static void a_head_whose_event_vanished_is_not_a_run(void **state)
{
    NEED_STORE(state);
    char ids[2][48];
    queue_events(f, 2, ids);
    rn_db_exec(f->s.db, "DELETE FROM events WHERE tenant_id = $1 AND id = $2",
               RN_PARAMS(RN_T(f->tenant), RN_T(ids[0])));
    wh_job head;
    long long now = rn_now_ms();
    assert_int_equal(wh_claim(f->s.db, "node_a", now, now + 30000, &head, 1), 1);
    wh_run run;
    assert_int_equal(wh_run_load(f->s.db, &head, WH_RUN_MAX, &run), 1);
    wh_run_free(&run);
}

/* ---- recording ---------------------------------------------------------- */

static void a_successful_run_is_recorded_and_the_next_head_claimed(void **state)
{
    NEED_STORE(state);
    char ids[6][48];
    queue_events(f, 6, ids);
    rn_db_exec(f->s.db, "UPDATE webhooks SET consecutive_failures = 2 WHERE tenant_id = $1",
               RN_PARAMS(RN_T(f->tenant)));
    wh_run run;
    claim_run(f, 4, &run);
    run_record r;
    record_setup(&r, &run, 4, 200, true);
    wh_run next_run = {0};
    r.items[3].next_run = &next_run;
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 4), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.items[i].rc, 0);
        assert_string_equal(r.out[i].status, "succeeded");
        assert_int_equal(r.out[i].number, 1);
        assert_memory_equal(r.out[i].attempt_id, "dlv_", 4);
        assert_string_equal(status_of(f, ids[i]), "succeeded");
        attempt_info a = attempts_of(f, ids[i]);
        assert_int_equal(a.count, 1);
        assert_string_equal(a.status, "succeeded");
        assert_int_equal(a.response_status, 200);
    }
    assert_true(r.has_next);
    assert_string_equal(r.next.event_id, ids[4]);
    assert_string_equal(status_of(f, ids[4]), "pending");
    assert_string_equal(status_of(f, ids[5]), "queued");
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"
                               " AND status = 'pending' AND claimed_by = 'node_a'"),
                     1);
    assert_int_equal(scalar(f, "SELECT consecutive_failures FROM webhooks"
                               " WHERE tenant_id = $1"),
                     0);
    assert_int_equal(scalar(f, "SELECT SUM(attempts) FROM webhook_deliveries"
                               " WHERE tenant_id = $1"),
                     4);
    /* PostgreSQL's recording statement also returns the next run; SQLite's
     * worker loads it. */
    if (rn_db_dialect(f->s.db) == RN_DB_POSTGRES) {
        assert_int_equal(next_run.n, 2);
        assert_string_equal(next_run.jobs[0].event_id, ids[4]);
        assert_string_equal(next_run.jobs[1].event_id, ids[5]);
        assert_string_equal(next_run.url, "https://example.com/a");
        json_t *body = json_loads(next_run.payloads[1], 0, NULL);
        assert_string_equal(json_string_value(json_object_get(body, "id")), ids[5]);
        json_decref(body);
    } else {
        assert_int_equal(next_run.n, 0);
        assert_null(next_run.rows);
    }
    wh_run_free(&next_run);
    wh_run loaded;
    assert_int_equal(wh_run_load(f->s.db, &r.next, WH_RUN_MAX, &loaded), 0);
    assert_int_equal(loaded.n, 2);
    assert_string_equal(loaded.jobs[1].event_id, ids[5]);
    wh_run_free(&loaded);
    wh_run_free(&run);
}

static void the_last_run_leaves_the_queue_empty(void **state)
{
    NEED_STORE(state);
    char ids[3][48];
    queue_events(f, 3, ids);
    wh_run run;
    claim_run(f, WH_RUN_MAX, &run);
    assert_int_equal(run.n, 3);
    run_record r;
    record_setup(&r, &run, 3, 200, true);
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 3), 0);
    assert_false(r.has_next);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"
                               " AND status = 'succeeded'"),
                     3);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1"), 3);
    wh_run_free(&run);
}

static void without_next_the_next_head_is_elected_unclaimed(void **state)
{
    NEED_STORE(state);
    char ids[3][48];
    queue_events(f, 3, ids);
    wh_run run;
    claim_run(f, 2, &run);
    run_record r;
    record_setup(&r, &run, 2, 200, false);
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 2), 0);
    assert_false(r.has_next);
    assert_string_equal(status_of(f, ids[2]), "pending");
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"
                               " AND claimed_by IS NOT NULL"),
                     0);
    wh_run_free(&run);
}

static void a_failure_in_a_run_stops_it_and_takes_the_retry_path(void **state)
{
    NEED_STORE(state);
    char ids[5][48];
    queue_events(f, 5, ids);
    wh_run run;
    claim_run(f, WH_RUN_MAX, &run);
    assert_int_equal(run.n, 5);
    run_record r; /* ids[0], ids[1] succeed; ids[2] fails; 3 and 4 were never sent */
    record_setup(&r, &run, 3, 500, true);
    wh_run next_run = {0};
    r.items[2].next_run = &next_run;
    long long before = rn_now_ms();
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 3), 0);
    assert_int_equal(r.items[0].rc, 0);
    assert_int_equal(r.items[1].rc, 0);
    assert_int_equal(r.items[2].rc, 0);
    assert_false(r.has_next);
    assert_null(next_run.rows);
    assert_string_equal(status_of(f, ids[0]), "succeeded");
    assert_string_equal(status_of(f, ids[1]), "succeeded");
    assert_string_equal(status_of(f, ids[2]), "pending");
    assert_string_equal(status_of(f, ids[3]), "queued");
    assert_string_equal(status_of(f, ids[4]), "queued");
    /* The schedule's first step, 1 s +-20%, from the attempt. */
    assert_string_equal(r.out[2].status, "pending");
    assert_int_equal(r.out[2].number, 1);
    assert_in_range(r.out[2].next_attempt_at, before + 800, rn_now_ms() + 1200);
    attempt_info a = attempts_of(f, ids[2]);
    assert_int_equal(a.count, 1);
    assert_string_equal(a.status, "pending");
    assert_int_equal(a.response_status, 500);
    assert_int_equal(a.next_attempt_at, r.out[2].next_attempt_at);
    assert_int_equal(attempts_of(f, ids[3]).count, 0);
    assert_int_equal(scalar(f, "SELECT consecutive_failures FROM webhooks WHERE tenant_id = $1"),
                     1);
    /* The failed delivery is the head, released, due at its retry time. */
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"
                               " AND status = 'pending' AND claimed_by IS NULL"
                               " AND attempts = 1"),
                     1);
    wh_job job;
    assert_int_equal(wh_claim(f->s.db, "node_a", before, before + 30000, &job, 1), 0);
    long long due = r.out[2].next_attempt_at;
    assert_int_equal(wh_claim(f->s.db, "node_a", due, due + 30000, &job, 1), 1);
    assert_string_equal(job.event_id, ids[2]);
    assert_int_equal(job.attempts, 1);
    wh_run_free(&run);
}

static void a_run_ending_in_the_last_allowed_failure_disables_with_audit(void **state)
{
    NEED_STORE(state);
    char ids[3][48];
    queue_events(f, 3, ids);
    rn_db_exec(f->s.db, "UPDATE webhooks SET consecutive_failures = 2 WHERE tenant_id = $1",
               RN_PARAMS(RN_T(f->tenant)));
    wh_run run;
    claim_run(f, WH_RUN_MAX, &run);
    run_record r; /* a success resets the count: 0, then ids[1] fails (1 of 3) */
    record_setup(&r, &run, 2, 503, true);
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 2), 0);
    assert_false(r.out[1].disabled);
    assert_int_equal(scalar(f, "SELECT consecutive_failures FROM webhooks WHERE tenant_id = $1"),
                     1);
    wh_run_free(&run);
    /* Two more failures of the head make three in a row. */
    for (int i = 0; i < 2; i++) {
        wh_job job;
        long long far = rn_now_ms() + 3600000;
        assert_int_equal(wh_claim(f->s.db, "node_a", far, far + 30000, &job, 1), 1);
        assert_int_equal(wh_run_load(f->s.db, &job, WH_RUN_MAX, &run), 0);
        record_setup(&r, &run, 1, 500, true);
        assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 1), 0);
        assert_int_equal(r.out[0].disabled, i == 1);
        wh_run_free(&run);
    }
    assert_int_equal(scalar(f, "SELECT enabled FROM webhooks WHERE tenant_id = $1"), 0);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND"
                               " actor = 'system' AND action = 'webhook.disabled'"
                               " AND target = 'wh_a'"),
                     1);
    assert_int_equal(attempts_of(f, ids[1]).count, 3);
    assert_string_equal(status_of(f, ids[1]), "pending");
    assert_string_equal(status_of(f, ids[2]), "queued");
}

static void a_run_whose_lease_was_lost_moves_nothing(void **state)
{
    NEED_STORE(state);
    char ids[3][48];
    queue_events(f, 3, ids);
    wh_run run;
    claim_run(f, WH_RUN_MAX, &run);
    /* Our lease ran out and node_b claimed the head meanwhile. */
    rn_db_exec(f->s.db,
               "UPDATE webhook_deliveries SET claimed_by = 'node_b' WHERE tenant_id = $1"
               " AND status = 'pending'",
               RN_PARAMS(RN_T(f->tenant)));
    run_record r;
    record_setup(&r, &run, 3, 500, true);
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 3), 0);
    assert_int_equal(r.items[0].rc, 0); /* the attempt happened: it is logged */
    assert_int_equal(r.items[2].rc, 2);
    assert_false(r.has_next);
    assert_int_equal(attempts_of(f, ids[0]).count, 1);
    assert_string_equal(status_of(f, ids[0]), "pending");
    assert_string_equal(status_of(f, ids[1]), "queued");
    assert_string_equal(status_of(f, ids[2]), "queued");
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1"
                               " AND claimed_by = 'node_b'"),
                     1);
    assert_int_equal(scalar(f, "SELECT consecutive_failures FROM webhooks WHERE tenant_id = $1"),
                     0);
    wh_run_free(&run);
}

static void a_deleted_destination_records_nothing(void **state)
{
    NEED_STORE(state);
    char ids[2][48];
    queue_events(f, 2, ids);
    wh_run run;
    claim_run(f, WH_RUN_MAX, &run);
    rn_db_exec(f->s.db, "DELETE FROM webhooks WHERE tenant_id = $1", RN_PARAMS(RN_T(f->tenant)));
    run_record r;
    record_setup(&r, &run, 2, 200, true);
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 2), 0);
    assert_int_equal(r.items[0].rc, 1);
    assert_int_equal(r.items[1].rc, 1);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1"), 0);
    wh_run_free(&run);
}

static void attempt_numbers_follow_earlier_attempts(void **state)
{
    NEED_STORE(state);
    char ids[2][48];
    queue_events(f, 2, ids);
    /* A hand-made earlier attempt of the queued event (a redelivery). */
    rn_db_exec(f->s.db,
               "INSERT INTO webhook_attempts (tenant_id, id, webhook_id, event_id, event_type,"
               " attempt, origin, status, response_status, duration_ms, error, response_body,"
               " created_at, next_attempt_at) VALUES ($1, 'dlv_old', 'wh_a', $2,"
               " 'contact.created', 1, 'redeliver', 'failed', 500, 1, NULL, NULL, 1, NULL)",
               RN_PARAMS(RN_T(f->tenant), RN_T(ids[1])));
    wh_run run;
    claim_run(f, WH_RUN_MAX, &run);
    run_record r;
    record_setup(&r, &run, 2, 200, true);
    assert_int_equal(wh_finish_seq(f->s.db, &f->policy, r.items, 2), 0);
    assert_int_equal(r.out[0].number, 1);
    assert_int_equal(r.out[1].number, 2);
    assert_int_equal(attempts_of(f, ids[1]).number, 2);
    wh_run_free(&run);
}

/* ---- fan-out's elections ------------------------------------------------ */

static void add_hook(fixture *f, const char *tenant, const char *id)
{
    char *sealed = wh_secret_seal(MASTER, "secret-0123456789abcdef");
    long long n = rn_db_exec(
        f->s.db,
        "INSERT INTO webhooks (tenant_id, id, name, url, events, enabled, disabled_reason,"
        " secret_sealed, old_secret_sealed, old_secret_until, consecutive_failures, created_at,"
        " updated_at) VALUES ($1, $2, 'h', 'https://example.com/b', '[\"*\"]', 1, NULL, $3,"
        " NULL, NULL, 0, 1, 1)",
        RN_PARAMS(RN_T(tenant), RN_T(id), RN_T(sealed)));
    free(sealed);
    assert_int_equal(n, 1);
}

/* The head of (tenant, hook): its event id, or "" (and how many there are). */
static int heads_of(fixture *f, const char *tenant, const char *hook, char *event, size_t cap)
{
    rn_rows *rows = rn_db_query(f->s.db,
                                "SELECT event_id FROM webhook_deliveries WHERE tenant_id = $1"
                                " AND webhook_id = $2 AND status = 'pending'",
                                RN_PARAMS(RN_T(tenant), RN_T(hook)));
    assert_non_null(rows);
    int n = rn_rows_count(rows);
    snprintf(event, cap, "%s", n ? rn_rows_get(rows, 0, 0) : "");
    rn_rows_free(rows);
    return n;
}

static void fanout_elects_every_touched_destination_of_every_tenant(void **state)
{
    NEED_STORE(state);
    char other[48], why[128], slug[32];
    snprintf(slug, sizeof slug, "o-%lld", (long long)rn_mono_ms() % 100000000);
    json_t *t = NULL;
    assert_int_equal(rn_tenant_create(f->s.db, slug, "O", "Asia/Jakarta", "ID", &t, why,
                                      sizeof why),
                     0);
    snprintf(other, sizeof other, "%s", json_string_value(json_object_get(t, "id")));
    json_decref(t);
    add_hook(f, f->tenant, "wh_b");
    add_hook(f, other, "wh_c");
    add_hook(f, other, "wh_d");
    char first[2][48], id[48];
    const char *tenants[2] = {f->tenant, other};
    for (int i = 0; i < 6; i++) {
        json_t *data = json_pack("{s:i}", "i", i);
        assert_int_equal(rn_event_emit(f->s.db, tenants[i % 2], "ticket.created", data, id, 48),
                         0);
        json_decref(data);
        if (i < 2)
            snprintf(first[i], sizeof first[i], "%s", id);
    }
    assert_int_equal(wh_fanout(f->s.db, 100), 6);
    char head[48];
    const char *hooks[4][2] = {{f->tenant, "wh_a"}, {f->tenant, "wh_b"}, {other, "wh_c"},
                               {other, "wh_d"}};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(heads_of(f, hooks[i][0], hooks[i][1], head, sizeof head), 1);
        assert_string_equal(head, first[i / 2]);
    }
    /* A second fan-out leaves the heads in place. */
    json_t *data = json_pack("{s:i}", "i", 6);
    assert_int_equal(rn_event_emit(f->s.db, other, "ticket.created", data, id, 48), 0);
    json_decref(data);
    assert_int_equal(wh_fanout(f->s.db, 100), 1);
    assert_int_equal(heads_of(f, other, "wh_c", head, sizeof head), 1);
    assert_string_equal(head, first[1]);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'queued'"
                               " AND tenant_id <> $1"),
                     6); /* events 1, 3, 5 and 6 on wh_c and wh_d, less the two heads */
}

#define CASES                                                                                   \
    cmocka_unit_test_setup(a_run_is_the_head_then_the_queued_rows_in_order, fresh),             \
        cmocka_unit_test_setup(a_run_stops_before_a_row_whose_event_vanished, fresh),           \
        cmocka_unit_test_setup(a_head_whose_event_vanished_is_not_a_run, fresh),                \
        cmocka_unit_test_setup(a_successful_run_is_recorded_and_the_next_head_claimed, fresh),  \
        cmocka_unit_test_setup(the_last_run_leaves_the_queue_empty, fresh),                     \
        cmocka_unit_test_setup(without_next_the_next_head_is_elected_unclaimed, fresh),         \
        cmocka_unit_test_setup(a_failure_in_a_run_stops_it_and_takes_the_retry_path, fresh),    \
        cmocka_unit_test_setup(a_run_ending_in_the_last_allowed_failure_disables_with_audit,    \
                               fresh),                                                          \
        cmocka_unit_test_setup(a_run_whose_lease_was_lost_moves_nothing, fresh),                \
        cmocka_unit_test_setup(a_deleted_destination_records_nothing, fresh),                   \
        cmocka_unit_test_setup(attempt_numbers_follow_earlier_attempts, fresh),                 \
        cmocka_unit_test_setup(fanout_elects_every_touched_destination_of_every_tenant, fresh)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {CASES};
    const struct CMUnitTest pg_tests[] = {CASES};
    int failed = cmocka_run_group_tests_name("webhook runs, SQLite", sqlite_tests, setup_sqlite,
                                             rn_test_fixture_close);
    failed += cmocka_run_group_tests_name("webhook runs, PostgreSQL", pg_tests, setup_pg,
                                          rn_test_fixture_close);
    return failed;
}
