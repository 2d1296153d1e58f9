/* Unit tests for src/contacts/fields.c: UTF-8 length, control characters, email. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "contacts/fields.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A byte string with an explicit length, so embedded NULs survive. */
#define BYTES(lit) lit, sizeof(lit) - 1

/* ---- rn_utf8_decode --------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *bytes;
    size_t len;
    size_t want_step;
    uint32_t want_cp;
} decode_case;

static const decode_case decode_cases[] = {
    {"ascii letter", BYTES("A"), 1, 0x41},
    {"NUL with length", BYTES("\0"), 1, 0x0},
    {"last one-byte", BYTES("\x7f"), 1, 0x7F},
    {"first two-byte", BYTES("\xc2\x80"), 2, 0x80},
    {"e acute", BYTES("\xc3\xa9"), 2, 0xE9},
    {"last two-byte", BYTES("\xdf\xbf"), 2, 0x7FF},
    {"first three-byte", BYTES("\xe0\xa0\x80"), 3, 0x800},
    {"euro sign", BYTES("\xe2\x82\xac"), 3, 0x20AC},
    {"before surrogates", BYTES("\xed\x9f\xbf"), 3, 0xD7FF},
    {"after surrogates", BYTES("\xee\x80\x80"), 3, 0xE000},
    {"last three-byte", BYTES("\xef\xbf\xbf"), 3, 0xFFFF},
    {"first four-byte", BYTES("\xf0\x90\x80\x80"), 4, 0x10000},
    {"grinning face", BYTES("\xf0\x9f\x98\x80"), 4, 0x1F600},
    {"last code point", BYTES("\xf4\x8f\xbf\xbf"), 4, 0x10FFFF},
    {"only first decoded", BYTES("\xc3\xa9z"), 2, 0xE9},
    {"empty", BYTES(""), 0, 0},
    {"truncated two-byte", BYTES("\xc3"), 0, 0},
    {"truncated four-byte", BYTES("\xf0\x9f\x98"), 0, 0},
    {"lone continuation", BYTES("\x80"), 0, 0},
    {"overlong NUL", BYTES("\xc0\x80"), 0, 0},
    {"overlong slash", BYTES("\xc1\xaf"), 0, 0},
    {"overlong three-byte", BYTES("\xe0\x9f\xbf"), 0, 0},
    {"overlong four-byte", BYTES("\xf0\x8f\xbf\xbf"), 0, 0},
    {"high surrogate", BYTES("\xed\xa0\x80"), 0, 0},
    {"low surrogate", BYTES("\xed\xbf\xbf"), 0, 0},
    {"above U+10FFFF", BYTES("\xf4\x90\x80\x80"), 0, 0},
    {"lead F5", BYTES("\xf5\x80\x80\x80"), 0, 0},
    {"lead FF", BYTES("\xff"), 0, 0},
    {"bad continuation", BYTES("\xe2\x28\xa1"), 0, 0},
};

static void test_utf8_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(decode_cases); i++) {
        const decode_case *c = &decode_cases[i];
        uint32_t cp = 0xDEADBEEF;
        size_t step = rn_utf8_decode(c->bytes, c->len, &cp);
        if (step != c->want_step)
            fail_msg("%s: step %zu, want %zu", c->name, step, c->want_step);
        if (step != 0 && cp != c->want_cp)
            fail_msg("%s: cp U+%04X, want U+%04X", c->name, (unsigned)cp, (unsigned)c->want_cp);
    }
}

static void test_utf8_decode_null_arguments(void **state)
{
    (void)state;
    assert_int_equal(rn_utf8_decode("\xe2\x82\xac", 3, NULL), 3);
    assert_int_equal(rn_utf8_decode(NULL, 4, NULL), 0);
}

/* ---- rn_utf8_length --------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *bytes;
    size_t len;
    long want;
} length_case;

static const length_case length_cases[] = {
    {"empty", BYTES(""), 0},
    {"ascii", BYTES("abc"), 3},
    {"embedded NUL counts", BYTES("a\0b"), 3},
    {"only NULs", BYTES("\0\0"), 2},
    {"two-byte", BYTES("h\xc3\xa9llo"), 5},
    {"three-byte", BYTES("\xe6\x97\xa5\xe6\x9c\xac"), 2},
    {"emoji", BYTES("a\xf0\x9f\x98\x80" "b"), 3},
    {"flag is two code points", BYTES("\xf0\x9f\x87\xae\xf0\x9f\x87\xa9"), 2},
    {"ZWJ family is five", BYTES("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
                                 "\xf0\x9f\x91\xa7"),
     5},
    {"combining accent separate", BYTES("e\xcc\x81"), 2},
    {"every width", BYTES("A\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), 5},
    {"BOM is a code point", BYTES("\xef\xbb\xbfx"), 2},
    {"invalid at end", BYTES("abc\xff"), -1},
    {"invalid after NUL", BYTES("a\0\x80"), -1},
    {"truncated at end", BYTES("ab\xe2\x82"), -1},
    {"overlong NUL", BYTES("a\xc0\x80"), -1},
    {"overlong euro", BYTES("\xf0\x82\x82\xac"), -1},
    {"CESU-8 surrogate pair", BYTES("\xed\xa0\xbd\xed\xb8\x80"), -1},
    {"five-byte form", BYTES("\xf8\x88\x80\x80\x80"), -1},
    {"above U+10FFFF", BYTES("\xf7\xbf\xbf\xbf"), -1},
    {"continuation replaced by ASCII", BYTES("\xc3(x"), -1},
    {"Latin-1 byte", BYTES("caf\xe9"), -1},
};

static void test_utf8_length_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(length_cases); i++) {
        const length_case *c = &length_cases[i];
        long got = rn_utf8_length(c->bytes, c->len);
        if (got != c->want)
            fail_msg("%s: got %ld, want %ld", c->name, got, c->want);
    }
}

static void test_utf8_length_respects_given_length(void **state)
{
    (void)state;
    const char *s = "\xc3\xa9\xc3\xa9";
    assert_int_equal(rn_utf8_length(s, 4), 2);
    assert_int_equal(rn_utf8_length(s, 2), 1);
    /* Cutting inside a sequence leaves it truncated. */
    assert_int_equal(rn_utf8_length(s, 3), -1);
    assert_int_equal(rn_utf8_length(s, 1), -1);
    assert_int_equal(rn_utf8_length(s, 0), 0);
    assert_int_equal(rn_utf8_length(NULL, 0), 0);
    assert_int_equal(rn_utf8_length(NULL, 1), -1);
}

static void test_utf8_length_counts_200_code_points(void **state)
{
    (void)state;
    char buf[200 * 4];
    for (size_t i = 0; i < 200; i++)
        memcpy(buf + i * 4, "\xf0\x9f\x98\x80", 4);
    assert_int_equal(rn_utf8_length(buf, sizeof buf), 200);
    assert_int_equal(rn_utf8_length(buf, sizeof buf - 4), 199);
}

/* ---- rn_text_has_control ---------------------------------------------------- */

typedef struct {
    const char *name;
    const char *text;
    int want_strict;      /* allow_newline_tab = 0 */
    int want_multiline;   /* allow_newline_tab = 1 */
} control_case;

static const control_case control_cases[] = {
    {"empty", "", 0, 0},
    {"plain", "Hello, world", 0, 0},
    {"printable edges", " ~", 0, 0},
    {"newline", "a\nb", 1, 0},
    {"tab", "a\tb", 1, 0},
    {"trailing newline", "note\n", 1, 0},
    {"carriage return", "a\rb", 1, 1},
    {"CRLF", "a\r\nb", 1, 1},
    {"U+0001", "\x01", 1, 1},
    {"U+001F", "x\x1f", 1, 1},
    {"escape sequence", "\x1b[31mred", 1, 1},
    {"vertical tab", "a\vb", 1, 1},
    {"form feed", "a\fb", 1, 1},
    {"DEL", "a\x7f", 1, 1},
    {"C1 first", "\xc2\x80", 1, 1},
    {"C1 NEL", "line\xc2\x85next", 1, 1},
    {"C1 last", "\xc2\x9f", 1, 1},
    {"NBSP is not control", "a\xc2\xa0" "b", 0, 0},
    {"copyright sign", "\xc2\xa9", 0, 0},
    {"continuation 0x81 inside U+0101", "\xc4\x81", 0, 0},
    {"continuation 0x80 inside ellipsis", "\xe2\x80\xa6", 0, 0},
    {"line separator is not Cc", "\xe2\x80\xa8", 0, 0},
    {"CJK", "\xe6\x97\xa5\xe6\x9c\xac", 0, 0},
    {"emoji", "\xf0\x9f\x98\x80", 0, 0},
    {"newline and DEL", "a\n\x7f", 1, 1},
};

static void test_text_has_control_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(control_cases); i++) {
        const control_case *c = &control_cases[i];
        int strict = rn_text_has_control(c->text, 0);
        int multiline = rn_text_has_control(c->text, 1);
        if (strict != c->want_strict)
            fail_msg("%s (strict): got %d, want %d", c->name, strict, c->want_strict);
        if (multiline != c->want_multiline)
            fail_msg("%s (newline/tab): got %d, want %d", c->name, multiline,
                     c->want_multiline);
    }
}

static void test_text_has_control_null(void **state)
{
    (void)state;
    assert_int_equal(rn_text_has_control(NULL, 0), 0);
    assert_int_equal(rn_text_has_control(NULL, 1), 0);
}

static void test_text_has_control_every_c0_byte(void **state)
{
    (void)state;
    for (int c = 1; c < 0x20; c++) {
        char text[] = {'x', (char)c, 'y', '\0'};
        int want_multiline = (c == '\n' || c == '\t') ? 0 : 1;
        if (rn_text_has_control(text, 0) != 1)
            fail_msg("byte 0x%02x not flagged", c);
        if (rn_text_has_control(text, 1) != want_multiline)
            fail_msg("byte 0x%02x with newline/tab allowed", c);
    }
}

/* ---- rn_email_normalize ----------------------------------------------------- */

typedef struct {
    const char *name;
    const char *input;
    int want_rc;
    const char *want_out; /* NULL when want_rc != 0 */
} email_case;

static const email_case email_cases[] = {
    {"simple", "user@example.com", 0, "user@example.com"},
    {"shortest", "a@b.co", 0, "a@b.co"},
    {"domain lower-cased, local kept", "MiXeD@Example.COM", 0, "MiXeD@example.com"},
    {"trimmed", "  User.Name+tag@Example.COM \t\r\n", 0, "User.Name+tag@example.com"},
    {"all atext", "!#$%&'*+-/=?^_`{|}~@example.com", 0, "!#$%&'*+-/=?^_`{|}~@example.com"},
    {"apostrophe", "o'brien@EXAMPLE.org", 0, "o'brien@example.org"},
    {"subdomains", "x@Sub.Domain.Example.ID", 0, "x@sub.domain.example.id"},
    {"digit label", "x@123.example", 0, "x@123.example"},
    {"digit in TLD", "x@example.c0m", 0, "x@example.c0m"},
    {"hyphens inside", "x@a-b--c.example", 0, "x@a-b--c.example"},
    {"punycode", "x@XN--80AK6AA92E.COM", 0, "x@xn--80ak6aa92e.com"},
    {"IDN umlaut", "user@M\xc3\xbcnchen.DE", 0, "user@m\xc3\xbcnchen.de"},
    {"IDN capital umlaut kept", "user@\xc3\x84" "BC.DE", 0, "user@\xc3\x84" "bc.de"},
    {"IDN Japanese", "user@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 0,
     "user@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88"},
    {"IDN emoji", "user@\xf0\x9f\x98\x80.example", 0, "user@\xf0\x9f\x98\x80.example"},
    {"empty", "", -1, NULL},
    {"only spaces", " \t\n ", -1, NULL},
    {"no at", "plainaddress", -1, NULL},
    {"empty local", "@example.com", -1, NULL},
    {"empty domain", "user@", -1, NULL},
    {"double at", "user@@example.com", -1, NULL},
    {"two ats", "a@b@example.com", -1, NULL},
    {"single label", "user@localhost", -1, NULL},
    {"numeric TLD", "user@example.123", -1, NULL},
    {"IPv4 host", "user@1.2.3.4", -1, NULL},
    {"IP literal", "user@[1.2.3.4]", -1, NULL},
    {"leading dot local", ".user@example.com", -1, NULL},
    {"trailing dot local", "user.@example.com", -1, NULL},
    {"double dot local", "us..er@example.com", -1, NULL},
    {"lone dot local", ".@example.com", -1, NULL},
    {"leading dot domain", "user@.example.com", -1, NULL},
    {"trailing dot domain", "user@example.com.", -1, NULL},
    {"double dot domain", "user@example..com", -1, NULL},
    {"leading hyphen label", "user@-example.com", -1, NULL},
    {"trailing hyphen label", "user@example-.com", -1, NULL},
    {"hyphen TLD end", "user@example.com-", -1, NULL},
    {"underscore in domain", "user@exa_mple.com", -1, NULL},
    {"space in local", "us er@example.com", -1, NULL},
    {"space in domain", "user@exa mple.com", -1, NULL},
    {"newline inside", "user\n@example.com", -1, NULL},
    {"quoted local", "\"quoted\"@example.com", -1, NULL},
    {"comment", "user(comment)@example.com", -1, NULL},
    {"angle brackets", "<user@example.com>", -1, NULL},
    {"display name", "User <user@example.com>", -1, NULL},
    {"non-ASCII local", "us\xc3\xa9r@example.com", -1, NULL},
    {"control in domain", "user@exa\x01mple.com", -1, NULL},
    {"C1 in domain", "user@ex\xc2\x85" "ample.com", -1, NULL},
    {"NBSP in domain", "user@ex\xc2\xa0" "ample.com", -1, NULL},
    {"NBSP not trimmed", "\xc2\xa0user@example.com", -1, NULL},
    {"zero-width space", "user@exa\xe2\x80\x8bmple.com", -1, NULL},
    {"RTL override", "user@exa\xe2\x80\xaemple.com", -1, NULL},
    /* An extra real dot, so that the domain would otherwise have two labels. */
    {"ideographic full stop", "user@mail\xe3\x80\x82" "example.com", -1, NULL},
    {"full-width full stop", "user@mail\xef\xbc\x8e" "example.com", -1, NULL},
    {"half-width full stop", "user@mail\xef\xbd\xa1" "example.com", -1, NULL},
    {"invalid UTF-8", "user@ex\xff" "ample.com", -1, NULL},
    {"overlong dot", "user@example\xc0\xae" "com", -1, NULL},
    {"surrogate", "user@ex\xed\xa0\x80" ".com", -1, NULL},
    {"truncated sequence", "user@exampl\xc3.com", -1, NULL},
};

static void test_email_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(email_cases); i++) {
        const email_case *c = &email_cases[i];
        char out[300] = "untouched";
        int rc = rn_email_normalize(c->input, out, sizeof out);
        if (rc != c->want_rc)
            fail_msg("%s: rc %d, want %d", c->name, rc, c->want_rc);
        if (c->want_out != NULL && strcmp(out, c->want_out) != 0)
            fail_msg("%s: out \"%s\", want \"%s\"", c->name, out, c->want_out);
        if (c->want_out == NULL && strcmp(out, "untouched") != 0)
            fail_msg("%s: out written on failure", c->name);
    }
}

static void test_email_null_input(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(rn_email_normalize(NULL, out, sizeof out), -1);
}

/* Fills buf with n copies of c and a terminator. */
static char *repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static void test_email_local_part_length_limit(void **state)
{
    (void)state;
    char local[80], input[120], out[120];

    snprintf(input, sizeof input, "%s@example.com", repeat(local, 'a', 64));
    assert_int_equal(rn_email_normalize(input, out, sizeof out), 0);
    assert_string_equal(out, input);

    snprintf(input, sizeof input, "%s@example.com", repeat(local, 'a', 65));
    assert_int_equal(rn_email_normalize(input, out, sizeof out), -1);
}

static void test_email_label_length_limit(void **state)
{
    (void)state;
    char label[80], input[120], out[120];

    snprintf(input, sizeof input, "u@%s.com", repeat(label, 'B', 63));
    assert_int_equal(rn_email_normalize(input, out, sizeof out), 0);
    assert_int_equal(strlen(out), 2 + 63 + 4);
    assert_string_equal(out + 2 + 63, ".com");
    assert_int_equal(out[2], 'b');

    snprintf(input, sizeof input, "u@%s.com", repeat(label, 'b', 64));
    assert_int_equal(rn_email_normalize(input, out, sizeof out), -1);

    snprintf(input, sizeof input, "u@example.%s", repeat(label, 'c', 64));
    assert_int_equal(rn_email_normalize(input, out, sizeof out), -1);
}

/* Labels are measured in UTF-8 bytes: 31 two-byte letters fit (62), 32 do not (64). */
static void test_email_label_length_counts_utf8_bytes(void **state)
{
    (void)state;
    char input[160], out[160];
    char *p = input + sprintf(input, "u@");

    for (int i = 0; i < 31; i++)
        p += sprintf(p, "\xc3\xbc");
    sprintf(p, ".de");
    assert_int_equal(rn_email_normalize(input, out, sizeof out), 0);
    assert_string_equal(out, input);

    sprintf(p, "\xc3\xbc.de");
    assert_int_equal(rn_email_normalize(input, out, sizeof out), -1);
}

/* 64 + 1 + (63 + 1 + 63 + 1 + tld) bytes: tld 61 gives 254, tld 62 gives 255. */
static void test_email_total_length_limit(void **state)
{
    (void)state;
    char local[70], l1[70], l2[70], tld[70], input[300], out[300];
    repeat(local, 'a', 64);
    repeat(l1, 'b', 63);
    repeat(l2, 'c', 63);

    snprintf(input, sizeof input, "%s@%s.%s.%s", local, l1, l2, repeat(tld, 'd', 61));
    assert_int_equal(strlen(input), 254);
    assert_int_equal(rn_email_normalize(input, out, sizeof out), 0);
    assert_string_equal(out, input);

    snprintf(input, sizeof input, "%s@%s.%s.%s", local, l1, l2, repeat(tld, 'd', 62));
    assert_int_equal(strlen(input), 255);
    assert_int_equal(rn_email_normalize(input, out, sizeof out), -1);
}

/* The limit applies after trimming: surrounding spaces do not count. */
static void test_email_total_length_after_trim(void **state)
{
    (void)state;
    char local[70], l1[70], l2[70], tld[70], input[300], out[300];
    snprintf(input, sizeof input, "   %s@%s.%s.%s   ", repeat(local, 'a', 64),
             repeat(l1, 'b', 63), repeat(l2, 'c', 63), repeat(tld, 'd', 61));
    assert_int_equal(rn_email_normalize(input, out, sizeof out), 0);
    assert_int_equal(strlen(out), 254);
    assert_int_equal(out[0], 'a');
    assert_int_equal(out[253], 'd');
}

static void test_email_output_capacity(void **state)
{
    (void)state;
    char out[8];

    memset(out, 'Z', sizeof out);
    assert_int_equal(rn_email_normalize("a@B.co", out, 6), -2);
    assert_int_equal(out[0], 'Z');
    assert_int_equal(rn_email_normalize("a@B.co", out, 7), 0);
    assert_string_equal(out, "a@b.co");
    assert_int_equal(rn_email_normalize("  a@B.co  ", out, 7), 0);
    assert_string_equal(out, "a@b.co");
    assert_int_equal(rn_email_normalize("a@B.co", NULL, 0), -2);
    /* Invalid input reports -1 whatever the buffer. */
    assert_int_equal(rn_email_normalize("a@B", out, 0), -1);
    assert_int_equal(rn_email_normalize("a@B", NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_decode_table),
        cmocka_unit_test(test_utf8_decode_null_arguments),
        cmocka_unit_test(test_utf8_length_table),
        cmocka_unit_test(test_utf8_length_respects_given_length),
        cmocka_unit_test(test_utf8_length_counts_200_code_points),
        cmocka_unit_test(test_text_has_control_table),
        cmocka_unit_test(test_text_has_control_null),
        cmocka_unit_test(test_text_has_control_every_c0_byte),
        cmocka_unit_test(test_email_table),
        cmocka_unit_test(test_email_null_input),
        cmocka_unit_test(test_email_local_part_length_limit),
        cmocka_unit_test(test_email_label_length_limit),
        cmocka_unit_test(test_email_label_length_counts_utf8_bytes),
        cmocka_unit_test(test_email_total_length_limit),
        cmocka_unit_test(test_email_total_length_after_trim),
        cmocka_unit_test(test_email_output_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
