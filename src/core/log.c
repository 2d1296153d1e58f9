#include "core/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/text.h"
#include "core/util.h"

static rn_log_level min_level = RN_LOG_INFO;
static const char *LEVEL_NAMES[] = {"debug", "info", "warn", "error"};

void rn_log_set_level(rn_log_level level) { min_level = level; }

#define LOG_BUFFER_BYTES (32 * 1024)
#define LOG_FLUSH_MS 100

static pthread_mutex_t buffer_lock = PTHREAD_MUTEX_INITIALIZER;
static char buffer[LOG_BUFFER_BYTES];
static size_t buffered;
static bool buffering;

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w <= 0)
            return; /* nowhere to report a failing log */
        p += w;
        n -= (size_t)w;
    }
}

static void flush_locked(void)
{
    write_all(buffer, buffered);
    buffered = 0;
}

void rn_log_flush(void)
{
    pthread_mutex_lock(&buffer_lock);
    flush_locked();
    pthread_mutex_unlock(&buffer_lock);
}

static void *flusher(void *arg)
{
    for (;;) {
        struct timespec ts = {0, LOG_FLUSH_MS * 1000000L};
        nanosleep(&ts, NULL);
        rn_log_flush();
    }
    return NULL;
}

void rn_log_start_buffering(void)
{
    pthread_mutex_lock(&buffer_lock);
    bool start = !buffering;
    buffering = true;
    pthread_mutex_unlock(&buffer_lock);
    pthread_t t;
    if (start && pthread_create(&t, NULL, flusher, NULL) == 0)
        pthread_detach(t);
}

static void emit(rn_log_level level, const char *line, size_t len)
{
    pthread_mutex_lock(&buffer_lock);
    if (buffering && level < RN_LOG_WARN && len <= LOG_BUFFER_BYTES) {
        if (buffered + len > LOG_BUFFER_BYTES)
            flush_locked();
        memcpy(buffer + buffered, line, len);
        buffered += len;
    } else {
        flush_locked();
        write_all(line, len);
    }
    pthread_mutex_unlock(&buffer_lock);
}

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
    emit(level, text, len + 1);
    free(text);
}

bool rn_log_enabled(rn_log_level level)
{
    return level >= min_level;
}

void rn_log_members(rn_log_level level, const char *message, const char *members)
{
    if (level < min_level)
        return;
    char when[32], stack[1024];
    rn_time_format(rn_now_ms(), when, sizeof when);
    rn_text t;
    rn_text_on_stack(&t, stack, sizeof stack);
    rn_text_puts(&t, "{\"time\":\"");
    rn_text_puts(&t, when);
    rn_text_puts(&t, "\",\"level\":\"");
    rn_text_puts(&t, LEVEL_NAMES[level]);
    rn_text_puts(&t, "\",\"message\":");
    rn_text_json_string(&t, message);
    if (members[0]) {
        rn_text_put(&t, ",", 1);
        rn_text_puts(&t, members);
    }
    rn_text_put(&t, "}\n", 2);
    if (!t.failed)
        emit(level, t.text, t.len);
    rn_text_free(&t);
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
