/*
 * log.h — one JSON object per line on stderr, for operators.
 *
 * Fields are added by the caller as a jansson object (borrowed, not stolen).
 * Never pass a secret in a field or a message.
 */
#ifndef RN_CORE_LOG_H
#define RN_CORE_LOG_H

#include <jansson.h>
#include <stdbool.h>

typedef enum { RN_LOG_DEBUG, RN_LOG_INFO, RN_LOG_WARN, RN_LOG_ERROR } rn_log_level;

void rn_log_set_level(rn_log_level level);
/* Serve mode: info and debug lines are gathered in memory and written at
 * least every 100 ms (or per 32 KiB), saving a system call per request;
 * warnings and errors are written at once, after what is pending, so order
 * is kept. rn_log_flush writes what is pending (call it before exit). */
void rn_log_start_buffering(void);
void rn_log_flush(void);
/* Parses "debug|info|warn|error"; returns -1 when unknown. */
int rn_log_level_parse(const char *s, rn_log_level *out);
/* Writes {"time","level","message", ...fields} as one line. */
void rn_log(rn_log_level level, const char *message, json_t *fields);
/* The same line with fields already written as JSON members by the caller
 * (core/text.h): `"a":1,"b":"x"` without braces, or "" for none. The
 * request log uses it: one line per request, no jansson tree. */
void rn_log_members(rn_log_level level, const char *message, const char *members);
/* True when a line of this level would be written. */
bool rn_log_enabled(rn_log_level level);
/* printf-style message with no extra fields. */
void rn_logf(rn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
