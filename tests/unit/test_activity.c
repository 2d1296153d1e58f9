/*
 * test_activity.c — the activity API and its daily rollups against real
 * stores: SQLite in a temporary file and, when RN_TEST_PG_URL names a
 * PostgreSQL database we may create databases from, a fresh database there
 * (dropped at the end; the group is skipped without it).
 *
 * The scenario runs in America/New_York across the 2026-03-08 spring-forward
 * change, with explicit instants, and checks every rollup figure it touches,
 * the raw rows, the events, and the refusals (closed, ended, foreign).
 */
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
#include <sodium.h>

#include "activity/activity.h"
#include "core/util.h"
#include "store/db.h"
#include "store_fixture.h"
#include "store/migrate.h"
#include "tenants/tenants.h"

#define MIN 60000LL
#define HOUR 3600000LL
/* 2026-03-08 05:00Z: New York midnight starting Sunday 2026-03-08 (EST). */
#define MAR8 1772946000000LL
#define TZNAME "America/New_York"

typedef struct {
    rn_test_store s;
    char tenant[48], other[48];
    char agent[48], agent2[48], stranger[48];
} fixture;

/* ---- stores ------------------------------------------------------------- */

static int setup_sqlite(void **state)
{
    if (sodium_init() < 0)
        return -1;
    return rn_test_fixture_open(state, sizeof(fixture), false, "act", 2);
}

static int setup_pg(void **state)
{
    if (sodium_init() < 0)
        return -1;
    return rn_test_fixture_open(state, sizeof(fixture), true, "act", 2);
}

static void new_tenant(fixture *f, const char *tz, char *id_out)
{
    assert_int_equal(rn_test_tenant(&f->s, tz, "US", id_out), 0);
}

static void new_staff(fixture *f, const char *tenant, const char *username, const char *role,
                      char *id_out)
{
    char why[128];
    json_t *s = NULL;
    assert_int_equal(rn_staff_add(f->s.db, tenant, username, role, NULL, &s, why, sizeof why), 0);
    snprintf(id_out, 48, "%s", json_string_value(json_object_get(s, "id")));
    json_decref(s);
}

/* A new NY tenant with two agents, and a second tenant with one. */
static int fresh(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    new_tenant(f, TZNAME, f->tenant);
    new_tenant(f, "Asia/Jakarta", f->other);
    new_staff(f, f->tenant, "ana", "agent", f->agent);
    new_staff(f, f->tenant, "ben", "admin", f->agent2);
    new_staff(f, f->other, "cy", "agent", f->stranger);
    return 0;
}

#define NEED_STORE(state)  \
    fixture *f = *(state); \
    if (!f)                \
        skip();

/* ---- helpers ------------------------------------------------------------ */

static rn_act *begin(fixture *f)
{
    rn_act *a = rn_act_begin(f->s.db, f->tenant, TZNAME);
    assert_non_null(a);
    return a;
}

static void commit(rn_act *a)
{
    assert_int_equal(rn_act_commit(a), 0);
}

/* report_daily.<column> of the tenant's local day (0 when the row is absent). */
static long long tday(fixture *f, const char *day, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM report_daily WHERE tenant_id = $1 AND day = $2",
             column);
    rn_rows *rows = rn_db_query(f->s.db, sql, RN_PARAMS(RN_T(f->tenant), RN_T(day)));
    assert_non_null(rows);
    long long v = rn_rows_count(rows) ? rn_rows_int(rows, 0, 0, -1) : 0;
    rn_rows_free(rows);
    return v;
}

static long long aday(fixture *f, const char *day, const char *agent, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM report_agent_daily WHERE tenant_id = $1 AND day = $2"
             " AND agent_id = $3",
             column);
    rn_rows *rows = rn_db_query(f->s.db, sql, RN_PARAMS(RN_T(f->tenant), RN_T(day), RN_T(agent)));
    assert_non_null(rows);
    long long v = rn_rows_count(rows) ? rn_rows_int(rows, 0, 0, -1) : 0;
    rn_rows_free(rows);
    return v;
}

static long long count_where(fixture *f, const char *sql)
{
    rn_rows *rows = rn_db_query(f->s.db, sql, RN_PARAMS(RN_T(f->tenant)));
    assert_non_null(rows);
    long long v = rn_rows_int(rows, 0, 0, -1);
    rn_rows_free(rows);
    return v;
}

static long long events_of(fixture *f, const char *type)
{
    rn_rows *rows = rn_db_query(f->s.db,
                                "SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND type = $2",
                                RN_PARAMS(RN_T(f->tenant), RN_T(type)));
    assert_non_null(rows);
    long long v = rn_rows_int(rows, 0, 0, -1);
    rn_rows_free(rows);
    return v;
}

/* ---- cases -------------------------------------------------------------- */

/* A conversation that starts on Saturday night and ends after the clocks
 * jumped: each figure lands on the local day of its own instant. */
static void conversation_figures_follow_local_days(void **state)
{
    NEED_STORE(state);
    long long t0 = MAR8 - 30 * MIN; /* Sat 23:30 EST */
    long long t1 = MAR8 + 10 * MIN; /* Sun 00:10 EST */
    long long t2 = MAR8 + 150 * MIN; /* 07:30Z = Sun 03:30 EDT */
    long long t3 = MAR8 + 160 * MIN;
    char cnv[48];
    json_t *out = NULL;

    rn_act *a = begin(f);
    assert_int_equal(rn_act_visitor_message(a, "vis_1", "Vee", NULL, "hello", t0, cnv, &out), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(out, "conversation"), "status")), "open");
    json_decref(out);
    commit(a);

    a = begin(f);
    assert_int_equal(rn_act_agent_message(a, cnv, f->agent, "hi there", t1, &out), 0);
    json_t *conv = json_object_get(out, "conversation");
    assert_string_equal(json_string_value(json_object_get(conv, "status")), "assigned");
    assert_string_equal(json_string_value(json_object_get(conv, "agentId")), f->agent);
    json_decref(out);
    assert_int_equal(rn_act_visitor_message(a, "vis_1", NULL, NULL, "thanks", t2, NULL, NULL), 0);
    assert_int_equal(rn_act_close(a, cnv, f->agent, t3, &out), 0);
    assert_string_equal(json_string_value(json_object_get(out, "closedBy")), f->agent);
    json_decref(out);
    commit(a);

    assert_int_equal(tday(f, "2026-03-07", "conversations"), 1);
    assert_int_equal(tday(f, "2026-03-07", "messages_inbound"), 1);
    assert_int_equal(tday(f, "2026-03-08", "conversations"), 0);
    assert_int_equal(tday(f, "2026-03-08", "messages_inbound"), 1);
    assert_int_equal(tday(f, "2026-03-08", "messages_outbound"), 1);
    assert_int_equal(tday(f, "2026-03-08", "first_response_count"), 1);
    assert_int_equal(tday(f, "2026-03-08", "first_response_ms"), 40 * MIN);
    assert_int_equal(tday(f, "2026-03-08", "conversations_resolved"), 1);
    assert_int_equal(tday(f, "2026-03-08", "resolution_count"), 1);
    assert_int_equal(tday(f, "2026-03-08", "resolution_ms"), 190 * MIN);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "conversations_handled"), 1);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "messages_sent"), 1);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "first_response_ms"), 40 * MIN);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "conversations_resolved"), 1);
    assert_int_equal(events_of(f, "conversation.created"), 1);
    assert_int_equal(events_of(f, "conversation.message.received"), 2);
    assert_int_equal(events_of(f, "conversation.closed"), 1);

    /* The closed conversation refuses agent messages; the visitor starts anew. */
    a = begin(f);
    assert_int_equal(rn_act_agent_message(a, cnv, f->agent, "late", t3 + MIN, NULL),
                     RN_ACT_CONFLICT);
    assert_int_equal(rn_act_close(a, cnv, f->agent, t3 + MIN, NULL), RN_ACT_OK);
    char cnv2[48];
    assert_int_equal(rn_act_visitor_message(a, "vis_1", NULL, NULL, "again", t3 + 2 * MIN, cnv2,
                                            NULL),
                     0);
    assert_string_not_equal(cnv, cnv2);
    commit(a);
    assert_int_equal(tday(f, "2026-03-08", "conversations"), 1);
    assert_int_equal(tday(f, "2026-03-08", "conversations_resolved"), 1);
    assert_int_equal(count_where(f, "SELECT COUNT(*) FROM messages WHERE tenant_id = $1"), 4);
}

/* Presence time is split at local midnights; the New York night of the
 * spring-forward change has 3 real hours between midnight and 04:00. */
static void presence_splits_at_local_midnight(void **state)
{
    NEED_STORE(state);
    rn_act *a = begin(f);
    assert_int_equal(rn_act_presence_set(a, f->agent, "online", MAR8 - 2 * HOUR, NULL), 0);
    assert_int_equal(rn_act_presence_set(a, f->agent, "online", MAR8 - HOUR, NULL), 0);
    assert_int_equal(rn_act_presence_set(a, f->agent, "away", MAR8 + 3 * HOUR, NULL), 0);
    assert_int_equal(rn_act_presence_set(a, f->agent, "offline", MAR8 + 3 * HOUR + 15 * MIN,
                                         NULL),
                     0);
    assert_int_equal(rn_act_presence_set(a, f->agent, "online", MAR8 + HOUR, NULL),
                     RN_ACT_INVALID); /* before the current status began */
    commit(a);
    assert_int_equal(aday(f, "2026-03-07", f->agent, "online_ms"), 2 * HOUR);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "online_ms"), 3 * HOUR);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "away_ms"), 15 * MIN);
    assert_int_equal(events_of(f, "agent.presence.changed"), 3);
    assert_int_equal(count_where(f, "SELECT COUNT(*) FROM presence_intervals"
                                    " WHERE tenant_id = $1"),
                     2);
    json_t *p = NULL;
    assert_int_equal(rn_activity_presence_get(f->s.db, f->tenant, f->agent, &p), 0);
    assert_string_equal(json_string_value(json_object_get(p, "status")), "offline");
    json_decref(p);
}

/* Calls count on the day they start, whenever they end. */
static void calls_count_on_their_start_day(void **state)
{
    NEED_STORE(state);
    char call[48], missed[48];
    json_t *out = NULL;
    rn_act *a = begin(f);
    assert_int_equal(rn_act_call_start(a, f->agent, NULL, "inbound", MAR8 - 10 * MIN, call, NULL),
                     0);
    assert_int_equal(rn_act_call_start(a, f->agent2, NULL, "sideways", MAR8, NULL, NULL),
                     RN_ACT_INVALID);
    assert_int_equal(rn_act_call_start(a, f->stranger, NULL, "inbound", MAR8, NULL, NULL),
                     RN_ACT_NOT_FOUND);
    assert_int_equal(rn_act_call_start(a, f->agent2, NULL, "outbound", MAR8 + HOUR, missed,
                                       NULL),
                     0);
    commit(a);
    a = begin(f);
    /* 30 minutes long: 1801 s is more than the call lasted. */
    assert_int_equal(rn_act_call_end(a, call, true, 1801, MAR8 + 20 * MIN, NULL), RN_ACT_INVALID);
    assert_int_equal(rn_act_call_end(a, call, true, -1, MAR8 + 20 * MIN, &out), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "talkSeconds")), 1800);
    assert_string_equal(json_string_value(json_object_get(out, "outcome")), "answered");
    json_decref(out);
    assert_int_equal(rn_act_call_end(a, call, true, -1, MAR8 + 21 * MIN, NULL), RN_ACT_CONFLICT);
    assert_int_equal(rn_act_call_end(a, missed, false, 5, MAR8 + 2 * HOUR, NULL), RN_ACT_INVALID);
    assert_int_equal(rn_act_call_end(a, missed, false, -1, MAR8 + 2 * HOUR, NULL), 0);
    commit(a);
    assert_int_equal(tday(f, "2026-03-07", "calls"), 1);
    assert_int_equal(tday(f, "2026-03-07", "calls_answered"), 1);
    assert_int_equal(tday(f, "2026-03-07", "talk_seconds"), 1800);
    assert_int_equal(tday(f, "2026-03-08", "calls"), 1);
    assert_int_equal(tday(f, "2026-03-08", "calls_missed"), 1);
    assert_int_equal(tday(f, "2026-03-08", "calls_answered"), 0);
    assert_int_equal(aday(f, "2026-03-07", f->agent, "calls_handled"), 1);
    assert_int_equal(aday(f, "2026-03-07", f->agent, "talk_seconds"), 1800);
    assert_int_equal(aday(f, "2026-03-08", f->agent2, "calls_handled"), 0);
    assert_int_equal(events_of(f, "call.started"), 2);
    assert_int_equal(events_of(f, "call.ended"), 2);
}

/* A ticket resolved, reopened and resolved again counts one resolution. */
static void tickets_count_their_first_resolution(void **state)
{
    NEED_STORE(state);
    char tkt[48];
    json_t *out = NULL;
    rn_ticket_fields open = {.subject = "Card blocked", .priority = "high"};
    rn_act *a = begin(f);
    assert_int_equal(rn_act_ticket_open(a, f->agent, &open, MAR8 + HOUR, tkt, NULL), 0);
    rn_ticket_fields bad = {.subject = "x", .priority = "whenever"};
    assert_int_equal(rn_act_ticket_open(a, f->agent, &bad, MAR8 + HOUR, NULL, NULL),
                     RN_ACT_INVALID);
    commit(a);
    rn_ticket_fields resolve = {.status = "resolved"}, reopen = {.status = "open"};
    a = begin(f);
    assert_int_equal(rn_act_ticket_update(a, tkt, &resolve, MAR8 + 30 * HOUR, &out), 0);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "resolved");
    json_decref(out);
    assert_int_equal(rn_act_ticket_update(a, tkt, &reopen, MAR8 + 31 * HOUR, NULL), 0);
    assert_int_equal(rn_act_ticket_update(a, tkt, &resolve, MAR8 + 50 * HOUR, &out), 0);
    /* resolvedAt stays the first resolution: 2026-03-09 11:00Z. */
    assert_string_equal(json_string_value(json_object_get(out, "resolvedAt")),
                        "2026-03-09T11:00:00.000Z");
    json_decref(out);
    assert_int_equal(rn_act_ticket_update(a, tkt, &resolve, MAR8 + 51 * HOUR, NULL), 0);
    commit(a);
    assert_int_equal(tday(f, "2026-03-08", "tickets_created"), 1);
    assert_int_equal(tday(f, "2026-03-09", "tickets_resolved"), 1);
    assert_int_equal(tday(f, "2026-03-10", "tickets_resolved"), 0);
    assert_int_equal(events_of(f, "ticket.created"), 1);
    assert_int_equal(events_of(f, "ticket.updated"), 3); /* the no-op sends none */
}

/* Another tenant's objects answer like unknown ones; a failed unit leaves
 * no rows, no rollups and no events. */
static void foreign_ids_and_rollback(void **state)
{
    NEED_STORE(state);
    char cnv[48];
    rn_act *a = rn_act_begin(f->s.db, f->other, "Asia/Jakarta");
    assert_non_null(a);
    assert_int_equal(rn_act_visitor_message(a, "vis_x", NULL, NULL, "hi", MAR8, cnv, NULL), 0);
    commit(a);
    a = begin(f);
    assert_int_equal(rn_act_agent_message(a, cnv, f->agent, "hello", MAR8 + MIN, NULL),
                     RN_ACT_NOT_FOUND);
    assert_int_equal(rn_act_assign(a, cnv, f->agent, MAR8 + MIN, NULL), RN_ACT_NOT_FOUND);
    assert_int_equal(rn_act_visitor_message(a, "vis_y", NULL, NULL, "hi", MAR8, NULL, NULL), 0);
    rn_act_rollback(a);
    assert_int_equal(count_where(f, "SELECT COUNT(*) FROM conversations WHERE tenant_id = $1"),
                     0);
    assert_int_equal(count_where(f, "SELECT COUNT(*) FROM report_daily WHERE tenant_id = $1"), 0);
    assert_int_equal(count_where(f, "SELECT COUNT(*) FROM events WHERE tenant_id = $1"), 0);
    json_t *c = NULL;
    assert_int_equal(rn_activity_conversation_get(f->s.db, f->tenant, cnv, &c), RN_ACT_NOT_FOUND);
}

/* Many operations in one unit (the seeder's way) sum exactly; messages page
 * oldest first and conversations newest first. */
static void batched_unit_and_lists(void **state)
{
    NEED_STORE(state);
    rn_act *a = begin(f);
    rn_act_set_events(a, false);
    char ids[30][48];
    for (int i = 0; i < 30; i++) {
        char visitor[32];
        snprintf(visitor, sizeof visitor, "vis_b%d", i);
        long long t = MAR8 + 9 * HOUR + i * MIN;
        assert_int_equal(rn_act_visitor_message(a, visitor, NULL, NULL, "q", t, ids[i], NULL), 0);
        assert_int_equal(rn_act_visitor_message(a, visitor, NULL, ids[i], "q2", t + 1, NULL, NULL),
                         0);
        assert_int_equal(rn_act_agent_message(a, ids[i], i % 2 ? f->agent : f->agent2, "a",
                                              t + 2000, NULL),
                         0);
        if (i % 3 == 0)
            assert_int_equal(rn_act_close(a, ids[i], f->agent, t + 9000, NULL), 0);
    }
    assert_int_equal(rn_act_operations(a), 30 * 3 + 10);
    commit(a);
    assert_int_equal(tday(f, "2026-03-08", "conversations"), 30);
    assert_int_equal(tday(f, "2026-03-08", "messages_inbound"), 60);
    assert_int_equal(tday(f, "2026-03-08", "first_response_ms"), 30 * 2000);
    assert_int_equal(tday(f, "2026-03-08", "resolution_ms"), 10 * 9000);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "conversations_handled"), 15);
    assert_int_equal(aday(f, "2026-03-08", f->agent2, "conversations_handled"), 15);
    assert_int_equal(aday(f, "2026-03-08", f->agent, "conversations_resolved"), 10);
    assert_int_equal(count_where(f, "SELECT COUNT(*) FROM events WHERE tenant_id = $1"), 0);

    json_t *items = NULL;
    char next[48];
    assert_int_equal(rn_activity_conversations_list(f->s.db, f->tenant, "assigned", 25, NULL,
                                                    &items, next),
                     0);
    assert_int_equal(json_array_size(items), 20);
    assert_string_equal(next, "");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")),
                        ids[29]);
    json_decref(items);
    assert_int_equal(rn_activity_conversations_list(f->s.db, f->tenant, NULL, 12, NULL, &items,
                                                    next),
                     0);
    assert_int_equal(json_array_size(items), 12);
    assert_string_equal(next, ids[18]);
    json_decref(items);
    assert_int_equal(rn_activity_conversations_list(f->s.db, f->tenant, NULL, 12, next, &items,
                                                    next),
                     0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")),
                        ids[17]);
    json_decref(items);
    assert_int_equal(rn_activity_messages_list(f->s.db, f->tenant, ids[4], 2, NULL, &items, next),
                     0);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "text")), "q");
    json_decref(items);
    assert_int_equal(rn_activity_messages_list(f->s.db, f->tenant, ids[4], 2, next, &items, next),
                     0);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0),
                                                          "direction")),
                        "outbound");
    assert_string_equal(next, "");
    json_decref(items);
}

/* n visitor messages "m0".."m<n-1>" in one conversation, a millisecond apart. */
static void visitor_says(rn_act *a, int n, char cnv[48])
{
    char text[16];
    for (int i = 0; i < n; i++) {
        snprintf(text, sizeof text, "m%d", i);
        assert_int_equal(rn_act_visitor_message(a, "vis_q", NULL, NULL, text, MAR8 + i, cnv,
                                                NULL),
                         0);
    }
}

/* The first n messages of cnv, oldest first, are "<prefix>0".."<prefix>n-1". */
static void assert_texts(fixture *f, const char *cnv, const char *prefix, int n)
{
    json_t *items = NULL;
    char next[48], text[32];
    assert_int_equal(rn_activity_messages_list(f->s.db, f->tenant, cnv, n, NULL, &items, next), 0);
    assert_int_equal(json_array_size(items), n);
    for (int i = 0; i < n; i++) {
        snprintf(text, sizeof text, "%s%d", prefix, i);
        assert_string_equal(json_string_value(json_object_get(json_array_get(items, i), "text")),
                            text);
    }
    json_decref(items);
}

/* Message rows are queued in the unit and written ACT_MSG_BATCH at a time:
 * a rollback drops every one (written or queued), a commit keeps every one
 * with its own text and order. */
static void message_rows_follow_the_unit(void **state)
{
    NEED_STORE(state);
    const char *count_sql = "SELECT COUNT(*) FROM messages WHERE tenant_id = $1";
    char cnv[48], text[16];
    rn_act *a = begin(f);
    visitor_says(a, 70, cnv);
    rn_act_rollback(a);
    assert_int_equal(count_where(f, count_sql), 0);
    a = begin(f);
    visitor_says(a, 130, cnv);
    commit(a);
    assert_int_equal(count_where(f, count_sql), 130);
    assert_int_equal(count_where(f, "SELECT COUNT(DISTINCT id) FROM messages WHERE tenant_id = $1"),
                     130);
    assert_texts(f, cnv, "m", 100);
    assert_int_equal(tday(f, "2026-03-08", "messages_inbound"), 130);

    /* messages of one millisecond list in the order they were sent */
    a = begin(f);
    for (int i = 0; i < 5; i++) {
        snprintf(text, sizeof text, "same%d", i);
        assert_int_equal(rn_act_visitor_message(a, "vis_s", NULL, NULL, text, MAR8 + HOUR, cnv,
                                                NULL),
                         0);
    }
    commit(a);
    assert_texts(f, cnv, "same", 5);
}

static void contact_hook_counts_on_local_day(void **state)
{
    NEED_STORE(state);
    assert_int_equal(rn_activity_count_contact(f->s.db, f->tenant, TZNAME, MAR8 - 1), 0);
    assert_int_equal(rn_activity_count_contact(f->s.db, f->tenant, TZNAME, MAR8), 0);
    assert_int_equal(rn_activity_count_contact(f->s.db, f->tenant, TZNAME, MAR8 + 1), 0);
    assert_int_equal(tday(f, "2026-03-07", "contacts_created"), 1);
    assert_int_equal(tday(f, "2026-03-08", "contacts_created"), 2);
    assert_int_equal(rn_activity_count_contact(f->s.db, f->tenant, "Nowhere/Special", MAR8), -1);
}

int main(void)
{
    const struct CMUnitTest cases[] = {
        cmocka_unit_test_setup(conversation_figures_follow_local_days, fresh),
        cmocka_unit_test_setup(presence_splits_at_local_midnight, fresh),
        cmocka_unit_test_setup(calls_count_on_their_start_day, fresh),
        cmocka_unit_test_setup(tickets_count_their_first_resolution, fresh),
        cmocka_unit_test_setup(foreign_ids_and_rollback, fresh),
        cmocka_unit_test_setup(batched_unit_and_lists, fresh),
        cmocka_unit_test_setup(message_rows_follow_the_unit, fresh),
        cmocka_unit_test_setup(contact_hook_counts_on_local_day, fresh),
    };
    int failed = cmocka_run_group_tests_name("activity on SQLite", cases, setup_sqlite,
                                             rn_test_fixture_close);
    failed += cmocka_run_group_tests_name("activity on PostgreSQL", cases, setup_pg,
                                          rn_test_fixture_close);
    return failed;
}
