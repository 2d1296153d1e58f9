#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

static rn_log_level min_level = RN_LOG_INFO;
static const char *LEVEL_NAMES[] = {"debug", "info", "warn", "error"};

void rn_log_set_level(rn_log_level level) { min_level = level; }

int rn_log_level_parse(const char *s, rn_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, LEVEL_NAMES[i]) == 0) {
            *out = (rn_log_level)i;
            return 0;
        }
    }
    return -1;
}

void rn_log(rn_log_level level, const char *message, json_t *fields)
{
    if (level < min_level)
        return;
    char when[32];
    rn_time_format(rn_now_ms(), when, sizeof when);
    json_t *line = json_pack("{s:s, s:s, s:s}", "time", when, "level", LEVEL_NAMES[level],
                             "message", message);
    if (fields)
        json_object_update(line, fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return;
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the terminating NUL; we write exactly len + 1 bytes */
    /* One write() per line keeps lines whole across threads. */
    ssize_t ignored = write(STDERR_FILENO, text, len + 1);
    (void)ignored;
    free(text);
}

void rn_logf(rn_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rn_log(level, buf, NULL);
}
