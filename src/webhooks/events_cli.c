/*
 * events_cli.c — `ringnity events emit`: appends sample events to a
 * tenant's outbox, the way a real change would (rn_event_emit), so the
 * dispatcher of a running `ringnity serve` delivers them. For benchmarks
 * and demos; --rate paces them to measure latency rather than backlog, and a
 * comma-separated --type list is used round robin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cli/cli.h"
#include "core/util.h"
#include "tenants/tenants.h"
#include "webhooks/internal.h"
#include "webhooks/outbox.h"
#include "webhooks/webhooks.h"

#define EMIT_BATCH 500
#define EMIT_TICK_MS 100
#define EMIT_TRIES 20

enum { EMIT_USAGE = 1, EMIT_NOT_FOUND = 2, EMIT_STORE = 3 };

#define EMIT_TYPES_MAX 16

typedef struct {
    long long count, rate;
    const char *type;                   /* as given: one type or a comma list */
    char types[EMIT_TYPES_MAX][64];     /* the list, used in turn */
    int ntypes;
    long long emitted;
    char tenant_id[48];
    char first[48], last[48];
} emit_job;

static void sleep_until(long long mono_ms)
{
    long long wait = mono_ms - rn_mono_ms();
    if (wait <= 0)
        return;
    struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Emits n (<= EMIT_BATCH) events in one transaction. The samples are made
 * before it begins, to hold the write lock no longer than the inserts take.
 * 0, or -1 with the error on db. */
static int emit_once(rn_db *db, emit_job *j, long long n)
{
    json_t *data[EMIT_BATCH];
    for (long long i = 0; i < n; i++)
        data[i] = wh_event_sample(j->types[(j->emitted + i) % j->ntypes]);
    char first[48] = "", last[48] = "";
    int rc = rn_db_begin(db);
    for (long long i = 0; i < n && rc == 0; i++) {
        const char *type = j->types[(j->emitted + i) % j->ntypes];
        rc = rn_event_emit(db, j->tenant_id, type, data[i], last, sizeof last);
        if (rc == 0 && !first[0])
            snprintf(first, sizeof first, "%s", last);
    }
    for (long long i = 0; i < n; i++)
        json_decref(data[i]);
    if (rc != 0) {
        rn_db_rollback(db);
        return -1;
    }
    if (rn_db_commit(db) != 0)
        return -1;
    if (!j->first[0])
        snprintf(j->first, sizeof j->first, "%s", first);
    snprintf(j->last, sizeof j->last, "%s", last);
    j->emitted += n;
    return 0;
}

/* Retries a batch the store was too busy for (SQLite: other writers held
 * the lock longer than its busy timeout). */
static int emit_batch(rn_db *db, emit_job *j, long long n)
{
    for (int i = 0; i < EMIT_TRIES; i++) {
        if (emit_once(db, j, n) == 0)
            return 0;
        if (rn_db_last_error(db) != RN_DB_ERR_BUSY)
            return -1;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 50000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int emit_all(rn_db *db, emit_job *j)
{
    long long per_tick = j->rate ? (j->rate * EMIT_TICK_MS + 999) / 1000 : EMIT_BATCH;
    if (per_tick > EMIT_BATCH)
        per_tick = EMIT_BATCH; /* sleep_until below then simply never waits */
    long long started = rn_mono_ms();
    for (long long done = 0; done < j->count;) {
        long long n = j->count - done < per_tick ? j->count - done : per_tick;
        if (emit_batch(db, j, n) != 0)
            return -1;
        done += n;
        if (j->rate)
            sleep_until(started + done * 1000 / j->rate);
    }
    return 0;
}

static int parse_numbers(const rn_cli_args *a, const rn_cli_option *opts, emit_job *j)
{
    const char *count = rn_cli_get(a, opts, "count");
    const char *rate = rn_cli_get(a, opts, "rate");
    j->count = 1;
    if ((count && rn_parse_int(count, 1, 10000000, &j->count) != 0) ||
        (rate && rn_parse_int(rate, 1, 1000000, &j->rate) != 0)) {
        fprintf(stderr, "ringnity: --count takes 1..10000000 and --rate 1..1000000\n");
        return -1;
    }
    return 0;
}

/* Splits --type "a,b,c" into j->types, each a known event type. */
static int parse_types(emit_job *j)
{
    const char *p = j->type;
    while (*p && j->ntypes < EMIT_TYPES_MAX) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof j->types[0])
            break;
        memcpy(j->types[j->ntypes], p, n);
        j->types[j->ntypes][n] = '\0';
        if (!rn_event_type_known(j->types[j->ntypes]))
            break;
        j->ntypes++;
        p += n;
        if (*p == ',' && *++p == '\0')
            break;
    }
    if (*p == '\0' && j->ntypes > 0)
        return 0;
    fprintf(stderr, "ringnity: --type takes known event types, comma separated (at most %d)\n",
            EMIT_TYPES_MAX);
    return -1;
}

static int resolve_tenant(rn_db *db, const char *slug, emit_job *j)
{
    json_t *t = NULL;
    int rc = rn_tenant_get(db, slug, &t);
    if (rc == 0)
        snprintf(j->tenant_id, sizeof j->tenant_id, "%s",
                 json_string_value(json_object_get(t, "id")));
    json_decref(t);
    if (rc != 0)
        fprintf(stderr, "ringnity: %s\n", rc < 0 ? "the store failed" : "no such tenant");
    return rc < 0 ? EMIT_STORE : rc > 0 ? EMIT_NOT_FOUND : 0;
}

static void print_result(const emit_job *j, bool as_json)
{
    if (as_json)
        printf("{\"emitted\": %lld, \"type\": \"%s\", \"firstEventId\": \"%s\","
               " \"lastEventId\": \"%s\"}\n",
               j->count, j->type, j->first, j->last);
    else
        printf("emitted %lld %s events (%s .. %s)\n", j->count, j->type, j->first, j->last);
}

int rn_cli_events_emit(int argc, char **argv)
{
    static const rn_cli_option opts[] = {
        {"tenant", false, true, "tenant slug"},
        {"type", false, true, "event type, or several comma separated (used in turn)"},
        {"count", false, false, "how many events (default 1)"},
        {"rate", false, false, "events per second (default: as fast as possible)"},
        {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "events emit", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EMIT_USAGE;
    emit_job j = {.type = rn_cli_get(&a, opts, "type")};
    if (parse_numbers(&a, opts, &j) != 0 || parse_types(&j) != 0)
        return EMIT_USAGE;
    rn_app app;
    char err[512];
    if (rn_app_open(&app, 1, err, sizeof err) != 0) {
        fprintf(stderr, "ringnity: %s\n", err);
        return EMIT_STORE;
    }
    rn_db *db = rn_pool_acquire(app.pool);
    int code = resolve_tenant(db, rn_cli_get(&a, opts, "tenant"), &j);
    if (code == 0 && emit_all(db, &j) != 0) {
        fprintf(stderr, "ringnity: the store failed while emitting events (%lld written): %s\n",
                j.emitted, rn_db_last_message(db));
        code = EMIT_STORE;
    }
    if (code == 0)
        print_result(&j, a.json);
    rn_pool_release(app.pool, db);
    rn_app_close(&app);
    return code;
}
