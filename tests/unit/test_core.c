/* Unit tests for the foundation: key format and hash, scope parsing, rate
 * limiter, router, config, ids, strict JSON bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/keys.h"
#include "auth/ratelimit.h"
#include "auth/scopes.h"
#include "core/config.h"
#include "core/json.h"
#include "core/util.h"
#include "http/router.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* ---- keys ---------------------------------------------------------------- */

static void key_generate_has_prefix_and_40_base62(void **state)
{
    char k[80];
    rn_key_generate(RN_SERVER_KEY_PREFIX, k, sizeof k);
    assert_int_equal(strlen(k), strlen("rn_sk_live_") + 40);
    assert_memory_equal(k, "rn_sk_live_", 11);
    assert_true(rn_key_well_formed(k, RN_SERVER_KEY_PREFIX));
    char k2[80];
    rn_key_generate(RN_SERVER_KEY_PREFIX, k2, sizeof k2);
    assert_string_not_equal(k, k2);
}

static void key_well_formed_rejects_bad_shapes(void **state)
{
    char ok[80] = "rn_sk_live_";
    strcat(ok, "0123456789abcdefghijABCDEFGHIJ01"); /* exactly 32 */
    assert_true(rn_key_well_formed(ok, RN_SERVER_KEY_PREFIX));
    assert_false(rn_key_well_formed("rn_sk_live_0123456789abcdefghijABCDEFGHIJ0",
                                    RN_SERVER_KEY_PREFIX)); /* 31 */
    assert_false(rn_key_well_formed("rn_pk_live_0123456789abcdefghijABCDEFGHIJ01",
                                    RN_SERVER_KEY_PREFIX));
    assert_false(rn_key_well_formed("rn_sk_live_0123456789abcdefghijABCDEFGHIJ0-",
                                    RN_SERVER_KEY_PREFIX));
    assert_false(rn_key_well_formed("", RN_SERVER_KEY_PREFIX));
    assert_false(rn_key_well_formed("rn_sk_live_", RN_SERVER_KEY_PREFIX));
    char huge[300] = "rn_sk_live_";
    memset(huge + 11, 'a', 129);
    assert_false(rn_key_well_formed(huge, RN_SERVER_KEY_PREFIX));
}

static void key_hash_is_hmac_sha256_of_pepper(void **state)
{
    unsigned char pepper[32];
    for (int i = 0; i < 32; i++)
        pepper[i] = (unsigned char)i;
    char hex[RN_KEY_HASH_HEX];
    rn_key_hash(pepper, "rn_sk_live_abc", hex);
    /* Expected value computed independently:
     * printf 'rn_sk_live_abc' | openssl dgst -sha256 -mac HMAC \
     *   -macopt hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f */
    assert_string_equal(hex, "1fa1822f100facec53119108188407f0229e5d6e7c41d91dad8447bf87c67a36");
    /* The keyed state is cached per thread: another pepper must not reuse it. */
    unsigned char other[32];
    memset(other, 1, sizeof other);
    rn_key_hash(other, "rn_sk_live_abc", hex);
    assert_string_equal(hex, "985cc640067889ce5841c5b1a2ef98dd80ef3cd5af903407ec8a39a4f9e26caa");
    rn_key_hash(pepper, "rn_sk_live_abc", hex);
    assert_string_equal(hex, "1fa1822f100facec53119108188407f0229e5d6e7c41d91dad8447bf87c67a36");
}

static void key_display_prefix_and_last4(void **state)
{
    char prefix[32], last4[5];
    rn_key_display("rn_sk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789wxyz", prefix, sizeof prefix,
                   last4);
    assert_string_equal(prefix, "rn_sk_live_AbCd");
    assert_string_equal(last4, "wxyz");
}

static void pepper_depends_on_master(void **state)
{
    unsigned char m1[32] = {1}, m2[32] = {2}, p1[32], p2[32], p1b[32];
    rn_key_pepper(m1, p1);
    rn_key_pepper(m2, p2);
    rn_key_pepper(m1, p1b);
    assert_memory_equal(p1, p1b, 32);
    assert_memory_not_equal(p1, p2, 32);
}

/* ---- scopes -------------------------------------------------------------- */

static void scopes_parse_canonical_order_and_dedup(void **state)
{
    char out[1024], bad[64];
    assert_int_equal(rn_scopes_parse("server:contacts:write,server:contacts:read,"
                                     "server:contacts:write", out, sizeof out, bad, sizeof bad), 0);
    assert_string_equal(out, "server:contacts:read server:contacts:write");
    assert_int_equal(rn_scopes_parse("server:reports:read server:agent-token:write", out,
                                     sizeof out, bad, sizeof bad), 0);
    assert_string_equal(out, "server:agent-token:write server:reports:read");
}

static void scopes_parse_all(void **state)
{
    char out[1024];
    assert_int_equal(rn_scopes_parse("all", out, sizeof out, NULL, 0), 0);
    assert_string_equal(out, "server:visitor-context:write server:agent-token:write "
                             "server:admin-token:write server:reports:read server:contacts:read "
                             "server:contacts:write server:webhooks:read server:webhooks:write");
}

static void scopes_parse_rejects_unknown_and_empty(void **state)
{
    char out[1024], bad[64];
    assert_int_equal(rn_scopes_parse("server:contacts:read,server:contact:write", out, sizeof out,
                                     bad, sizeof bad), -1);
    assert_string_equal(bad, "server:contact:write");
    assert_int_equal(rn_scopes_parse("", out, sizeof out, bad, sizeof bad), -1);
    assert_int_equal(rn_scopes_parse(" , ", out, sizeof out, bad, sizeof bad), -1);
    assert_true(rn_scope_known("server:webhooks:read"));
    assert_false(rn_scope_known("server:webhooks"));
}

/* ---- rate limiter ---------------------------------------------------------- */

static void ratelimit_burst_then_refill(void **state)
{
    rn_ratelimit *rl = rn_ratelimit_new();
    rn_rate_state st;
    long long t = 1000000;
    assert_true(rn_ratelimit_take(rl, "k", 2, 3, t, &st));
    assert_int_equal(st.limit, 3);
    assert_int_equal(st.remaining, 2);
    assert_true(rn_ratelimit_take(rl, "k", 2, 3, t, &st));
    assert_true(rn_ratelimit_take(rl, "k", 2, 3, t, &st));
    assert_int_equal(st.remaining, 0);
    assert_int_equal(st.reset_s, 2); /* 3 tokens at 2/s */
    assert_false(rn_ratelimit_take(rl, "k", 2, 3, t, &st));
    assert_int_equal(st.retry_after, 1);
    /* another key has its own bucket */
    assert_true(rn_ratelimit_take(rl, "other", 2, 3, t, &st));
    /* 500 ms later one token is back */
    assert_true(rn_ratelimit_take(rl, "k", 2, 3, t + 500, &st));
    assert_false(rn_ratelimit_take(rl, "k", 2, 3, t + 500, &st));
    /* a long pause refills only to the burst */
    assert_true(rn_ratelimit_take(rl, "k", 2, 3, t + 60000, &st));
    assert_int_equal(st.remaining, 2);
    rn_ratelimit_free(rl);
}

static void ratelimit_peek_does_not_take(void **state)
{
    rn_ratelimit *rl = rn_ratelimit_new();
    rn_rate_state st;
    for (int i = 0; i < 5; i++)
        assert_true(rn_ratelimit_peek(rl, "ip", 1, 1, 0, &st));
    assert_true(rn_ratelimit_take(rl, "ip", 1, 1, 0, &st));
    assert_false(rn_ratelimit_peek(rl, "ip", 1, 1, 0, &st));
    assert_int_equal(st.retry_after, 1);
    rn_ratelimit_free(rl);
}

static void ratelimit_slow_rate_retry_after(void **state)
{
    rn_ratelimit *rl = rn_ratelimit_new();
    rn_rate_state st;
    double rate = 20.0 / 60.0; /* 20 per minute */
    for (int i = 0; i < 20; i++)
        assert_true(rn_ratelimit_take(rl, "ip", rate, 20, 0, &st));
    assert_false(rn_ratelimit_peek(rl, "ip", rate, 20, 0, &st));
    assert_int_equal(st.retry_after, 3);
    rn_ratelimit_free(rl);
}

static void ratelimit_many_keys_sweep_keeps_working(void **state)
{
    rn_ratelimit *rl = rn_ratelimit_new();
    char key[32];
    for (int i = 0; i < 300000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_true(rn_ratelimit_take(rl, key, 1000, 1, i, NULL));
    }
    rn_ratelimit_free(rl);
}

static void ratelimit_fixed_window(void **state)
{
    rn_ratelimit *rl = rn_ratelimit_new();
    rn_rate_state st;
    long long t0 = 5000000;
    for (int i = 0; i < 3; i++)
        assert_true(rn_ratelimit_window_take(rl, "ip", 3, 60000, t0 + i * 10000, &st));
    /* 50 s later the window still holds: refused, retry when it ends */
    assert_false(rn_ratelimit_window_peek(rl, "ip", 3, 60000, t0 + 50000, &st));
    assert_int_equal(st.retry_after, 10);
    assert_false(rn_ratelimit_window_take(rl, "ip", 3, 60000, t0 + 59999, &st));
    assert_int_equal(st.retry_after, 1);
    /* the window ends 60 s after its first use: all tokens come back */
    assert_true(rn_ratelimit_window_peek(rl, "ip", 3, 60000, t0 + 60000, &st));
    assert_int_equal(st.remaining, 3);
    rn_ratelimit_free(rl);
}

/* ---- router ---------------------------------------------------------------- */

static void router_literal_and_params(void **state)
{
    char *params[RN_MAX_PATH_PARAMS] = {0};
    assert_int_equal(rn_route_path_matches("/a/{id}/b", "/a/xyz/b", params), 1);
    assert_string_equal(params[0], "xyz");
    free(params[0]);
    params[0] = NULL;
    assert_int_equal(rn_route_path_matches("/a/{id}/b", "/a//b", params), 0);
    assert_null(params[0]);
    assert_int_equal(rn_route_path_matches("/a/{id}", "/a/x/y", params), 0);
    assert_null(params[0]);
    assert_int_equal(rn_route_path_matches("/a/{x}/{y}", "/a/1/2", params), 1);
    assert_string_equal(params[0], "1");
    assert_string_equal(params[1], "2");
    free(params[0]);
    free(params[1]);
    assert_int_equal(rn_route_path_matches("/health", "/healthz", NULL), 0);
    assert_int_equal(rn_route_path_matches("/healthz", "/health", NULL), 0);
}

static void router_table_404_405(void **state)
{
    char allow[64];
    char *params[RN_MAX_PATH_PARAMS] = {0};
    int i = rn_router_match("GET", "/api/server/health", params, allow, sizeof allow);
    assert_true(i >= 0);
    assert_string_equal(RN_ROUTES[i].pattern, "/api/server/health");
    assert_int_equal(rn_router_match("DELETE", "/api/server/health", params, allow, sizeof allow),
                     -1);
    assert_string_equal(allow, "GET");
    assert_int_equal(rn_router_match("GET", "/api/server/nope", params, allow, sizeof allow), -1);
    assert_string_equal(allow, "");
    assert_int_equal(rn_router_match("GET", "/api/server/health/", params, allow, sizeof allow),
                     -1);
}

/* ---- ids and time ----------------------------------------------------------- */

static void ids_are_prefixed_sortable_and_valid(void **state)
{
    char a[48], b[48];
    rn_id_new("ct", a, sizeof a);
    assert_int_equal(strlen(a), 3 + 26);
    assert_true(rn_id_valid("ct", a));
    assert_false(rn_id_valid("wh", a));
    assert_false(rn_id_valid("ct", "ct_short"));
    assert_false(rn_id_valid("ct", "ct_01m8y7aqj26ndvc0tec80snfkU")); /* upper case */
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
    rn_id_new("ct", b, sizeof b);
    assert_true(strcmp(a, b) < 0);
    /* rn_id_at: the time part is the given millisecond (Crockford base32). */
    rn_id_at("msg", 1796282100123LL, a, sizeof a);
    assert_int_equal(strlen(a), 4 + 26);
    assert_memory_equal(a, "msg_01m8xc3acv", 14);
    assert_true(rn_id_valid("msg", a));
    /* same millisecond on one thread: the next id sorts after the last */
    char other[48];
    for (int i = 0; i < 100; i++) {
        rn_id_new("evt", other, sizeof other); /* another instant in between */
        rn_id_at("msg", 1796282100123LL, b, sizeof b);
        assert_true(strcmp(a, b) < 0);
        assert_memory_equal(b, "msg_01m8xc3acv", 14);
        memcpy(a, b, sizeof a);
    }
    char small[8];
    rn_id_at("msg", 0, small, sizeof small);
    assert_string_equal(small, "msg_000");
}

/* An id for a fixed millisecond, made on another thread. */
static void *id_on_thread(void *out)
{
    rn_id_at("wh", 1796282100999LL, out, 48);
    return NULL;
}

/* Ids for one millisecond made one after the other on different threads
 * sort in the order they were made (two requests answered one after the
 * other on two worker threads list in that order). */
static void ids_of_one_millisecond_sort_across_threads(void **state)
{
    (void)state;
    char prev[48], next[48];
    id_on_thread(prev);
    for (int i = 0; i < 200; i++) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, id_on_thread, next), 0);
        pthread_join(t, NULL);
        assert_memory_equal(next, prev, 13); /* "wh_" and the same millisecond */
        assert_true(strcmp(prev, next) < 0);
        memcpy(prev, next, sizeof prev);
    }
}

/* The per-second cache starts empty on every thread: even the second
 * before the epoch (its "seconds" value is -1) is formatted in full. */
static void *format_minus_one(void *out)
{
    rn_time_format(-1, out, 32);
    return NULL;
}

static void time_format_is_rfc3339_millis(void **state)
{
    char buf[32];
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, format_minus_one, buf), 0);
    pthread_join(t, NULL);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    rn_time_format(1796282100123LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-12-03T07:15:00.123Z");
    rn_time_format(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    /* The per-second cache: same second, then the next, then back again. */
    rn_time_format(1796282100007LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-12-03T07:15:00.007Z");
    rn_time_format(1796282100999LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-12-03T07:15:00.999Z");
    rn_time_format(1796282101050LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-12-03T07:15:01.050Z");
    rn_time_format(1796282100500LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-12-03T07:15:00.500Z");
    char small[11];
    rn_time_format(1796282100500LL, small, sizeof small);
    assert_string_equal(small, "2026-12-03");
}

static void date_parse_strict(void **state)
{
    int y, m, d;
    assert_int_equal(rn_date_parse("2024-02-29", &y, &m, &d), 0);
    assert_int_equal(y * 10000 + m * 100 + d, 20240229);
    assert_int_equal(rn_date_parse("2023-02-29", &y, &m, &d), -1);
    assert_int_equal(rn_date_parse("2023-13-01", &y, &m, &d), -1);
    assert_int_equal(rn_date_parse("2023-1-01", &y, &m, &d), -1);
    assert_int_equal(rn_date_parse("2023-01-01T", &y, &m, &d), -1);
}

static void parse_int_is_strict(void **state)
{
    long long v;
    assert_int_equal(rn_parse_int("25", 1, 100, &v), 0);
    assert_int_equal(v, 25);
    assert_int_equal(rn_parse_int("1e2", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int("10abc", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int("", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int("-", -5, 5, &v), -1);
    assert_int_equal(rn_parse_int("+5", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int(" 5", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int("0", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int("101", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int("99999999999999999999999", 1, 100, &v), -1);
    assert_int_equal(rn_parse_int("-3", -5, 5, &v), 0);
    assert_int_equal(v, -3);
}

static void str_equal_ct(void **state)
{
    assert_true(rn_str_equal_ct("abc", "abc"));
    assert_false(rn_str_equal_ct("abc", "abd"));
    assert_false(rn_str_equal_ct("abc", "abcd"));
    assert_true(rn_str_equal_ct("", ""));
}

/* A deadline on the monotonic clock is small (seconds since boot): a wait
 * counted on the wall clock would see it long past and return at once. */
static void cond_init_monotonic_waits_the_whole_deadline(void **state)
{
    (void)state;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond;
    assert_int_equal(rn_cond_init_monotonic(&cond), 0);
    pthread_mutex_lock(&lock);
    long long started = rn_mono_ms();
    struct timespec at = rn_deadline_in(CLOCK_MONOTONIC, 60);
    int rc = 0;
    while (rc == 0)
        rc = pthread_cond_timedwait(&cond, &lock, &at);
    long long waited = rn_mono_ms() - started;
    pthread_mutex_unlock(&lock);
    assert_int_equal(rc, ETIMEDOUT);
    assert_in_range(waited, 55, 2000);
    pthread_cond_destroy(&cond);
}

/* ---- config ---------------------------------------------------------------- */

static void clear_env(void)
{
    unsetenv("RINGNITY_LISTEN");
    unsetenv("RINGNITY_THREADS");
    unsetenv("RINGNITY_TYPO");
    unsetenv("RINGNITY_DATABASE_URL");
    unsetenv("RINGNITY_DATA_DIR");
    unsetenv("RINGNITY_PUBLIC_URL");
}

static void config_defaults(void **state)
{
    clear_env();
    rn_config cfg;
    char err[256];
    assert_int_equal(rn_config_load(&cfg, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_string_equal(cfg.database_url, "./var/ringnity.db");
    assert_string_equal(cfg.public_url, "http://127.0.0.1:8080");
    assert_int_equal(cfg.rate_limit_rps, 100);
    assert_int_equal(cfg.rate_limit_burst, 200);
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_false(cfg.webhook_allow_private);
}

static void config_reads_env_and_rejects_bad(void **state)
{
    clear_env();
    rn_config cfg;
    char err[256];
    setenv("RINGNITY_LISTEN", "127.0.0.1:9999", 1);
    setenv("RINGNITY_PUBLIC_URL", "https://api.example.com/", 1);
    assert_int_equal(rn_config_load(&cfg, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:9999");
    assert_string_equal(cfg.public_url, "https://api.example.com");
    setenv("RINGNITY_THREADS", "0", 1);
    assert_int_equal(rn_config_load(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "RINGNITY_THREADS"));
    setenv("RINGNITY_THREADS", "4x", 1);
    assert_int_equal(rn_config_load(&cfg, err, sizeof err), -1);
    unsetenv("RINGNITY_THREADS");
    setenv("RINGNITY_TYPO", "1", 1);
    assert_int_equal(rn_config_load(&cfg, err, sizeof err), -1);
    assert_string_equal(err, "unknown setting RINGNITY_TYPO (see `ringnity serve --help`)");
    clear_env();
}

/* ---- strict JSON -------------------------------------------------------------- */

static void json_body_rules(void **state)
{
    char why[96];
    json_t *v = rn_json_parse_object("{\"a\":1}", 7, why, sizeof why);
    assert_non_null(v);
    json_decref(v);
    assert_null(rn_json_parse_object("[1]", 3, why, sizeof why));
    assert_string_equal(why, "the body must be a JSON object");
    assert_null(rn_json_parse_object("{\"a\":1,\"a\":2}", 13, why, sizeof why));
    assert_string_equal(why, "duplicate object key");
    assert_null(rn_json_parse_object("{\"a\":\"\\u0000\"}", 13, why, sizeof why));
    assert_null(rn_json_parse_object("{\"a\":\"\xff\"}", 8, why, sizeof why));
    assert_string_equal(why, "invalid UTF-8");
    char deep[200] = "{\"a\":";
    for (int i = 0; i < 32; i++)
        strcat(deep, "[");
    for (int i = 0; i < 32; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    assert_int_equal(rn_json_depth(deep, strlen(deep)), 33);
    assert_null(rn_json_parse_object(deep, strlen(deep), why, sizeof why));
    assert_string_equal(why, "JSON nesting deeper than 32 levels");
    assert_int_equal(rn_json_depth("{\"[[[\":1}", 9), 1);
}

static void utf8_count_and_control(void **state)
{
    assert_int_equal(rn_utf8_count("abc", 3), 3);
    assert_int_equal(rn_utf8_count("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 9), 3);
    assert_int_equal(rn_utf8_count("\xc0\xaf", 2), -1);     /* overlong */
    assert_int_equal(rn_utf8_count("\xed\xa0\x80", 3), -1); /* surrogate */
    assert_int_equal(rn_utf8_count("\xe4\xb8", 2), -1);     /* truncated */
    assert_true(rn_has_control("a\x01", false));
    assert_true(rn_has_control("a\nb", false));
    assert_false(rn_has_control("a\nb\tc", true));
    assert_true(rn_has_control("a\xc2\x85", true)); /* NEL, a C1 control */
    assert_false(rn_has_control("caf\xc3\xa9", false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_generate_has_prefix_and_40_base62),
        cmocka_unit_test(key_well_formed_rejects_bad_shapes),
        cmocka_unit_test(key_hash_is_hmac_sha256_of_pepper),
        cmocka_unit_test(key_display_prefix_and_last4),
        cmocka_unit_test(pepper_depends_on_master),
        cmocka_unit_test(scopes_parse_canonical_order_and_dedup),
        cmocka_unit_test(scopes_parse_all),
        cmocka_unit_test(scopes_parse_rejects_unknown_and_empty),
        cmocka_unit_test(ratelimit_burst_then_refill),
        cmocka_unit_test(ratelimit_peek_does_not_take),
        cmocka_unit_test(ratelimit_slow_rate_retry_after),
        cmocka_unit_test(ratelimit_many_keys_sweep_keeps_working),
        cmocka_unit_test(ratelimit_fixed_window),
        cmocka_unit_test(router_literal_and_params),
        cmocka_unit_test(router_table_404_405),
        cmocka_unit_test(ids_are_prefixed_sortable_and_valid),
        cmocka_unit_test(ids_of_one_millisecond_sort_across_threads),
        cmocka_unit_test(time_format_is_rfc3339_millis),
        cmocka_unit_test(date_parse_strict),
        cmocka_unit_test(parse_int_is_strict),
        cmocka_unit_test(str_equal_ct),
        cmocka_unit_test(cond_init_monotonic_waits_the_whole_deadline),
        cmocka_unit_test(config_defaults),
        cmocka_unit_test(config_reads_env_and_rejects_bad),
        cmocka_unit_test(json_body_rules),
        cmocka_unit_test(utf8_count_and_control),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
