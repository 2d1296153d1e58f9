#include "auth/idempotency.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tokens/jws.h"

#define IDEM_TTL_MS (24LL * 3600 * 1000)
#define IDEM_KEY_MAX 255

static void request_hash(rn_req *r, char out[65])
{
    crypto_hash_sha256_state st;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)r->method, strlen(r->method) + 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)r->path, strlen(r->path) + 1);
    if (r->body_len)
        crypto_hash_sha256_update(&st, (const unsigned char *)r->body, r->body_len);
    crypto_hash_sha256_final(&st, digest);
    rn_hex(digest, sizeof digest, out, 65);
}

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > IDEM_KEY_MAX)
        return false;
    for (const char *p = k; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7E)
            return false;
    return true;
}

/* Stored responses can hold secrets shown once (tokens, generated webhook
 * secrets), so they are sealed with the master key at rest. */
static char *open_body(rn_req *r, const char *sealed, size_t *len)
{
    size_t cap = strlen(sealed);
    char *plain = malloc(cap + 1);
    if (rn_unseal(r->app->master_key, sealed, (unsigned char *)plain, cap, len) != 0) {
        free(plain);
        return NULL;
    }
    plain[*len] = '\0';
    return plain;
}

static void replay(rn_req *r, rn_rows *rows)
{
    const char *sealed = rn_rows_get(rows, 0, 2);
    const char *type = rn_rows_get(rows, 0, 3);
    int status = (int)rn_rows_int(rows, 0, 1, 500);
    rn_reply_header(r, "Idempotent-Replayed", "true");
    if (!sealed) {
        rn_reply_empty(r, status);
        return;
    }
    size_t len = 0;
    char *body = open_body(r, sealed, &len);
    if (!body) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    /* Stored types are the ones handlers use: JSON, or CSV text. */
    const char *ctype = type && strcmp(type, "application/json") != 0 ? "text/csv; charset=utf-8"
                                                                       : "application/json";
    rn_reply_text(r, status, ctype, body, len);
    free(body);
}

/* Keys are scoped by the caller, not only the tenant: two visitors or two
 * server keys of one tenant that happen to pick the same key must never see
 * each other's stored response. */
static void scoped_key(rn_req *r, const char *key, char *out, size_t cap)
{
    const char *caller = r->who.key_id[0] ? r->who.key_id : r->who.subject;
    snprintf(out, cap, "%s|%s", caller, key);
}

rn_idem_state rn_idempotency_begin(rn_req *r)
{
    const char *raw = rn_req_header(r, "Idempotency-Key");
    if (!raw || strcmp(r->method, "POST") != 0 || !r->authenticated)
        return RN_IDEM_NONE;
    if (!key_ok(raw)) {
        rn_reply_error(r, RN_SERVER_IDEMPOTENCY_KEY_INVALID,
                       "Idempotency-Key must be 1-255 visible ASCII characters.", NULL);
        return RN_IDEM_ANSWERED;
    }
    char key[IDEM_KEY_MAX + 200];
    scoped_key(r, raw, key, sizeof key);
    rn_db *db = rn_req_db(r);
    char hash[65];
    request_hash(r, hash);
    long long now = rn_now_ms();
    rn_db_exec(db, "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2"
                   " AND created_at < $3",
               RN_PARAMS(RN_T(r->who.tenant_id), RN_T(key), RN_I(now - IDEM_TTL_MS)));
    long long inserted = rn_db_exec(
        db,
        "INSERT INTO idempotency_keys (tenant_id, idem_key, request_hash, status, created_at)"
        " VALUES ($1, $2, $3, 0, $4) ON CONFLICT (tenant_id, idem_key) DO NOTHING",
        RN_PARAMS(RN_T(r->who.tenant_id), RN_T(key), RN_T(hash), RN_I(now)));
    if (inserted == 1)
        return RN_IDEM_PROCEED;
    rn_rows *rows = inserted < 0 ? NULL
                                 : rn_db_query(db,
                                               "SELECT request_hash, status, response_body,"
                                               " content_type FROM idempotency_keys"
                                               " WHERE tenant_id = $1 AND idem_key = $2",
                                               RN_PARAMS(RN_T(r->who.tenant_id), RN_T(key)));
    if (!rows || rn_rows_count(rows) != 1)
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
    else if (strcmp(rn_rows_get(rows, 0, 0), hash) != 0)
        rn_reply_error(r, RN_SERVER_IDEMPOTENCY_KEY_REUSED, NULL, NULL);
    else if (rn_rows_int(rows, 0, 1, 0) == 0)
        rn_reply_error(r, RN_SERVER_IDEMPOTENCY_IN_PROGRESS, NULL, NULL);
    else
        replay(r, rows);
    rn_rows_free(rows);
    return RN_IDEM_ANSWERED;
}

void rn_idempotency_finish(rn_req *r)
{
    char key[IDEM_KEY_MAX + 200];
    scoped_key(r, rn_req_header(r, "Idempotency-Key"), key, sizeof key);
    rn_db *db = rn_req_db(r);
    if (r->status >= 500) {
        rn_db_exec(db, "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2",
                   RN_PARAMS(RN_T(r->who.tenant_id), RN_T(key)));
        return;
    }
    char *sealed = r->reply ? rn_seal(r->app->master_key, (const unsigned char *)r->reply,
                                      r->reply_len)
                            : NULL;
    rn_db_exec(db,
               "UPDATE idempotency_keys SET status = $3, response_body = $4, content_type = $5"
               " WHERE tenant_id = $1 AND idem_key = $2",
               RN_PARAMS(RN_T(r->who.tenant_id), RN_T(key), RN_I(r->status), RN_T(sealed),
                         RN_T(r->content_type)));
    free(sealed);
}
