#include "auth/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/keys.h"
#include "auth/ratelimit.h"
#include "core/log.h"
#include "core/util.h"
#include "http/metrics.h"

/* lastUsedAt is refreshed at most this often, so a hot key costs no write
 * per request. */
#define LAST_USED_RESOLUTION_MS 60000

static const char *KEY_QUERY =
    "SELECT k.tenant_id, k.id, k.scopes, k.status, k.expires_at, k.rate_limit_rps,"
    " k.rate_limit_burst, k.last_used_at, k.secret_hash, t.slug, t.timezone, t.country,"
    " t.status FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
    " WHERE k.secret_hash = $1 AND k.kind = 'server'";

static void set_rate_headers(rn_req *r, const rn_rate_state *st)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", st->limit);
    rn_reply_header(r, "RateLimit-Limit", buf);
    snprintf(buf, sizeof buf, "%lld", st->remaining);
    rn_reply_header(r, "RateLimit-Remaining", buf);
    snprintf(buf, sizeof buf, "%lld", st->reset_s);
    rn_reply_header(r, "RateLimit-Reset", buf);
}

static void reply_rate_limited(rn_req *r, const rn_rate_state *st)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", st->retry_after < 1 ? 1 : st->retry_after);
    rn_reply_header(r, "Retry-After", buf);
    rn_reply_error(r, RN_SERVER_API_RATE_LIMITED, NULL, NULL);
}

/* Failed authentications are throttled per client address: N per minute,
 * counted in a fixed window that starts with the first failure. */
#define FAILURE_WINDOW_MS 60000

static int refuse(rn_req *r, rn_err code, const char *why)
{
    rn_app *app = r->app;
    rn_ratelimit_window_take(app->auth_failures, r->client_ip, app->cfg.auth_failures_per_minute,
                             FAILURE_WINDOW_MS, rn_mono_ms(), NULL);
    rn_metrics_auth_failure(rn_err_code(code));
    json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "requestId", r->request_id, "clientIp",
                          r->client_ip, "code", rn_err_code(code), "reason", why);
    rn_log(RN_LOG_WARN, "authentication refused", f);
    json_decref(f);
    if (rn_err_status(code) == 401)
        rn_reply_header(r, "WWW-Authenticate", "Bearer realm=\"ringnity-server-api\"");
    rn_reply_error(r, code, NULL, NULL);
    return -1;
}

/* Copies s without surrounding blanks into out; false if it does not fit. */
static bool copy_trimmed(const char *s, char *out, size_t cap)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= cap)
        return false;
    memmove(out, s, n); /* out may be s itself */
    out[n] = '\0';
    return true;
}

/* Extracts the presented secret into out. Returns true, or false with the
 * error code to answer with in *why. */
static bool presented_secret(rn_req *r, char *out, size_t cap, rn_err *why)
{
    const char *auth = rn_req_header(r, "Authorization");
    const char *header = rn_req_header(r, "X-Ringnity-Server-Key");
    char bearer[256] = "", direct[256] = "";
    *why = RN_SERVER_API_KEY_INVALID;
    if (rn_req_header_count(r, "Authorization") > 1 ||
        rn_req_header_count(r, "X-Ringnity-Server-Key") > 1)
        return false;
    if (auth && !copy_trimmed(auth, bearer, sizeof bearer))
        return false;
    if (header && !copy_trimmed(header, direct, sizeof direct))
        return false;
    /* "Bearer" alone (HTTP strips the blank after it) is an empty key. */
    if (bearer[0] && strcasecmp(bearer, "Bearer") != 0) {
        if (strncasecmp(bearer, "Bearer ", 7) != 0 && strncasecmp(bearer, "Bearer\t", 7) != 0)
            return false;
        memmove(bearer, bearer + 7, strlen(bearer + 7) + 1);
        copy_trimmed(bearer, bearer, sizeof bearer);
    } else {
        bearer[0] = '\0';
    }
    if (!bearer[0] && !direct[0]) {
        *why = RN_SERVER_API_KEY_MISSING;
        return false;
    }
    /* Both headers sent: they must agree, even if one of them is empty. */
    if (auth && header && !rn_str_equal_ct(bearer, direct))
        return false;
    return copy_trimmed(bearer[0] ? bearer : direct, out, cap);
}

/* Notes the key's use for rn_auth_record_use, at most once a minute a key. */
static void note_use(rn_req *r, rn_rows *rows)
{
    long long now = rn_now_ms();
    if (now - rn_rows_int(rows, 0, 7, 0) >= LAST_USED_RESOLUTION_MS)
        r->who.key_used_ms = now;
}

void rn_auth_record_use(rn_req *r)
{
    if (!r->who.key_used_ms)
        return;
    rn_db_exec(rn_req_db(r),
               "UPDATE api_keys SET last_used_at = $1 WHERE tenant_id = $2 AND id = $3",
               RN_PARAMS(RN_I(r->who.key_used_ms), RN_T(r->who.tenant_id), RN_T(r->who.key_id)));
    r->who.key_used_ms = 0;
}

/* Copies a cell of the key's row, cut to fit (snprintf costs more here). */
static void copy_cell(char *out, size_t cap, rn_rows *rows, int col)
{
    const char *v = rn_rows_get(rows, 0, col);
    size_t n = v ? strnlen(v, cap - 1) : 0;
    memcpy(out, v ? v : "", n);
    out[n] = '\0';
}

/* Looks the key up and fills r->who. Returns -1 (not found/inactive),
 * -2 (store unavailable) or 0. */
static int load_key(rn_req *r, const char *secret, rn_rows **out)
{
    char hash[RN_KEY_HASH_HEX];
    rn_key_hash(r->app->key_pepper, secret, hash);
    rn_db *db = rn_req_db(r);
    rn_rows *rows = db ? rn_db_query_cached(db, KEY_QUERY, RN_PARAMS(RN_T(hash))) : NULL;
    if (!rows)
        return -2;
    *out = rows;
    if (rn_rows_count(rows) != 1)
        return -1;
    const char *stored = rn_rows_get(rows, 0, 8);
    if (strlen(stored) != strlen(hash) || sodium_memcmp(stored, hash, strlen(hash)) != 0)
        return -1;
    bool active = strcmp(rn_rows_get(rows, 0, 3), "active") == 0 &&
                  strcmp(rn_rows_get(rows, 0, 12), "active") == 0;
    long long expires = rn_rows_int(rows, 0, 4, 0);
    if (!active || (expires && expires <= rn_now_ms()))
        return -1;
    rn_principal *w = &r->who;
    copy_cell(w->tenant_id, sizeof w->tenant_id, rows, 0);
    copy_cell(w->key_id, sizeof w->key_id, rows, 1);
    copy_cell(w->actor, sizeof w->actor, rows, 1);
    copy_cell(w->scopes, sizeof w->scopes, rows, 2);
    copy_cell(w->tenant_slug, sizeof w->tenant_slug, rows, 9);
    copy_cell(w->tenant_timezone, sizeof w->tenant_timezone, rows, 10);
    copy_cell(w->tenant_country, sizeof w->tenant_country, rows, 11);
    return 0;
}

int rn_auth_server_key(rn_req *r)
{
    rn_app *app = r->app;
    rn_rate_state st;
    if (!rn_ratelimit_window_peek(app->auth_failures, r->client_ip,
                                  app->cfg.auth_failures_per_minute, FAILURE_WINDOW_MS,
                                  rn_mono_ms(), &st)) {
        rn_metrics_auth_failure("SERVER_API_RATE_LIMITED");
        reply_rate_limited(r, &st);
        return -1;
    }
    char secret[160];
    rn_err why;
    if (!presented_secret(r, secret, sizeof secret, &why))
        return refuse(r, why, why == RN_SERVER_API_KEY_MISSING ? "missing" : "bad header");
    if (!rn_key_well_formed(secret, RN_SERVER_KEY_PREFIX))
        return refuse(r, RN_SERVER_API_KEY_INVALID, "malformed");
    rn_rows *rows = NULL;
    int found = load_key(r, secret, &rows);
    if (found == -2) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return -1;
    }
    if (found != 0) {
        rn_rows_free(rows);
        return refuse(r, RN_SERVER_API_KEY_INVALID, "unknown or inactive");
    }
    r->authenticated = true;
    double rps = (double)rn_rows_int(rows, 0, 5, app->cfg.rate_limit_rps);
    double burst = (double)rn_rows_int(rows, 0, 6, app->cfg.rate_limit_burst);
    note_use(r, rows);
    rn_rows_free(rows);

    bool allowed = rn_ratelimit_take(app->key_limits, r->who.key_id, rps, burst, rn_mono_ms(), &st);
    set_rate_headers(r, &st);
    if (!allowed) {
        rn_metrics_auth_failure("SERVER_API_RATE_LIMITED");
        reply_rate_limited(r, &st);
        return -1;
    }
    const char *scope = r->route->scope;
    if (scope && !rn_req_has_scope(r, scope)) {
        char message[160];
        snprintf(message, sizeof message, "The server API key lacks the required scope %s.", scope);
        rn_metrics_auth_failure("SERVER_API_SCOPE_DENIED");
        rn_reply_error(r, RN_SERVER_API_SCOPE_DENIED, message, NULL);
        return -1;
    }
    return 0;
}
