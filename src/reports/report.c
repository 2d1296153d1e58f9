/*
 * report.c — periods, loading a period's rollups, and rendering them as
 * JSON and CSV. One figure table drives all three renderings, so the JSON
 * field names and the CSV headers cannot drift apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/text.h"
#include "core/tz.h"
#include "core/util.h"
#include "reports/reports.h"

/* report_daily columns read, in this order. */
enum {
    D_CONVERSATIONS,
    D_RESOLVED,
    D_IN,
    D_OUT,
    D_FR_COUNT,
    D_FR_MS,
    D_RES_COUNT,
    D_RES_MS,
    D_CALLS,
    D_ANSWERED,
    D_MISSED,
    D_TALK,
    D_CONTACTS,
    D_TICKETS,
    D_TICKETS_RESOLVED,
    D_COUNT
};

/* report_agent_daily sums read, in this order. */
enum {
    G_HANDLED,
    G_RESOLVED,
    G_SENT,
    G_FR_COUNT,
    G_FR_MS,
    G_CALLS,
    G_TALK,
    G_ONLINE_MS,
    G_COUNT
};

typedef struct {
    char id[48];
    char *username, *display_name;
    bool active, has_figures;
    long long v[G_COUNT];
} agent_row;

struct rn_report {
    char tenant_id[48];
    char timezone[64];
    rn_report_period period;
    long long generated_ms;
    int ndays;
    long long (*days)[D_COUNT];
    agent_row *agents;
    int nagents;
};

/* ---- periods ------------------------------------------------------------------ */

int rn_report_period_parse(const char *period, const char *from, const char *to,
                           long long today, rn_report_period *out, json_t *details)
{
    static const struct {
        const char *name;
        int days;
    } fixed[] = {{"today", 1}, {"7days", 7}, {"30days", 30}, {"90days", 90}};
    const char *name = period ? period : "30days";
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        if (strcmp(name, fixed[i].name) != 0)
            continue;
        if (from)
            rn_detail_add(details, "from", "only_with_custom_period");
        if (to)
            rn_detail_add(details, "to", "only_with_custom_period");
        snprintf(out->name, sizeof out->name, "%s", name);
        out->to = today;
        out->from = today - fixed[i].days + 1;
        return from || to ? -1 : 0;
    }
    if (strcmp(name, "custom") != 0) {
        rn_detail_add(details, "period", "must_be_today_7days_30days_90days_or_custom");
        return -1;
    }
    snprintf(out->name, sizeof out->name, "custom");
    int bad = 0;
    if (!from || rn_day_parse(from, &out->from) != 0)
        bad++, rn_detail_add(details, "from", from ? "must_be_a_date_yyyy_mm_dd" : "required");
    if (!to || rn_day_parse(to, &out->to) != 0)
        bad++, rn_detail_add(details, "to", to ? "must_be_a_date_yyyy_mm_dd" : "required");
    if (bad)
        return -1;
    if (out->to < out->from) {
        rn_detail_add(details, "to", "must_not_be_before_from");
        return -1;
    }
    if (out->to - out->from + 1 > RN_REPORT_MAX_DAYS) {
        rn_detail_add(details, "to", "at_most_366_days_after_from");
        return -1;
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------------- */

void rn_report_free(rn_report *rep)
{
    if (!rep)
        return;
    for (int i = 0; i < rep->nagents; i++) {
        free(rep->agents[i].username);
        free(rep->agents[i].display_name);
    }
    free(rep->agents);
    free(rep->days);
    free(rep);
}

static int load_days(rn_db *db, rn_report *rep, const char *from, const char *to)
{
    rn_rows *rows = rn_db_query(
        db,
        "SELECT day, conversations, conversations_resolved, messages_inbound,"
        " messages_outbound, first_response_count, first_response_ms, resolution_count,"
        " resolution_ms, calls, calls_answered, calls_missed, talk_seconds, contacts_created,"
        " tickets_created, tickets_resolved FROM report_daily"
        " WHERE tenant_id = $1 AND day >= $2 AND day <= $3",
        RN_PARAMS(RN_T(rep->tenant_id), RN_T(from), RN_T(to)));
    if (!rows)
        return -1;
    for (int i = 0; i < rn_rows_count(rows); i++) {
        long long day;
        if (rn_day_parse(rn_rows_get(rows, i, 0), &day) != 0)
            continue;
        long long k = day - rep->period.from;
        for (int c = 0; c < D_COUNT && k >= 0 && k < rep->ndays; c++)
            rep->days[k][c] = rn_rows_int(rows, i, 1 + c, 0);
    }
    rn_rows_free(rows);
    return 0;
}

static agent_row *agent_find(rn_report *rep, const char *id)
{
    for (int i = 0; i < rep->nagents; i++)
        if (strcmp(rep->agents[i].id, id) == 0)
            return &rep->agents[i];
    return NULL;
}

static int load_staff(rn_db *db, rn_report *rep)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT id, username, display_name, status FROM staff"
                                " WHERE tenant_id = $1 AND role IN ('agent', 'admin')"
                                " ORDER BY username",
                                RN_PARAMS(RN_T(rep->tenant_id)));
    if (!rows)
        return -1;
    int n = rn_rows_count(rows);
    rep->agents = calloc((size_t)(n ? n : 1), sizeof *rep->agents);
    if (!rep->agents) {
        rn_rows_free(rows);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        agent_row *a = &rep->agents[rep->nagents++];
        snprintf(a->id, sizeof a->id, "%s", rn_rows_get(rows, i, 0));
        a->username = strdup(rn_rows_get(rows, i, 1));
        a->display_name = strdup(rn_rows_get(rows, i, 2));
        a->active = strcmp(rn_rows_get(rows, i, 3), "active") == 0;
    }
    rn_rows_free(rows);
    return 0;
}

static int load_agent_sums(rn_db *db, rn_report *rep, const char *from, const char *to)
{
    rn_rows *rows = rn_db_query(
        db,
        "SELECT agent_id, SUM(conversations_handled), SUM(conversations_resolved),"
        " SUM(messages_sent), SUM(first_response_count), SUM(first_response_ms),"
        " SUM(calls_handled), SUM(talk_seconds), SUM(online_ms) FROM report_agent_daily"
        " WHERE tenant_id = $1 AND day >= $2 AND day <= $3 GROUP BY agent_id",
        RN_PARAMS(RN_T(rep->tenant_id), RN_T(from), RN_T(to)));
    if (!rows)
        return -1;
    for (int i = 0; i < rn_rows_count(rows); i++) {
        agent_row *a = agent_find(rep, rn_rows_get(rows, i, 0));
        if (!a)
            continue; /* not staff of this tenant (cannot happen through the API) */
        for (int c = 0; c < G_COUNT; c++)
            a->v[c] = rn_rows_int(rows, i, 1 + c, 0);
        a->has_figures = true;
    }
    rn_rows_free(rows);
    return 0;
}

/* Online spells still running: the part inside the period, up to now. */
static int add_running_online(rn_db *db, rn_report *rep, const rn_tz *tz)
{
    long long start = rn_tz_day_start_ms(tz, rep->period.from);
    long long end = rn_tz_day_start_ms(tz, rep->period.to + 1);
    if (end > rep->generated_ms)
        end = rep->generated_ms;
    rn_rows *rows = rn_db_query(db,
                                "SELECT agent_id, since FROM agent_presence"
                                " WHERE tenant_id = $1 AND status = 'online'",
                                RN_PARAMS(RN_T(rep->tenant_id)));
    if (!rows)
        return -1;
    for (int i = 0; i < rn_rows_count(rows); i++) {
        agent_row *a = agent_find(rep, rn_rows_get(rows, i, 0));
        long long since = rn_rows_int(rows, i, 1, 0);
        long long from = since > start ? since : start;
        if (a && end > from) {
            a->v[G_ONLINE_MS] += end - from;
            a->has_figures = true;
        }
    }
    rn_rows_free(rows);
    return 0;
}

rn_report *rn_report_load(rn_db *db, const char *tenant_id, const char *timezone,
                          const rn_report_period *period, long long now_ms)
{
    const rn_tz *tz = rn_tz_get(timezone);
    rn_report *rep = calloc(1, sizeof *rep);
    if (!tz || !rep || period->to < period->from ||
        period->to - period->from + 1 > RN_REPORT_MAX_DAYS) {
        free(rep);
        return NULL;
    }
    snprintf(rep->tenant_id, sizeof rep->tenant_id, "%s", tenant_id);
    snprintf(rep->timezone, sizeof rep->timezone, "%s", timezone);
    rep->period = *period;
    rep->generated_ms = now_ms;
    rep->ndays = (int)(period->to - period->from + 1);
    rep->days = calloc((size_t)rep->ndays, sizeof *rep->days);
    char from[16], to[16];
    rn_day_format(period->from, from, sizeof from);
    rn_day_format(period->to, to, sizeof to);
    /* One snapshot for every figure: a write landing between two of these
     * reads cannot make the summary disagree with the per-agent figures. */
    if (!rep->days || rn_db_begin_read(db) != 0) {
        rn_report_free(rep);
        return NULL;
    }
    if (load_days(db, rep, from, to) != 0 || load_staff(db, rep) != 0 ||
        load_agent_sums(db, rep, from, to) != 0 || add_running_online(db, rep, tz) != 0 ||
        rn_db_commit(db) != 0) {
        rn_db_rollback(db);
        rn_report_free(rep);
        return NULL;
    }
    return rep;
}

/* ---- figures ---------------------------------------------------------------------- */

/* sum / count (in units of `scale` per second), rounded half up; -1 = none. */
static long long average(long long sum, long long count, long long scale)
{
    if (count <= 0)
        return -1;
    return (2 * sum + count * scale) / (2 * count * scale);
}

typedef enum { F_SUM, F_AVG } figure_kind;

/* The summary and timeseries figures: name, and how to compute it from a
 * row of report_daily sums. */
static const struct {
    const char *name;
    figure_kind kind;
    int value, count;
    long long scale;
} FIGURES[] = {
    {"conversations", F_SUM, D_CONVERSATIONS, 0, 1},
    {"conversationsResolved", F_SUM, D_RESOLVED, 0, 1},
    {"messagesInbound", F_SUM, D_IN, 0, 1},
    {"messagesOutbound", F_SUM, D_OUT, 0, 1},
    {"avgFirstResponseSeconds", F_AVG, D_FR_MS, D_FR_COUNT, 1000},
    {"avgResolutionSeconds", F_AVG, D_RES_MS, D_RES_COUNT, 1000},
    {"calls", F_SUM, D_CALLS, 0, 1},
    {"callsAnswered", F_SUM, D_ANSWERED, 0, 1},
    {"callsMissed", F_SUM, D_MISSED, 0, 1},
    {"avgTalkSeconds", F_AVG, D_TALK, D_ANSWERED, 1},
    {"contactsCreated", F_SUM, D_CONTACTS, 0, 1},
    {"ticketsCreated", F_SUM, D_TICKETS, 0, 1},
    {"ticketsResolved", F_SUM, D_TICKETS_RESOLVED, 0, 1},
};
#define NFIGURES (int)(sizeof FIGURES / sizeof *FIGURES)

/* Figure i of a row of sums; -1 for "no average". */
static long long figure(const long long *sums, int i)
{
    if (FIGURES[i].kind == F_SUM)
        return sums[FIGURES[i].value];
    return average(sums[FIGURES[i].value], sums[FIGURES[i].count], FIGURES[i].scale);
}

static const struct {
    const char *name;
    figure_kind kind;
    int value, count;
    long long scale;
} AGENT_FIGURES[] = {
    {"conversationsHandled", F_SUM, G_HANDLED, 0, 1},
    {"conversationsResolved", F_SUM, G_RESOLVED, 0, 1},
    {"messagesSent", F_SUM, G_SENT, 0, 1},
    {"avgFirstResponseSeconds", F_AVG, G_FR_MS, G_FR_COUNT, 1000},
    {"callsHandled", F_SUM, G_CALLS, 0, 1},
    {"talkSeconds", F_SUM, G_TALK, 0, 1},
    {"onlineSeconds", F_SUM, G_ONLINE_MS, 0, 1000}, /* whole seconds, rounded down */
};
#define NAGENT_FIGURES (int)(sizeof AGENT_FIGURES / sizeof *AGENT_FIGURES)

static long long agent_figure(const agent_row *a, int i)
{
    if (AGENT_FIGURES[i].kind == F_AVG)
        return average(a->v[AGENT_FIGURES[i].value], a->v[AGENT_FIGURES[i].count],
                       AGENT_FIGURES[i].scale);
    return a->v[AGENT_FIGURES[i].value] / AGENT_FIGURES[i].scale;
}

static void period_sums(const rn_report *rep, long long sums[D_COUNT])
{
    memset(sums, 0, D_COUNT * sizeof *sums);
    for (int d = 0; d < rep->ndays; d++)
        for (int c = 0; c < D_COUNT; c++)
            sums[c] += rep->days[d][c];
}

static bool listed(const agent_row *a)
{
    return a->active || a->has_figures;
}

/* ---- JSON --------------------------------------------------------------------- */

static json_t *number_or_null(long long v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *figures_json(const long long *sums)
{
    json_t *o = json_object();
    for (int i = 0; i < NFIGURES; i++)
        json_object_set_new(o, FIGURES[i].name, number_or_null(figure(sums, i)));
    return o;
}

const char *rn_report_period_name(const rn_report *rep)
{
    return rep->period.name;
}

json_t *rn_report_period_json(const rn_report *rep)
{
    char from[16], to[16];
    rn_day_format(rep->period.from, from, sizeof from);
    rn_day_format(rep->period.to, to, sizeof to);
    return json_pack("{s:s, s:s, s:s, s:s}", "name", rep->period.name, "from", from, "to", to,
                     "timezone", rep->timezone);
}

json_t *rn_report_summary_json(const rn_report *rep)
{
    long long sums[D_COUNT];
    period_sums(rep, sums);
    return figures_json(sums);
}

json_t *rn_report_timeseries_json(const rn_report *rep)
{
    json_t *rows = json_array();
    for (int d = 0; d < rep->ndays; d++) {
        char date[16];
        rn_day_format(rep->period.from + d, date, sizeof date);
        json_t *row = json_pack("{s:s}", "date", date);
        json_t *figures = figures_json(rep->days[d]);
        json_object_update(row, figures);
        json_decref(figures);
        json_array_append_new(rows, row);
    }
    return rows;
}

json_t *rn_report_productivity_json(const rn_report *rep)
{
    json_t *rows = json_array();
    for (int i = 0; i < rep->nagents; i++) {
        const agent_row *a = &rep->agents[i];
        if (!listed(a))
            continue;
        json_t *row = json_pack("{s:s, s:s, s:s}", "agentId", a->id, "username", a->username,
                                "displayName", a->display_name);
        for (int f = 0; f < NAGENT_FIGURES; f++)
            json_object_set_new(row, AGENT_FIGURES[f].name, number_or_null(agent_figure(a, f)));
        json_array_append_new(rows, row);
    }
    return rows;
}

json_t *rn_report_export_json(const rn_report *rep)
{
    char when[32];
    rn_time_format(rep->generated_ms, when, sizeof when);
    return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o}", "tenantId", rep->tenant_id, "period",
                     rn_report_period_json(rep), "generatedAt", when, "summary",
                     rn_report_summary_json(rep), "timeseries", rn_report_timeseries_json(rep),
                     "productivity", rn_report_productivity_json(rep));
}

/* ---- the export as text -------------------------------------------------------- */

/* The export is the one large answer, asked for by dashboards and BI jobs
 * again and again; writing its text directly costs a fraction of building
 * and serialising a jansson tree (unit-tested to be the same document as
 * rn_report_export_json). */

/* A non-negative figure in decimal, or null for "no average" (-1). */
static void put_number(rn_text *t, long long v)
{
    if (v < 0)
        rn_text_put(t, "null", 4);
    else
        rn_text_int(t, v);
}

static void put_figures(rn_text *t, const long long *sums)
{
    for (int i = 0; i < NFIGURES; i++) {
        rn_text_put(t, i == 0 ? "\"" : ",\"", i == 0 ? 1 : 2);
        rn_text_puts(t, FIGURES[i].name);
        rn_text_put(t, "\":", 2);
        put_number(t, figure(sums, i));
    }
}

static void put_agents(rn_text *t, const rn_report *rep)
{
    bool first = true;
    for (int i = 0; i < rep->nagents; i++) {
        const agent_row *a = &rep->agents[i];
        if (!listed(a))
            continue;
        rn_text_puts(t, first ? "{\"agentId\":" : ",{\"agentId\":");
        first = false;
        rn_text_json_string(t, a->id);
        rn_text_puts(t, ",\"username\":");
        rn_text_json_string(t, a->username ? a->username : "");
        rn_text_puts(t, ",\"displayName\":");
        rn_text_json_string(t, a->display_name ? a->display_name : "");
        for (int f = 0; f < NAGENT_FIGURES; f++) {
            rn_text_put(t, ",\"", 2);
            rn_text_puts(t, AGENT_FIGURES[f].name);
            rn_text_put(t, "\":", 2);
            put_number(t, agent_figure(a, f));
        }
        rn_text_put(t, "}", 1);
    }
}

char *rn_report_export_text(const rn_report *rep, size_t *len)
{
    rn_text t = {0};
    char when[32], from[16], to[16], date[16];
    rn_time_format(rep->generated_ms, when, sizeof when);
    rn_day_format(rep->period.from, from, sizeof from);
    rn_day_format(rep->period.to, to, sizeof to);
    rn_text_puts(&t, "{\"tenantId\":");
    rn_text_json_string(&t, rep->tenant_id);
    rn_text_puts(&t, ",\"period\":{\"name\":");
    rn_text_json_string(&t, rep->period.name);
    rn_text_puts(&t, ",\"from\":");
    rn_text_json_string(&t, from);
    rn_text_puts(&t, ",\"to\":");
    rn_text_json_string(&t, to);
    rn_text_puts(&t, ",\"timezone\":");
    rn_text_json_string(&t, rep->timezone);
    rn_text_puts(&t, "},\"generatedAt\":");
    rn_text_json_string(&t, when);
    long long sums[D_COUNT];
    period_sums(rep, sums);
    rn_text_puts(&t, ",\"summary\":{");
    put_figures(&t, sums);
    rn_text_puts(&t, "},\"timeseries\":[");
    for (int d = 0; d < rep->ndays; d++) {
        rn_day_format(rep->period.from + d, date, sizeof date);
        rn_text_puts(&t, d ? ",{\"date\":" : "{\"date\":");
        rn_text_json_string(&t, date);
        rn_text_put(&t, ",", 1);
        put_figures(&t, rep->days[d]);
        rn_text_put(&t, "}", 1);
    }
    rn_text_puts(&t, "],\"productivity\":[");
    put_agents(&t, rep);
    rn_text_puts(&t, "]}");
    if (t.failed) {
        rn_text_free(&t);
        return NULL;
    }
    *len = t.len;
    return t.text;
}

/* ---- CSV ---------------------------------------------------------------------- */

static void csv_number(rn_csv *c, long long v)
{
    if (v < 0)
        rn_csv_empty(c);
    else
        rn_csv_int(c, v);
}

static void csv_figures(rn_csv *c, const long long *sums)
{
    for (int i = 0; i < NFIGURES; i++)
        csv_number(c, figure(sums, i));
}

static void csv_figure_headers(rn_csv *c)
{
    for (int i = 0; i < NFIGURES; i++)
        rn_csv_text(c, FIGURES[i].name);
}

static void csv_timeseries(rn_csv *c, const rn_report *rep)
{
    rn_csv_text(c, "date");
    csv_figure_headers(c);
    rn_csv_end_row(c);
    for (int d = 0; d < rep->ndays; d++) {
        char date[16];
        rn_day_format(rep->period.from + d, date, sizeof date);
        rn_csv_text(c, date);
        csv_figures(c, rep->days[d]);
        rn_csv_end_row(c);
    }
}

static void csv_summary(rn_csv *c, const rn_report *rep)
{
    static const char *const head[] = {"period", "from", "to", "timezone"};
    for (int i = 0; i < 4; i++)
        rn_csv_text(c, head[i]);
    csv_figure_headers(c);
    rn_csv_end_row(c);
    char from[16], to[16];
    rn_day_format(rep->period.from, from, sizeof from);
    rn_day_format(rep->period.to, to, sizeof to);
    rn_csv_text(c, rep->period.name);
    rn_csv_text(c, from);
    rn_csv_text(c, to);
    rn_csv_text(c, rep->timezone);
    long long sums[D_COUNT];
    period_sums(rep, sums);
    csv_figures(c, sums);
    rn_csv_end_row(c);
}

static void csv_productivity(rn_csv *c, const rn_report *rep)
{
    rn_csv_text(c, "agentId");
    rn_csv_text(c, "username");
    rn_csv_text(c, "displayName");
    for (int f = 0; f < NAGENT_FIGURES; f++)
        rn_csv_text(c, AGENT_FIGURES[f].name);
    rn_csv_end_row(c);
    for (int i = 0; i < rep->nagents; i++) {
        const agent_row *a = &rep->agents[i];
        if (!listed(a))
            continue;
        rn_csv_text(c, a->id);
        rn_csv_text(c, a->username);
        rn_csv_text(c, a->display_name);
        for (int f = 0; f < NAGENT_FIGURES; f++)
            csv_number(c, agent_figure(a, f));
        rn_csv_end_row(c);
    }
}

char *rn_report_csv(const rn_report *rep, const char *dataset, size_t *len)
{
    rn_csv c = {0};
    if (strcmp(dataset, "productivity") == 0)
        csv_productivity(&c, rep);
    else if (strcmp(dataset, "summary") == 0)
        csv_summary(&c, rep);
    else
        csv_timeseries(&c, rep);
    if (c.failed) {
        free(c.buf);
        return NULL;
    }
    *len = c.len;
    return c.buf;
}
