/* Unit tests for the webhook building blocks that need no store: secrets
 * (generation, sealing, the rotation signature header), the retry schedule
 * and its jitter, list cursors, text sanitising, the event catalogue and
 * subscription matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/util.h"
#include "webhooks/internal.h"
#include "webhooks/outbox.h"

static const unsigned char MASTER[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
                                         30, 31, 32};
static const unsigned char OTHER_MASTER[32] = {9};

/* HMAC-SHA256 values computed independently (Python's hmac module) for
 * timestamp 1781107000 and body {"id":"evt_1"}. */
#define SIG_NEW "sha256=49e772b5084aac02f8cc4222c5b83075519f5b3233c8917f3b36daff21c82e18"
#define SIG_OLD "sha256=7cd453ea9b0ea00789b7bef22462fafceb1f73db78777d93b09d7b6f04fd4ed0"
#define BODY "{\"id\":\"evt_1\"}"

/* ---- secrets ------------------------------------------------------------- */

static void generated_secrets_are_whsec_with_32_base62_characters(void **state)
{
    char a[64], b[64];
    wh_secret_generate(a, sizeof a);
    wh_secret_generate(b, sizeof b);
    assert_int_equal(strlen(a), 6 + 32);
    assert_memory_equal(a, "whsec_", 6);
    const char *base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    assert_int_equal(strspn(a + 6, base62), 32);
    assert_string_not_equal(a, b);
    assert_true(wh_secret_acceptable(a));
}

static void chosen_secrets_must_be_16_to_128_printable_ascii(void **state)
{
    char s[200];
    memset(s, 'x', sizeof s);
    s[15] = '\0';
    assert_false(wh_secret_acceptable(s));
    s[15] = 'x';
    s[16] = '\0';
    assert_true(wh_secret_acceptable(s));
    memset(s, 'x', sizeof s);
    s[128] = '\0';
    assert_true(wh_secret_acceptable(s));
    s[128] = 'x';
    s[129] = '\0';
    assert_false(wh_secret_acceptable(s));
    assert_false(wh_secret_acceptable("with a space in it!"));
    assert_false(wh_secret_acceptable("tab\there-0123456789"));
    assert_false(wh_secret_acceptable("caf\xc3\xa9-0123456789abcdef"));
    assert_true(wh_secret_acceptable("!#$%&'()*+,-./:;<=>?@[]^_`{|}~"));
}

static void sealed_secrets_open_only_under_the_same_master_key(void **state)
{
    const char *secret = "whsec_abcdefghijklmnopqrstuvwxyz012345";
    char *sealed = wh_secret_seal(MASTER, secret);
    char *again = wh_secret_seal(MASTER, secret);
    assert_non_null(sealed);
    assert_null(strstr(sealed, "abcdefghijklmnop"));
    assert_string_not_equal(sealed, again); /* fresh nonce every time */
    char out[WH_SECRET_MAX + 1];
    assert_int_equal(wh_secret_open(MASTER, sealed, out, sizeof out), 0);
    assert_string_equal(out, secret);
    assert_int_equal(wh_secret_open(OTHER_MASTER, sealed, out, sizeof out), -1);
    sealed[strlen(sealed) - 2] ^= 1;
    assert_int_equal(wh_secret_open(MASTER, sealed, out, sizeof out), -1);
    assert_int_equal(wh_secret_open(MASTER, NULL, out, sizeof out), -1);
    free(sealed);
    free(again);
}

static void the_old_secret_is_opened_only_during_its_grace(void **state)
{
    char *now = wh_secret_seal(MASTER, "current-secret-0123");
    char *before = wh_secret_seal(MASTER, "previous-secret-0123");
    char s[WH_SECRET_MAX + 1], old[WH_SECRET_MAX + 1];
    assert_int_equal(wh_secrets_open(MASTER, now, before, 2000, 1999, s, old, sizeof s), 0);
    assert_string_equal(s, "current-secret-0123");
    assert_string_equal(old, "previous-secret-0123");
    assert_int_equal(wh_secrets_open(MASTER, now, before, 2000, 2000, s, old, sizeof s), 0);
    assert_string_equal(old, "");
    assert_int_equal(wh_secrets_open(MASTER, now, NULL, 0, 1, s, old, sizeof s), 0);
    assert_string_equal(old, "");
    free(now);
    free(before);
}

static void signature_header_matches_an_independent_hmac(void **state)
{
    char out[2 * RN_SIGNATURE_LEN];
    wh_signature_header("new-secret-0123456789", NULL, 1781107000, BODY, strlen(BODY), out,
                        sizeof out);
    assert_string_equal(out, SIG_NEW);
}

static void signature_header_carries_new_then_old_during_rotation(void **state)
{
    char out[2 * RN_SIGNATURE_LEN];
    wh_signature_header("new-secret-0123456789", "old-secret-0123456789", 1781107000, BODY,
                        strlen(BODY), out, sizeof out);
    assert_string_equal(out, SIG_NEW " " SIG_OLD);
    wh_signature_header("new-secret-0123456789", "", 1781107000, BODY, strlen(BODY), out,
                        sizeof out);
    assert_string_equal(out, SIG_NEW);
}

/* ---- schedule ------------------------------------------------------------ */

static void schedule_parses_comma_separated_seconds(void **state)
{
    wh_schedule s;
    assert_int_equal(wh_schedule_parse("5,300,1800,7200,18000,36000,36000", &s), 0);
    assert_int_equal(s.count, 7);
    assert_int_equal(s.seconds[0], 5);
    assert_int_equal(s.seconds[6], 36000);
    assert_int_equal(wh_schedule_parse("0", &s), 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.seconds[0], 0);
}

static void schedule_rejects_malformed_text(void **state)
{
    wh_schedule s;
    const char *bad[] = {"", ",", "1,", ",1", "1,,2", "1, 2", "-1", "1e3", "abc", "604801",
                         "99999999999999999999", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(wh_schedule_parse(bad[i], &s), -1);
    char many[256] = "1";
    for (int i = 1; i < 33; i++)
        strcat(many, ",1");
    assert_int_equal(wh_schedule_parse(many, &s), -1); /* 33 entries */
    many[strlen(many) - 2] = '\0';
    assert_int_equal(wh_schedule_parse(many, &s), 0);
    assert_int_equal(s.count, 32);
}

static void retry_delay_spreads_20_percent_around_the_schedule(void **state)
{
    wh_schedule s;
    wh_schedule_parse("10,300", &s);
    assert_int_equal(wh_retry_delay_ms(&s, 1, -1, 0), 8000);
    assert_int_equal(wh_retry_delay_ms(&s, 1, -1, 0x80000000u), 10000);
    assert_int_equal(wh_retry_delay_ms(&s, 1, -1, 0xffffffffu), 11999);
    assert_int_equal(wh_retry_delay_ms(&s, 2, -1, 0), 240000);
    assert_int_equal(wh_retry_delay_ms(&s, 2, -1, 0xffffffffu), 359999);
}

static void retry_delay_ends_with_the_schedule(void **state)
{
    wh_schedule s;
    wh_schedule_parse("1,1,2", &s);
    assert_true(wh_retry_delay_ms(&s, 3, -1, 7) >= 1600);
    assert_int_equal(wh_retry_delay_ms(&s, 4, -1, 7), -1);
    assert_int_equal(wh_retry_delay_ms(&s, 0, -1, 7), -1);
    assert_int_equal(wh_retry_delay_ms(&s, 4, 30, 7), -1); /* Retry-After cannot extend it */
}

static void retry_after_replaces_the_schedule_within_bounds(void **state)
{
    wh_schedule s;
    wh_schedule_parse("300", &s);
    assert_int_equal(wh_retry_delay_ms(&s, 1, 7, 12345), 7000);
    assert_int_equal(wh_retry_delay_ms(&s, 1, 0, 12345), 1000);
    assert_int_equal(wh_retry_delay_ms(&s, 1, 2147483647L, 12345), 86400000);
}

/* ---- cursors ------------------------------------------------------------- */

static void cursor_round_trips_on_its_own_list(void **state)
{
    char *c = wh_cursor_encode(MASTER, "deliveries|ten_a|||", "dlv_01abc");
    char last[64];
    assert_non_null(c);
    assert_null(strstr(c, "dlv_"));
    assert_int_equal(wh_cursor_decode(MASTER, "deliveries|ten_a|||", c, last, sizeof last), 0);
    assert_string_equal(last, "dlv_01abc");
    free(c);
}

static void cursor_is_refused_on_another_list_or_key(void **state)
{
    char *c = wh_cursor_encode(MASTER, "deliveries|ten_a|wh_1||", "dlv_01abc");
    char last[64];
    assert_int_equal(wh_cursor_decode(MASTER, "deliveries|ten_a|wh_2||", c, last, sizeof last),
                     -1);
    assert_int_equal(wh_cursor_decode(MASTER, "deliveries|ten_b|wh_1||", c, last, sizeof last),
                     -1);
    assert_int_equal(wh_cursor_decode(MASTER, "webhooks|ten_a", c, last, sizeof last), -1);
    assert_int_equal(wh_cursor_decode(OTHER_MASTER, "deliveries|ten_a|wh_1||", c, last,
                                      sizeof last),
                     -1);
    free(c);
}

static void cursor_is_refused_when_tampered_with(void **state)
{
    char *c = wh_cursor_encode(MASTER, "webhooks|ten_a", "wh_01abcdef");
    char last[64];
    size_t n = strlen(c);
    for (size_t i = 0; i < n; i++) {
        char saved = c[i];
        c[i] = saved == 'A' ? 'B' : 'A';
        assert_int_equal(wh_cursor_decode(MASTER, "webhooks|ten_a", c, last, sizeof last), -1);
        c[i] = saved;
    }
    c[n - 1] = '\0';
    assert_int_equal(wh_cursor_decode(MASTER, "webhooks|ten_a", c, last, sizeof last), -1);
    assert_int_equal(wh_cursor_decode(MASTER, "webhooks|ten_a", "", last, sizeof last), -1);
    assert_int_equal(wh_cursor_decode(MASTER, "webhooks|ten_a", "!!!", last, sizeof last), -1);
    free(c);
}

/* ---- text ---------------------------------------------------------------- */

static void sanitize_keeps_valid_utf8_and_replaces_the_rest(void **state)
{
    char *ok = wh_text_sanitize("plain \xe2\x9c\x93 caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_string_equal(ok, "plain \xe2\x9c\x93 caf\xc3\xa9 \xf0\x9f\x98\x80");
    free(ok);
    char *bad = wh_text_sanitize("a\xff" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf");
    assert_string_equal(bad, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
                             "\xbd" "d\xef\xbf\xbd\xef\xbf\xbd");
    free(bad);
    char *cut = wh_text_sanitize("end \xe2\x9c");
    assert_string_equal(cut, "end \xef\xbf\xbd\xef\xbf\xbd");
    free(cut);
}

/* ---- catalogue ----------------------------------------------------------- */

static void every_event_type_has_a_description_and_an_object_sample(void **state)
{
    int n = 0;
    for (const char *const *t = RN_EVENT_TYPES; *t; t++, n++) {
        assert_non_null(wh_event_description(*t));
        json_t *sample = wh_event_sample(*t);
        assert_true(json_is_object(sample));
        assert_true(json_object_size(sample) >= 4);
        json_decref(sample);
    }
    assert_int_equal(n, 11);
    assert_null(wh_event_description("contact.merged"));
}

static void payload_has_the_contract_shape(void **state)
{
    json_t *data = json_pack("{s:s}", "id", "ct_1");
    char *text = wh_event_payload("evt_1", "contact.created", 1781107000123LL, "ten_1", data);
    assert_string_equal(text, "{\"id\":\"evt_1\",\"type\":\"contact.created\","
                              "\"createdAt\":\"2026-06-10T15:56:40.123Z\","
                              "\"tenantId\":\"ten_1\",\"data\":{\"id\":\"ct_1\"}}");
    free(text);
    json_decref(data);
}

static void subscriptions_match_by_type_or_star(void **state)
{
    assert_true(wh_events_match("[\"*\"]", "call.ended"));
    assert_true(wh_events_match("[\"contact.created\",\"call.ended\"]", "call.ended"));
    assert_false(wh_events_match("[\"contact.created\"]", "contact.updated"));
    assert_false(wh_events_match("[\"contact\"]", "contact.created"));
    assert_false(wh_events_match("[]", "contact.created"));
    assert_false(wh_events_match("not json", "contact.created"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_secrets_are_whsec_with_32_base62_characters),
        cmocka_unit_test(chosen_secrets_must_be_16_to_128_printable_ascii),
        cmocka_unit_test(sealed_secrets_open_only_under_the_same_master_key),
        cmocka_unit_test(the_old_secret_is_opened_only_during_its_grace),
        cmocka_unit_test(signature_header_matches_an_independent_hmac),
        cmocka_unit_test(signature_header_carries_new_then_old_during_rotation),
        cmocka_unit_test(schedule_parses_comma_separated_seconds),
        cmocka_unit_test(schedule_rejects_malformed_text),
        cmocka_unit_test(retry_delay_spreads_20_percent_around_the_schedule),
        cmocka_unit_test(retry_delay_ends_with_the_schedule),
        cmocka_unit_test(retry_after_replaces_the_schedule_within_bounds),
        cmocka_unit_test(cursor_round_trips_on_its_own_list),
        cmocka_unit_test(cursor_is_refused_on_another_list_or_key),
        cmocka_unit_test(cursor_is_refused_when_tampered_with),
        cmocka_unit_test(sanitize_keeps_valid_utf8_and_replaces_the_rest),
        cmocka_unit_test(every_event_type_has_a_description_and_an_object_sample),
        cmocka_unit_test(payload_has_the_contract_shape),
        cmocka_unit_test(subscriptions_match_by_type_or_star),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
