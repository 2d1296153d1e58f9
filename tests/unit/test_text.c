/* Unit tests for core/text (JSON written as text) and the router's
 * literal-beats-parameter rule over the real route table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "http/router.h"

/* The JSON string rn_text_json_string writes for s, as a fresh string. */
static char *json_of(const char *s)
{
    rn_text t = {0};
    rn_text_json_string(&t, s);
    assert_false(t.failed);
    char *out = strdup(t.text);
    rn_text_free(&t);
    return out;
}

static void assert_json_string(const char *in, const char *expected)
{
    char *got = json_of(in);
    assert_string_equal(got, expected);
    /* And a JSON parser reads it back as one valid string. */
    json_error_t err;
    json_t *v = json_loads(got, JSON_DECODE_ANY, &err);
    assert_non_null(v);
    assert_true(json_is_string(v));
    json_decref(v);
    free(got);
}

static void escapes_quotes_backslashes_and_controls(void **state)
{
    (void)state;
    assert_json_string("plain /path?x=1", "\"plain /path?x=1\"");
    assert_json_string("a\"b\\c", "\"a\\\"b\\\\c\"");
    assert_json_string("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    assert_json_string("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    assert_json_string("", "\"\"");
    char *null_json = json_of(NULL);
    assert_string_equal(null_json, "null");
    free(null_json);
}

static void keeps_valid_utf8_and_replaces_invalid_bytes(void **state)
{
    (void)state;
    /* é, 中, 😀 pass through unchanged. */
    assert_json_string("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80",
                       "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"");
    /* A lone continuation byte, a truncated sequence, an overlong '/', an
     * encoded surrogate, a code point above U+10FFFF, 0xFF. */
    assert_json_string("a\x80z", "\"a\\ufffdz\"");
    assert_json_string("a\xe4\xb8", "\"a\\ufffd\\ufffd\"");
    assert_json_string("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    assert_json_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    assert_json_string("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    assert_json_string("\xff" "ok", "\"\\ufffdok\"");
}

static void grows_from_the_stack_to_the_heap(void **state)
{
    (void)state;
    char stack[8];
    rn_text t;
    rn_text_on_stack(&t, stack, sizeof stack);
    rn_text_puts(&t, "1234567");
    assert_ptr_equal(t.text, stack); /* 7 + NUL fit */
    rn_text_puts(&t, "89");
    assert_ptr_not_equal(t.text, stack);
    assert_string_equal(t.text, "123456789");
    assert_int_equal(t.len, 9);
    for (int i = 0; i < 1000; i++)
        rn_text_put(&t, "x", 1);
    assert_int_equal(t.len, 1009);
    assert_int_equal(strspn(t.text + 9, "x"), 1000);
    rn_text_free(&t);
    assert_null(t.text);
}

static void writes_integers(void **state)
{
    (void)state;
    rn_text t = {0};
    rn_text_int(&t, 0);
    rn_text_put(&t, ",", 1);
    rn_text_int(&t, -42);
    rn_text_put(&t, ",", 1);
    rn_text_int(&t, LLONG_MAX);
    rn_text_put(&t, ",", 1);
    rn_text_int(&t, LLONG_MIN);
    assert_string_equal(t.text, "0,-42,9223372036854775807,-9223372036854775808");
    rn_text_free(&t);
}

/* Every literal path of the table wins over a {param} pattern that also
 * matches it, for every method, and the Allow list names only the methods
 * of the winning pattern. */
static void router_prefers_literal_segments(void **state)
{
    (void)state;
    char allow[64];
    char *params[RN_MAX_PATH_PARAMS] = {0};
    int i = rn_router_match("GET", "/api/server/webhooks/deliveries", params, allow, sizeof allow);
    assert_true(i >= 0);
    assert_string_equal(RN_ROUTES[i].pattern, "/api/server/webhooks/deliveries");
    assert_null(params[0]);
    assert_int_equal(rn_router_match("DELETE", "/api/server/webhooks/deliveries", params, allow,
                                     sizeof allow),
                     -1);
    assert_string_equal(allow, "GET");
    i = rn_router_match("PATCH", "/api/server/webhooks/wh_123", params, allow, sizeof allow);
    assert_true(i >= 0);
    assert_string_equal(RN_ROUTES[i].pattern, "/api/server/webhooks/{id}");
    assert_string_equal(params[0], "wh_123");
    free(params[0]);
    params[0] = NULL;
    assert_int_equal(rn_router_match("POST", "/api/server/webhooks/wh_123", params, allow,
                                     sizeof allow),
                     -1);
    assert_string_equal(allow, "GET, PATCH, DELETE");
    assert_null(params[0]);
    /* An empty {param} segment matches nothing. */
    assert_int_equal(rn_router_match("GET", "/api/server/webhooks//", params, allow, sizeof allow),
                     -1);
    assert_string_equal(allow, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(keeps_valid_utf8_and_replaces_invalid_bytes),
        cmocka_unit_test(grows_from_the_stack_to_the_heap),
        cmocka_unit_test(writes_integers),
        cmocka_unit_test(router_prefers_literal_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
