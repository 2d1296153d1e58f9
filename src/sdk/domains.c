/*
 * domains.c — allowed widget domains (see domains.h for the matching rules).
 */
#include "sdk/domains.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

/* ---- syntax -------------------------------------------------------------- */

static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

/* A lower-case host name: dot-separated labels, at most 253 characters. */
static bool hostname_ok(const char *s, int *labels)
{
    size_t len = strlen(s);
    *labels = 0;
    if (len == 0 || len > 253)
        return false;
    for (const char *p = s;; (*labels)++) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!label_ok(p, n))
            return false;
        if (!dot) {
            (*labels)++;
            return true;
        }
        p = dot + 1;
    }
}

static bool ipv4_ok(const char *s)
{
    int parts = 0;
    for (const char *p = s; *p; parts++) {
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
            return false;
        int v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (p[i] - '0');
        if (v > 255)
            return false;
        p += n;
        if (*p == '.' && p[1])
            p++;
        else if (*p)
            return false;
    }
    return parts == 4;
}

static bool all_digits_and_dots(const char *s)
{
    return strspn(s, "0123456789.") == strlen(s);
}

int rn_domain_normalize(const char *in, char *out, size_t cap, char *why, size_t whylen)
{
    size_t len = strlen(in);
    if (len == 0 || len >= cap || len >= RN_DOMAIN_MAX) {
        snprintf(why, whylen, "a domain is 1-253 characters");
        return -1;
    }
    if (strchr(in, '/') || strchr(in, ':')) {
        snprintf(why, whylen, "give the host only, without scheme, port or path "
                              "(e.g. shop.example.com)");
        return -1;
    }
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    bool wildcard = strncmp(out, "*.", 2) == 0;
    const char *host = wildcard ? out + 2 : out;
    int labels = 0;
    bool ok = all_digits_and_dots(host) ? !wildcard && ipv4_ok(host)
                                        : hostname_ok(host, &labels) && (!wildcard || labels >= 2);
    if (!ok)
        snprintf(why, whylen, "not a host name, IPv4 address or *.domain wildcard");
    return ok ? 0 : -1;
}

int rn_origin_host(const char *origin, char *host, size_t cap)
{
    const char *p;
    if (!origin)
        return -1;
    if (strncmp(origin, "https://", 8) == 0)
        p = origin + 8;
    else if (strncmp(origin, "http://", 7) == 0)
        p = origin + 7;
    else
        return -1;
    size_t n = strcspn(p, ":/");
    if (n == 0 || n >= cap)
        return -1;
    const char *rest = p + n;
    if (*rest == ':') {
        size_t digits = strspn(rest + 1, "0123456789");
        if (digits == 0 || digits > 5)
            return -1;
        rest += 1 + digits;
    }
    if (*rest != '\0') /* an Origin has no path, query or userinfo */
        return -1;
    for (size_t i = 0; i < n; i++)
        host[i] = (char)tolower((unsigned char)p[i]);
    host[n] = '\0';
    return 0;
}

bool rn_domain_matches(const char *entry, const char *host)
{
    if (strncmp(entry, "*.", 2) != 0)
        return strcmp(entry, host) == 0;
    const char *suffix = entry + 1; /* ".example.com" */
    size_t hl = strlen(host), sl = strlen(suffix);
    return hl > sl && strcmp(host + hl - sl, suffix) == 0;
}

/* ---- store --------------------------------------------------------------- */

static int audit(rn_db *db, const char *tenant_id, const rn_actor *who, const char *action,
                 const char *domain)
{
    rn_audit_entry e = {.tenant_id = tenant_id,
                        .actor = who && who->actor ? who->actor : "cli",
                        .action = action,
                        .target = domain,
                        .request_id = who ? who->request_id : NULL,
                        .client_ip = who ? who->client_ip : NULL,
                        .user_agent = who ? who->user_agent : NULL};
    return rn_audit_record(db, &e);
}

int rn_domain_add(rn_db *db, const char *tenant_id, const char *domain, const rn_actor *who,
                  json_t **out, char *why, size_t whylen)
{
    char norm[RN_DOMAIN_MAX];
    if (rn_domain_normalize(domain, norm, sizeof norm, why, whylen) != 0)
        return RN_TENANT_INVALID;
    long long now = rn_now_ms();
    if (rn_db_begin(db) != 0)
        return -1;
    long long n = rn_db_exec(db,
                             "INSERT INTO widget_domains (tenant_id, domain, created_at)"
                             " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                             RN_PARAMS(RN_T(tenant_id), RN_T(norm), RN_I(now)));
    int rc = n < 0 ? -1 : n == 0 ? RN_TENANT_CONFLICT : 0;
    if (rc == 0 && audit(db, tenant_id, who, "widget_domain.added", norm) != 0)
        rc = -1;
    if (rc != 0) {
        rn_db_rollback(db);
        if (rc == RN_TENANT_CONFLICT)
            snprintf(why, whylen, "%s is already allowed", norm);
        return rc;
    }
    if (rn_db_commit(db) != 0)
        return -1;
    char created[32];
    rn_time_format(now, created, sizeof created);
    *out = json_pack("{s:s, s:s}", "domain", norm, "createdAt", created);
    return 0;
}

int rn_domain_remove(rn_db *db, const char *tenant_id, const char *domain, const rn_actor *who)
{
    char norm[RN_DOMAIN_MAX], why[160];
    if (rn_domain_normalize(domain, norm, sizeof norm, why, sizeof why) != 0)
        return RN_TENANT_NOT_FOUND;
    if (rn_db_begin(db) != 0)
        return -1;
    long long n = rn_db_exec(db, "DELETE FROM widget_domains WHERE tenant_id = $1 AND domain = $2",
                             RN_PARAMS(RN_T(tenant_id), RN_T(norm)));
    int rc = n < 0 ? -1 : n == 0 ? RN_TENANT_NOT_FOUND : 0;
    if (rc == 0 && audit(db, tenant_id, who, "widget_domain.removed", norm) != 0)
        rc = -1;
    if (rc != 0) {
        rn_db_rollback(db);
        return rc;
    }
    return rn_db_commit(db) == 0 ? 0 : -1;
}

int rn_domain_list(rn_db *db, const char *tenant_id, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT domain, created_at FROM widget_domains"
                                    " WHERE tenant_id = $1 ORDER BY domain",
                                RN_PARAMS(RN_T(tenant_id)));
    if (!rows)
        return -1;
    *out = json_array();
    for (int i = 0; i < rn_rows_count(rows); i++) {
        char created[32];
        rn_time_format(rn_rows_int(rows, i, 1, 0), created, sizeof created);
        json_array_append_new(*out, json_pack("{s:s, s:s}", "domain", rn_rows_get(rows, i, 0),
                                              "createdAt", created));
    }
    rn_rows_free(rows);
    return 0;
}

int rn_domain_origin_allowed(rn_db *db, const char *tenant_id, const char *origin)
{
    char host[RN_DOMAIN_MAX];
    if (rn_origin_host(origin, host, sizeof host) != 0)
        return 0;
    rn_rows *rows = rn_db_query(db, "SELECT domain FROM widget_domains WHERE tenant_id = $1",
                                RN_PARAMS(RN_T(tenant_id)));
    if (!rows)
        return -1;
    int allowed = 0;
    for (int i = 0; i < rn_rows_count(rows) && !allowed; i++)
        allowed = rn_domain_matches(rn_rows_get(rows, i, 0), host);
    rn_rows_free(rows);
    return allowed;
}
