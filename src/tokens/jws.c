/*
 * Compact JWS with EdDSA and master-key sealing; see jws.h for the contract.
 *
 * Verification is written as a pipeline of small checks over a parsed view
 * of the token (struct jws_parts). Each check either passes or sets the one
 * error the header promises for it, so the order of checks is the order of
 * errors a caller can observe. Nothing is parsed as JSON from the payload
 * until the signature has been checked.
 */
#include "tokens/jws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define JWS_ALG "EdDSA"
#define JWS_TYP "JWT"
#define JWS_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
#define JWS_LOAD_FLAGS JSON_REJECT_DUPLICATES

#define SEAL_PREFIX "v1."
#define SEAL_PREFIX_LEN (sizeof(SEAL_PREFIX) - 1)
#define SEAL_OVERHEAD (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- base64url ---------------------------------------------------------- */

char *rn_b64url_encode(const unsigned char *in, size_t len)
{
    if (in == NULL && len > 0)
        return NULL;
    if (len > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    size_t outlen = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
    char *out = malloc(outlen + 1);
    if (out == NULL)
        return NULL;

    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        out[o++] = b64url_alphabet[in[i] >> 2];
        out[o++] = b64url_alphabet[(in[i] & 3) << 4];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
        out[o++] = b64url_alphabet[v >> 10 & 63];
        out[o++] = b64url_alphabet[v >> 4 & 63];
        out[o++] = b64url_alphabet[(v & 15) << 2];
    }
    out[o] = '\0';
    return out;
}

/* Value of one base64url character, or -1 for anything outside the alphabet. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/*
 * Packs n (2..4) characters into acc, most significant first. Returns -1 on a
 * character outside the alphabet.
 */
static int b64url_pack(const char *in, size_t n, uint32_t *acc)
{
    uint32_t v = 0;
    for (size_t k = 0; k < n; k++) {
        int d = b64url_value((unsigned char)in[k]);
        if (d < 0)
            return -1;
        v = v << 6 | (uint32_t)d;
    }
    *acc = v;
    return 0;
}

/* Decodes the final group of 2 or 3 characters; unused low bits must be zero. */
static int b64url_decode_tail(const char *in, size_t n, unsigned char *out)
{
    uint32_t v;
    if (b64url_pack(in, n, &v) != 0)
        return -1;
    if (n == 2) {
        if (v & 0xf)
            return -1;
        out[0] = (unsigned char)(v >> 4);
        return 0;
    }
    if (v & 0x3)
        return -1;
    out[0] = (unsigned char)(v >> 10);
    out[1] = (unsigned char)(v >> 2);
    return 0;
}

int rn_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
    if (out == NULL || outlen == NULL)
        return -1;
    *out = NULL;
    *outlen = 0;
    if ((in == NULL && len > 0) || len % 4 == 1)
        return -1;

    size_t rem = len % 4;
    size_t n = len / 4 * 3 + (rem ? rem - 1 : 0);
    unsigned char *buf = malloc(n + 1);
    if (buf == NULL)
        return -1;

    size_t o = 0;
    size_t i = 0;
    for (; i + 4 <= len; i += 4, o += 3) {
        uint32_t v;
        if (b64url_pack(in + i, 4, &v) != 0)
            goto fail;
        buf[o] = (unsigned char)(v >> 16);
        buf[o + 1] = (unsigned char)(v >> 8);
        buf[o + 2] = (unsigned char)v;
    }
    if (rem && b64url_decode_tail(in + i, rem, buf + o) != 0)
        goto fail;
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;

fail:
    free(buf);
    return -1;
}

/* ---- signing ------------------------------------------------------------ */

static char *jws_header_b64(const char *kid)
{
    json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", JWS_ALG, "kid", kid, "typ", JWS_TYP);
    if (hdr == NULL)
        return NULL;
    char *text = json_dumps(hdr, JWS_DUMP_FLAGS);
    json_decref(hdr);
    if (text == NULL)
        return NULL;
    char *b64 = rn_b64url_encode((const unsigned char *)text, strlen(text));
    free(text);
    return b64;
}

static char *jws_payload_b64(const json_t *claims)
{
    char *text = json_dumps(claims, JWS_DUMP_FLAGS);
    if (text == NULL)
        return NULL;
    char *b64 = rn_b64url_encode((const unsigned char *)text, strlen(text));
    free(text);
    return b64;
}

/* Joins header and payload and appends ".signature"; NULL if too long. */
static char *jws_assemble(const char *hdr, const char *payload, const unsigned char sk[64])
{
    size_t hlen = strlen(hdr);
    size_t plen = strlen(payload);
    /* An Ed25519 signature is 86 base64url characters, plus two dots. */
    if (hlen + plen > RN_JWS_MAX_TOKEN_LEN - 88)
        return NULL;

    char *token = malloc(RN_JWS_MAX_TOKEN_LEN + 1);
    if (token == NULL)
        return NULL;
    memcpy(token, hdr, hlen);
    token[hlen] = '.';
    memcpy(token + hlen + 1, payload, plen);
    size_t input_len = hlen + 1 + plen;

    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)token, input_len, sk);
    char *sig_b64 = rn_b64url_encode(sig, sizeof sig);
    if (sig_b64 == NULL) {
        free(token);
        return NULL;
    }
    token[input_len] = '.';
    memcpy(token + input_len + 1, sig_b64, strlen(sig_b64) + 1);
    free(sig_b64);
    return token;
}

char *rn_jws_sign(const json_t *claims, const char *kid, const unsigned char sk[64])
{
    if (!json_is_object(claims) || kid == NULL || kid[0] == '\0' || sk == NULL)
        return NULL;
    if (sodium_init() < 0)
        return NULL;

    char *token = NULL;
    char *hdr = jws_header_b64(kid);
    char *payload = jws_payload_b64(claims);
    if (hdr != NULL && payload != NULL)
        token = jws_assemble(hdr, payload, sk);
    free(hdr);
    free(payload);
    return token;
}

/* ---- verification ------------------------------------------------------- */

/* A borrowed view of one '.'-separated part of the token. */
struct jws_span {
    const char *p;
    size_t len;
};

struct jws_parts {
    struct jws_span header;
    struct jws_span payload;
    struct jws_span signature;
    size_t signing_input_len; /* "b64header.b64payload" */
    json_t *header_json;
    unsigned char *payload_raw;
    size_t payload_raw_len;
    unsigned char sig[crypto_sign_BYTES];
};

static void jws_parts_clear(struct jws_parts *jp)
{
    json_decref(jp->header_json);
    free(jp->payload_raw);
}

/* Splits token into exactly three parts; header and payload non-empty. */
static rn_jws_error jws_split(const char *token, struct jws_parts *jp)
{
    size_t len = strnlen(token, RN_JWS_MAX_TOKEN_LEN + 1);
    if (len > RN_JWS_MAX_TOKEN_LEN)
        return RN_JWS_MALFORMED;

    const char *dot1 = memchr(token, '.', len);
    if (dot1 == NULL)
        return RN_JWS_MALFORMED;
    const char *rest = dot1 + 1;
    const char *end = token + len;
    const char *dot2 = memchr(rest, '.', (size_t)(end - rest));
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return RN_JWS_MALFORMED;

    jp->header = (struct jws_span){ token, (size_t)(dot1 - token) };
    jp->payload = (struct jws_span){ rest, (size_t)(dot2 - rest) };
    jp->signature = (struct jws_span){ dot2 + 1, (size_t)(end - dot2 - 1) };
    jp->signing_input_len = (size_t)(dot2 - token);
    if (jp->header.len == 0 || jp->payload.len == 0)
        return RN_JWS_MALFORMED;
    return RN_JWS_OK;
}

/* Parses decoded bytes as a JSON object; duplicate keys and trailing bytes are refused. */
static json_t *jws_decode_object(const unsigned char *raw, size_t len)
{
    json_t *obj = json_loadb((const char *)raw, len, JWS_LOAD_FLAGS, NULL);
    if (obj != NULL && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static rn_jws_error jws_parse_header(struct jws_parts *jp)
{
    unsigned char *raw;
    size_t raw_len;
    if (rn_b64url_decode(jp->header.p, jp->header.len, &raw, &raw_len) != 0)
        return RN_JWS_MALFORMED;
    jp->header_json = jws_decode_object(raw, raw_len);
    free(raw);
    return jp->header_json != NULL ? RN_JWS_OK : RN_JWS_MALFORMED;
}

static rn_jws_error jws_check_header(const json_t *hdr)
{
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (alg == NULL || strcmp(alg, JWS_ALG) != 0)
        return RN_JWS_BAD_ALG;

    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    if (kid == NULL || kid[0] == '\0')
        return RN_JWS_MALFORMED;
    if (json_object_get(hdr, "crit") != NULL)
        return RN_JWS_MALFORMED;

    const json_t *typ = json_object_get(hdr, "typ");
    if (typ != NULL && (!json_is_string(typ) || strcmp(json_string_value(typ), JWS_TYP) != 0))
        return RN_JWS_MALFORMED;
    return RN_JWS_OK;
}

static rn_jws_error jws_decode_body(struct jws_parts *jp)
{
    if (rn_b64url_decode(jp->payload.p, jp->payload.len, &jp->payload_raw,
                         &jp->payload_raw_len) != 0)
        return RN_JWS_MALFORMED;

    unsigned char *sig;
    size_t sig_len;
    if (rn_b64url_decode(jp->signature.p, jp->signature.len, &sig, &sig_len) != 0)
        return RN_JWS_MALFORMED;
    rn_jws_error rc = RN_JWS_MALFORMED;
    if (sig_len == sizeof jp->sig) {
        memcpy(jp->sig, sig, sizeof jp->sig);
        rc = RN_JWS_OK;
    }
    free(sig);
    return rc;
}

static rn_jws_error jws_check_signature(const struct jws_parts *jp, const char *token,
                                        rn_jws_key_lookup lookup, void *ctx)
{
    const char *kid = json_string_value(json_object_get(jp->header_json, "kid"));
    unsigned char pk[crypto_sign_PUBLICKEYBYTES] = { 0 };
    if (lookup == NULL || lookup(ctx, kid, pk) != 0)
        return RN_JWS_UNKNOWN_KID;
    if (crypto_sign_verify_detached(jp->sig, (const unsigned char *)token,
                                    jp->signing_input_len, pk) != 0)
        return RN_JWS_BAD_SIGNATURE;
    return RN_JWS_OK;
}

static rn_jws_error jws_verify_parts(const char *token, struct jws_parts *jp,
                                     rn_jws_key_lookup lookup, void *ctx)
{
    rn_jws_error rc = jws_split(token, jp);
    if (rc == RN_JWS_OK)
        rc = jws_parse_header(jp);
    if (rc == RN_JWS_OK)
        rc = jws_check_header(jp->header_json);
    if (rc == RN_JWS_OK)
        rc = jws_decode_body(jp);
    if (rc == RN_JWS_OK)
        rc = jws_check_signature(jp, token, lookup, ctx);
    return rc;
}

json_t *rn_jws_verify(const char *token, rn_jws_key_lookup lookup, void *ctx, rn_jws_error *err)
{
    rn_jws_error rc = RN_JWS_MALFORMED;
    json_t *claims = NULL;
    struct jws_parts jp = { 0 };

    if (token != NULL && sodium_init() >= 0)
        rc = jws_verify_parts(token, &jp, lookup, ctx);
    if (rc == RN_JWS_OK) {
        claims = jws_decode_object(jp.payload_raw, jp.payload_raw_len);
        if (claims == NULL)
            rc = RN_JWS_MALFORMED;
    }
    jws_parts_clear(&jp);
    if (err != NULL)
        *err = rc;
    return claims;
}

/* ---- sealing ------------------------------------------------------------ */

char *rn_seal(const unsigned char master[32], const unsigned char *plain, size_t len)
{
    if (master == NULL || (plain == NULL && len > 0))
        return NULL;
    if (len > SIZE_MAX / 2 - SEAL_OVERHEAD)
        return NULL;
    if (sodium_init() < 0)
        return NULL;

    size_t boxed_len = SEAL_OVERHEAD + len;
    unsigned char *boxed = malloc(boxed_len);
    if (boxed == NULL)
        return NULL;
    unsigned char *nonce = boxed;
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(boxed + crypto_secretbox_NONCEBYTES, plain, len, nonce, master);

    char *b64 = rn_b64url_encode(boxed, boxed_len);
    free(boxed);
    if (b64 == NULL)
        return NULL;
    size_t b64_len = strlen(b64);
    char *sealed = malloc(SEAL_PREFIX_LEN + b64_len + 1);
    if (sealed != NULL) {
        memcpy(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN);
        memcpy(sealed + SEAL_PREFIX_LEN, b64, b64_len + 1);
    }
    free(b64);
    return sealed;
}

int rn_unseal(const unsigned char master[32], const char *sealed, unsigned char *out,
              size_t outcap, size_t *outlen)
{
    if (master == NULL || sealed == NULL || outlen == NULL || (out == NULL && outcap > 0))
        return -1;
    if (strncmp(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN) != 0)
        return -1;
    if (sodium_init() < 0)
        return -1;

    const char *body = sealed + SEAL_PREFIX_LEN;
    unsigned char *boxed;
    size_t boxed_len;
    if (rn_b64url_decode(body, strlen(body), &boxed, &boxed_len) != 0)
        return -1;

    int rc = -1;
    size_t plain_len = boxed_len >= SEAL_OVERHEAD ? boxed_len - SEAL_OVERHEAD : 0;
    if (boxed_len >= SEAL_OVERHEAD && plain_len <= outcap) {
        /* secretbox checks the tag before it decrypts, so a failure writes nothing. */
        unsigned char dummy;
        unsigned char *dst = out != NULL ? out : &dummy;
        rc = crypto_secretbox_open_easy(dst, boxed + crypto_secretbox_NONCEBYTES,
                                        boxed_len - crypto_secretbox_NONCEBYTES, boxed,
                                        master);
    }
    free(boxed);
    if (rc == 0)
        *outlen = plain_len;
    return rc == 0 ? 0 : -1;
}
