/*
 * tz.h — IANA time zones without touching the process-wide TZ.
 *
 * glibc's localtime_r follows the global TZ variable, which a multithreaded
 * server must not change per request. This module reads a zone's TZif file
 * from /usr/share/zoneinfo (the 64-bit data of version 2+ files, and the
 * POSIX TZ footer for instants after the last listed transition) once per
 * process, keeps it in an immutable cache, and answers the two questions the
 * activity rollups and the reports ask: which local date an instant falls
 * on, and when a local date begins.
 *
 * Days are counted as "day numbers": days since 1970-01-01 in the proleptic
 * Gregorian calendar (1970-01-01 is 0, 1969-12-31 is -1).
 *
 * Memory: zones from rn_tz_get live until the process ends (the cache is
 * bounded by the zoneinfo directory); zones from rn_tz_parse_posix and
 * rn_tz_load_file belong to the caller (rn_tz_free).
 */
#ifndef RN_CORE_TZ_H
#define RN_CORE_TZ_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rn_tz rn_tz;

/* The zone named `name` ("Asia/Jakarta", "UTC"), loaded and cached on first
 * use; NULL when the name is malformed or no readable TZif file has it.
 * Thread-safe. */
const rn_tz *rn_tz_get(const char *name);

/* Offset east of UTC, in seconds, in force at the UTC instant t (seconds). */
long rn_tz_offset(const rn_tz *tz, long long t);
/* The local day number at the UTC instant ms (milliseconds). */
long long rn_tz_local_day(const rn_tz *tz, long long ms);
/* The earliest UTC instant (seconds) whose local wall-clock time is at or
 * after local_seconds (local day number * 86400 + seconds into that day).
 * In a gap (clocks jump forward) that is the transition itself; in an
 * overlap (clocks fall back) it is the first occurrence. */
long long rn_tz_local_to_utc(const rn_tz *tz, long long local_seconds);
/* UTC milliseconds of the first instant of local day `day`. */
long long rn_tz_day_start_ms(const rn_tz *tz, long long day);

/* Calendar arithmetic on day numbers. */
long long rn_day_from_civil(int year, int month, int day);
void rn_day_to_civil(long long day, int *year, int *month, int *mday);
/* 0 = Sunday ... 6 = Saturday. */
int rn_day_weekday(long long day);
/* "YYYY-MM-DD" (buf >= 11). */
void rn_day_format(long long day, char *buf, size_t cap);
/* Strict "YYYY-MM-DD" (a real date, years 1000..9999). 0 ok, -1 bad. */
int rn_day_parse(const char *s, long long *day);

/* For tests and tools: a zone from a TZif file, or from a POSIX TZ rule
 * string alone ("EST5EDT,M3.2.0,M11.1.0"); NULL when malformed. */
rn_tz *rn_tz_load_file(const char *path);
rn_tz *rn_tz_parse_posix(const char *rule);
void rn_tz_free(rn_tz *tz);

#endif
