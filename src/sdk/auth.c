/*
 * sdk/auth.c — the one verification path of SDK tokens (see sdk.h), and
 * rn_auth_sdk_token, which the HTTP pipeline runs for RN_AUTH_SDK routes.
 *
 * Refusals are not throttled per client address as server keys are: SDK
 * tokens come from browsers, and many visitors behind one NAT with expired
 * tokens must not lock each other out. Each refusal costs at most one
 * signature check and one indexed query.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "core/log.h"
#include "core/util.h"
#include "http/metrics.h"
#include "sdk/sdk.h"

static const char *PRINCIPAL_SQL =
    "SELECT t.slug, t.timezone, t.country, t.status, s.status, s.role"
    " FROM tenants t LEFT JOIN staff s ON s.tenant_id = t.id AND s.id = $2"
    " WHERE t.id = $1";

void rn_sdk_log_refusal(rn_req *r, const char *code, const char *why)
{
    rn_metrics_auth_failure(code);
    json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "requestId", r->request_id, "clientIp",
                          r->client_ip, "code", code, "reason", why, "route",
                          r->route ? r->route->pattern : r->path);
    rn_log(RN_LOG_WARN, "sdk token refused", f);
    json_decref(f);
}

/* Whether the staff row still backs a token of this audience. */
static bool staff_ok(const rn_rows *rows, const char *audience)
{
    const char *status = rn_rows_get(rows, 0, 4), *role = rn_rows_get(rows, 0, 5);
    if (!status || strcmp(status, "active") != 0 || !role)
        return false;
    if (strcmp(audience, RN_AUD_ADMIN) == 0)
        return strcmp(role, "admin") == 0;
    return strcmp(role, "agent") == 0 || strcmp(role, "admin") == 0;
}

/* Checks the token's tenant (and staff member) in the store and fills
 * r->who. 0, 1 (refused, *why set) or -1 (store unavailable). */
static int load_principal(rn_req *r, json_t *claims, const char *audience, const char **why)
{
    const char *tid = json_string_value(json_object_get(claims, "tid"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    bool staff = strcmp(audience, RN_AUD_VISITOR) != 0;
    rn_db *db = rn_req_db(r);
    rn_rows *rows = db ? rn_db_query(db, PRINCIPAL_SQL, RN_PARAMS(RN_T(tid), RN_T(sub))) : NULL;
    if (!rows)
        return -1;
    int rc = 0;
    if (rn_rows_count(rows) != 1 || strcmp(rn_rows_get(rows, 0, 3), "active") != 0) {
        *why = "tenant not active";
        rc = 1;
    } else if (staff && !staff_ok(rows, audience)) {
        *why = "staff member not active";
        rc = 1;
    }
    if (rc == 0) {
        rn_principal *w = &r->who;
        snprintf(w->tenant_id, sizeof w->tenant_id, "%s", tid);
        snprintf(w->tenant_slug, sizeof w->tenant_slug, "%s", rn_rows_get(rows, 0, 0));
        snprintf(w->tenant_timezone, sizeof w->tenant_timezone, "%s", rn_rows_get(rows, 0, 1));
        const char *country = rn_rows_get(rows, 0, 2);
        snprintf(w->tenant_country, sizeof w->tenant_country, "%s", country ? country : "");
        snprintf(w->subject, sizeof w->subject, "%s", sub);
        snprintf(w->actor, sizeof w->actor, "%s", sub);
        snprintf(w->scopes, sizeof w->scopes, "%s",
                 json_string_value(json_object_get(claims, "scope")));
        w->key_id[0] = '\0';
    }
    rn_rows_free(rows);
    return rc;
}

rn_token_status rn_sdk_authenticate(rn_req *r, const char *token, const char *audience,
                                    const char **why)
{
    rn_db *db = rn_req_db(r);
    if (!db) {
        *why = "store unavailable";
        return RN_TOKEN_STORE_DOWN;
    }
    rn_token_expect want = {r->app->cfg.public_url, audience, rn_now_ms()};
    json_t *claims = NULL;
    rn_token_status st = rn_token_verify(db, r->app->master_key, token, &want, &claims, why);
    if (st != RN_TOKEN_OK)
        return st;
    int loaded = load_principal(r, claims, audience, why);
    if (loaded != 0) {
        json_decref(claims);
        if (loaded < 0)
            *why = "store unavailable";
        return loaded < 0 ? RN_TOKEN_STORE_DOWN : RN_TOKEN_INVALID;
    }
    json_decref(r->who.claims);
    r->who.claims = claims;
    r->authenticated = true;
    return RN_TOKEN_OK;
}

/* The presented bearer token, or NULL with *code set. */
static const char *bearer_token(rn_req *r, rn_err *code)
{
    const char *auth = rn_req_header(r, "Authorization");
    *code = RN_SDK_TOKEN_MISSING;
    if (!auth || !*auth)
        return NULL;
    if (strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\0')) {
        *code = RN_SDK_TOKEN_INVALID;
        return NULL;
    }
    const char *token = auth + 6;
    while (*token == ' ')
        token++;
    return *token ? token : NULL;
}

static int refuse(rn_req *r, rn_err code, const char *why)
{
    rn_sdk_log_refusal(r, rn_err_code(code), why);
    rn_reply_error(r, code, NULL, NULL);
    return -1;
}

int rn_auth_sdk_token(rn_req *r)
{
    rn_sdk_cors_any(r);
    rn_err code;
    const char *token = bearer_token(r, &code);
    if (!token)
        return refuse(r, code, code == RN_SDK_TOKEN_MISSING ? "missing" : "not a bearer token");
    const char *why = "";
    rn_token_status st = rn_sdk_authenticate(r, token, r->route->audience, &why);
    if (st == RN_TOKEN_STORE_DOWN) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return -1;
    }
    if (st != RN_TOKEN_OK)
        return refuse(r, st == RN_TOKEN_EXPIRED ? RN_SDK_TOKEN_EXPIRED : RN_SDK_TOKEN_INVALID, why);
    const char *scope = r->route->scope;
    if (scope && !rn_req_has_scope(r, scope)) {
        char message[160];
        snprintf(message, sizeof message, "The SDK token lacks the required scope %s.", scope);
        rn_sdk_log_refusal(r, "SDK_SCOPE_DENIED", "scope");
        rn_reply_error(r, RN_SDK_SCOPE_DENIED, message, NULL);
        return -1;
    }
    return 0;
}

/* ---- CORS ---------------------------------------------------------------- */

void rn_sdk_cors_any(rn_req *r)
{
    rn_reply_header(r, "Access-Control-Allow-Origin", "*");
    rn_reply_header(r, "Access-Control-Expose-Headers", "X-Request-Id");
}

/* Preflight for any origin: the real request enforces (see sdk.h). The
 * origin is echoed only when it has the shape of one. */
void rn_sdk_preflight(rn_req *r)
{
    const char *origin = rn_req_header(r, "Origin");
    bool echo = origin && strlen(origin) <= 255 &&
                (strncmp(origin, "https://", 8) == 0 || strncmp(origin, "http://", 7) == 0);
    rn_reply_header(r, "Access-Control-Allow-Origin", echo ? origin : "*");
    rn_reply_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    rn_reply_header(r, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
    rn_reply_header(r, "Access-Control-Max-Age", "600");
    rn_reply_header(r, "Vary", "Origin");
    rn_reply_empty(r, 204);
}
