/*
 * tz.c — TZif (RFC 8536) reader, POSIX TZ rules, and the zone cache.
 *
 * A zone is a sorted list of transition instants, each naming a local time
 * type (offset, DST flag), plus an optional POSIX rule (the file's footer)
 * that extends the list past its last transition. Instants before the first
 * transition use type 0, as RFC 8536 says. Leap-second ("right/") files are
 * refused: civil time here is POSIX time.
 *
 * The cache is a singly linked list that only ever grows: readers walk it
 * without a lock (entries are complete before they are published with a
 * release store), loaders serialise on a mutex and re-check before loading.
 */
#include "core/tz.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 100
#define TZ_FILE_MAX (1 << 20)
#define SECONDS_PER_DAY 86400LL

typedef struct {
    long utoff;
    bool isdst;
} tz_type;

/* One end of a DST period: a date rule plus the local time it happens at. */
typedef struct {
    char kind; /* 'J' (1..365, no leap day), 'n' (0..365), 'M' (month.week.weekday) */
    int month, week, weekday;
    int n;
    long time; /* seconds after local midnight; may be negative or > 24 h */
} tz_rule_date;

typedef struct {
    bool present;
    bool has_dst;
    long std_off, dst_off; /* east of UTC, seconds */
    tz_rule_date start, end;
} tz_rule;

struct rn_tz {
    char name[TZ_NAME_MAX + 1];
    long long *times;
    unsigned char *type_of; /* index into types, per transition */
    int count;
    tz_type *types;
    int ntypes;
    tz_rule rule;
    struct rn_tz *next;
};

/* ---- calendar ------------------------------------------------------------ */

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date: count whole 400-year
 * eras from 0000-03-01 (years starting in March put the leap day last). */
long long rn_day_from_civil(int year, int month, int mday)
{
    long long y = year - (month <= 2);
    long long era = floor_div(y, 400);
    long long year_of_era = y - era * 400;
    long long shifted_month = month > 2 ? month - 3 : month + 9;
    long long day_of_year = (153 * shifted_month + 2) / 5 + mday - 1;
    long long day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

void rn_day_to_civil(long long day, int *year, int *month, int *mday)
{
    long long z = day + 719468;
    long long era = floor_div(z, 146097);
    long long day_of_era = z - era * 146097;
    long long year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    long long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    long long shifted_month = (5 * day_of_year + 2) / 153;
    int d = (int)(day_of_year - (153 * shifted_month + 2) / 5 + 1);
    int m = (int)(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
    *year = (int)(year_of_era + era * 400 + (m <= 2));
    *month = m;
    *mday = d;
}

int rn_day_weekday(long long day)
{
    /* 1970-01-01 was a Thursday (4). */
    return (int)(((day % 7) + 7 + 4) % 7);
}

void rn_day_format(long long day, char *buf, size_t cap)
{
    int y, m, d;
    rn_day_to_civil(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int rn_day_parse(const char *s, long long *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return -1;
    *day = rn_day_from_civil(y, m, d);
    return 0;
}

/* ---- POSIX TZ rules ------------------------------------------------------ */

/* Parses "[+-]hh[:mm[:ss]]" with hours up to max_hours. */
static const char *parse_hms(const char *p, long max_hours, long *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9')
        return NULL;
    long h = 0, m = 0, s = 0;
    while (*p >= '0' && *p <= '9' && h <= max_hours)
        h = h * 10 + (*p++ - '0');
    if (h > max_hours)
        return NULL;
    for (int part = 0; part < 2 && *p == ':'; part++) {
        p++;
        if (p[0] < '0' || p[0] > '5' || p[1] < '0' || p[1] > '9')
            return NULL;
        long v = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (part == 0)
            m = v;
        else
            s = v;
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

/* A zone abbreviation: three or more letters, or "<...>" of [A-Za-z0-9+-]. */
static const char *parse_abbreviation(const char *p)
{
    const char *start = p;
    if (*p == '<') {
        p++;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
               *p == '+' || *p == '-')
            p++;
        return *p == '>' && p - start >= 4 ? p + 1 : NULL;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - start >= 3 ? p : NULL;
}

static const char *parse_number(const char *p, int min, int max, int *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    long v = 0;
    while (*p >= '0' && *p <= '9' && v <= max)
        v = v * 10 + (*p++ - '0');
    if (v < min || v > max)
        return NULL;
    *out = (int)v;
    return p;
}

static const char *parse_rule_date(const char *p, tz_rule_date *r)
{
    memset(r, 0, sizeof *r);
    r->time = 2 * 3600;
    if (*p == 'M') {
        r->kind = 'M';
        p = parse_number(p + 1, 1, 12, &r->month);
        if (p && *p == '.')
            p = parse_number(p + 1, 1, 5, &r->week);
        else
            p = NULL;
        if (p && *p == '.')
            p = parse_number(p + 1, 0, 6, &r->weekday);
        else
            p = NULL;
    } else if (*p == 'J') {
        r->kind = 'J';
        p = parse_number(p + 1, 1, 365, &r->n);
    } else {
        r->kind = 'n';
        p = parse_number(p, 0, 365, &r->n);
    }
    if (p && *p == '/')
        p = parse_hms(p + 1, 167, &r->time);
    return p;
}

static int parse_rule(const char *s, tz_rule *out)
{
    tz_rule r = {.present = true};
    const char *p = parse_abbreviation(s);
    long off;
    if (!p || !(p = parse_hms(p, 24, &off)))
        return -1;
    r.std_off = -off;
    if (*p == '\0') {
        *out = r;
        return 0;
    }
    if (!(p = parse_abbreviation(p)))
        return -1;
    r.has_dst = true;
    r.dst_off = r.std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, 24, &off)))
            return -1;
        r.dst_off = -off;
    }
    if (*p == '\0') { /* no rule given: the United States rule, as tzcode does */
        p = ",M3.2.0,M11.1.0";
    }
    if (*p != ',' || !(p = parse_rule_date(p + 1, &r.start)) || *p != ',' ||
        !(p = parse_rule_date(p + 1, &r.end)) || *p != '\0')
        return -1;
    *out = r;
    return 0;
}

/* The day number a rule date falls on in `year`. */
static long long rule_day(const tz_rule_date *r, int year)
{
    long long jan1 = rn_day_from_civil(year, 1, 1);
    if (r->kind == 'J')
        return jan1 + r->n - 1 + (is_leap(year) && r->n >= 60 ? 1 : 0);
    if (r->kind == 'n')
        return jan1 + r->n;
    long long first = rn_day_from_civil(year, r->month, 1);
    long long day = first + (r->weekday - rn_day_weekday(first) + 7) % 7 + (r->week - 1) * 7;
    long long last = first + month_days(year, r->month) - 1;
    while (day > last)
        day -= 7;
    return day;
}

/* The offset a DST rule gives at t: the latest rule change at or before t,
 * looking at the changes of the years around t's. */
static long rule_offset(const tz_rule *r, long long t)
{
    if (!r->has_dst)
        return r->std_off;
    int year, month, mday;
    rn_day_to_civil(floor_div(t, SECONDS_PER_DAY), &year, &month, &mday);
    long long best = 0;
    bool found = false, dst = false;
    for (int y = year - 2; y <= year + 1; y++) {
        /* DST starts at a standard-time wall clock and ends at a DST one. */
        long long start = rule_day(&r->start, y) * SECONDS_PER_DAY + r->start.time - r->std_off;
        long long end = rule_day(&r->end, y) * SECONDS_PER_DAY + r->end.time - r->dst_off;
        /* On a tie the start wins: "DST all year" rules end where they restart. */
        if (end <= t && (!found || end > best)) {
            best = end, dst = false, found = true;
        }
        if (start <= t && (!found || start >= best)) {
            best = start, dst = true, found = true;
        }
    }
    return dst ? r->dst_off : r->std_off;
}

rn_tz *rn_tz_parse_posix(const char *rule)
{
    rn_tz *tz = calloc(1, sizeof *tz);
    if (!tz || !rule || parse_rule(rule, &tz->rule) != 0) {
        free(tz);
        return NULL;
    }
    snprintf(tz->name, sizeof tz->name, "%.100s", rule);
    return tz;
}

/* ---- TZif ---------------------------------------------------------------- */

typedef struct {
    const unsigned char *p;
    size_t left;
} reader;

static bool take(reader *r, size_t n, const unsigned char **out)
{
    if (r->left < n)
        return false;
    *out = r->p;
    r->p += n;
    r->left -= n;
    return true;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static bool read_header(reader *r, tzif_header *h)
{
    const unsigned char *p;
    if (!take(r, 44, &p) || memcmp(p, "TZif", 4) != 0)
        return false;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return h->typecnt >= 1 && h->typecnt <= 256 && h->timecnt <= 100000 &&
           (h->isutcnt == 0 || h->isutcnt == h->typecnt) &&
           (h->isstdcnt == 0 || h->isstdcnt == h->typecnt);
}

static size_t block_size(const tzif_header *h, size_t time_size)
{
    return h->timecnt * time_size + h->timecnt + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* Reads one data block into tz (time_size 4 for version 1, 8 after). */
static bool read_block(reader *r, const tzif_header *h, size_t time_size, rn_tz *tz)
{
    const unsigned char *times, *idx, *types, *rest;
    if (h->leapcnt != 0 || !take(r, h->timecnt * time_size, &times) ||
        !take(r, h->timecnt, &idx) || !take(r, h->typecnt * 6, &types) ||
        !take(r, h->charcnt + h->isstdcnt + h->isutcnt, &rest))
        return false;
    tz->count = (int)h->timecnt;
    tz->ntypes = (int)h->typecnt;
    tz->times = calloc(h->timecnt + 1, sizeof *tz->times);
    tz->type_of = calloc(h->timecnt + 1, 1);
    tz->types = calloc(h->typecnt, sizeof *tz->types);
    if (!tz->times || !tz->type_of || !tz->types)
        return false;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        const unsigned char *t = times + i * time_size;
        tz->times[i] = time_size == 8 ? be64(t) : (int32_t)be32(t);
        if (idx[i] >= h->typecnt || (i > 0 && tz->times[i] <= tz->times[i - 1]))
            return false;
        tz->type_of[i] = idx[i];
    }
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *t = types + i * 6;
        long off = (int32_t)be32(t);
        if (off < -25 * 3600 || off > 26 * 3600 || t[4] > 1)
            return false;
        tz->types[i] = (tz_type){.utoff = off, .isdst = t[4] == 1};
    }
    return true;
}

/* The footer of a version 2+ file: "\n<POSIX rule>\n"; an empty rule means
 * none. A rule we cannot read is ignored (the transitions still hold). */
static void read_footer(reader *r, rn_tz *tz)
{
    char rule[128];
    if (r->left < 2 || r->p[0] != '\n')
        return;
    const unsigned char *end = memchr(r->p + 1, '\n', r->left - 1);
    size_t n = end ? (size_t)(end - r->p - 1) : 0;
    if (!end || n == 0 || n >= sizeof rule)
        return;
    memcpy(rule, r->p + 1, n);
    rule[n] = '\0';
    tz_rule parsed;
    if (parse_rule(rule, &parsed) == 0)
        tz->rule = parsed;
}

static void free_parts(rn_tz *tz)
{
    free(tz->times);
    free(tz->type_of);
    free(tz->types);
    tz->times = NULL;
    tz->type_of = NULL;
    tz->types = NULL;
}

static bool parse_tzif(const unsigned char *data, size_t len, rn_tz *tz)
{
    reader r = {data, len};
    tzif_header h;
    const unsigned char *skip;
    if (!read_header(&r, &h))
        return false;
    if (h.version == '\0')
        return read_block(&r, &h, 4, tz);
    /* Version 2+: skip the 32-bit block, then read the 64-bit one. */
    if (!take(&r, block_size(&h, 4), &skip) || !read_header(&r, &h) ||
        !read_block(&r, &h, 8, tz))
        return false;
    read_footer(&r, tz);
    return true;
}

rn_tz *rn_tz_load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *data = malloc(TZ_FILE_MAX);
    size_t len = data ? fread(data, 1, TZ_FILE_MAX, f) : 0;
    bool too_big = data && !feof(f);
    fclose(f);
    rn_tz *tz = calloc(1, sizeof *tz);
    if (!data || !tz || too_big || !parse_tzif(data, len, tz)) {
        free(data);
        if (tz)
            free_parts(tz);
        free(tz);
        return NULL;
    }
    free(data);
    snprintf(tz->name, sizeof tz->name, "%s", path);
    return tz;
}

void rn_tz_free(rn_tz *tz)
{
    if (!tz)
        return;
    free_parts(tz);
    free(tz);
}

/* ---- lookups ------------------------------------------------------------- */

long rn_tz_offset(const rn_tz *tz, long long t)
{
    if (tz->count == 0)
        return tz->rule.present ? rule_offset(&tz->rule, t) : tz->types ? tz->types[0].utoff : 0;
    if (t < tz->times[0])
        return tz->types[0].utoff;
    if (t > tz->times[tz->count - 1] && tz->rule.present)
        return rule_offset(&tz->rule, t);
    int lo = 0, hi = tz->count - 1; /* the last transition at or before t */
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (tz->times[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return tz->types[tz->type_of[lo]].utoff;
}

long long rn_tz_local_day(const rn_tz *tz, long long ms)
{
    long long t = floor_div(ms, 1000);
    return floor_div(t + rn_tz_offset(tz, t), SECONDS_PER_DAY);
}

long long rn_tz_local_to_utc(const rn_tz *tz, long long local)
{
    /* Real zones change offset at most once within two days, so the offsets
     * a day either side are the only candidates. */
    long before = rn_tz_offset(tz, local - SECONDS_PER_DAY);
    long after = rn_tz_offset(tz, local + SECONDS_PER_DAY);
    long long ta = local - before, tb = local - after;
    bool a_ok = rn_tz_offset(tz, ta) == before, b_ok = rn_tz_offset(tz, tb) == after;
    if (a_ok && b_ok)
        return ta < tb ? ta : tb;
    if (a_ok || b_ok)
        return a_ok ? ta : tb;
    /* A gap: the first instant whose wall clock reads `local` or later. */
    long long lo = ta < tb ? ta : tb, hi = ta < tb ? tb : ta;
    while (lo < hi) {
        long long mid = lo + (hi - lo) / 2;
        if (mid + rn_tz_offset(tz, mid) >= local)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

long long rn_tz_day_start_ms(const rn_tz *tz, long long day)
{
    return rn_tz_local_to_utc(tz, day * SECONDS_PER_DAY) * 1000;
}

/* ---- the cache ----------------------------------------------------------- */

static _Atomic(rn_tz *) cache_head;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Letters, digits, '/', '_', '-', '+', '.'; no empty, "." or ".." part. */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
        return false;
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_-+.") != n)
        return false;
    for (const char *part = name; part; part = strchr(part, '/') ? strchr(part, '/') + 1 : NULL) {
        size_t len = strcspn(part, "/");
        if (len == 0 || (part[0] == '.' && (len == 1 || (len == 2 && part[1] == '.'))))
            return false;
    }
    return true;
}

static const rn_tz *cache_find(const char *name)
{
    for (rn_tz *z = atomic_load_explicit(&cache_head, memory_order_acquire); z; z = z->next)
        if (strcmp(z->name, name) == 0)
            return z;
    return NULL;
}

const rn_tz *rn_tz_get(const char *name)
{
    if (!name || !name_ok(name))
        return NULL;
    const rn_tz *hit = cache_find(name);
    if (hit)
        return hit;
    pthread_mutex_lock(&cache_lock);
    hit = cache_find(name);
    if (!hit) {
        char path[sizeof TZ_DIR + TZ_NAME_MAX + 2];
        snprintf(path, sizeof path, "%s/%s", TZ_DIR, name);
        rn_tz *tz = rn_tz_load_file(path);
        if (tz) {
            snprintf(tz->name, sizeof tz->name, "%s", name);
            tz->next = atomic_load_explicit(&cache_head, memory_order_relaxed);
            atomic_store_explicit(&cache_head, tz, memory_order_release);
            hit = tz;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}
