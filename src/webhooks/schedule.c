/*
 * schedule.c — when the next automatic attempt happens.
 *
 * The schedule (RINGNITY_WEBHOOK_RETRY_SCHEDULE) lists the waits after the
 * first, second, ... failure. Each wait is spread by +-20% so that a
 * receiver coming back from an outage is not hit by every queued
 * destination's retry in the same second. A receiver that answers 429 or 503
 * with Retry-After knows best: its wait replaces the schedule's.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "webhooks/internal.h"

#define SCHEDULE_ENTRY_MAX_S 604800

int wh_schedule_parse(const char *text, wh_schedule *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return -1;
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char item[16];
        long long v;
        if (n == 0 || n >= sizeof item || out->count == WH_SCHEDULE_MAX)
            return -1;
        memcpy(item, p, n);
        item[n] = '\0';
        if (rn_parse_int(item, 0, SCHEDULE_ENTRY_MAX_S, &v) != 0)
            return -1;
        out->seconds[out->count++] = v;
        p += n;
        if (*p == ',' && !*++p)
            return -1; /* trailing comma */
    }
    return 0;
}

long long wh_retry_delay_ms(const wh_schedule *s, int failed_attempts, long retry_after_s,
                            uint32_t rnd)
{
    if (failed_attempts < 1 || failed_attempts > s->count)
        return -1;
    if (retry_after_s >= 0) {
        long long wait = retry_after_s < 1 ? 1 : retry_after_s;
        return (wait > WH_RETRY_AFTER_MAX_S ? WH_RETRY_AFTER_MAX_S : wait) * 1000;
    }
    long long base = s->seconds[failed_attempts - 1] * 1000;
    /* factor in [0.8, 1.2]: 0.8 + 0.4 * rnd / 2^32 */
    long long spread = (long long)((double)base * 0.4 * ((double)rnd / 4294967296.0));
    return base - base / 5 + spread;
}
