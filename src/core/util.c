#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char CROCKFORD[] = "0123456789abcdefghjkmnpqrstvwxyz";
static const char BASE62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

long long rn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long rn_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec rn_deadline_in(int clock, long ms)
{
    struct timespec at;
    clock_gettime(clock, &at);
    at.tv_sec += ms / 1000;
    at.tv_nsec += (ms % 1000) * 1000000L;
    if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
    }
    return at;
}

int rn_cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

/* Every request formats the time at least twice (answer, log line): the
 * calendar part is worked out once per second and thread. */
void rn_time_format(long long ms, char *buf, size_t cap)
{
    static _Thread_local bool cached_valid;
    static _Thread_local long long cached_secs;
    static _Thread_local char cached[64]; /* "YYYY-MM-DDTHH:MM:SS." */
    long long secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int millis = (int)(ms - secs * 1000);
    if (!cached_valid || secs != cached_secs) {
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_secs = secs;
        cached_valid = true;
    }
    char out[72];
    size_t n = strlen(cached);
    memcpy(out, cached, n);
    out[n] = (char)('0' + millis / 100);
    out[n + 1] = (char)('0' + millis / 10 % 10);
    out[n + 2] = (char)('0' + millis % 10);
    out[n + 3] = 'Z';
    size_t len = n + 4;
    if (cap == 0)
        return;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, out, len);
    buf[len] = '\0';
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int rn_date_parse(const char *s, int *year, int *month, int *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    *year = y, *month = m, *day = d;
    return 0;
}

/* Ids take 16 random bytes each, one per request at least: drawing them
 * from a per-thread buffer of libsodium output saves a getrandom(2) call per
 * id without making them any less unpredictable. */
#define ID_RANDOM_POOL 4096

static void id_random(unsigned char out[16])
{
    static _Thread_local unsigned char pool[ID_RANDOM_POOL];
    static _Thread_local size_t used = ID_RANDOM_POOL;
    if (used + 16 > ID_RANDOM_POOL) {
        randombytes_buf(pool, sizeof pool);
        used = 0;
    }
    memcpy(out, pool + used, 16);
    sodium_memzero(pool + used, 16);
    used += 16;
}

/* The 16 random symbols of an id. Ids made in this process for the same
 * millisecond continue from the previous one (+1, base 32), so they sort in
 * the order they were made, whichever thread made them: messages sent in one
 * millisecond list in order, and so do two requests answered one after the
 * other on two worker threads. A few milliseconds are remembered, since ids
 * for other instants (an event's, say) come in between. */
#define ID_SEQUENCES 4

typedef struct {
    long long ms;
    unsigned char tail[16];
    unsigned long long used; /* for replacing the least recently used */
} id_sequence;

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;

static void id_tail(long long at_ms, char out[16])
{
    static id_sequence seq[ID_SEQUENCES];
    static unsigned long long clock;
    pthread_mutex_lock(&id_lock);
    id_sequence *s = NULL, *oldest = &seq[0];
    for (int k = 0; k < ID_SEQUENCES && !s; k++) {
        if (seq[k].used && seq[k].ms == at_ms)
            s = &seq[k];
        else if (seq[k].used < oldest->used)
            oldest = &seq[k];
    }
    int i = 15;
    if (s) {
        while (i >= 0 && s->tail[i] == 31)
            s->tail[i--] = 0;
    }
    if (!s || i < 0) {
        s = s ? s : oldest;
        id_random(s->tail);
        for (int k = 0; k < 16; k++)
            s->tail[k] &= 31;
        s->tail[0] &= 15; /* leaves room to count up within the millisecond */
    } else {
        s->tail[i]++;
    }
    s->ms = at_ms;
    s->used = ++clock;
    for (int k = 0; k < 16; k++)
        out[k] = CROCKFORD[s->tail[k]];
    pthread_mutex_unlock(&id_lock);
}

void rn_id_at(const char *prefix, long long at_ms, char *buf, size_t cap)
{
    unsigned long long ms = at_ms > 0 ? (unsigned long long)at_ms : 0;
    size_t plen = strlen(prefix);
    char id[128];
    if (cap == 0)
        return;
    if (plen > sizeof id - 28)
        plen = sizeof id - 28;
    memcpy(id, prefix, plen);
    id[plen] = '_';
    char *body = id + plen + 1;
    for (int i = 9; i >= 0; i--) {
        body[i] = CROCKFORD[ms & 31];
        ms >>= 5;
    }
    id_tail(at_ms, body + 10);
    size_t len = plen + 27;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, id, len);
    buf[len] = '\0';
}

void rn_id_new(const char *prefix, char *buf, size_t cap)
{
    rn_id_at(prefix, rn_now_ms(), buf, cap);
}

bool rn_id_valid(const char *prefix, const char *s)
{
    size_t plen = strlen(prefix);
    if (!s || strncmp(s, prefix, plen) != 0 || s[plen] != '_' || strlen(s) != plen + 27)
        return false;
    for (const char *p = s + plen + 1; *p; p++)
        if (!strchr(CROCKFORD, *p))
            return false;
    return true;
}

void rn_random_base62(char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = BASE62[randombytes_uniform(62)];
    buf[n] = '\0';
}

void rn_hex(const unsigned char *in, size_t len, char *out, size_t cap)
{
    sodium_bin2hex(out, cap, in, len);
}

bool rn_str_equal_ct(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return la == 0 || sodium_memcmp(a, b, la) == 0;
}

int rn_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s)
        return -1;
    const char *p = s[0] == '-' ? s + 1 : s;
    if (!*p)
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
