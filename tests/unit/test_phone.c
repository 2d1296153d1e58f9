/* Unit tests for src/contacts/phone.cc, called from C as the handlers will.
 * Expected verdicts were checked against Debian's libphonenumber 8.12.57. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "contacts/phone.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const char *name;
    const char *input;
    const char *region;
    int want_rc;
    const char *want_out; /* NULL when want_rc != 0 */
} phone_case;

#define OK(name, input, region, e164) {name, input, region, 0, e164}
#define BAD(name, input, region) {name, input, region, -1, NULL}

static const phone_case phone_cases[] = {
    /* SPEC §6 examples and the ways people type an Indonesian mobile. */
    OK("spec international", "+62 812-3456-789", "ID", "+628123456789"),
    OK("spec local", "0812-3456-789", "ID", "+628123456789"),
    OK("parenthesised trunk", "(0812) 3456 789", "ID", "+628123456789"),
    OK("digits only", "08123456789", "ID", "+628123456789"),
    OK("already E.164", "+628123456789", "ID", "+628123456789"),
    OK("E.164 without region", "+628123456789", NULL, "+628123456789"),
    OK("E.164, other region", "+628123456789", "US", "+628123456789"),
    OK("E.164, unknown region", "+628123456789", "ZZ", "+628123456789"),
    OK("surrounding spaces", "  +62 812 3456 789  ", "ID", "+628123456789"),
    OK("dots", "+62.812.3456.789", "ID", "+628123456789"),
    OK("slashes", "+62/812/3456/789", "ID", "+628123456789"),
    OK("bracketed country", "(+62) 812 3456 789", "ID", "+628123456789"),
    OK("trunk zero in brackets", "+62 (0) 812 3456 789", "ID", "+628123456789"),
    OK("trunk zero after country", "+62 0812 3456 789", "ID", "+628123456789"),
    OK("thirteen-digit mobile", "+62 812 3456 7890", "ID", "+6281234567890"),
    OK("Jakarta landline", "(021) 1234567", "ID", "+62211234567"),
    OK("US local", "(650) 253-0000", "US", "+16502530000"),
    OK("US with 1", "1-650-253-0000", "US", "+16502530000"),
    OK("US toll-free digits", "1-800-356-9377", "US", "+18003569377"),
    OK("US from Indonesia", "+1 650 253 0000", "ID", "+16502530000"),
    OK("UK local", "020 7946 0958", "GB", "+442079460958"),
    OK("German 16 digits in total", "030 123456789012", "DE", "+4930123456789012"),
    /* Non-ASCII forms libphonenumber folds to ASCII. */
    OK("full-width", "\xef\xbc\x8b\xef\xbc\x96\xef\xbc\x92 \xef\xbc\x98\xef\xbc\x91\xef\xbc\x92 "
                     "\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96 "
                     "\xef\xbc\x97\xef\xbc\x98\xef\xbc\x99",
       "ID", "+628123456789"),
    OK("full-width parentheses", "\xef\xbc\x88" "0812\xef\xbc\x89" "3456 789", "ID",
       "+628123456789"),
    OK("Arabic-Indic digits", "\xd9\xa0\xd9\xa8\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5"
                              "\xd9\xa6\xd9\xa7\xd9\xa8\xd9\xa9",
       "ID", "+628123456789"),
    OK("Persian digits", "\xdb\xb0\xdb\xb8\xdb\xb1\xdb\xb2\xdb\xb3\xdb\xb4\xdb\xb5\xdb\xb6"
                         "\xdb\xb7\xdb\xb8\xdb\xb9",
       "ID", "+628123456789"),
    OK("no-break spaces", "+62\xc2\xa0" "812\xc2\xa0" "3456\xc2\xa0" "789", "ID",
       "+628123456789"),
    OK("en dashes", "0812\xe2\x80\x93" "3456\xe2\x80\x93" "789", "ID", "+628123456789"),
    OK("minus signs", "0812\xe2\x88\x92" "3456\xe2\x88\x92" "789", "ID", "+628123456789"),
    OK("ideographic spaces", "+62\xe3\x80\x80" "812\xe3\x80\x80" "3456789", "ID",
       "+628123456789"),

    /* Letters, extensions and other characters are refused, not interpreted. */
    BAD("vanity number", "1-800-FLOWERS", "US"),
    BAD("vanity lower case", "1-800-flowers", "US"),
    BAD("extension x", "+62 812 3456 789 x12", "ID"),
    BAD("extension word", "+62 812 3456 789 ext. 12", "ID"),
    BAD("extension hash", "+62 812 3456 789 #12", "ID"),
    BAD("extension comma", "+62 812 3456 789,12", "ID"),
    BAD("RFC 3966 extension", "+62 812 3456 789;ext=12", "ID"),
    BAD("tel URI", "tel:+62-812-3456-789", "ID"),
    BAD("Cyrillic letter", "+62 812 3456 789\xd0\xb0", "ID"),
    BAD("emoji", "+62 812 3456 789 \xf0\x9f\x98\x80", "ID"),
    BAD("telephone sign", "\xe2\x98\x8e +62 812 3456 789", "ID"),
    BAD("asterisk", "+62 812*3456*789", "ID"),
    BAD("tab", "+62\t812 3456 789", "ID"),
    BAD("newline", "+62 812 3456 789\n", "ID"),
    BAD("invalid UTF-8", "+62 812 3456 789\xff", "ID"),
    BAD("overlong digit", "+62 812 3456 78\xc0\xb9", "ID"),
    BAD("zero-width space", "+62\xe2\x80\x8b" "8123456789", "ID"),

    /* Empty, impossible or unassigned numbers. */
    BAD("empty", "", "ID"),
    BAD("spaces only", "   ", "ID"),
    BAD("punctuation only", "+()-", "ID"),
    BAD("spec short", "+62 12", "ID"),
    BAD("unknown country code", "+999 123", "ID"),
    BAD("unknown country code, long", "+999 1234 5678", "ID"),
    BAD("two digits", "12", "ID"),
    BAD("trunk plus three", "0812", "ID"),
    BAD("country plus one digit", "+62 8", "ID"),
    BAD("local-only length", "+62 81234", "ID"),
    BAD("US local-only", "+1 555 0100", "US"),
    BAD("too long", "+628123456789012345", "ID"),
    BAD("possible but unassigned", "+1 000 000 0000", "US"),
    BAD("00 is not Indonesia's IDD", "00 62 812 3456 789", "ID"),
    BAD("one digit short", "+62 812 3456 7", "ID"),

    /* Local numbers need a usable region. */
    BAD("local without region", "0812-3456-789", NULL),
    BAD("local, unknown region", "0812-3456-789", "ZZ"),
    BAD("local, lower-case region", "0812-3456-789", "id"),
    BAD("local, empty region", "0812-3456-789", ""),
    BAD("local, three-letter region", "0812-3456-789", "IDN"),
};

static void test_phone_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(phone_cases); i++) {
        const phone_case *c = &phone_cases[i];
        char out[32] = "untouched";
        int rc = rn_phone_normalize(c->input, c->region, out, sizeof out);
        if (rc != c->want_rc)
            fail_msg("%s: rc %d, want %d", c->name, rc, c->want_rc);
        if (c->want_out != NULL && strcmp(out, c->want_out) != 0)
            fail_msg("%s: out \"%s\", want \"%s\"", c->name, out, c->want_out);
        if (c->want_out == NULL && strcmp(out, "untouched") != 0)
            fail_msg("%s: out written on failure", c->name);
    }
}

static void test_phone_null_input(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(rn_phone_normalize(NULL, "ID", out, sizeof out), -1);
    assert_int_equal(rn_phone_normalize(NULL, NULL, NULL, 0), -1);
}

static void test_phone_output_capacity(void **state)
{
    (void)state;
    char out[20];

    /* "+628123456789" is 13 bytes and needs 14 with its terminator. */
    memset(out, 'Z', sizeof out);
    assert_int_equal(rn_phone_normalize("0812-3456-789", "ID", out, 13), -2);
    assert_int_equal(out[0], 'Z');
    assert_int_equal(rn_phone_normalize("0812-3456-789", "ID", out, 14), 0);
    assert_string_equal(out, "+628123456789");
    assert_int_equal(rn_phone_normalize("0812-3456-789", "ID", NULL, 0), -2);
    assert_int_equal(rn_phone_normalize("0812-3456-789", "ID", out, 0), -2);
    /* A bad number is -1 whatever the buffer. */
    assert_int_equal(rn_phone_normalize("+62 12", "ID", out, 0), -1);
    assert_int_equal(rn_phone_normalize("+62 12", "ID", NULL, 0), -1);
}

static void test_phone_longer_than_e164_fits_the_cap(void **state)
{
    (void)state;
    char out[RN_PHONE_E164_CAP];
    assert_int_equal(rn_phone_normalize("+49 30 123456789012", NULL, out, 17), -2);
    assert_int_equal(rn_phone_normalize("+49 30 123456789012", NULL, out, 18), 0);
    assert_string_equal(out, "+4930123456789012");
    assert_int_equal(rn_phone_normalize("+49 30 123456789012", NULL, out, sizeof out), 0);
    assert_string_equal(out, "+4930123456789012");
}

/* libphonenumber stops at 250 bytes of input; padding counts. */
static void test_phone_input_length_limit(void **state)
{
    (void)state;
    char input[300], out[32];

    snprintf(input, sizeof input, "%-250s", "+628123456789");
    assert_int_equal(strlen(input), 250);
    assert_int_equal(rn_phone_normalize(input, "ID", out, sizeof out), 0);
    assert_string_equal(out, "+628123456789");

    snprintf(input, sizeof input, "%-251s", "+628123456789");
    assert_int_equal(rn_phone_normalize(input, "ID", out, sizeof out), -1);
}

typedef struct {
    const char *region;
    int want;
} region_case;

static const region_case region_cases[] = {
    {"ID", 1}, {"US", 1}, {"GB", 1}, {"XK", 1}, {"AC", 1},
    {"id", 0}, {"Id", 0}, {"UK", 0}, {"ZZ", 0}, {"001", 0},
    {"EU", 0}, {"IDN", 0}, {"ID ", 0}, {" ID", 0}, {"", 0},
};

static void test_phone_region_known_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(region_cases); i++) {
        int got = rn_phone_region_known(region_cases[i].region);
        if (got != region_cases[i].want)
            fail_msg("\"%s\": got %d, want %d", region_cases[i].region, got,
                     region_cases[i].want);
    }
    assert_int_equal(rn_phone_region_known(NULL), 0);
}

/* Many threads normalising at once (the first call builds libphonenumber's
 * metadata) must all get the same answers. */
#define RACE_THREADS 8
#define RACE_ROUNDS 200

static void *race_worker(void *arg)
{
    int *failures = arg;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        char out[32];
        const char *input = (i % 2) ? "0812-3456-789" : "(650) 253-0000";
        const char *region = (i % 2) ? "ID" : "US";
        const char *want = (i % 2) ? "+628123456789" : "+16502530000";
        if (rn_phone_normalize(input, region, out, sizeof out) != 0 || strcmp(out, want) != 0)
            (*failures)++;
        if (rn_phone_normalize("+62 12", "ID", out, sizeof out) != -1)
            (*failures)++;
        if (rn_phone_region_known(region) != 1)
            (*failures)++;
    }
    return NULL;
}

static void test_phone_concurrent_calls_agree(void **state)
{
    (void)state;
    pthread_t threads[RACE_THREADS];
    int failures[RACE_THREADS] = {0};

    for (int i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, race_worker, &failures[i]), 0);
    for (int i = 0; i < RACE_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(failures[i], 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First, so that the metadata is built while threads race for it. */
        cmocka_unit_test(test_phone_concurrent_calls_agree),
        cmocka_unit_test(test_phone_table),
        cmocka_unit_test(test_phone_null_input),
        cmocka_unit_test(test_phone_output_capacity),
        cmocka_unit_test(test_phone_longer_than_e164_fits_the_cap),
        cmocka_unit_test(test_phone_input_length_limit),
        cmocka_unit_test(test_phone_region_known_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
