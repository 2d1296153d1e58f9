/*
 * api.c — the report endpoints. Each reads ?period=&from=&to= (400
 * SERVER_REPORT_PERIOD_INVALID with details), loads the period's rollups of
 * the caller's tenant and answers; the export also reads ?format=json|csv
 * and, for CSV, ?dataset=timeseries|productivity|summary (400
 * SERVER_REPORT_FORMAT_INVALID). The export handler serves the server-key
 * route and the Admin SDK route alike: both fill r->who the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/tz.h"
#include "core/util.h"
#include "reports/reports.h"

typedef enum { WANT_SUMMARY, WANT_TIMESERIES, WANT_PRODUCTIVITY } report_kind;

/* The caller's report for the requested period, or NULL after replying. */
static rn_report *load_for(rn_req *r, long long now)
{
    const rn_tz *tz = rn_tz_get(r->who.tenant_timezone);
    if (!tz) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return NULL;
    }
    rn_report_period period;
    json_t *details = json_array();
    if (rn_report_period_parse(rn_req_query(r, "period"), rn_req_query(r, "from"),
                               rn_req_query(r, "to"), rn_tz_local_day(tz, now), &period,
                               details) != 0) {
        rn_reply_invalid(r, RN_SERVER_REPORT_PERIOD_INVALID, details);
        return NULL;
    }
    json_decref(details);
    rn_db *db = rn_req_db(r);
    rn_report *rep = db ? rn_report_load(db, r->who.tenant_id, r->who.tenant_timezone, &period,
                                         now)
                        : NULL;
    if (!rep)
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
    return rep;
}

static void reply_report(rn_req *r, report_kind kind)
{
    long long now = rn_now_ms();
    rn_report *rep = load_for(r, now);
    if (!rep)
        return;
    char when[32];
    rn_time_format(now, when, sizeof when);
    json_t *body = json_pack("{s:s, s:o, s:s}", "tenantId", r->who.tenant_id, "period",
                             rn_report_period_json(rep), "generatedAt", when);
    if (kind == WANT_SUMMARY)
        json_object_set_new(body, "summary", rn_report_summary_json(rep));
    else if (kind == WANT_TIMESERIES)
        json_object_set_new(body, "data", rn_report_timeseries_json(rep));
    else
        json_object_set_new(body, "data", rn_report_productivity_json(rep));
    rn_report_free(rep);
    rn_reply_json(r, 200, body);
}

void rn_api_reports_summary(rn_req *r)
{
    reply_report(r, WANT_SUMMARY);
}

void rn_api_reports_timeseries(rn_req *r)
{
    reply_report(r, WANT_TIMESERIES);
}

void rn_api_reports_productivity(rn_req *r)
{
    reply_report(r, WANT_PRODUCTIVITY);
}

/* Checks ?format= and ?dataset=; replies and returns -1 when either is bad. */
static int export_options(rn_req *r, bool *csv, const char **dataset)
{
    const char *format = rn_req_query(r, "format");
    const char *ds = rn_req_query(r, "dataset");
    json_t *details = json_array();
    if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        rn_detail_add(details, "format", "must_be_json_or_csv");
    if (ds && strcmp(ds, "timeseries") != 0 && strcmp(ds, "productivity") != 0 &&
        strcmp(ds, "summary") != 0)
        rn_detail_add(details, "dataset", "must_be_timeseries_productivity_or_summary");
    if (json_array_size(details) > 0) {
        rn_reply_invalid(r, RN_SERVER_REPORT_FORMAT_INVALID, details);
        return -1;
    }
    json_decref(details);
    *csv = format && strcmp(format, "csv") == 0;
    *dataset = ds ? ds : "timeseries";
    return 0;
}

static void reply_csv(rn_req *r, const rn_report *rep, const char *dataset, long long now)
{
    size_t len = 0;
    char *text = rn_report_csv(rep, dataset, &len);
    if (!text) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    /* The file is named after the tenant's local date of the export. */
    char date[16], disposition[96];
    rn_day_format(rn_tz_local_day(rn_tz_get(r->who.tenant_timezone), now), date, sizeof date);
    snprintf(disposition, sizeof disposition,
             "attachment; filename=\"ringnity-report-%s-%s.csv\"", rn_report_period_name(rep),
             date);
    rn_reply_header(r, "Content-Disposition", disposition);
    rn_reply_text(r, 200, "text/csv; charset=utf-8; header=present", text, len);
    free(text);
}

void rn_api_reports_export(rn_req *r)
{
    bool csv = false;
    const char *dataset = NULL;
    if (export_options(r, &csv, &dataset) != 0)
        return;
    long long now = rn_now_ms();
    rn_report *rep = load_for(r, now);
    if (!rep)
        return;
    size_t len = 0;
    char *text = csv ? NULL : rn_report_export_text(rep, &len);
    if (csv)
        reply_csv(r, rep, dataset, now);
    else if (!text)
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
    else
        rn_reply_text(r, 200, "application/json", text, len);
    free(text);
    rn_report_free(rep);
}
