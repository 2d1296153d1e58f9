/*
 * tokens.c — SDK token claims, minting and verification (see tokens.h).
 */
#include "tokens/tokens.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "tokens/jws.h"
#include "tokens/keyring.h"

const char *const RN_AGENT_SCOPES[] = {
    "agent:profile:read",       "agent:presence:read",       "agent:presence:write",
    "agent:conversations:read", "agent:conversations:write", "agent:messages:read",
    "agent:messages:write",     "agent:media:delete",        "agent:calls:read",
    "agent:calls:write",        NULL,
};

const char *const RN_AGENT_DEFAULT_SCOPES[] = {
    "agent:profile:read", "agent:presence:read", "agent:conversations:read",
    "agent:messages:read", "agent:calls:read",   NULL,
};

const char *const RN_ADMIN_SCOPES[] = {
    "admin:tenant:read",         "admin:readiness:read",    "admin:domains:read",
    "admin:services:read",       "admin:subscription:read", "admin:ai-readiness:read",
    "admin:staff-summary:read",  "admin:reports:export",    "admin:ai-knowledge:write",
    NULL,
};

const char *const RN_ADMIN_DEFAULT_SCOPES[] = {
    "admin:tenant:read",       "admin:readiness:read",     "admin:domains:read",
    "admin:services:read",     "admin:subscription:read",  "admin:ai-readiness:read",
    "admin:staff-summary:read", NULL,
};

/* ---- scopes -------------------------------------------------------------- */

static int catalogue_index(const char *const *catalogue, const char *scope)
{
    for (int i = 0; catalogue[i]; i++)
        if (strcmp(catalogue[i], scope) == 0)
            return i;
    return -1;
}

static void join_wanted(const char *const *catalogue, const bool *wanted, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; catalogue[i]; i++) {
        if (!wanted[i])
            continue;
        if (out[0])
            strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, catalogue[i], cap - strlen(out) - 1);
    }
}

int rn_token_scopes(json_t *requested, const char *const *catalogue,
                    const char *const *defaults, char *out, size_t cap, json_t *details)
{
    bool wanted[32] = {false};
    if (!requested || json_is_null(requested)) {
        for (int i = 0; defaults[i]; i++)
            wanted[catalogue_index(catalogue, defaults[i])] = true;
        join_wanted(catalogue, wanted, out, cap);
        return 0;
    }
    if (!json_is_array(requested) || json_array_size(requested) == 0) {
        rn_detail_add(details, "scopes", json_is_array(requested) ? "must_not_be_empty"
                                                                  : "must_be_array_of_strings");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(requested, i, v) {
        if (!json_is_string(v)) {
            rn_detail_add(details, "scopes", "must_be_array_of_strings");
            return -1;
        }
    }
    int unknown = 0;
    json_array_foreach(requested, i, v) {
        int k = catalogue_index(catalogue, json_string_value(v));
        if (k >= 0) {
            wanted[k] = true;
            continue;
        }
        char field[32];
        snprintf(field, sizeof field, "scopes[%zu]", i);
        rn_detail_add(details, field, "unknown_scope");
        unknown++;
    }
    if (unknown)
        return -2;
    join_wanted(catalogue, wanted, out, cap);
    return 0;
}

json_t *rn_token_scope_array(const char *scopes)
{
    json_t *arr = json_array();
    const char *p = scopes;
    while (p && *p) {
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n)
            json_array_append_new(arr, json_stringn(p, n));
        p = end ? end + 1 : NULL;
    }
    return arr;
}

/* ---- minting ------------------------------------------------------------- */

json_t *rn_token_claims(const rn_token_spec *spec, const char *jti)
{
    long long iat = spec->now_ms / 1000;
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "iss",
                          spec->issuer, "aud", spec->audience, "sub", spec->subject, "tid",
                          spec->tenant_id, "scope", spec->scope, "iat", (json_int_t)iat, "nbf",
                          (json_int_t)iat, "exp", (json_int_t)(iat + spec->ttl_s), "jti", jti,
                          "mintedBy", spec->minted_by);
    if (c && spec->ctx)
        json_object_set(c, "ctx", spec->ctx);
    return c;
}

int rn_token_mint(rn_db *db, const unsigned char master[32], const rn_token_spec *spec,
                  rn_token_minted *out)
{
    memset(out, 0, sizeof *out);
    rn_signing_key key;
    if (rn_keyring_current(db, master, &key) != 0)
        return -1;
    rn_id_new("tok", out->jti, sizeof out->jti);
    json_t *claims = rn_token_claims(spec, out->jti);
    out->token = claims ? rn_jws_sign(claims, key.kid, key.sk) : NULL;
    sodium_memzero(key.sk, sizeof key.sk);
    json_decref(claims);
    if (!out->token)
        return -1;
    out->iat = spec->now_ms / 1000;
    out->exp = out->iat + spec->ttl_s;
    return 0;
}

void rn_token_minted_free(rn_token_minted *m)
{
    free(m->token);
    m->token = NULL;
}

static const char CROCKFORD[] = "0123456789abcdefghjkmnpqrstvwxyz";

void rn_token_visitor_id(const unsigned char master[32], const char *tenant_id,
                         const char *external_id, char out[48])
{
    if (!external_id) {
        rn_id_new("vis", out, 48);
        return;
    }
    /* Domain-separated keyed BLAKE2b: the id reveals nothing about the
     * externalId, and is the same on every node that shares the master key. */
    unsigned char digest[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, master, 32, sizeof digest);
    crypto_generichash_update(&st, (const unsigned char *)"ringnity visitor id", 20);
    crypto_generichash_update(&st, (const unsigned char *)tenant_id, strlen(tenant_id) + 1);
    crypto_generichash_update(&st, (const unsigned char *)external_id, strlen(external_id));
    crypto_generichash_final(&st, digest, sizeof digest);
    char body[27];
    for (int i = 0; i < 26; i++) {
        int bit = i * 5; /* 26 x 5 bits = 130 of the 128: the last symbol pads with zeros */
        unsigned v = (unsigned)digest[bit / 8] << 8;
        if (bit / 8 + 1 < (int)sizeof digest)
            v |= digest[bit / 8 + 1];
        body[i] = CROCKFORD[(v >> (11 - bit % 8)) & 31];
    }
    body[26] = '\0';
    snprintf(out, 48, "vis_%s", body);
}

/* ---- verification -------------------------------------------------------- */

typedef struct {
    rn_db *db;
    const unsigned char *master;
    bool store_down;
} lookup_ctx;

static int lookup_key(void *ctx, const char *kid, unsigned char pk[32])
{
    lookup_ctx *l = ctx;
    int rc = rn_keyring_public(l->db, l->master, kid, pk);
    if (rc < 0)
        l->store_down = true;
    return rc == 0 ? 0 : -1;
}

static bool string_claim(json_t *claims, const char *name, size_t max_len)
{
    json_t *v = json_object_get(claims, name);
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max_len;
}

/* Claim shapes and iss/aud; returns the failed check or NULL. */
static const char *check_shape(json_t *c, const rn_token_expect *want)
{
    if (!string_claim(c, "iss", 1024) ||
        strcmp(json_string_value(json_object_get(c, "iss")), want->issuer) != 0)
        return "issuer";
    if (!string_claim(c, "aud", 64) ||
        strcmp(json_string_value(json_object_get(c, "aud")), want->audience) != 0)
        return "audience";
    if (!string_claim(c, "sub", 47) || !string_claim(c, "tid", 47) ||
        !string_claim(c, "scope", 1000) || !string_claim(c, "jti", 47) ||
        !string_claim(c, "mintedBy", 47))
        return "claims";
    bool visitor = strcmp(want->audience, RN_AUD_VISITOR) == 0;
    if (visitor != json_is_object(json_object_get(c, "ctx")))
        return "claims";
    json_t *iat = json_object_get(c, "iat"), *nbf = json_object_get(c, "nbf");
    json_t *exp = json_object_get(c, "exp");
    if (!json_is_integer(iat) || !json_is_integer(nbf) || !json_is_integer(exp))
        return "times";
    long long i = json_integer_value(iat), n = json_integer_value(nbf);
    long long e = json_integer_value(exp);
    if (e <= i || e - i > RN_TOKEN_TTL_MAX_S || n < i || n >= e)
        return "times";
    return NULL;
}

rn_token_status rn_token_verify(rn_db *db, const unsigned char master[32], const char *token,
                                const rn_token_expect *want, json_t **claims, const char **why)
{
    *claims = NULL;
    lookup_ctx l = {db, master, false};
    rn_jws_error err = RN_JWS_OK;
    json_t *c = rn_jws_verify(token, lookup_key, &l, &err);
    if (!c) {
        static const char *const reasons[] = {"ok", "malformed", "algorithm", "unknown kid",
                                              "signature"};
        *why = l.store_down ? "store unavailable" : reasons[err];
        return l.store_down && err == RN_JWS_UNKNOWN_KID ? RN_TOKEN_STORE_DOWN : RN_TOKEN_INVALID;
    }
    const char *bad = check_shape(c, want);
    long long now_s = want->now_ms / 1000;
    if (!bad && now_s + RN_TOKEN_NBF_LEEWAY_S < json_integer_value(json_object_get(c, "nbf")))
        bad = "not yet valid";
    if (bad) {
        *why = bad;
        json_decref(c);
        return RN_TOKEN_INVALID;
    }
    if (now_s >= json_integer_value(json_object_get(c, "exp"))) {
        *why = "expired";
        json_decref(c);
        return RN_TOKEN_EXPIRED;
    }
    *why = "ok";
    *claims = c;
    return RN_TOKEN_OK;
}
