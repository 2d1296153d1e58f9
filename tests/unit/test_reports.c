/*
 * test_reports.c — report periods, CSV cells, and the arithmetic from
 * rollup rows to report figures (sums, averages rounded half up, null
 * averages, zero days, agents listed, running online spells), on SQLite.
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
#include "core/tz.h"
#include "core/util.h"
#include "reports/reports.h"
#include "store/db.h"
#include "store/migrate.h"
#include "tenants/tenants.h"

static long long day_of(const char *date)
{
    long long d = 0;
    assert_int_equal(rn_day_parse(date, &d), 0);
    return d;
}

/* ---- periods -------------------------------------------------------------- */

static json_t *details;

static int parse(const char *period, const char *from, const char *to, rn_report_period *p)
{
    json_decref(details);
    details = json_array();
    return rn_report_period_parse(period, from, to, day_of("2026-03-10"), p, details);
}

static const char *issue_of(const char *field)
{
    size_t i;
    json_t *d;
    json_array_foreach(details, i, d) if (strcmp(json_string_value(json_object_get(d, "field")),
                                                 field) == 0) return json_string_value(
        json_object_get(d, "issue"));
    return "";
}

static void periods_end_today(void **state)
{
    rn_report_period p;
    assert_int_equal(parse("today", NULL, NULL, &p), 0);
    assert_int_equal(p.from, day_of("2026-03-10"));
    assert_int_equal(p.to, day_of("2026-03-10"));
    assert_int_equal(parse("7days", NULL, NULL, &p), 0);
    assert_int_equal(p.from, day_of("2026-03-04"));
    assert_int_equal(parse("90days", NULL, NULL, &p), 0);
    assert_int_equal(p.to - p.from, 89);
    assert_int_equal(parse(NULL, NULL, NULL, &p), 0); /* absent: 30days */
    assert_string_equal(p.name, "30days");
    assert_int_equal(p.from, day_of("2026-02-09"));
}

static void custom_periods_are_checked(void **state)
{
    rn_report_period p;
    assert_int_equal(parse("custom", "2025-03-10", "2026-03-10", &p), 0); /* 366 days */
    assert_int_equal(p.to - p.from + 1, 366);
    assert_int_equal(parse("custom", "2025-03-09", "2026-03-10", &p), -1);
    assert_string_equal(issue_of("to"), "at_most_366_days_after_from");
    assert_int_equal(parse("custom", "2026-03-10", "2026-03-09", &p), -1);
    assert_string_equal(issue_of("to"), "must_not_be_before_from");
    assert_int_equal(parse("custom", "2026-02-30", "2026-03-09", &p), -1);
    assert_string_equal(issue_of("from"), "must_be_a_date_yyyy_mm_dd");
    assert_int_equal(parse("custom", NULL, "2026-03-09", &p), -1);
    assert_string_equal(issue_of("from"), "required");
    assert_int_equal(parse("custom", "2026-03-01", "2026-03-01", &p), 0);
    assert_int_equal(parse("7days", "2026-03-01", NULL, &p), -1);
    assert_string_equal(issue_of("from"), "only_with_custom_period");
    assert_int_equal(parse("", NULL, NULL, &p), -1);
    assert_int_equal(parse("30Days", NULL, NULL, &p), -1);
    assert_string_equal(issue_of("period"), "must_be_today_7days_30days_90days_or_custom");
    json_decref(details);
    details = NULL;
}

/* ---- CSV ------------------------------------------------------------------- */

static void csv_cells_follow_rfc4180_and_neutralise_formulas(void **state)
{
    rn_csv c = {0};
    rn_csv_text(&c, "plain");
    rn_csv_text(&c, "a,b");
    rn_csv_text(&c, "say \"hi\"");
    rn_csv_text(&c, "two\nlines");
    rn_csv_int(&c, 42);
    rn_csv_empty(&c);
    rn_csv_text(&c, "");
    rn_csv_end_row(&c);
    rn_csv_text(&c, "=1+2");
    rn_csv_text(&c, "+cmd");
    rn_csv_text(&c, "-5");
    rn_csv_text(&c, "@SUM(A1)");
    rn_csv_text(&c, "\tx");
    rn_csv_text(&c, "\rx");
    rn_csv_text(&c, "=HYPERLINK(\"http://x\",\"y\")");
    rn_csv_text(&c, "a=b");
    rn_csv_text(&c, "Ayu Señora");
    rn_csv_end_row(&c);
    assert_false(c.failed);
    assert_string_equal(c.buf,
                        "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",42,,\r\n"
                        "'=1+2,'+cmd,'-5,'@SUM(A1),'\tx,\"'\rx\","
                        "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",a=b,Ayu Señora\r\n");
    free(c.buf);
}

/* ---- from rollups to figures ------------------------------------------------- */

typedef struct {
    rn_pool *pool;
    rn_db *db;
    char tenant[48], ana[48], ben[48], gone[48], idle[48];
} fixture;

static void staff(fixture *f, const char *username, char *id)
{
    char why[128];
    json_t *s = NULL;
    assert_int_equal(rn_staff_add(f->db, f->tenant, username, "agent", NULL, &s, why, sizeof why),
                     0);
    snprintf(id, 48, "%s", json_string_value(json_object_get(s, "id")));
    json_decref(s);
}

static int setup_store(void **state)
{
    if (sodium_init() < 0)
        return -1;
    fixture *f = calloc(1, sizeof *f);
    char dir[] = "/tmp/rn-test-rep-XXXXXX", url[128], err[256], why[128];
    if (!mkdtemp(dir))
        return -1;
    snprintf(url, sizeof url, "sqlite:%s/store.db", dir);
    f->pool = rn_pool_open(url, 1, err, sizeof err);
    if (!f->pool)
        return -1;
    f->db = rn_pool_acquire(f->pool);
    json_t *t = NULL;
    if (rn_migrate(f->db, err, sizeof err) < 0 ||
        rn_tenant_create(f->db, "rep", "Rep", "Asia/Jakarta", "ID", &t, why, sizeof why) != 0)
        return -1;
    snprintf(f->tenant, sizeof f->tenant, "%s", json_string_value(json_object_get(t, "id")));
    json_decref(t);
    *state = f;
    return 0;
}

static int teardown_store(void **state)
{
    fixture *f = *state;
    rn_pool_release(f->pool, f->db);
    rn_pool_close(f->pool);
    free(f);
    return 0;
}

static void daily(fixture *f, const char *day, const char *set)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO report_daily VALUES ($1, $2, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0)");
    assert_int_equal(rn_db_exec(f->db, sql, RN_PARAMS(RN_T(f->tenant), RN_T(day))), 1);
    snprintf(sql, sizeof sql, "UPDATE report_daily SET %s WHERE tenant_id = $1 AND day = $2",
             set);
    assert_int_equal(rn_db_exec(f->db, sql, RN_PARAMS(RN_T(f->tenant), RN_T(day))), 1);
}

static void agent_daily(fixture *f, const char *day, const char *agent, const char *set)
{
    char sql[512];
    assert_int_equal(rn_db_exec(f->db,
                                "INSERT INTO report_agent_daily VALUES ($1, $2, $3,"
                                " 0,0,0,0,0,0,0,0,0)",
                                RN_PARAMS(RN_T(f->tenant), RN_T(day), RN_T(agent))),
                     1);
    snprintf(sql, sizeof sql,
             "UPDATE report_agent_daily SET %s WHERE tenant_id = $1 AND day = $2"
             " AND agent_id = $3",
             set);
    assert_int_equal(rn_db_exec(f->db, sql, RN_PARAMS(RN_T(f->tenant), RN_T(day), RN_T(agent))),
                     1);
}

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* 2026-03-01..03 in Jakarta (UTC+7); the 2nd has no activity at all. */
static void figures_from_rollups(void **state)
{
    fixture *f = *state;
    staff(f, "ana", f->ana);
    staff(f, "ben", f->ben);
    staff(f, "gone", f->gone);
    staff(f, "idle", f->idle);
    assert_int_equal(rn_db_exec(f->db, "UPDATE staff SET display_name = $2 WHERE id = $1",
                                RN_PARAMS(RN_T(f->idle), RN_T("Idle \"Q\" \\ \t\u00e9"))),
                     1);
    assert_int_equal(rn_staff_disable(f->db, f->tenant, "gone"), 0);
    daily(f, "2026-03-01", "conversations = 3, first_response_count = 2, first_response_ms = 3001,"
                           " resolution_count = 1, resolution_ms = 60000, calls = 2,"
                           " calls_answered = 1, calls_missed = 1, talk_seconds = 90");
    daily(f, "2026-03-03", "conversations = 1, first_response_count = 1, first_response_ms = 1000,"
                           " calls = 1, calls_answered = 1, talk_seconds = 31,"
                           " tickets_created = 2, contacts_created = 5");
    daily(f, "2026-02-28", "conversations = 100"); /* outside the period */
    agent_daily(f, "2026-03-01", f->ana, "messages_sent = 4, first_response_count = 2,"
                                         " first_response_ms = 2999, online_ms = 1999");
    agent_daily(f, "2026-03-03", f->ana, "calls_handled = 1, talk_seconds = 31");
    agent_daily(f, "2026-03-03", f->gone, "conversations_handled = 1");
    /* Ben has been online since 2026-03-03 23:00 local (16:00Z). */
    assert_int_equal(rn_db_exec(f->db,
                                "INSERT INTO agent_presence VALUES ($1, $2, 'online', $3)",
                                RN_PARAMS(RN_T(f->tenant), RN_T(f->ben),
                                          RN_I(1772553600000LL))),
                     1);
    rn_report_period p = {.name = "custom",
                          .from = day_of("2026-03-01"),
                          .to = day_of("2026-03-03")};
    /* Reported at 2026-03-04 02:00 local: Ben's spell counts up to local midnight. */
    rn_report *rep = rn_report_load(f->db, f->tenant, "Asia/Jakarta", &p, 1772564400000LL);
    assert_non_null(rep);

    json_t *s = rn_report_summary_json(rep);
    assert_int_equal(num(s, "conversations"), 4);
    /* (3001 + 1000) ms over 3 replies = 1.33 s -> 1 s. */
    assert_int_equal(num(s, "avgFirstResponseSeconds"), 1);
    assert_int_equal(num(s, "avgResolutionSeconds"), 60);
    assert_int_equal(num(s, "avgTalkSeconds"), 61); /* 121 / 2 = 60.5 -> 61 */
    assert_int_equal(num(s, "callsMissed"), 1);
    assert_int_equal(num(s, "contactsCreated"), 5);
    assert_int_equal(num(s, "ticketsCreated"), 2);
    json_decref(s);

    json_t *ts = rn_report_timeseries_json(rep);
    assert_int_equal(json_array_size(ts), 3);
    json_t *zero = json_array_get(ts, 1);
    assert_string_equal(json_string_value(json_object_get(zero, "date")), "2026-03-02");
    assert_int_equal(num(zero, "conversations"), 0);
    assert_true(json_is_null(json_object_get(zero, "avgFirstResponseSeconds")));
    assert_int_equal(num(json_array_get(ts, 0), "avgFirstResponseSeconds"), 2); /* 1.5005 */
    assert_true(json_is_null(json_object_get(json_array_get(ts, 2), "avgResolutionSeconds")));
    json_decref(ts);

    json_t *prod = rn_report_productivity_json(rep);
    /* ana, ben, gone (disabled, has figures), idle (active, none) */
    assert_int_equal(json_array_size(prod), 4);
    json_t *ana = json_array_get(prod, 0), *ben = json_array_get(prod, 1);
    assert_string_equal(json_string_value(json_object_get(ana, "username")), "ana");
    assert_int_equal(num(ana, "messagesSent"), 4);
    assert_int_equal(num(ana, "avgFirstResponseSeconds"), 1); /* 1.4995 -> 1 */
    assert_int_equal(num(ana, "onlineSeconds"), 1);           /* 1999 ms, rounded down */
    assert_int_equal(num(ana, "talkSeconds"), 31);
    assert_int_equal(num(ben, "onlineSeconds"), 3600);
    assert_string_equal(json_string_value(json_object_get(json_array_get(prod, 2), "username")),
                        "gone");
    assert_true(json_is_null(json_object_get(json_array_get(prod, 3), "avgFirstResponseSeconds")));
    json_decref(prod);

    /* The export written as text is exactly the jansson document. */
    json_t *tree = rn_report_export_json(rep);
    size_t len = 0;
    char *text = rn_report_export_text(rep, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    json_error_t jerr;
    json_t *parsed = json_loads(text, 0, &jerr);
    assert_non_null(parsed);
    assert_true(json_equal(parsed, tree));
    char *again = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, again);
    free(again);
    free(text);
    json_decref(parsed);
    json_decref(tree);

    char *csv = rn_report_csv(rep, "summary", &len);
    assert_non_null(csv);
    assert_string_equal(csv, "period,from,to,timezone,conversations,conversationsResolved,"
                             "messagesInbound,messagesOutbound,avgFirstResponseSeconds,"
                             "avgResolutionSeconds,calls,callsAnswered,callsMissed,"
                             "avgTalkSeconds,contactsCreated,ticketsCreated,ticketsResolved\r\n"
                             "custom,2026-03-01,2026-03-03,Asia/Jakarta,4,0,0,0,1,60,3,2,1,61,"
                             "5,2,0\r\n");
    assert_int_equal(len, strlen(csv));
    free(csv);
    csv = rn_report_csv(rep, "timeseries", &len);
    assert_non_null(strstr(csv, "\r\n2026-03-02,0,0,0,0,,,0,0,0,,0,0,0\r\n"));
    free(csv);
    rn_report_free(rep);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(periods_end_today),
        cmocka_unit_test(custom_periods_are_checked),
        cmocka_unit_test(csv_cells_follow_rfc4180_and_neutralise_formulas),
    };
    const struct CMUnitTest stored[] = {
        cmocka_unit_test(figures_from_rollups),
    };
    int failed = cmocka_run_group_tests_name("reports", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("reports on SQLite", stored, setup_store,
                                          teardown_store);
    return failed;
}
