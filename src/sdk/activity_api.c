/*
 * activity_api.c — the plumbing shared by the activity SDK endpoints.
 *
 * Cursors: a list position is an id (ids sort by time), sent back as
 * base64url(id || first 16 bytes of HMAC-SHA256(list, filter, tenant,
 * subject, id)) under a subkey of the master key. Ids are not secret (the
 * page shows them); the MAC is what makes a cursor tamper-evident and
 * useless on another list, filter, tenant or caller.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "sdk/activity_api.h"

#define RETRIES 3
#define CURSOR_MAC_BYTES 16
#define CURSOR_KDF_ID 2
#define CURSOR_KDF_CONTEXT "rnsdkcur" /* exactly crypto_kdf_CONTEXTBYTES */

/* ---- units of work -------------------------------------------------------- */

static bool retryable(rn_db *db)
{
    rn_db_error e = rn_db_last_error(db);
    return e == RN_DB_ERR_BUSY || e == RN_DB_ERR_CONSTRAINT;
}

int rn_sdk_act_run(rn_req *r, sdk_act_fn fn, void *ctx, json_t **out)
{
    rn_db *db = rn_req_db(r);
    int rc = RN_ACT_STORE;
    for (int attempt = 0; db && attempt < RETRIES; attempt++) {
        json_t *result = NULL;
        rn_act *a = rn_act_begin(db, r->who.tenant_id, r->who.tenant_timezone);
        if (!a)
            return RN_ACT_STORE;
        rc = fn(a, ctx, &result);
        if (rc == RN_ACT_OK && rn_act_commit(a) == 0) {
            *out = result;
            return RN_ACT_OK;
        }
        if (rc != RN_ACT_OK)
            rn_act_rollback(a);
        json_decref(result);
        if (rc == RN_ACT_OK)
            rc = RN_ACT_STORE; /* the commit failed */
        if (rc != RN_ACT_STORE || !retryable(db))
            return rc;
    }
    return rc;
}

void rn_sdk_act_fail(rn_req *r, int rc, rn_err conflict)
{
    switch (rc) {
    case RN_ACT_NOT_FOUND:
        rn_reply_error(r, RN_SDK_NOT_FOUND, NULL, NULL);
        return;
    case RN_ACT_CONFLICT:
        rn_reply_error(r, conflict, NULL, NULL);
        return;
    case RN_ACT_INVALID:
        rn_reply_error(r, RN_SERVER_REQUEST_VALIDATION_FAILED, NULL, NULL);
        return;
    default:
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
    }
}

/* ---- cursors -------------------------------------------------------------- */

static void cursor_mac(rn_req *r, const char *list, const char *filter, const char *id,
                       unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
    crypto_kdf_derive_from_key(key, sizeof key, CURSOR_KDF_ID, CURSOR_KDF_CONTEXT,
                               r->app->master_key);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof key);
    const char *parts[] = {list, filter ? filter : "", r->who.tenant_id, r->who.subject, id};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)parts[i],
                                      strlen(parts[i]) + 1);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(key, sizeof key);
}

int rn_sdk_cursor_make(rn_req *r, const char *list, const char *filter, const char *after_id,
                       char *out, size_t cap)
{
    unsigned char raw[64 + CURSOR_MAC_BYTES], mac[crypto_auth_hmacsha256_BYTES];
    size_t n = strlen(after_id);
    if (n == 0 || n > 64 ||
        cap < sodium_base64_ENCODED_LEN(n + CURSOR_MAC_BYTES,
                                        sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return -1;
    cursor_mac(r, list, filter, after_id, mac);
    memcpy(raw, after_id, n);
    memcpy(raw + n, mac, CURSOR_MAC_BYTES);
    sodium_bin2base64(out, cap, raw, n + CURSOR_MAC_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

static int cursor_read(rn_req *r, const char *list, const char *filter, const char *cursor,
                       char *after_id)
{
    unsigned char raw[64 + CURSOR_MAC_BYTES + 1], mac[crypto_auth_hmacsha256_BYTES];
    size_t len = 0;
    const char *end = NULL;
    if (strlen(cursor) > 160 ||
        sodium_base642bin(raw, sizeof raw, cursor, strlen(cursor), NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        *end != '\0' || len <= CURSOR_MAC_BYTES || len > 47 + CURSOR_MAC_BYTES)
        return -1;
    size_t n = len - CURSOR_MAC_BYTES;
    memcpy(after_id, raw, n);
    after_id[n] = '\0';
    if (strspn(after_id, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return -1;
    cursor_mac(r, list, filter, after_id, mac);
    return crypto_verify_16(mac, raw + n) == 0 ? 0 : -1;
}

int rn_sdk_page_params(rn_req *r, const char *list, const char *filter, int *limit,
                       char *after_id)
{
    after_id[0] = '\0';
    if (rn_req_limit(r, limit) != 0)
        return -1;
    const char *cursor = rn_req_query(r, "cursor");
    if (cursor && cursor_read(r, list, filter, cursor, after_id) != 0) {
        json_t *details = json_array();
        rn_detail_add(details, "cursor", "invalid");
        rn_reply_error(r, RN_SERVER_CURSOR_INVALID, NULL, details);
        return -1;
    }
    return 0;
}

void rn_sdk_reply_page(rn_req *r, const char *list, const char *filter, json_t *items,
                       const char *next_id)
{
    char cursor[160];
    bool more = next_id && *next_id &&
                rn_sdk_cursor_make(r, list, filter, next_id, cursor, sizeof cursor) == 0;
    rn_reply_json(r, 200, json_pack("{s:o, s:s?}", "data", items, "nextCursor",
                                    more ? cursor : NULL));
}

/* ---- bodies --------------------------------------------------------------- */

int rn_sdk_body_only(rn_req *r, const char *const *allowed, json_t *details)
{
    return r->json && rn_json_reject_unknown(r->json, allowed, NULL, details) > 0 ? -1 : 0;
}

int rn_sdk_text(rn_req *r, const char *name, long max, bool required, bool multiline,
                const char **out, json_t *details)
{
    *out = NULL;
    if (rn_json_opt_text(r->json, name, max, multiline, out, details) != 0)
        return -1;
    if (*out && **out == '\0') {
        rn_detail_add(details, name, "must_not_be_empty");
        *out = NULL;
        return -1;
    }
    if (!*out && required) {
        rn_detail_add(details, name, "required");
        return -1;
    }
    return 0;
}

int rn_sdk_choice(rn_req *r, const char *name, const char *const *choices, bool required,
                  const char **out, json_t *details)
{
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            rn_detail_add(details, name, "required");
        return required ? -1 : 0;
    }
    for (const char *const *c = choices; json_is_string(v) && *c; c++) {
        if (strcmp(json_string_value(v), *c) == 0) {
            *out = *c;
            return 0;
        }
    }
    rn_detail_add(details, name, "not_allowed");
    return -1;
}

int rn_sdk_details_reply(rn_req *r, json_t *details)
{
    if (json_array_size(details) == 0) {
        json_decref(details);
        return 0;
    }
    rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
    return -1;
}
