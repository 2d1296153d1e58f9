#include "tenants/tenants.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/keys.h"
#include "auth/scopes.h"
#include "contacts/phone.h"
#include "core/json.h"
#include "core/util.h"

/* ---- helpers ----------------------------------------------------------- */

static json_t *time_or_null(const rn_rows *rows, int row, int col)
{
    if (rn_rows_is_null(rows, row, col))
        return json_null();
    char buf[32];
    rn_time_format(rn_rows_int(rows, row, col, 0), buf, sizeof buf);
    return json_string(buf);
}

static bool slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static bool timezone_ok(const char *tz)
{
    size_t n = strlen(tz);
    if (n == 0 || n > 60 || tz[0] == '/' || strstr(tz, ".."))
        return false;
    if (strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != n)
        return false;
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    /* posix/ and right/ are alternative trees (right/ counts leap seconds),
     * posixrules, localtime and Factory are not places. */
    if (strncmp(tz, "posix", 5) == 0 || strncmp(tz, "right/", 6) == 0 ||
        strcmp(tz, "localtime") == 0 || strcmp(tz, "Factory") == 0)
        return false;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A region libphonenumber knows: the country is what local numbers parse by. */
static bool country_ok(const char *c)
{
    return strlen(c) == 2 && isupper((unsigned char)c[0]) && isupper((unsigned char)c[1]) &&
           rn_phone_region_known(c);
}

static bool name_ok(const char *s, long max_chars)
{
    long n = rn_utf8_count(s, strlen(s));
    return n >= 1 && n <= max_chars && !rn_has_control(s, false);
}

static int audit(rn_db *db, const char *tenant_id, const rn_actor *who, const char *action,
                 const char *target)
{
    rn_audit_entry e = {.tenant_id = tenant_id,
                        .actor = who && who->actor ? who->actor : "cli",
                        .action = action,
                        .target = target,
                        .request_id = who ? who->request_id : NULL,
                        .client_ip = who ? who->client_ip : NULL,
                        .user_agent = who ? who->user_agent : NULL};
    return rn_audit_record(db, &e);
}

/* ---- tenants ----------------------------------------------------------- */

#define TENANT_COLUMNS "id, client_id, slug, name, timezone, country, status, created_at"

static json_t *tenant_json(const rn_rows *rows, int i)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", rn_rows_get(rows, i, 0),
                     "clientId", rn_rows_get(rows, i, 1), "slug", rn_rows_get(rows, i, 2),
                     "name", rn_rows_get(rows, i, 3), "timezone", rn_rows_get(rows, i, 4),
                     "country", rn_rows_get(rows, i, 5), "status", rn_rows_get(rows, i, 6),
                     "createdAt", time_or_null(rows, i, 7));
}

int rn_tenant_create(rn_db *db, const char *slug, const char *name, const char *timezone,
                     const char *country, json_t **out, char *why, size_t whylen)
{
    if (!slug_ok(slug)) {
        snprintf(why, whylen, "slug must be 2-63 characters of a-z, 0-9 and '-'");
        return RN_TENANT_INVALID;
    }
    if (!name_ok(name, 200)) {
        snprintf(why, whylen, "name must be 1-200 characters without control characters");
        return RN_TENANT_INVALID;
    }
    if (!timezone_ok(timezone)) {
        snprintf(why, whylen, "timezone must be an IANA zone such as Asia/Jakarta");
        return RN_TENANT_INVALID;
    }
    if (!country_ok(country)) {
        snprintf(why, whylen, "country must be an ISO 3166 alpha-2 code such as ID");
        return RN_TENANT_INVALID;
    }
    char id[48], client_id[48];
    rn_id_new("ten", id, sizeof id);
    char random[25];
    rn_random_base62(random, 24);
    snprintf(client_id, sizeof client_id, "cli_%s", random);
    long long now = rn_now_ms();
    long long n = rn_db_exec(db,
                             "INSERT INTO tenants (" TENANT_COLUMNS ", updated_at)"
                             " VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7)",
                             RN_PARAMS(RN_T(id), RN_T(client_id), RN_T(slug), RN_T(name),
                                       RN_T(timezone), RN_T(country), RN_I(now)));
    if (n != 1) {
        if (rn_db_last_error(db) != RN_DB_ERR_CONSTRAINT)
            return -1;
        snprintf(why, whylen, "a tenant with slug \"%s\" already exists", slug);
        return RN_TENANT_CONFLICT;
    }
    return rn_tenant_get(db, id, out);
}

int rn_tenant_get(rn_db *db, const char *slug_or_id, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT " TENANT_COLUMNS " FROM tenants"
                                    " WHERE slug = $1 OR id = $1",
                                RN_PARAMS(RN_T(slug_or_id)));
    if (!rows)
        return -1;
    int rc = rn_rows_count(rows) == 1 ? 0 : RN_TENANT_NOT_FOUND;
    if (rc == 0)
        *out = tenant_json(rows, 0);
    rn_rows_free(rows);
    return rc;
}

int rn_tenant_list(rn_db *db, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY id",
                                RN_NOPARAMS);
    if (!rows)
        return -1;
    *out = json_array();
    for (int i = 0; i < rn_rows_count(rows); i++)
        json_array_append_new(*out, tenant_json(rows, i));
    rn_rows_free(rows);
    return 0;
}

/* ---- staff ------------------------------------------------------------- */

#define STAFF_COLUMNS "id, username, role, display_name, status, created_at"

static json_t *staff_json(const rn_rows *rows, int i)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", rn_rows_get(rows, i, 0), "username",
                     rn_rows_get(rows, i, 1), "role", rn_rows_get(rows, i, 2), "displayName",
                     rn_rows_get(rows, i, 3), "status", rn_rows_get(rows, i, 4), "createdAt",
                     time_or_null(rows, i, 5));
}

static bool username_ok(const char *u)
{
    size_t n = strlen(u);
    return n >= 2 && n <= 64 &&
           strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n;
}

int rn_staff_add(rn_db *db, const char *tenant_id, const char *username, const char *role,
                 const char *display_name, json_t **out, char *why, size_t whylen)
{
    if (!username_ok(username)) {
        snprintf(why, whylen, "username must be 2-64 characters of letters, digits and ._-@");
        return RN_TENANT_INVALID;
    }
    if (strcmp(role, "agent") != 0 && strcmp(role, "admin") != 0) {
        snprintf(why, whylen, "role must be agent or admin");
        return RN_TENANT_INVALID;
    }
    const char *display = display_name && *display_name ? display_name : username;
    if (!name_ok(display, 200)) {
        snprintf(why, whylen, "display name must be 1-200 characters without control characters");
        return RN_TENANT_INVALID;
    }
    char id[48];
    rn_id_new("stf", id, sizeof id);
    long long now = rn_now_ms();
    long long n = rn_db_exec(db,
                             "INSERT INTO staff (tenant_id, " STAFF_COLUMNS ", updated_at)"
                             " VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)",
                             RN_PARAMS(RN_T(tenant_id), RN_T(id), RN_T(username), RN_T(role),
                                       RN_T(display), RN_I(now)));
    if (n != 1) {
        if (rn_db_last_error(db) != RN_DB_ERR_CONSTRAINT)
            return -1;
        snprintf(why, whylen, "staff member \"%s\" already exists", username);
        return RN_TENANT_CONFLICT;
    }
    rn_rows *rows = rn_db_query(db, "SELECT " STAFF_COLUMNS " FROM staff"
                                    " WHERE tenant_id = $1 AND id = $2",
                                RN_PARAMS(RN_T(tenant_id), RN_T(id)));
    if (!rows)
        return -1;
    *out = staff_json(rows, 0);
    rn_rows_free(rows);
    return 0;
}

int rn_staff_list(rn_db *db, const char *tenant_id, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT " STAFF_COLUMNS " FROM staff WHERE tenant_id = $1"
                                    " ORDER BY username",
                                RN_PARAMS(RN_T(tenant_id)));
    if (!rows)
        return -1;
    *out = json_array();
    for (int i = 0; i < rn_rows_count(rows); i++)
        json_array_append_new(*out, staff_json(rows, i));
    rn_rows_free(rows);
    return 0;
}

int rn_staff_disable(rn_db *db, const char *tenant_id, const char *username)
{
    long long n = rn_db_exec(db, "UPDATE staff SET status = 'disabled', updated_at = $3"
                                 " WHERE tenant_id = $1 AND username = $2",
                             RN_PARAMS(RN_T(tenant_id), RN_T(username), RN_I(rn_now_ms())));
    return n < 0 ? -1 : n == 0 ? RN_TENANT_NOT_FOUND : 0;
}

int rn_staff_set_password(rn_db *db, const char *tenant_id, const char *username,
                          const char *password)
{
    if (strlen(password) < RN_PASSWORD_MIN || strlen(password) > 256)
        return RN_TENANT_INVALID;
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -1;
    long long n = rn_db_exec(db, "UPDATE staff SET password_hash = $3, updated_at = $4"
                                 " WHERE tenant_id = $1 AND username = $2",
                             RN_PARAMS(RN_T(tenant_id), RN_T(username), RN_T(hash),
                                       RN_I(rn_now_ms())));
    return n < 0 ? -1 : n == 0 ? RN_TENANT_NOT_FOUND : 0;
}

/* ---- keys -------------------------------------------------------------- */

#define KEY_COLUMNS                                                                        \
    "id, name, prefix, last4, scopes, status, created_at, created_by, rotated_at,"         \
    " revoked_at, last_used_at, expires_at, rate_limit_rps, rate_limit_burst"

static json_t *key_json(const rn_rows *rows, int i)
{
    json_t *scopes = json_array();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", rn_rows_get(rows, i, 4));
    char *save = NULL;
    for (char *s = strtok_r(buf, " ", &save); s; s = strtok_r(NULL, " ", &save))
        json_array_append_new(scopes, json_string(s));
    json_t *k = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "id",
                          rn_rows_get(rows, i, 0), "name", rn_rows_get(rows, i, 1), "prefix",
                          rn_rows_get(rows, i, 2), "last4", rn_rows_get(rows, i, 3), "scopes",
                          scopes, "status", rn_rows_get(rows, i, 5), "createdAt",
                          time_or_null(rows, i, 6), "createdBy", rn_rows_get(rows, i, 7),
                          "rotatedAt", time_or_null(rows, i, 8), "revokedAt",
                          time_or_null(rows, i, 9), "lastUsedAt", time_or_null(rows, i, 10),
                          "expiresAt", time_or_null(rows, i, 11));
    json_t *limit = json_null();
    if (!rn_rows_is_null(rows, i, 12))
        limit = json_pack("{s:I, s:I}", "requestsPerSecond",
                          (json_int_t)rn_rows_int(rows, i, 12, 0), "burst",
                          (json_int_t)rn_rows_int(rows, i, 13, 0));
    json_object_set_new(k, "rateLimit", limit);
    return k;
}

int rn_key_get(rn_db *db, const char *tenant_id, const char *key_id, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT " KEY_COLUMNS " FROM api_keys"
                                    " WHERE tenant_id = $1 AND id = $2 AND kind = 'server'",
                                RN_PARAMS(RN_T(tenant_id), RN_T(key_id)));
    if (!rows)
        return -1;
    int rc = rn_rows_count(rows) == 1 ? 0 : RN_TENANT_NOT_FOUND;
    if (rc == 0)
        *out = key_json(rows, 0);
    rn_rows_free(rows);
    return rc;
}

int rn_key_list(rn_db *db, const char *tenant_id, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT " KEY_COLUMNS " FROM api_keys"
                                    " WHERE tenant_id = $1 AND kind = 'server' ORDER BY id",
                                RN_PARAMS(RN_T(tenant_id)));
    if (!rows)
        return -1;
    *out = json_array();
    for (int i = 0; i < rn_rows_count(rows); i++)
        json_array_append_new(*out, key_json(rows, i));
    rn_rows_free(rows);
    return 0;
}

static int finish_with_secret(rn_db *db, const char *tenant_id, const char *key_id,
                              const char *secret, json_t **out)
{
    if (rn_key_get(db, tenant_id, key_id, out) != 0)
        return -1;
    json_object_set_new(*out, "secret", json_string(secret));
    return 0;
}

int rn_key_create(rn_db *db, const unsigned char pepper[32], const char *tenant_id,
                  const char *name, const char *scopes, long long rate_rps, long long burst,
                  long long expires_at_ms, const rn_actor *who, json_t **out, char *why,
                  size_t whylen)
{
    char canonical[1024], bad[128];
    if (rn_scopes_parse(scopes, canonical, sizeof canonical, bad, sizeof bad) != 0) {
        snprintf(why, whylen, "unknown scope %s", bad);
        return RN_TENANT_INVALID;
    }
    if (!name_ok(name, 100)) {
        snprintf(why, whylen, "name must be 1-100 characters without control characters");
        return RN_TENANT_INVALID;
    }
    char id[48], secret[80], hash[RN_KEY_HASH_HEX], prefix[32], last4[5];
    rn_id_new("key", id, sizeof id);
    rn_key_generate(RN_SERVER_KEY_PREFIX, secret, sizeof secret);
    rn_key_hash(pepper, secret, hash);
    rn_key_display(secret, prefix, sizeof prefix, last4);
    rn_param rps = rate_rps > 0 ? RN_I(rate_rps) : RN_NULLP;
    rn_param bur = rate_rps > 0 ? RN_I(burst > 0 ? burst : rate_rps * 2) : RN_NULLP;
    rn_param exp = expires_at_ms > 0 ? RN_I(expires_at_ms) : RN_NULLP;
    if (rn_db_begin(db) != 0)
        return -1;
    long long n = rn_db_exec(
        db,
        "INSERT INTO api_keys (tenant_id, id, kind, name, secret_hash, prefix, last4, scopes,"
        " status, rate_limit_rps, rate_limit_burst, created_at, created_by, expires_at)"
        " VALUES ($1, $2, 'server', $3, $4, $5, $6, $7, 'active', $8, $9, $10, $11, $12)",
        RN_PARAMS(RN_T(tenant_id), RN_T(id), RN_T(name), RN_T(hash), RN_T(prefix), RN_T(last4),
                  RN_T(canonical), rps, bur, RN_I(rn_now_ms()),
                  RN_T(who && who->actor ? who->actor : "cli"), exp));
    if (n != 1 || audit(db, tenant_id, who, "server_key.created", id) != 0) {
        rn_db_rollback(db);
        sodium_memzero(secret, sizeof secret);
        return -1;
    }
    int rc = rn_db_commit(db) == 0 ? finish_with_secret(db, tenant_id, id, secret, out) : -1;
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int rn_key_rotate(rn_db *db, const unsigned char pepper[32], const char *tenant_id,
                  const char *key_id, const rn_actor *who, json_t **out)
{
    char secret[80], hash[RN_KEY_HASH_HEX], prefix[32], last4[5];
    rn_key_generate(RN_SERVER_KEY_PREFIX, secret, sizeof secret);
    rn_key_hash(pepper, secret, hash);
    rn_key_display(secret, prefix, sizeof prefix, last4);
    if (rn_db_begin(db) != 0)
        return -1;
    long long n = rn_db_exec(db,
                             "UPDATE api_keys SET secret_hash = $3, prefix = $4, last4 = $5,"
                             " rotated_at = $6 WHERE tenant_id = $1 AND id = $2"
                             " AND kind = 'server' AND status = 'active'",
                             RN_PARAMS(RN_T(tenant_id), RN_T(key_id), RN_T(hash), RN_T(prefix),
                                       RN_T(last4), RN_I(rn_now_ms())));
    int rc = n < 0 ? -1 : n == 0 ? RN_TENANT_NOT_FOUND : 0;
    if (rc == 0 && audit(db, tenant_id, who, "server_key.rotated", key_id) != 0)
        rc = -1;
    if (rc != 0) {
        rn_db_rollback(db);
    } else if (rn_db_commit(db) != 0) {
        rc = -1;
    } else {
        rc = finish_with_secret(db, tenant_id, key_id, secret, out);
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int rn_key_revoke(rn_db *db, const char *tenant_id, const char *key_id, const rn_actor *who,
                  json_t **out)
{
    if (rn_db_begin(db) != 0)
        return -1;
    long long n = rn_db_exec(db,
                             "UPDATE api_keys SET status = 'revoked', revoked_at = $3"
                             " WHERE tenant_id = $1 AND id = $2 AND kind = 'server'"
                             " AND status = 'active'",
                             RN_PARAMS(RN_T(tenant_id), RN_T(key_id), RN_I(rn_now_ms())));
    int rc = n < 0 ? -1 : n == 0 ? RN_TENANT_NOT_FOUND : 0;
    if (rc == 0 && audit(db, tenant_id, who, "server_key.revoked", key_id) != 0)
        rc = -1;
    if (rc != 0) {
        rn_db_rollback(db);
        /* Revoking an already revoked key is not an error: report its state. */
        if (rc == RN_TENANT_NOT_FOUND && rn_key_get(db, tenant_id, key_id, out) == 0)
            return 0;
        return rc;
    }
    if (rn_db_commit(db) != 0)
        return -1;
    return rn_key_get(db, tenant_id, key_id, out);
}

int rn_widget_key_ensure(rn_db *db, const char *tenant_id, const rn_actor *who, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT id, public_key FROM api_keys"
                                    " WHERE tenant_id = $1 AND kind = 'widget'"
                                    " AND status = 'active' ORDER BY id LIMIT 1",
                                RN_PARAMS(RN_T(tenant_id)));
    if (!rows)
        return -1;
    if (rn_rows_count(rows) == 1) {
        *out = json_pack("{s:s, s:s}", "id", rn_rows_get(rows, 0, 0), "key",
                         rn_rows_get(rows, 0, 1));
        rn_rows_free(rows);
        return 0;
    }
    rn_rows_free(rows);
    char id[48], key[80], prefix[32], last4[5], hash[RN_KEY_HASH_HEX];
    rn_id_new("key", id, sizeof id);
    rn_key_generate(RN_WIDGET_KEY_PREFIX, key, sizeof key);
    rn_key_display(key, prefix, sizeof prefix, last4);
    /* The widget key is public; its "hash" column holds a marker, never a
     * server-key hash, so it can never authenticate as a server key. */
    snprintf(hash, sizeof hash, "widget:%s", id);
    long long n = rn_db_exec(db,
                             "INSERT INTO api_keys (tenant_id, id, kind, name, secret_hash,"
                             " public_key, prefix, last4, scopes, status, created_at, created_by)"
                             " VALUES ($1, $2, 'widget', 'Widget key', $3, $4, $5, $6, '',"
                             " 'active', $7, $8)",
                             RN_PARAMS(RN_T(tenant_id), RN_T(id), RN_T(hash), RN_T(key),
                                       RN_T(prefix), RN_T(last4), RN_I(rn_now_ms()),
                                       RN_T(who && who->actor ? who->actor : "cli")));
    if (n != 1 || audit(db, tenant_id, who, "widget_key.created", id) != 0)
        return -1;
    *out = json_pack("{s:s, s:s}", "id", id, "key", key);
    return 0;
}
