/*
 * reports.h — report summaries, timeseries, productivity and exports (SPEC
 * §7), computed from the daily rollups the activity module keeps
 * (report_daily, report_agent_daily) and never from raw activity rows: a
 * period of D days reads at most D tenant rows and D rows per agent.
 *
 * Periods are runs of the tenant's local days: today, 7days / 30days /
 * 90days (ending today), or custom from..to (inclusive, at most 366 days).
 *
 * Averages are integer seconds, rounded half up, over exactly the things
 * that have the duration, and null when there is none in the period:
 *   avgFirstResponseSeconds  conversations whose first agent reply fell in
 *                            the period: reply time minus creation time
 *   avgResolutionSeconds     conversations closed in the period: close time
 *                            minus creation time
 *   avgTalkSeconds           answered calls started in the period
 * onlineSeconds adds the agent's current online spell up to the moment of
 * the report (the one figure not yet in the rollups).
 *
 * Memory: rn_report and the JSON and CSV it renders belong to the caller.
 */
#ifndef RN_REPORTS_REPORTS_H
#define RN_REPORTS_REPORTS_H

#include <jansson.h>
#include <stddef.h>

#include "http/http.h"
#include "store/db.h"

#define RN_REPORT_MAX_DAYS 366

typedef struct {
    char name[8];       /* today | 7days | 30days | 90days | custom */
    long long from, to; /* local day numbers, inclusive */
} rn_report_period;

/* Reads ?period=&from=&to= against `today` (a local day number). Absent
 * period means 30days; from/to are only for custom. 0, or -1 after adding
 * details ({field, issue}) for each problem. */
int rn_report_period_parse(const char *period, const char *from, const char *to,
                           long long today, rn_report_period *out, json_t *details);

typedef struct rn_report rn_report;

/* Loads the period's rollups for a tenant. now_ms is the report's instant
 * (generatedAt, and the end of running online spells). NULL on store failure. */
rn_report *rn_report_load(rn_db *db, const char *tenant_id, const char *timezone,
                          const rn_report_period *period, long long now_ms);
void rn_report_free(rn_report *rep);

/* "today", "7days", ... */
const char *rn_report_period_name(const rn_report *rep);
/* {name, from, to, timezone} */
json_t *rn_report_period_json(const rn_report *rep);
json_t *rn_report_summary_json(const rn_report *rep);
/* One object per day of the period, oldest first, zero days included. */
json_t *rn_report_timeseries_json(const rn_report *rep);
/* One object per agent: every active agent and admin, and anyone else with
 * figures in the period, by username. */
json_t *rn_report_productivity_json(const rn_report *rep);
/* The whole export envelope: {tenantId, period, generatedAt, summary,
 * timeseries, productivity}. */
json_t *rn_report_export_json(const rn_report *rep);
/* The same document as compact JSON text, written directly (malloc'd; *len
 * its length), for the export endpoint. NULL when out of memory. */
char *rn_report_export_text(const rn_report *rep, size_t *len);

/* RFC 4180 CSV (UTF-8, CRLF, header row) of dataset "timeseries",
 * "productivity" or "summary"; malloc'd text, *len its length. Text cells
 * starting with = + - @ tab or CR get a leading apostrophe. */
char *rn_report_csv(const rn_report *rep, const char *dataset, size_t *len);

/* ---- CSV cells (exposed for tests) ---------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int cells;  /* cells in the current row */
    int failed; /* out of memory: buf is unusable */
} rn_csv;

void rn_csv_text(rn_csv *c, const char *s); /* neutralised, quoted when needed */
void rn_csv_int(rn_csv *c, long long v);
void rn_csv_empty(rn_csv *c);
void rn_csv_end_row(rn_csv *c);

/* ---- HTTP ------------------------------------------------------------------- */

/* GET /api/server/reports/{summary,timeseries,productivity,export}. */
void rn_api_reports_summary(rn_req *r);
void rn_api_reports_timeseries(rn_req *r);
void rn_api_reports_productivity(rn_req *r);
/* Also GET /api/sdk/admin/reports/export (admin:reports:export). */
void rn_api_reports_export(rn_req *r);

#endif
