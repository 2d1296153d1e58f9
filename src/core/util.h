/*
 * util.h — small shared helpers: clock, time formatting, prefixed ids,
 * random base62 text, hex, constant-time compare, monotonic condition
 * variables.
 */
#ifndef RN_CORE_UTIL_H
#define RN_CORE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock). */
long long rn_now_ms(void);
/* Monotonic milliseconds, for durations and rate limiting. */
long long rn_mono_ms(void);
/* The time `ms` from now on `clock` (CLOCK_MONOTONIC, CLOCK_REALTIME), as a
 * deadline for pthread_cond_timedwait. */
struct timespec rn_deadline_in(int clock, long ms);
/* Initialises a condition variable whose timed waits count on CLOCK_MONOTONIC
 * (deadlines from rn_deadline_in(CLOCK_MONOTONIC, ...)), so a step of the wall
 * clock neither stretches nor cuts a wait. Returns what pthread_cond_init does. */
int rn_cond_init_monotonic(pthread_cond_t *cond);
/* Writes RFC 3339 UTC with milliseconds ("2026-12-03T07:15:00.000Z"); buf >= 32. */
void rn_time_format(long long ms, char *buf, size_t cap);
/* Parses "YYYY-MM-DD" strictly (a real calendar date). 0 ok, -1 bad. */
int rn_date_parse(const char *s, int *year, int *month, int *day);

/* A new id: prefix + "_" + 10 chars of millisecond time + 16 random chars, in
 * lower-case Crockford base32, so ids sort by creation time. buf >= 48. */
void rn_id_new(const char *prefix, char *buf, size_t cap);
/* The same with the time part taken from at_ms (seeded history). */
void rn_id_at(const char *prefix, long long at_ms, char *buf, size_t cap);
/* True if s looks like an id of that prefix (right length and alphabet). */
bool rn_id_valid(const char *prefix, const char *s);

/* n random base62 characters from the CSPRNG, NUL-terminated (buf > n). */
void rn_random_base62(char *buf, size_t n);
/* Lower-case hex of len bytes into out (cap >= 2*len+1). */
void rn_hex(const unsigned char *in, size_t len, char *out, size_t cap);
/* Constant-time equality of two NUL-terminated strings (length leaks only). */
bool rn_str_equal_ct(const char *a, const char *b);

/* Strict decimal integer: optional '-', digits only, no overflow. 0 ok. */
int rn_parse_int(const char *s, long long min, long long max, long long *out);

#endif
