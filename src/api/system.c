#include "api/system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "http/metrics.h"
#include "tenants/tenants.h"

/* Written as text: this is the endpoint integrators poll, and every field
 * is an id, a time or a version (nothing to escape). */
void rn_api_health(rn_req *r)
{
    char now[32], body[256];
    rn_time_format(rn_now_ms(), now, sizeof now);
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"ok\",\"tenantId\":\"%s\",\"keyId\":\"%s\","
                     "\"serverTime\":\"%s\",\"version\":\"%s\"}",
                     r->who.tenant_id, r->who.key_id, now, RN_VERSION);
    if (n < 0 || (size_t)n >= sizeof body) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    rn_reply_text(r, 200, "application/json", body, (size_t)n);
}

void rn_api_tenant(rn_req *r)
{
    json_t *tenant = NULL;
    if (rn_tenant_get(rn_req_db(r), r->who.tenant_id, &tenant) != 0) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    rn_reply_json(r, 200, tenant);
}

static long long count_of(rn_req *r, const char *sql)
{
    rn_rows *rows = rn_db_query(rn_req_db(r), sql, RN_PARAMS(RN_T(r->who.tenant_id)));
    long long n = rows ? rn_rows_int(rows, 0, 0, -1) : -1;
    rn_rows_free(rows);
    return n;
}

static void add_check(json_t *checks, const char *name, bool ok, const char *hint)
{
    json_array_append_new(checks, json_pack("{s:s, s:b, s:s?}", "name", name, "ok", ok, "hint",
                                            ok ? NULL : hint));
}

void rn_api_sdk_readiness(rn_req *r)
{
    long long widget = count_of(r, "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1"
                                   " AND kind = 'widget' AND status = 'active'");
    long long domains = count_of(r, "SELECT COUNT(*) FROM widget_domains WHERE tenant_id = $1");
    long long agents = count_of(r, "SELECT COUNT(*) FROM staff WHERE tenant_id = $1"
                                   " AND status = 'active' AND role IN ('agent', 'admin')");
    if (widget < 0 || domains < 0 || agents < 0) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    json_t *checks = json_array();
    add_check(checks, "widget_key", widget > 0,
              "Create the public widget key: ringnity tenant widget-key --tenant <slug>.");
    add_check(checks, "allowed_domains", domains > 0,
              "Allow the website: ringnity tenant domains add --tenant <slug> --domain <host>.");
    add_check(checks, "active_agent", agents > 0,
              "Add an agent: ringnity staff add --tenant <slug> --username <u> --role agent.");
    bool ready = widget > 0 && domains > 0 && agents > 0;
    /* Chat is this server's own service; calls and AI run on it too in this
     * deployment, and are available exactly when chat is. */
    rn_reply_json(r, 200, json_pack("{s:b, s:o, s:{s:b, s:b, s:b}}", "ready", ready, "checks",
                                    checks, "services", "chat", ready, "calls", ready, "ai",
                                    ready));
}

void rn_api_healthz(rn_req *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    rn_reply_text(r, 200, "application/json", body, sizeof body - 1);
}

void rn_api_readyz(rn_req *r)
{
    rn_db *db = rn_req_db(r);
    rn_rows *rows = db ? rn_db_query(db, "SELECT 1", RN_NOPARAMS) : NULL;
    bool ok = rows && rn_rows_count(rows) == 1;
    rn_rows_free(rows);
    if (!ok || r->app->stopping) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, "The store is unreachable.", NULL);
        return;
    }
    static const char body[] = "{\"status\":\"ok\"}";
    rn_reply_text(r, 200, "application/json", body, sizeof body - 1);
}

void rn_api_metrics(rn_req *r)
{
    size_t len = 0;
    char *text = rn_metrics_render(&len);
    rn_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

void rn_api_openapi(rn_req *r)
{
    size_t len = 0;
    const char *doc = rn_openapi_json(&len);
    if (!doc) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    rn_reply_text(r, 200, "application/json", doc, len);
}
