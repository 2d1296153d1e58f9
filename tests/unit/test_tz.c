/* Unit tests for core/tz: calendar arithmetic, TZif transitions of real
 * zones (checked against zdump output of the same tzdata), the POSIX footer
 * rules past 2037, and local-day boundaries across DST changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"

#define H 3600LL

static const rn_tz *zone(const char *name)
{
    const rn_tz *tz = rn_tz_get(name);
    assert_non_null(tz);
    return tz;
}

static long long day_of(const char *date)
{
    long long d = 0;
    assert_int_equal(rn_day_parse(date, &d), 0);
    return d;
}

/* ---- calendar -------------------------------------------------------------- */

static void civil_days_match_known_dates(void **state)
{
    assert_int_equal(rn_day_from_civil(1970, 1, 1), 0);
    assert_int_equal(rn_day_from_civil(1969, 12, 31), -1);
    assert_int_equal(rn_day_from_civil(2000, 3, 1), 11017);
    assert_int_equal(rn_day_from_civil(2026, 1, 1), 1767225600LL / 86400);
    assert_int_equal(rn_day_from_civil(1900, 3, 1) - rn_day_from_civil(1900, 2, 28), 1);
    assert_int_equal(rn_day_from_civil(2000, 3, 1) - rn_day_from_civil(2000, 2, 28), 2);
    assert_int_equal(rn_day_weekday(0), 4);                           /* Thursday */
    assert_int_equal(rn_day_weekday(rn_day_from_civil(2026, 3, 8)), 0); /* Sunday */
    assert_int_equal(rn_day_weekday(-1), 3);
}

static void civil_days_round_trip(void **state)
{
    for (long long d = -800000; d <= 800000; d += 37) {
        int y, m, md;
        rn_day_to_civil(d, &y, &m, &md);
        assert_int_equal(rn_day_from_civil(y, m, md), d);
    }
    char buf[16];
    rn_day_format(day_of("2024-02-29"), buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29");
}

static void day_parse_is_strict(void **state)
{
    long long d;
    assert_int_equal(rn_day_parse("2023-02-29", &d), -1);
    assert_int_equal(rn_day_parse("2026-13-01", &d), -1);
    assert_int_equal(rn_day_parse("2026-1-01", &d), -1);
    assert_int_equal(rn_day_parse("2026-01-01 ", &d), -1);
    assert_int_equal(rn_day_parse("+026-01-01", &d), -1);
    assert_int_equal(rn_day_parse(NULL, &d), -1);
    assert_int_equal(rn_day_parse("2026-01-31", &d), 0);
    assert_int_equal(d, rn_day_from_civil(2026, 1, 31));
}

/* ---- zones from tzdata ------------------------------------------------------- */

static void new_york_2026_transitions(void **state)
{
    const rn_tz *ny = zone("America/New_York");
    assert_int_equal(rn_tz_offset(ny, 1772953200 - 1), -5 * H);
    assert_int_equal(rn_tz_offset(ny, 1772953200), -4 * H);
    assert_int_equal(rn_tz_offset(ny, 1793512800 - 1), -4 * H);
    assert_int_equal(rn_tz_offset(ny, 1793512800), -5 * H);
}

static void berlin_2026_transitions(void **state)
{
    const rn_tz *be = zone("Europe/Berlin");
    assert_int_equal(rn_tz_offset(be, 1774746000 - 1), 1 * H);
    assert_int_equal(rn_tz_offset(be, 1774746000), 2 * H);
    assert_int_equal(rn_tz_offset(be, 1792890000 - 1), 2 * H);
    assert_int_equal(rn_tz_offset(be, 1792890000), 1 * H);
}

static void footer_rules_after_2037(void **state)
{
    const rn_tz *ny = zone("America/New_York");
    assert_int_equal(rn_tz_offset(ny, 2215062000 - 1), -5 * H); /* 2040-03-11 07:00Z */
    assert_int_equal(rn_tz_offset(ny, 2215062000), -4 * H);
    assert_int_equal(rn_tz_offset(ny, 2235621600 - 1), -4 * H); /* 2040-11-04 06:00Z */
    assert_int_equal(rn_tz_offset(ny, 2235621600), -5 * H);
    const rn_tz *syd = zone("Australia/Sydney");                 /* southern hemisphere */
    assert_int_equal(rn_tz_offset(syd, 2216822400 - 1), 11 * H); /* 2040-03-31 16:00Z */
    assert_int_equal(rn_tz_offset(syd, 2216822400), 10 * H);
    assert_int_equal(rn_tz_offset(syd, 2233152000 - 1), 10 * H); /* 2040-10-06 16:00Z */
    assert_int_equal(rn_tz_offset(syd, 2233152000), 11 * H);
}

static void jakarta_is_utc_plus_7(void **state)
{
    const rn_tz *jkt = zone("Asia/Jakarta");
    assert_int_equal(rn_tz_offset(jkt, 1767225600), 7 * H);
    /* 2025-12-31 17:00Z is 2026-01-01 00:00 in Jakarta. */
    assert_int_equal(rn_tz_local_day(jkt, 1767200400000LL), day_of("2026-01-01"));
    assert_int_equal(rn_tz_local_day(jkt, 1767200400000LL - 1), day_of("2025-12-31"));
    assert_int_equal(rn_tz_day_start_ms(jkt, day_of("2026-01-01")), 1767200400000LL);
}

static void local_day_boundaries_across_dst(void **state)
{
    const rn_tz *ny = zone("America/New_York");
    long long mar8 = day_of("2026-03-08");
    assert_int_equal(rn_tz_day_start_ms(ny, mar8), 1772946000000LL); /* 05:00Z (EST) */
    assert_int_equal(rn_tz_day_start_ms(ny, mar8 + 1), 1773028800000LL); /* 04:00Z (EDT) */
    assert_int_equal(rn_tz_day_start_ms(ny, mar8 + 1) - rn_tz_day_start_ms(ny, mar8),
                     23 * H * 1000);
    long long nov1 = day_of("2026-11-01");
    assert_int_equal(rn_tz_day_start_ms(ny, nov1 + 1) - rn_tz_day_start_ms(ny, nov1),
                     25 * H * 1000);
    assert_int_equal(rn_tz_local_day(ny, 1773028800000LL - 1), mar8);
    assert_int_equal(rn_tz_local_day(ny, 1773028800000LL), mar8 + 1);
    const rn_tz *be = zone("Europe/Berlin");
    long long oct25 = day_of("2026-10-25");
    assert_int_equal(rn_tz_day_start_ms(be, oct25), 1792879200000LL); /* 2026-10-24 22:00Z */
    assert_int_equal(rn_tz_day_start_ms(be, oct25 + 1), 1792969200000LL); /* 23:00Z */
}

static void midnight_gap_and_overlap(void **state)
{
    /* Havana jumps from 00:00 to 01:00 on 2026-03-08 and repeats 00:00-01:00
     * on 2026-11-01: the day starts at the jump, and at the first midnight. */
    const rn_tz *hav = zone("America/Havana");
    assert_int_equal(rn_tz_day_start_ms(hav, day_of("2026-03-08")), 1772946000000LL);
    assert_int_equal(rn_tz_day_start_ms(hav, day_of("2026-11-01")), 1793505600000LL);
    assert_int_equal(rn_tz_local_day(hav, 1772946000000LL - 1), day_of("2026-03-07"));
    /* A wall-clock time inside the New York gap maps to the jump itself. */
    const rn_tz *ny = zone("America/New_York");
    long long local = day_of("2026-03-08") * 86400 + 2 * H + 30 * 60;
    assert_int_equal(rn_tz_local_to_utc(ny, local), 1772953200);
    /* 01:30 on 2026-11-01 happens twice; the first (EDT) one is chosen. */
    local = day_of("2026-11-01") * 86400 + 1 * H + 30 * 60;
    assert_int_equal(rn_tz_local_to_utc(ny, local), 1793512800 - 30 * 60);
}

static void names_are_checked(void **state)
{
    assert_null(rn_tz_get("../../etc/passwd"));
    assert_null(rn_tz_get("/usr/share/zoneinfo/UTC"));
    assert_null(rn_tz_get("Asia/../Asia/Jakarta"));
    assert_null(rn_tz_get(""));
    assert_null(rn_tz_get("Mars/Olympus_Mons"));
    assert_null(rn_tz_get("zone.tab")); /* exists, but is not TZif */
    assert_null(rn_tz_get(NULL));
    const rn_tz *utc = zone("UTC");
    assert_int_equal(rn_tz_offset(utc, 0), 0);
    assert_ptr_equal(rn_tz_get("UTC"), utc); /* cached */
}

/* ---- POSIX rules alone ------------------------------------------------------- */

static void posix_rules(void **state)
{
    rn_tz *fixed = rn_tz_parse_posix("<+07>-7");
    assert_non_null(fixed);
    assert_int_equal(rn_tz_offset(fixed, 0), 7 * H);
    rn_tz_free(fixed);

    rn_tz *us = rn_tz_parse_posix("EST5EDT,M3.2.0,M11.1.0");
    assert_non_null(us);
    assert_int_equal(rn_tz_offset(us, 1772953200 - 1), -5 * H);
    assert_int_equal(rn_tz_offset(us, 1772953200), -4 * H);
    rn_tz_free(us);

    /* Greenland: transitions at -02:00 and -01:00 local (the previous day). */
    rn_tz *nuuk = rn_tz_parse_posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    assert_non_null(nuuk);
    /* 2026-03-29 is the last Sunday of March; "-1" is Saturday 23:00 local
     * standard time, which is Sunday 01:00Z. */
    assert_int_equal(rn_tz_offset(nuuk, 1774746000 - 1), -2 * H);
    assert_int_equal(rn_tz_offset(nuuk, 1774746000), -1 * H);
    rn_tz_free(nuuk);

    /* Israel: the start rule's time is 26:00 on the Thursday, i.e. Friday 02:00. */
    rn_tz *il = rn_tz_parse_posix("IST-2IDT,M3.4.4/26,M10.5.0");
    assert_non_null(il);
    long long fri = rn_day_from_civil(2026, 3, 27) * 86400;
    assert_int_equal(rn_tz_offset(il, fri - 1), 2 * H); /* Friday 02:00 IST is 00:00Z */
    assert_int_equal(rn_tz_offset(il, fri), 3 * H);
    rn_tz_free(il);

    /* DST all year round. */
    rn_tz *always = rn_tz_parse_posix("EST5EDT,0/0,J365/25");
    assert_non_null(always);
    for (long long t = 1767225600; t < 1767225600 + 400 * 86400LL; t += 3 * 3600 + 17)
        assert_int_equal(rn_tz_offset(always, t), -4 * H);
    rn_tz_free(always);

    assert_null(rn_tz_parse_posix(""));
    assert_null(rn_tz_parse_posix("EST"));
    assert_null(rn_tz_parse_posix("EST5EDT,M13.1.0,M11.1.0"));
    assert_null(rn_tz_parse_posix("EST5EDT,M3.2.0"));
    assert_null(rn_tz_parse_posix("EST5EDT,M3.2.0,M11.1.0junk"));
}

/* Every instant of 2026 in a few zones: its local day begins at or before it
 * and the next day begins after it. */
static void day_start_brackets_every_hour(void **state)
{
    const char *zones[] = {"America/New_York", "Europe/Berlin", "Asia/Jakarta",
                           "Australia/Sydney", "America/Havana", "Asia/Kathmandu"};
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        const rn_tz *tz = zone(zones[z]);
        for (long long t = 1767225600; t < 1767225600 + 365 * 86400LL; t += 1800) {
            long long day = rn_tz_local_day(tz, t * 1000);
            assert_true(rn_tz_day_start_ms(tz, day) <= t * 1000);
            assert_true(rn_tz_day_start_ms(tz, day + 1) > t * 1000);
        }
    }
}

/* Every zone of zone1970.tab against glibc (single-threaded here, so TZ may
 * change): every two hours through 2026 and 2045 (the footer era), and a spread of
 * instants from 1900 to 2100. Fails on the first zone and instant differing. */
static void every_zone_agrees_with_glibc(void **state)
{
    FILE *tab = fopen("/usr/share/zoneinfo/zone1970.tab", "r");
    assert_non_null(tab);
    char line[512];
    int zones = 0;
    while (fgets(line, sizeof line, tab)) {
        if (line[0] == '#')
            continue;
        char *name = strtok(line, "\t\n");
        for (int i = 0; i < 2 && name; i++)
            name = strtok(NULL, "\t\n");
        if (!name)
            continue;
        const rn_tz *tz = zone(name);
        setenv("TZ", name, 1);
        tzset();
        long long spans[][3] = {{1767225600, 1767225600 + 366 * 86400LL, 7201},
                                {2366841600, 2366841600 + 366 * 86400LL, 7201},
                                {-2208988800, 4102444800, 86400 * 13 + 3607}};
        for (int s = 0; s < 3; s++) {
            for (long long t = spans[s][0]; t < spans[s][1]; t += spans[s][2]) {
                time_t tt = (time_t)t;
                struct tm tm;
                localtime_r(&tt, &tm);
                if (rn_tz_offset(tz, t) != tm.tm_gmtoff)
                    fail_msg("%s at %lld: %ld, glibc %ld", name, t, rn_tz_offset(tz, t),
                             tm.tm_gmtoff);
            }
        }
        zones++;
    }
    fclose(tab);
    unsetenv("TZ");
    assert_true(zones > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(civil_days_match_known_dates),
        cmocka_unit_test(civil_days_round_trip),
        cmocka_unit_test(day_parse_is_strict),
        cmocka_unit_test(new_york_2026_transitions),
        cmocka_unit_test(berlin_2026_transitions),
        cmocka_unit_test(footer_rules_after_2037),
        cmocka_unit_test(jakarta_is_utc_plus_7),
        cmocka_unit_test(local_day_boundaries_across_dst),
        cmocka_unit_test(midnight_gap_and_overlap),
        cmocka_unit_test(names_are_checked),
        cmocka_unit_test(posix_rules),
        cmocka_unit_test(day_start_brackets_every_hour),
        cmocka_unit_test(every_zone_agrees_with_glibc),
    };
    return cmocka_run_group_tests_name("tz", tests, NULL, NULL);
}
