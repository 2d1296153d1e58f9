/*
 * test_tokens_store.c — signing keys, minting and verification against a
 * real store (tests/unit/store_fixture.h): SQLite in a temporary file
 * always, and a fresh database on the PostgreSQL server RN_TEST_PG_URL
 * names (dropped at the end); without it the PostgreSQL group is skipped.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/util.h"
#include "store_fixture.h"
#include "tokens/jws.h"
#include "tokens/keyring.h"
#include "tokens/tokens.h"

#define ISSUER "https://api.example.test"

static unsigned char MASTER[32], OTHER_MASTER[32];

/* ---- fixtures ------------------------------------------------------------ */

static int setup_sqlite(void **state)
{
    return rn_test_fixture_open(state, sizeof(rn_test_store), false, "tokens", 6);
}

static int setup_pg(void **state)
{
    return rn_test_fixture_open(state, sizeof(rn_test_store), true, "tokens", 6);
}

static int teardown_store(void **state)
{
    int rc = rn_test_fixture_close(state);
    rn_keyring_forget();
    return rc;
}

/* Every case starts without keys and with a cold cache. */
static int fresh_keys(void **state)
{
    rn_test_store *st = *state;
    rn_keyring_forget();
    if (st)
        rn_db_exec(st->db, "DELETE FROM signing_keys", RN_NOPARAMS);
    return 0;
}

static rn_db *db_of(void **state)
{
    rn_test_store *st = *state;
    if (!st)
        skip();
    return st->db;
}

/* ---- helpers ------------------------------------------------------------- */

static rn_token_spec agent_spec(long long now_ms)
{
    return (rn_token_spec){.issuer = ISSUER,
                           .audience = RN_AUD_AGENT,
                           .subject = "stf_01aaaaaaaaaaaaaaaaaaaaaaaa",
                           .tenant_id = "ten_01aaaaaaaaaaaaaaaaaaaaaaaa",
                           .scope = "agent:profile:read",
                           .minted_by = "key_01aaaaaaaaaaaaaaaaaaaaaaaa",
                           .ttl_s = 900,
                           .now_ms = now_ms};
}

static char *mint(rn_db *db, long long now_ms)
{
    rn_token_spec spec = agent_spec(now_ms);
    rn_token_minted m;
    assert_int_equal(rn_token_mint(db, MASTER, &spec, &m), 0);
    return m.token;
}

static rn_token_status verify_at(rn_db *db, const char *token, const char *audience,
                                 long long now_ms, const char **why)
{
    rn_token_expect want = {ISSUER, audience, now_ms};
    json_t *claims = NULL;
    const char *reason = "";
    rn_token_status st = rn_token_verify(db, MASTER, token, &want, &claims, &reason);
    if (why)
        *why = reason;
    assert_true((st == RN_TOKEN_OK) == (claims != NULL));
    json_decref(claims);
    return st;
}

/* The kid in a token's header. */
static void kid_of(const char *token, char kid[RN_KID_MAX])
{
    const char *dot = strchr(token, '.');
    unsigned char *raw = NULL;
    size_t len = 0;
    assert_int_equal(rn_b64url_decode(token, (size_t)(dot - token), &raw, &len), 0);
    json_t *h = json_loadb((const char *)raw, len, 0, NULL);
    snprintf(kid, RN_KID_MAX, "%s", json_string_value(json_object_get(h, "kid")));
    json_decref(h);
    free(raw);
}

/* A compact token from raw header and payload JSON, signed with sk (or with
 * a garbage signature when sk is NULL). */
static char *forge(const char *header, const char *payload, const unsigned char *sk)
{
    char *h = rn_b64url_encode((const unsigned char *)header, strlen(header));
    char *p = rn_b64url_encode((const unsigned char *)payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *input = malloc(n);
    snprintf(input, n, "%s.%s", h, p);
    unsigned char sig[64];
    memset(sig, 0x5a, sizeof sig);
    if (sk)
        crypto_sign_detached(sig, NULL, (const unsigned char *)input, strlen(input), sk);
    char *s = rn_b64url_encode(sig, sizeof sig);
    size_t total = strlen(input) + strlen(s) + 2;
    char *token = malloc(total);
    snprintf(token, total, "%s.%s", input, s);
    free(h);
    free(p);
    free(s);
    free(input);
    return token;
}

/* The payload JSON of a token (caller frees). */
static char *payload_of(const char *token)
{
    const char *a = strchr(token, '.') + 1, *b = strchr(a, '.');
    unsigned char *raw = NULL;
    size_t len = 0;
    assert_int_equal(rn_b64url_decode(a, (size_t)(b - a), &raw, &len), 0);
    return (char *)raw;
}

static long long count(rn_db *db, const char *sql)
{
    rn_rows *rows = rn_db_query(db, sql, RN_NOPARAMS);
    assert_non_null(rows);
    long long n = rn_rows_int(rows, 0, 0, -1);
    rn_rows_free(rows);
    return n;
}

/* ---- cases --------------------------------------------------------------- */

static void first_mint_creates_the_key_and_the_token_verifies(void **state)
{
    rn_db *db = db_of(state);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys"), 0);
    long long now = rn_now_ms();
    char *token = mint(db, now);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys WHERE status = 'current'"), 1);
    rn_token_expect want = {ISSUER, RN_AUD_AGENT, now};
    json_t *claims = NULL;
    const char *why = "";
    assert_int_equal(rn_token_verify(db, MASTER, token, &want, &claims, &why), RN_TOKEN_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")),
                        "stf_01aaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), now / 1000 + 900);
    assert_int_equal(json_object_size(claims), 10);
    json_decref(claims);

    char kid[RN_KID_MAX];
    kid_of(token, kid);
    assert_true(rn_id_valid("sk", kid));
    json_t *jwks = rn_keyring_jwks(db, MASTER);
    json_t *keys = json_object_get(jwks, "keys");
    assert_int_equal(json_array_size(keys), 1);
    json_t *k = json_array_get(keys, 0);
    assert_string_equal(json_string_value(json_object_get(k, "kid")), kid);
    assert_string_equal(json_string_value(json_object_get(k, "kty")), "OKP");
    assert_string_equal(json_string_value(json_object_get(k, "crv")), "Ed25519");
    assert_string_equal(json_string_value(json_object_get(k, "alg")), "EdDSA");
    assert_string_equal(json_string_value(json_object_get(k, "use")), "sig");
    assert_int_equal(json_string_length(json_object_get(k, "x")), 43);
    json_decref(jwks);

    /* The seed is stored sealed, never in the clear. */
    rn_rows *rows = rn_db_query(db, "SELECT private_key FROM signing_keys", RN_NOPARAMS);
    assert_memory_equal(rn_rows_get(rows, 0, 0), "v1.", 3);
    rn_rows_free(rows);
    free(token);
}

static void a_second_mint_reuses_the_current_key(void **state)
{
    rn_db *db = db_of(state);
    char *a = mint(db, rn_now_ms()), *b = mint(db, rn_now_ms());
    char ka[RN_KID_MAX], kb[RN_KID_MAX];
    kid_of(a, ka);
    kid_of(b, kb);
    assert_string_equal(ka, kb);
    assert_string_not_equal(a, b); /* different jti */
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys"), 1);
    free(a);
    free(b);
}

static void issuer_and_audience_must_match_exactly(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *token = mint(db, now);
    const char *why;
    assert_int_equal(verify_at(db, token, RN_AUD_ADMIN, now, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "audience");
    assert_int_equal(verify_at(db, token, RN_AUD_VISITOR, now, &why), RN_TOKEN_INVALID);
    rn_token_expect want = {"https://other.example.test", RN_AUD_AGENT, now};
    json_t *claims = NULL;
    assert_int_equal(rn_token_verify(db, MASTER, token, &want, &claims, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "issuer");
    assert_null(claims);
    free(token);
}

static void expiry_has_no_leeway(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *token = mint(db, now);
    long long exp = now / 1000 + 900;
    const char *why;
    assert_int_equal(verify_at(db, token, RN_AUD_AGENT, exp * 1000 - 1, NULL), RN_TOKEN_OK);
    assert_int_equal(verify_at(db, token, RN_AUD_AGENT, exp * 1000, &why), RN_TOKEN_EXPIRED);
    assert_string_equal(why, "expired");
    assert_int_equal(verify_at(db, token, RN_AUD_AGENT, (exp + 1) * 1000, NULL),
                     RN_TOKEN_EXPIRED);
    free(token);
}

static void not_before_allows_five_seconds_of_skew(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *token = mint(db, now);
    long long nbf = now / 1000;
    const char *why;
    assert_int_equal(verify_at(db, token, RN_AUD_AGENT, (nbf - 5) * 1000, NULL), RN_TOKEN_OK);
    assert_int_equal(verify_at(db, token, RN_AUD_AGENT, (nbf - 6) * 1000, &why),
                     RN_TOKEN_INVALID);
    assert_string_equal(why, "not yet valid");
    free(token);
}

static void tampered_tokens_are_invalid(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *token = mint(db, now);
    char kid[RN_KID_MAX], header[160];
    kid_of(token, kid);
    char *payload = payload_of(token);
    const char *why;

    /* Payload edited, original signature kept. */
    char *edited = strdup(payload);
    char *scope = strstr(edited, "agent:profile:read");
    memcpy(scope, "agent:calls:writ", 16);
    char *h = strndup(token, (size_t)(strchr(token, '.') - token));
    char *p = rn_b64url_encode((const unsigned char *)edited, strlen(edited));
    const char *sig = strrchr(token, '.') + 1;
    size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;
    char *spliced = malloc(n);
    snprintf(spliced, n, "%s.%s.%s", h, p, sig);
    assert_int_equal(verify_at(db, spliced, RN_AUD_AGENT, now, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "signature");

    /* Signed by another key under the real kid, and under an unknown kid. */
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    char *other = forge(header, payload, sk);
    assert_int_equal(verify_at(db, other, RN_AUD_AGENT, now, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "signature");
    char *unknown = forge("{\"alg\":\"EdDSA\",\"kid\":\"sk_01zzzzzzzzzzzzzzzzzzzzzzzz\"}",
                          payload, sk);
    assert_int_equal(verify_at(db, unknown, RN_AUD_AGENT, now, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "unknown kid");

    /* alg none and HS256 under the real kid. */
    snprintf(header, sizeof header, "{\"alg\":\"none\",\"kid\":\"%s\"}", kid);
    char *none = forge(header, payload, NULL);
    assert_int_equal(verify_at(db, none, RN_AUD_AGENT, now, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "algorithm");
    snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kid);
    char *hs = forge(header, payload, NULL);
    assert_int_equal(verify_at(db, hs, RN_AUD_AGENT, now, &why), RN_TOKEN_INVALID);

    /* Huge. */
    char *huge = malloc(RN_JWS_MAX_TOKEN_LEN + 100);
    memset(huge, 'A', RN_JWS_MAX_TOKEN_LEN + 99);
    huge[RN_JWS_MAX_TOKEN_LEN + 99] = '\0';
    huge[100] = huge[200] = '.';
    assert_int_equal(verify_at(db, huge, RN_AUD_AGENT, now, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "malformed");

    free(huge);
    free(hs);
    free(none);
    free(unknown);
    free(other);
    free(spliced);
    free(p);
    free(h);
    free(edited);
    free(payload);
    free(token);
}

static void rotation_keeps_old_tokens_valid_and_signs_new_ones(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *old = mint(db, now);
    char old_kid[RN_KID_MAX], new_kid[RN_KID_MAX];
    kid_of(old, old_kid);
    json_t *rotated = NULL;
    assert_int_equal(rn_keyring_rotate(db, MASTER, &rotated), 0);
    assert_string_equal(json_string_value(json_object_get(rotated, "retiredKid")), old_kid);
    char *fresh = mint(db, now);
    kid_of(fresh, new_kid);
    assert_string_equal(new_kid, json_string_value(json_object_get(rotated, "kid")));
    assert_string_not_equal(new_kid, old_kid);
    assert_int_equal(verify_at(db, old, RN_AUD_AGENT, now, NULL), RN_TOKEN_OK);
    assert_int_equal(verify_at(db, fresh, RN_AUD_AGENT, now, NULL), RN_TOKEN_OK);

    json_t *jwks = rn_keyring_jwks(db, MASTER);
    json_t *keys = json_object_get(jwks, "keys");
    assert_int_equal(json_array_size(keys), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(keys, 0), "kid")),
                        new_kid);
    json_decref(jwks);

    json_t *list = NULL;
    assert_int_equal(rn_keyring_list(db, &list), 0);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "status")),
                        "current");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "status")),
                        "retired");
    assert_true(json_is_null(json_object_get(json_array_get(list, 0), "retiredAt")));
    /* A retired key's sealed seed is erased: it can never sign again. */
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys WHERE private_key IS NULL"), 1);
    json_decref(list);
    json_decref(rotated);
    free(old);
    free(fresh);
}

static void retired_keys_stop_verifying_after_the_grace_period(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *old = mint(db, now);
    json_t *rotated = NULL;
    assert_int_equal(rn_keyring_rotate(db, MASTER, &rotated), 0);
    json_decref(rotated);
    rn_db_exec(db, "UPDATE signing_keys SET retired_at = $1 WHERE status = 'retired'",
               RN_PARAMS(RN_I(now - RN_KEYRING_GRACE_MS - 1000)));
    rn_keyring_forget();
    const char *why;
    assert_int_equal(verify_at(db, old, RN_AUD_AGENT, now, &why), RN_TOKEN_INVALID);
    assert_string_equal(why, "unknown kid");
    json_t *jwks = rn_keyring_jwks(db, MASTER);
    assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 1);
    json_decref(jwks);
    json_t *list = NULL;
    assert_int_equal(rn_keyring_list(db, &list), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "status")),
                        "expired");
    json_decref(list);
    free(old);
}

/* Another node rotates: this process has the keys cached (fresh), meets a
 * token signed with a key it has never seen, and must accept it at once. */
static void a_key_rotated_elsewhere_verifies_immediately(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *mine = mint(db, now);
    assert_int_equal(verify_at(db, mine, RN_AUD_AGENT, now, NULL), RN_TOKEN_OK);

    unsigned char seed[32], pk[32], sk[64];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    char kid[48];
    rn_id_new("sk", kid, sizeof kid);
    char *sealed = rn_seal(MASTER, seed, sizeof seed), *x = rn_b64url_encode(pk, sizeof pk);
    rn_db_exec(db, "UPDATE signing_keys SET status = 'retired', retired_at = $1,"
                   " private_key = NULL WHERE status = 'current'",
               RN_PARAMS(RN_I(now)));
    assert_int_equal(rn_db_exec(db,
                                "INSERT INTO signing_keys (kid, alg, public_key, private_key,"
                                " status, created_at) VALUES ($1, 'EdDSA', $2, $3, 'current', $4)",
                                RN_PARAMS(RN_T(kid), RN_T(x), RN_T(sealed), RN_I(now))),
                     1);
    rn_token_spec spec = agent_spec(now);
    json_t *claims = rn_token_claims(&spec, "tok_elsewhere");
    char *theirs = rn_jws_sign(claims, kid, sk);
    assert_int_equal(verify_at(db, theirs, RN_AUD_AGENT, now, NULL), RN_TOKEN_OK);
    assert_int_equal(verify_at(db, mine, RN_AUD_AGENT, now, NULL), RN_TOKEN_OK);
    json_decref(claims);
    free(theirs);
    free(sealed);
    free(x);
    free(mine);
}

static void another_master_key_cannot_mint_but_can_verify(void **state)
{
    rn_db *db = db_of(state);
    long long now = rn_now_ms();
    char *token = mint(db, now);
    rn_keyring_forget();
    rn_token_spec spec = agent_spec(now);
    rn_token_minted m;
    assert_int_equal(rn_token_mint(db, OTHER_MASTER, &spec, &m), -1);
    assert_null(m.token);
    /* No second key was created behind the operator's back. */
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys"), 1);
    rn_token_expect want = {ISSUER, RN_AUD_AGENT, now};
    json_t *claims = NULL;
    const char *why;
    assert_int_equal(rn_token_verify(db, OTHER_MASTER, token, &want, &claims, &why), RN_TOKEN_OK);
    json_decref(claims);
    rn_keyring_forget();
    free(token);
}

typedef struct {
    rn_pool *pool;
    int ok;
} rotator;

static void *rotate_thrice(void *arg)
{
    rotator *r = arg;
    rn_db *db = rn_pool_acquire(r->pool);
    for (int i = 0; i < 3; i++) {
        json_t *out = NULL;
        if (rn_keyring_rotate(db, MASTER, &out) == 0)
            r->ok++;
        json_decref(out);
    }
    rn_pool_release(r->pool, db);
    return NULL;
}

static void concurrent_rotations_leave_one_current_key(void **state)
{
    rn_test_store *st = *state;
    rn_db *db = db_of(state);
    char *token = mint(db, rn_now_ms());
    free(token);
    pthread_t threads[4];
    rotator r[4] = {{st->pool, 0}, {st->pool, 0}, {st->pool, 0}, {st->pool, 0}};
    for (int i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, rotate_thrice, &r[i]);
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        ok += r[i].ok;
    }
    assert_true(ok >= 1);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys WHERE status = 'current'"), 1);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys"), 1 + ok);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM signing_keys WHERE status = 'current'"
                               " AND private_key IS NOT NULL"),
                     1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    memset(MASTER, 0x11, sizeof MASTER);
    memset(OTHER_MASTER, 0x22, sizeof OTHER_MASTER);
#define CASE(f) cmocka_unit_test_setup(f, fresh_keys)
    const struct CMUnitTest tests[] = {
        CASE(first_mint_creates_the_key_and_the_token_verifies),
        CASE(a_second_mint_reuses_the_current_key),
        CASE(issuer_and_audience_must_match_exactly),
        CASE(expiry_has_no_leeway),
        CASE(not_before_allows_five_seconds_of_skew),
        CASE(tampered_tokens_are_invalid),
        CASE(rotation_keeps_old_tokens_valid_and_signs_new_ones),
        CASE(retired_keys_stop_verifying_after_the_grace_period),
        CASE(a_key_rotated_elsewhere_verifies_immediately),
        CASE(another_master_key_cannot_mint_but_can_verify),
        CASE(concurrent_rotations_leave_one_current_key),
    };
    int failed = cmocka_run_group_tests_name("tokens_sqlite", tests, setup_sqlite, teardown_store);
    failed += cmocka_run_group_tests_name("tokens_postgres", tests, setup_pg, teardown_store);
    return failed;
}
