/* Unit tests for src/tokens/jws.c: base64url, EdDSA compact JWS, sealing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tokens/jws.h"

/* ---- fixtures ----------------------------------------------------------- */

struct test_key {
    const char *kid;
    unsigned char pk[32];
    unsigned char sk[64];
};

/*
 * k1, k2 and kid3 are known to the lookup; stranger is not. kid3 has a
 * four-character kid because with a two-character kid no token can be exactly
 * 8192 bytes long (base64url lengths are never 1 mod 4).
 */
static struct test_key key1 = { .kid = "k1" };
static struct test_key key2 = { .kid = "k2" };
static struct test_key key3 = { .kid = "kid3" };
static struct test_key stranger = { .kid = "stranger" };

static void key_from_seed(struct test_key *k, unsigned char fill)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    memset(seed, fill, sizeof seed);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

static int setup_keys(void **state)
{
    if (sodium_init() < 0)
        return -1;
    key_from_seed(&key1, 0x11);
    key_from_seed(&key2, 0x22);
    key_from_seed(&key3, 0x44);
    key_from_seed(&stranger, 0x33);
    return 0;
}

static int lookup_calls;

static int lookup(void *ctx, const char *kid, unsigned char pk[32])
{
    lookup_calls++;
    assert_ptr_equal(ctx, &key1);
    const struct test_key *known[] = { &key1, &key2, &key3 };
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(known[i]->kid, kid) == 0) {
            memcpy(pk, known[i]->pk, 32);
            return 0;
        }
    }
    return -1;
}

static char *b64s(const char *text)
{
    char *s = rn_b64url_encode((const unsigned char *)text, strlen(text));
    assert_non_null(s);
    return s;
}

/* Builds header.payload.signature from raw JSON texts, signed with sk. */
static char *craft_token(const char *header, const char *payload, const unsigned char *sk)
{
    char *h = b64s(header);
    char *p = b64s(payload);
    size_t input_len = strlen(h) + 1 + strlen(p);
    char *tok = malloc(input_len + 1 + 87);
    assert_non_null(tok);
    sprintf(tok, "%s.%s", h, p);
    unsigned char sig[64];
    crypto_sign_detached(sig, NULL, (unsigned char *)tok, input_len, sk);
    char *s = rn_b64url_encode(sig, sizeof sig);
    sprintf(tok + input_len, ".%s", s);
    free(h);
    free(p);
    free(s);
    return tok;
}

static const char good_header[] = "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"JWT\"}";
static const char good_payload[] = "{\"sub\":\"alice\",\"tid\":\"t-1\"}";

/* Runs verify and asserts the outcome is exactly the expected error. */
static void expect_error(const char *token, rn_jws_error want)
{
    rn_jws_error err = (rn_jws_error)-1;
    json_t *claims = rn_jws_verify(token, lookup, &key1, &err);
    assert_null(claims);
    assert_int_equal(err, want);
}

static void expect_crafted(const char *header, const char *payload, const unsigned char *sk,
                           rn_jws_error want)
{
    char *tok = craft_token(header, payload, sk);
    expect_error(tok, want);
    free(tok);
}

static json_t *sample_claims(void)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:[s,s]}", "iss",
                          "https://api.example.test", "aud", "ringnity:agent", "sub", "alice",
                          "iat", (json_int_t)1700000000, "exp", (json_int_t)1700000900, "ok", 1,
                          "scope", "agent:profile:read", "agent:presence:read");
    assert_non_null(c);
    return c;
}

/* ---- base64url ---------------------------------------------------------- */

static void assert_decodes_to(const char *in, const char *want, size_t want_len)
{
    unsigned char *out = NULL;
    size_t out_len = 99;
    assert_int_equal(rn_b64url_decode(in, strlen(in), &out, &out_len), 0);
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[out_len], 0);
    free(out);
}

static void assert_rejected_n(const char *in, size_t len)
{
    unsigned char *out = (unsigned char *)"sentinel";
    size_t out_len = 99;
    assert_int_equal(rn_b64url_decode(in, len, &out, &out_len), -1);
    assert_null(out);
    assert_int_equal(out_len, 0);
}

static void assert_rejected(const char *in)
{
    assert_rejected_n(in, strlen(in));
}

static void b64url_matches_rfc4648_vectors(void **state)
{
    static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *coded[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    for (size_t i = 0; i < 7; i++) {
        char *enc = rn_b64url_encode((const unsigned char *)plain[i], strlen(plain[i]));
        assert_string_equal(enc, coded[i]);
        free(enc);
        assert_decodes_to(coded[i], plain[i], strlen(plain[i]));
    }
}

static void b64url_uses_the_url_safe_alphabet(void **state)
{
    /* Standard base64 spells these "+/8=", "++++", "////" and "+++++/8=". */
    const unsigned char in[] = { 0xfb, 0xef, 0xbe, 0xfb, 0xff };
    char *enc = rn_b64url_encode(in + 3, 2);
    assert_string_equal(enc, "-_8");
    free(enc);
    enc = rn_b64url_encode(in, sizeof in);
    assert_string_equal(enc, "-----_8");
    free(enc);
    assert_decodes_to("-_8", "\xfb\xff", 2);
    assert_decodes_to("----", "\xfb\xef\xbe", 3);
    assert_decodes_to("____", "\xff\xff\xff", 3);
    assert_decodes_to("-----_8", (const char *)in, sizeof in);
}

static void b64url_rejects_non_strict_input(void **state)
{
    assert_rejected("Zg==");     /* padding */
    assert_rejected("Zm8=");     /* padding */
    assert_rejected("Zg=");      /* padding */
    assert_rejected("+/8");      /* standard alphabet */
    assert_rejected("Zm9v+m8");  /* '+' inside */
    assert_rejected("Zm9v/m8");  /* '/' inside */
    assert_rejected("Zm 9v");    /* space */
    assert_rejected("Zm9v\n");   /* newline */
    assert_rejected("\tZm9v");   /* tab */
    assert_rejected("Z");        /* one char cannot encode a byte */
    assert_rejected("Zm9vY");    /* length 1 mod 4 */
    assert_rejected("Zh");       /* "f" with non-zero trailing bits */
    assert_rejected("Zm9");      /* "fo" with non-zero trailing bits */
    assert_rejected("Zm9vYh");   /* non-canonical after a full group */
    assert_rejected("Zm.v");     /* '.' */
    assert_rejected("Zm\xc3\xa9"); /* non-ASCII */
    assert_rejected_n("Zm\0v", 4); /* embedded NUL */
    assert_rejected_n(NULL, 4);
}

static void b64url_round_trips_every_length_and_byte(void **state)
{
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 167 + 13);
    for (size_t len = 0; len <= sizeof buf; len++) {
        char *enc = rn_b64url_encode(buf, len);
        assert_non_null(enc);
        assert_int_equal(strlen(enc), (len * 4 + 2) / 3);
        unsigned char *dec;
        size_t dec_len;
        assert_int_equal(rn_b64url_decode(enc, strlen(enc), &dec, &dec_len), 0);
        assert_int_equal(dec_len, len);
        assert_memory_equal(dec, buf, len);
        free(dec);
        free(enc);
    }
}

/* Every accepted 2- and 3-character string must be the encoding of what it decodes to. */
static void b64url_accepts_exactly_one_encoding_per_value(void **state)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t accepted2 = 0;
    size_t accepted3 = 0;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char in[3] = { (char)a, (char)b, 0 };
            unsigned char *dec;
            size_t n;
            if (rn_b64url_decode(in, 2, &dec, &n) != 0)
                continue;
            char *re = rn_b64url_encode(dec, n);
            assert_string_equal(re, in);
            free(re);
            free(dec);
            accepted2++;
        }
    }
    for (int a = 0; a < 64; a++) {
        for (int b = 0; b < 64; b++) {
            for (int c = 0; c < 64; c++) {
                char in[4] = { alpha[a], alpha[b], alpha[c], 0 };
                unsigned char *dec;
                size_t n;
                if (rn_b64url_decode(in, 3, &dec, &n) != 0)
                    continue;
                char *re = rn_b64url_encode(dec, n);
                assert_string_equal(re, in);
                free(re);
                free(dec);
                accepted3++;
            }
        }
    }
    assert_int_equal(accepted2, 256);
    assert_int_equal(accepted3, 65536);
}

/* ---- RFC 8037 appendix A ------------------------------------------------ */

static void hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned int v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

static void ed25519_matches_rfc8037_a4_vector(void **state)
{
    /* RFC 8037 A.1 key (the RFC 8032 section 7.1 TEST 1 key), in both spellings. */
    const char *d_b64 = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const char *x_b64 = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    unsigned char d_hex[32];
    unsigned char x_hex[32];
    hex_to_bytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", d_hex, 32);
    hex_to_bytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", x_hex, 32);

    unsigned char *d;
    unsigned char *x;
    size_t n;
    assert_int_equal(rn_b64url_decode(d_b64, strlen(d_b64), &d, &n), 0);
    assert_int_equal(n, 32);
    assert_memory_equal(d, d_hex, 32);
    assert_int_equal(rn_b64url_decode(x_b64, strlen(x_b64), &x, &n), 0);
    assert_int_equal(n, 32);
    assert_memory_equal(x, x_hex, 32);

    unsigned char pk[32];
    unsigned char sk[64];
    crypto_sign_seed_keypair(pk, sk, d);
    assert_memory_equal(pk, x, 32);

    /* A.4: header {"alg":"EdDSA"}, payload "Example of Ed25519 signing". */
    char *h = b64s("{\"alg\":\"EdDSA\"}");
    char *p = b64s("Example of Ed25519 signing");
    assert_string_equal(h, "eyJhbGciOiJFZERTQSJ9");
    assert_string_equal(p, "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
    const char *input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    unsigned char sig[64];
    crypto_sign_detached(sig, NULL, (const unsigned char *)input, strlen(input), sk);
    char *sig_b64 = rn_b64url_encode(sig, sizeof sig);
    assert_string_equal(sig_b64, "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4k"
                                 "i4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
    assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)input,
                                                 strlen(input), x), 0);

    /* The RFC token is validly signed but has no kid, which this profile requires. */
    char token[256];
    snprintf(token, sizeof token, "%s.%s", input, sig_b64);
    expect_error(token, RN_JWS_MALFORMED);

    free(h);
    free(p);
    free(sig_b64);
    free(d);
    free(x);
}

/* ---- sign and verify ---------------------------------------------------- */

static void sign_then_verify_returns_the_exact_claims(void **state)
{
    json_t *claims = sample_claims();
    char *token = rn_jws_sign(claims, "k1", key1.sk);
    assert_non_null(token);

    /* The header is exactly the documented one, byte for byte. */
    char *want_hdr = b64s(good_header);
    assert_int_equal(strncmp(token, want_hdr, strlen(want_hdr)), 0);
    assert_int_equal(token[strlen(want_hdr)], '.');

    /* The payload is the compact, key-sorted JSON of the claims. */
    const char *payload_b64 = token + strlen(want_hdr) + 1;
    const char *dot = strchr(payload_b64, '.');
    assert_non_null(dot);
    unsigned char *payload;
    size_t payload_len;
    assert_int_equal(rn_b64url_decode(payload_b64, (size_t)(dot - payload_b64), &payload,
                                      &payload_len), 0);
    assert_string_equal((char *)payload,
                        "{\"aud\":\"ringnity:agent\",\"exp\":1700000900,\"iat\":1700000000,"
                        "\"iss\":\"https://api.example.test\",\"ok\":true,"
                        "\"scope\":[\"agent:profile:read\",\"agent:presence:read\"],"
                        "\"sub\":\"alice\"}");
    assert_int_equal(strlen(dot + 1), 86);

    rn_jws_error err = (rn_jws_error)-1;
    lookup_calls = 0;
    json_t *got = rn_jws_verify(token, lookup, &key1, &err);
    assert_non_null(got);
    assert_int_equal(err, RN_JWS_OK);
    assert_int_equal(lookup_calls, 1);
    assert_true(json_equal(got, claims));
    assert_string_equal(json_string_value(json_object_get(got, "sub")), "alice");
    assert_int_equal(json_integer_value(json_object_get(got, "exp")), 1700000900);

    /* err may be NULL. */
    json_t *again = rn_jws_verify(token, lookup, &key1, NULL);
    assert_non_null(again);

    json_decref(again);
    json_decref(got);
    json_decref(claims);
    free(payload);
    free(want_hdr);
    free(token);
}

static void sign_is_deterministic_and_uses_the_given_kid(void **state)
{
    json_t *claims = sample_claims();
    char *a = rn_jws_sign(claims, "k2", key2.sk);
    char *b = rn_jws_sign(claims, "k2", key2.sk);
    assert_string_equal(a, b);

    rn_jws_error err;
    json_t *got = rn_jws_verify(a, lookup, &key1, &err);
    assert_int_equal(err, RN_JWS_OK);
    assert_true(json_equal(got, claims));

    json_decref(got);
    json_decref(claims);
    free(a);
    free(b);
}

static void sign_rejects_bad_arguments(void **state)
{
    json_t *claims = sample_claims();
    json_t *array = json_array();
    assert_null(rn_jws_sign(NULL, "k1", key1.sk));
    assert_null(rn_jws_sign(array, "k1", key1.sk));
    assert_null(rn_jws_sign(claims, NULL, key1.sk));
    assert_null(rn_jws_sign(claims, "", key1.sk));
    assert_null(rn_jws_sign(claims, "k1", NULL));
    json_decref(array);
    json_decref(claims);
}

/* Finds claims whose token is exactly target bytes long, signed by rn_jws_sign. */
static char *token_of_length(size_t target)
{
    char *pad = malloc(target + 1);
    assert_non_null(pad);
    for (size_t n = target * 3 / 4 - 200; n < target; n++) {
        memset(pad, 'x', n);
        pad[n] = '\0';
        json_t *claims = json_pack("{s:s}", "pad", pad);
        char *tok = rn_jws_sign(claims, key3.kid, key3.sk);
        json_decref(claims);
        if (tok != NULL && strlen(tok) == target) {
            free(pad);
            return tok;
        }
        free(tok);
    }
    free(pad);
    return NULL;
}

static void verify_accepts_exactly_8192_bytes_and_sign_refuses_more(void **state)
{
    char *tok = token_of_length(RN_JWS_MAX_TOKEN_LEN);
    assert_non_null(tok);
    rn_jws_error err;
    json_t *got = rn_jws_verify(tok, lookup, &key1, &err);
    assert_non_null(got);
    assert_int_equal(err, RN_JWS_OK);
    json_decref(got);
    free(tok);

    /* Anything longer is not produced at all. */
    char pad[8200];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    json_t *claims = json_pack("{s:s}", "pad", pad);
    assert_null(rn_jws_sign(claims, key3.kid, key3.sk));
    json_decref(claims);
}

static void verify_rejects_a_validly_signed_8193_byte_token(void **state)
{
    /* Grow a crafted payload until the signed token is exactly one byte too long. */
    char *payload = malloc(RN_JWS_MAX_TOKEN_LEN);
    assert_non_null(payload);
    char *tok = NULL;
    for (size_t n = 5000; n < 7000 && tok == NULL; n++) {
        snprintf(payload, RN_JWS_MAX_TOKEN_LEN, "{\"p\":\"%0*d\"}", (int)n, 0);
        char *t = craft_token(good_header, payload, key1.sk);
        if (strlen(t) == RN_JWS_MAX_TOKEN_LEN + 1)
            tok = t;
        else
            free(t);
    }
    assert_non_null(tok);
    expect_error(tok, RN_JWS_MALFORMED);
    free(tok);
    free(payload);
}

static void verify_rejects_a_9000_byte_token(void **state)
{
    char payload[7000];
    snprintf(payload, sizeof payload, "{\"p\":\"%06700d\"}", 0);
    char *tok = craft_token(good_header, payload, key1.sk);
    assert_true(strlen(tok) >= 9000);
    tok[9000] = '\0';
    assert_int_equal(strlen(tok), 9000);
    lookup_calls = 0;
    expect_error(tok, RN_JWS_MALFORMED);
    assert_int_equal(lookup_calls, 0);
    free(tok);

    /* A 9000-byte run of base64url characters with no dots at all. */
    char *blob = malloc(9001);
    assert_non_null(blob);
    memset(blob, 'A', 9000);
    blob[9000] = '\0';
    expect_error(blob, RN_JWS_MALFORMED);
    free(blob);
}

static void verify_rejects_an_edited_payload_byte(void **state)
{
    json_t *claims = sample_claims();
    char *tok = rn_jws_sign(claims, "k1", key1.sk);
    char *payload = strchr(tok, '.') + 1;
    /* Change one character inside the payload part (not its last one). */
    payload[10] = payload[10] == 'A' ? 'B' : 'A';
    expect_error(tok, RN_JWS_BAD_SIGNATURE);
    json_decref(claims);
    free(tok);
}

static void verify_rejects_a_signature_from_another_key(void **state)
{
    json_t *claims = sample_claims();
    char *tok = rn_jws_sign(claims, "k1", stranger.sk);
    expect_error(tok, RN_JWS_BAD_SIGNATURE);
    free(tok);

    /* k2's genuine signature presented under kid k1. */
    tok = rn_jws_sign(claims, "k1", key2.sk);
    expect_error(tok, RN_JWS_BAD_SIGNATURE);
    free(tok);
    json_decref(claims);
}

static void verify_rejects_a_header_with_a_swapped_kid(void **state)
{
    json_t *claims = sample_claims();
    char *tok = rn_jws_sign(claims, "k1", key1.sk);
    char *hdr2 = b64s("{\"alg\":\"EdDSA\",\"kid\":\"k2\",\"typ\":\"JWT\"}");
    char *hdr1 = b64s(good_header);
    assert_int_equal(strlen(hdr1), strlen(hdr2));
    memcpy(tok, hdr2, strlen(hdr2));
    expect_error(tok, RN_JWS_BAD_SIGNATURE);
    free(hdr1);
    free(hdr2);
    free(tok);
    json_decref(claims);
}

static void verify_rejects_alg_none_with_empty_signature(void **state)
{
    char *h = b64s("{\"alg\":\"none\",\"kid\":\"k1\",\"typ\":\"JWT\"}");
    char *p = b64s(good_payload);
    char tok[512];
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    lookup_calls = 0;
    expect_error(tok, RN_JWS_BAD_ALG);
    assert_int_equal(lookup_calls, 0);

    /* Same without a kid or typ, the classic unsigned token. */
    free(h);
    h = b64s("{\"alg\":\"none\"}");
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    expect_error(tok, RN_JWS_BAD_ALG);
    free(h);
    free(p);
}

static void verify_rejects_alg_hs256(void **state)
{
    /* An HMAC keyed with the public key: the classic algorithm-confusion attack. */
    char *h = b64s("{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}");
    char *p = b64s(good_payload);
    char input[512];
    snprintf(input, sizeof input, "%s.%s", h, p);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key1.pk, sizeof key1.pk);
    crypto_auth_hmacsha256_update(&st, (unsigned char *)input, strlen(input));
    crypto_auth_hmacsha256_final(&st, mac);
    char *m = rn_b64url_encode(mac, sizeof mac);
    char tok[600];
    snprintf(tok, sizeof tok, "%s.%s", input, m);
    expect_error(tok, RN_JWS_BAD_ALG);
    free(h);
    free(p);
    free(m);
}

static void verify_rejects_every_other_alg(void **state)
{
    static const char *headers[] = {
        "{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"kid\":\"k1\"}",
        "{\"alg\":\"eddsa\",\"kid\":\"k1\"}",
        "{\"alg\":\"EdDSA \",\"kid\":\"k1\"}",
        "{\"alg\":\"Ed25519\",\"kid\":\"k1\"}",
        "{\"alg\":\"\",\"kid\":\"k1\"}",
        "{\"alg\":null,\"kid\":\"k1\"}",
        "{\"alg\":[\"EdDSA\"],\"kid\":\"k1\"}",
        "{\"alg\":1,\"kid\":\"k1\"}",
        "{\"kid\":\"k1\",\"typ\":\"JWT\"}",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        expect_crafted(headers[i], good_payload, key1.sk, RN_JWS_BAD_ALG);
}

static void verify_rejects_an_unknown_kid(void **state)
{
    json_t *claims = sample_claims();
    char *tok = rn_jws_sign(claims, "stranger", stranger.sk);
    lookup_calls = 0;
    expect_error(tok, RN_JWS_UNKNOWN_KID);
    assert_int_equal(lookup_calls, 1);
    free(tok);
    json_decref(claims);

    /* Without a lookup nothing is known. */
    rn_jws_error err;
    tok = craft_token(good_header, good_payload, key1.sk);
    assert_null(rn_jws_verify(tok, NULL, NULL, &err));
    assert_int_equal(err, RN_JWS_UNKNOWN_KID);
    free(tok);
}

static void verify_rejects_two_and_four_parts(void **state)
{
    char *tok = craft_token(good_header, good_payload, key1.sk);
    char buf[1024];

    char *last_dot = strrchr(tok, '.');
    snprintf(buf, sizeof buf, "%.*s", (int)(last_dot - tok), tok);
    expect_error(buf, RN_JWS_MALFORMED); /* header.payload */

    snprintf(buf, sizeof buf, "%s.%s", tok, last_dot + 1);
    expect_error(buf, RN_JWS_MALFORMED); /* header.payload.sig.sig */
    snprintf(buf, sizeof buf, "%s.", tok);
    expect_error(buf, RN_JWS_MALFORMED); /* trailing dot */

    expect_error("abc", RN_JWS_MALFORMED);
    expect_error("a.b.c.d.e", RN_JWS_MALFORMED);
    free(tok);
}

static void verify_rejects_empty_parts(void **state)
{
    char *tok = craft_token(good_header, good_payload, key1.sk);
    char *h = b64s(good_header);
    char *p = b64s(good_payload);
    const char *sig = strrchr(tok, '.') + 1;
    char buf[1024];

    expect_error("", RN_JWS_MALFORMED);
    expect_error("..", RN_JWS_MALFORMED);
    snprintf(buf, sizeof buf, ".%s.%s", p, sig);
    expect_error(buf, RN_JWS_MALFORMED);
    snprintf(buf, sizeof buf, "%s..%s", h, sig);
    expect_error(buf, RN_JWS_MALFORMED);
    snprintf(buf, sizeof buf, "%s.%s.", h, p);
    expect_error(buf, RN_JWS_MALFORMED);
    expect_error(NULL, RN_JWS_MALFORMED);
    free(tok);
    free(h);
    free(p);
}

static void verify_rejects_an_invalid_json_header(void **state)
{
    expect_crafted("{\"alg\":\"EdDSA\",\"kid\":\"k1\"", good_payload, key1.sk,
                   RN_JWS_MALFORMED);
    expect_crafted("{'alg':'EdDSA','kid':'k1'}", good_payload, key1.sk, RN_JWS_MALFORMED);
    expect_crafted("{\"alg\":\"EdDSA\",\"kid\":\"k1\"}x", good_payload, key1.sk,
                   RN_JWS_MALFORMED);
    expect_crafted("", good_payload, key1.sk, RN_JWS_MALFORMED);

    /* Header part that is not base64url at all. */
    char *tok = craft_token(good_header, good_payload, key1.sk);
    tok[0] = '+';
    expect_error(tok, RN_JWS_MALFORMED);
    free(tok);
}

static void verify_rejects_a_header_that_is_not_an_object(void **state)
{
    expect_crafted("[\"EdDSA\",\"k1\"]", good_payload, key1.sk, RN_JWS_MALFORMED);
    expect_crafted("[{\"alg\":\"EdDSA\",\"kid\":\"k1\"}]", good_payload, key1.sk,
                   RN_JWS_MALFORMED);
    expect_crafted("\"EdDSA\"", good_payload, key1.sk, RN_JWS_MALFORMED);
    expect_crafted("null", good_payload, key1.sk, RN_JWS_MALFORMED);
    expect_crafted("42", good_payload, key1.sk, RN_JWS_MALFORMED);
}

static void verify_rejects_duplicate_header_members(void **state)
{
    expect_crafted("{\"alg\":\"none\",\"alg\":\"EdDSA\",\"kid\":\"k1\"}", good_payload,
                   key1.sk, RN_JWS_MALFORMED);
    expect_crafted("{\"alg\":\"EdDSA\",\"kid\":\"k2\",\"kid\":\"k1\"}", good_payload,
                   key1.sk, RN_JWS_MALFORMED);
}

static void verify_checks_kid_crit_and_typ(void **state)
{
    static const char *bad[] = {
        "{\"alg\":\"EdDSA\"}",
        "{\"alg\":\"EdDSA\",\"kid\":\"\"}",
        "{\"alg\":\"EdDSA\",\"kid\":7}",
        "{\"alg\":\"EdDSA\",\"kid\":null}",
        "{\"alg\":\"EdDSA\",\"kid\":[\"k1\"]}",
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"crit\":[]}",
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"JOSE\"}",
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"jwt\"}",
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":null}",
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":1}",
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\\u0000x\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lookup_calls = 0;
        expect_crafted(bad[i], good_payload, key1.sk, RN_JWS_MALFORMED);
        assert_int_equal(lookup_calls, 0);
    }

    /* typ may be absent, and unrelated header members are ignored. */
    static const char *good[] = {
        "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}",
        "{\"kid\":\"k1\",\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"cty\":\"x\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        char *tok = craft_token(good[i], good_payload, key1.sk);
        rn_jws_error err;
        json_t *got = rn_jws_verify(tok, lookup, &key1, &err);
        assert_non_null(got);
        assert_int_equal(err, RN_JWS_OK);
        assert_string_equal(json_string_value(json_object_get(got, "tid")), "t-1");
        json_decref(got);
        free(tok);
    }
}

static void verify_rejects_duplicate_keys_in_the_payload(void **state)
{
    expect_crafted(good_header, "{\"sub\":\"alice\",\"sub\":\"admin\"}", key1.sk,
                   RN_JWS_MALFORMED);
}

static void verify_rejects_a_payload_that_is_not_an_object(void **state)
{
    static const char *payloads[] = {
        "[{\"sub\":\"alice\"}]", "\"alice\"", "null", "1", "{\"sub\":\"alice\"",
        "{\"sub\":\"alice\"}x", "Example of Ed25519 signing",
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        expect_crafted(good_header, payloads[i], key1.sk, RN_JWS_MALFORMED);
}

static void verify_rejects_a_malformed_signature(void **state)
{
    char *tok = craft_token(good_header, good_payload, key1.sk);
    char buf[1024];
    char *sig = strrchr(tok, '.') + 1;
    size_t sig_len = strlen(sig);
    assert_int_equal(sig_len, 86);

    snprintf(buf, sizeof buf, "%.*s", (int)(sig - tok + 85), tok); /* 85 chars: 1 mod 4 */
    expect_error(buf, RN_JWS_MALFORMED);
    snprintf(buf, sizeof buf, "%.*s", (int)(sig - tok + 84), tok); /* 63 bytes */
    expect_error(buf, RN_JWS_MALFORMED);
    snprintf(buf, sizeof buf, "%sAA", tok); /* 65 bytes */
    expect_error(buf, RN_JWS_MALFORMED);
    snprintf(buf, sizeof buf, "%s==", tok); /* padded */
    expect_error(buf, RN_JWS_MALFORMED);

    /* Non-zero trailing bits: the same 64 bytes spelled a second way. */
    char last = sig[85];
    const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *pos = strchr(alpha, last);
    assert_non_null(pos);
    sig[85] = alpha[(pos - alpha) + 1];
    expect_error(tok, RN_JWS_MALFORMED);
    sig[85] = last;

    /* A payload part outside the alphabet. */
    char *payload = strchr(tok, '.') + 1;
    payload[0] = '/';
    expect_error(tok, RN_JWS_MALFORMED);
    free(tok);
}

static void verify_rejects_any_single_character_change(void **state)
{
    char *tok = craft_token(good_header, good_payload, key1.sk);
    size_t len = strlen(tok);
    static const char subs[] = { 'A', 'B', 'g', '-', '_', '.', '=', '+', ' ' };
    size_t rejected = 0;
    for (size_t i = 0; i < len; i++) {
        char orig = tok[i];
        for (size_t s = 0; s < sizeof subs; s++) {
            if (subs[s] == orig)
                continue;
            tok[i] = subs[s];
            rn_jws_error err = RN_JWS_OK;
            json_t *got = rn_jws_verify(tok, lookup, &key1, &err);
            assert_null(got);
            assert_int_not_equal(err, RN_JWS_OK);
            rejected++;
        }
        tok[i] = orig;
    }
    /* And every proper prefix. */
    for (size_t cut = 0; cut < len; cut++) {
        char saved = tok[cut];
        tok[cut] = '\0';
        expect_error(tok, RN_JWS_MALFORMED);
        tok[cut] = saved;
        rejected++;
    }
    assert_true(rejected > len * 8);
    free(tok);
}

/* ---- sealing ------------------------------------------------------------ */

static const unsigned char master_a[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                            17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                                            30, 31, 32 };

static void seal_round_trips_a_signing_key(void **state)
{
    char *sealed = rn_seal(master_a, key1.sk, sizeof key1.sk);
    assert_non_null(sealed);
    assert_int_equal(strncmp(sealed, "v1.", 3), 0);
    /* 24-byte nonce + 16-byte tag + 64-byte secret = 104 bytes = 139 characters. */
    assert_int_equal(strlen(sealed), 3 + 139);

    unsigned char out[64];
    size_t out_len = 0;
    assert_int_equal(rn_unseal(master_a, sealed, out, sizeof out, &out_len), 0);
    assert_int_equal(out_len, 64);
    assert_memory_equal(out, key1.sk, 64);

    /* A fresh nonce each time. */
    char *again = rn_seal(master_a, key1.sk, sizeof key1.sk);
    assert_string_not_equal(again, sealed);
    assert_int_equal(rn_unseal(master_a, again, out, sizeof out, &out_len), 0);
    assert_memory_equal(out, key1.sk, 64);

    /* The unsealed key still signs tokens that verify. */
    json_t *claims = sample_claims();
    char *tok = rn_jws_sign(claims, "k1", out);
    rn_jws_error err;
    json_t *got = rn_jws_verify(tok, lookup, &key1, &err);
    assert_int_equal(err, RN_JWS_OK);
    json_decref(got);
    json_decref(claims);
    free(tok);
    free(again);
    free(sealed);
}

static void seal_round_trips_an_empty_secret(void **state)
{
    char *sealed = rn_seal(master_a, NULL, 0);
    assert_non_null(sealed);
    unsigned char out[1] = { 0xaa };
    size_t out_len = 99;
    assert_int_equal(rn_unseal(master_a, sealed, out, 0, &out_len), 0);
    assert_int_equal(out_len, 0);
    assert_int_equal(out[0], 0xaa);
    free(sealed);
}

static void assert_unseal_fails_untouched(const unsigned char *master, const char *sealed)
{
    unsigned char out[128];
    memset(out, 0xaa, sizeof out);
    size_t out_len = 77;
    assert_int_equal(rn_unseal(master, sealed, out, sizeof out, &out_len), -1);
    assert_int_equal(out_len, 77);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0xaa);
}

static void unseal_rejects_the_wrong_master_key(void **state)
{
    unsigned char master_b[32];
    memcpy(master_b, master_a, 32);
    master_b[31] ^= 0x01;
    char *sealed = rn_seal(master_a, key1.sk, sizeof key1.sk);
    assert_unseal_fails_untouched(master_b, sealed);
    free(sealed);
}

static void unseal_rejects_any_flipped_byte(void **state)
{
    char *sealed = rn_seal(master_a, key1.sk, sizeof key1.sk);
    unsigned char *boxed;
    size_t boxed_len;
    assert_int_equal(rn_b64url_decode(sealed + 3, strlen(sealed + 3), &boxed, &boxed_len), 0);
    assert_int_equal(boxed_len, 104);
    for (size_t i = 0; i < boxed_len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            boxed[i] ^= (unsigned char)(1u << bit);
            char *body = rn_b64url_encode(boxed, boxed_len);
            char tampered[256];
            snprintf(tampered, sizeof tampered, "v1.%s", body);
            assert_unseal_fails_untouched(master_a, tampered);
            free(body);
            boxed[i] ^= (unsigned char)(1u << bit);
        }
    }
    free(boxed);
    free(sealed);
}

static void unseal_rejects_truncation(void **state)
{
    char *sealed = rn_seal(master_a, key1.sk, sizeof key1.sk);
    size_t len = strlen(sealed);
    for (size_t cut = 0; cut < len; cut++) {
        char saved = sealed[cut];
        sealed[cut] = '\0';
        assert_unseal_fails_untouched(master_a, sealed);
        sealed[cut] = saved;
    }
    free(sealed);
}

static void unseal_rejects_bad_format_and_small_buffers(void **state)
{
    char *sealed = rn_seal(master_a, key1.sk, sizeof key1.sk);
    char buf[256];

    snprintf(buf, sizeof buf, "v2.%s", sealed + 3);
    assert_unseal_fails_untouched(master_a, buf);
    snprintf(buf, sizeof buf, "%s", sealed + 3);
    assert_unseal_fails_untouched(master_a, buf);
    snprintf(buf, sizeof buf, "%s=", sealed);
    assert_unseal_fails_untouched(master_a, buf);
    snprintf(buf, sizeof buf, " %s", sealed);
    assert_unseal_fails_untouched(master_a, buf);
    snprintf(buf, sizeof buf, "%sAAAA", sealed);
    assert_unseal_fails_untouched(master_a, buf);
    assert_unseal_fails_untouched(master_a, "v1.");
    assert_unseal_fails_untouched(master_a, "");
    assert_unseal_fails_untouched(master_a, NULL);

    unsigned char out[64];
    size_t out_len = 5;
    assert_int_equal(rn_unseal(master_a, sealed, out, 63, &out_len), -1);
    assert_int_equal(out_len, 5);
    assert_int_equal(rn_unseal(NULL, sealed, out, 64, &out_len), -1);
    assert_int_equal(rn_unseal(master_a, sealed, out, 64, NULL), -1);
    assert_int_equal(rn_unseal(master_a, sealed, out, 64, &out_len), 0);
    assert_int_equal(out_len, 64);

    assert_null(rn_seal(NULL, key1.sk, 64));
    assert_null(rn_seal(master_a, NULL, 1));
    free(sealed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64url_matches_rfc4648_vectors),
        cmocka_unit_test(b64url_uses_the_url_safe_alphabet),
        cmocka_unit_test(b64url_rejects_non_strict_input),
        cmocka_unit_test(b64url_round_trips_every_length_and_byte),
        cmocka_unit_test(b64url_accepts_exactly_one_encoding_per_value),
        cmocka_unit_test(ed25519_matches_rfc8037_a4_vector),
        cmocka_unit_test(sign_then_verify_returns_the_exact_claims),
        cmocka_unit_test(sign_is_deterministic_and_uses_the_given_kid),
        cmocka_unit_test(sign_rejects_bad_arguments),
        cmocka_unit_test(verify_accepts_exactly_8192_bytes_and_sign_refuses_more),
        cmocka_unit_test(verify_rejects_a_validly_signed_8193_byte_token),
        cmocka_unit_test(verify_rejects_a_9000_byte_token),
        cmocka_unit_test(verify_rejects_an_edited_payload_byte),
        cmocka_unit_test(verify_rejects_a_signature_from_another_key),
        cmocka_unit_test(verify_rejects_a_header_with_a_swapped_kid),
        cmocka_unit_test(verify_rejects_alg_none_with_empty_signature),
        cmocka_unit_test(verify_rejects_alg_hs256),
        cmocka_unit_test(verify_rejects_every_other_alg),
        cmocka_unit_test(verify_rejects_an_unknown_kid),
        cmocka_unit_test(verify_rejects_two_and_four_parts),
        cmocka_unit_test(verify_rejects_empty_parts),
        cmocka_unit_test(verify_rejects_an_invalid_json_header),
        cmocka_unit_test(verify_rejects_a_header_that_is_not_an_object),
        cmocka_unit_test(verify_rejects_duplicate_header_members),
        cmocka_unit_test(verify_checks_kid_crit_and_typ),
        cmocka_unit_test(verify_rejects_duplicate_keys_in_the_payload),
        cmocka_unit_test(verify_rejects_a_payload_that_is_not_an_object),
        cmocka_unit_test(verify_rejects_a_malformed_signature),
        cmocka_unit_test(verify_rejects_any_single_character_change),
        cmocka_unit_test(seal_round_trips_a_signing_key),
        cmocka_unit_test(seal_round_trips_an_empty_secret),
        cmocka_unit_test(unseal_rejects_the_wrong_master_key),
        cmocka_unit_test(unseal_rejects_any_flipped_byte),
        cmocka_unit_test(unseal_rejects_truncation),
        cmocka_unit_test(unseal_rejects_bad_format_and_small_buffers),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
