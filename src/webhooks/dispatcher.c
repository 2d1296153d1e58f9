/*
 * dispatcher.c — the pump and worker threads around queue.c.
 *
 * The pump loops: fan out a batch of new events, then claim as many due
 * deliveries as there are idle workers and hand them over. It sleeps
 * (POLL_MS) only when a round found nothing to do, and a worker coming free
 * wakes it at once. A worker that finishes a delivery claims the same
 * destination's next one in the same transaction (up to STREAK_MAX in a
 * row, so busy destinations cannot starve the others): the connection stays
 * warm and the order holds without another trip through the pump.
 */
#include "webhooks/dispatcher.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "http/metrics.h"
#include "webhooks/queue.h"

#define WORKERS 8
#define FANOUT_BATCH 200
#define POLL_MS 50
#define STREAK_MAX 64
#define STORE_RETRY_MS 1000
#define FINISH_TRIES 3
#define RECORD_BATCH 32

/* An attempt waiting for the recorder; lives on the worker's stack. */
typedef struct record_req {
    wh_finish_item *item;
    bool done;
    struct record_req *next;
} record_req;

struct rn_dispatcher {
    rn_app *app;
    rn_pool *pool;
    char node[48];
    wh_schedule schedule;
    wh_policy policy;
    long long lease_ms;

    /* SQLite has one writer at a time, and a connection that finds the
     * write lock taken sleeps in steps of milliseconds (the busy handler).
     * Our threads queue for it here instead, where a release wakes the next
     * one at once. Unused on PostgreSQL, where rows are locked separately. */
    bool serialise_writes;
    pthread_mutex_t write_lock;
    /* ...and they record their attempts through one thread, which commits
     * everything that queued up meanwhile in one transaction. */
    pthread_mutex_t rec_lock;
    pthread_cond_t rec_work, rec_done;
    record_req *rec_head, *rec_tail;
    bool rec_stop;
    pthread_t recorder;
    bool recorder_started;

    pthread_mutex_t lock;
    pthread_cond_t work; /* workers: a job was queued, or stopping */
    pthread_cond_t wake; /* pump: a worker came free, or stopping */
    wh_job queue[WORKERS];
    int queued;
    int busy;
    bool stopping;

    pthread_t pump;
    pthread_t workers[WORKERS];
    int nworkers;
    bool pump_started;
};

/* ---- small helpers ------------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool is_stopping(rn_dispatcher *d)
{
    pthread_mutex_lock(&d->lock);
    bool s = d->stopping;
    pthread_mutex_unlock(&d->lock);
    return s;
}

static void warn_store(const char *what, rn_db *db)
{
    json_t *f = json_pack("{s:s, s:s}", "operation", what, "reason",
                          db ? rn_db_last_message(db) : "no connection");
    rn_log(RN_LOG_WARN, "webhook dispatcher store error", f);
    json_decref(f);
}

static void write_begin(rn_dispatcher *d)
{
    if (d->serialise_writes)
        pthread_mutex_lock(&d->write_lock);
}

static void write_end(rn_dispatcher *d)
{
    if (d->serialise_writes)
        pthread_mutex_unlock(&d->write_lock);
}

/* ---- one job ------------------------------------------------------------ */

typedef struct {
    rn_dispatcher *d;
    void *curl;
} worker_ctx;

static int job_send(worker_ctx *w, const wh_job *job, const wh_job_data *data,
                    rn_send_result *res)
{
    rn_app *app = w->d->app;
    char secret[WH_SECRET_MAX + 1], old[WH_SECRET_MAX + 1];
    int rc = wh_secrets_open(app->master_key, data->sealed, data->old_sealed, data->old_until,
                             rn_now_ms(), secret, old, sizeof secret);
    if (rc != 0) {
        memset(res, 0, sizeof *res);
        res->retry_after_s = -1;
        snprintf(res->error, sizeof res->error, "internal error");
        return -1;
    }
    wh_target t = {.tenant_id = job->tenant_id,
                   .webhook_id = job->webhook_id,
                   .url = data->url,
                   .secret = secret,
                   .old_secret = old[0] ? old : NULL,
                   .event_id = job->event_id,
                   .event_type = job->event_type,
                   .payload = data->payload};
    rc = wh_attempt_send(w->curl, &t, app->cfg.webhook_allow_private,
                         (long)app->cfg.webhook_timeout_ms, res);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(old, sizeof old);
    return rc;
}

/* Records one attempt, retrying a failing store briefly. The lease covers
 * us: if every try fails, the delivery is attempted again later. */
static int record_direct(rn_dispatcher *d, rn_db *db, wh_finish_item *it)
{
    for (int i = 0; i < FINISH_TRIES; i++) {
        write_begin(d);
        it->rc = wh_finish_and_next(db, it->job, it->send_ok, it->res, &d->policy, it->rnd,
                                    it->out, it->lease_until, it->next, it->has_next);
        write_end(d);
        if (it->rc >= 0)
            return it->rc;
        warn_store("record attempt", db);
        sleep_ms(100 << i);
    }
    return -1;
}

/* SQLite: hands the attempt to the recorder thread and waits for it. */
static int record_batched(rn_dispatcher *d, wh_finish_item *it)
{
    record_req req = {.item = it};
    pthread_mutex_lock(&d->rec_lock);
    if (d->rec_tail)
        d->rec_tail->next = &req;
    else
        d->rec_head = &req;
    d->rec_tail = &req;
    pthread_cond_signal(&d->rec_work);
    while (!req.done)
        pthread_cond_wait(&d->rec_done, &d->rec_lock);
    pthread_mutex_unlock(&d->rec_lock);
    return it->rc;
}

static int job_record(worker_ctx *w, rn_db *db, const wh_job *job, bool ok,
                      const rn_send_result *res, wh_outcome *out, wh_job *next, bool *has_next)
{
    rn_dispatcher *d = w->d;
    wh_finish_item it = {.job = job,
                         .send_ok = ok,
                         .res = res,
                         .rnd = randombytes_random(),
                         .lease_until = rn_now_ms() + d->lease_ms,
                         .next = is_stopping(d) ? NULL : next,
                         .has_next = has_next,
                         .out = out,
                         .rc = -1};
    *has_next = false;
    return d->serialise_writes ? record_batched(d, &it) : record_direct(d, db, &it);
}

/* ---- the recorder (SQLite) ---------------------------------------------- */

/* Takes up to RECORD_BATCH queued requests; false when stopped and empty. */
static int recorder_take(rn_dispatcher *d, record_req **reqs)
{
    pthread_mutex_lock(&d->rec_lock);
    while (!d->rec_head && !d->rec_stop)
        pthread_cond_wait(&d->rec_work, &d->rec_lock);
    int n = 0;
    while (d->rec_head && n < RECORD_BATCH) {
        reqs[n++] = d->rec_head;
        d->rec_head = d->rec_head->next;
    }
    if (!d->rec_head)
        d->rec_tail = NULL;
    pthread_mutex_unlock(&d->rec_lock);
    return n;
}

/* Records a batch in one transaction, or one by one if that fails. */
static void recorder_write(rn_dispatcher *d, record_req **reqs, int n)
{
    wh_finish_item items[RECORD_BATCH];
    for (int i = 0; i < n; i++)
        items[i] = *reqs[i]->item;
    rn_db *db = rn_pool_acquire(d->pool);
    write_begin(d);
    int rc = wh_finish_many(db, &d->policy, items, n);
    write_end(d);
    if (rc != 0)
        warn_store("record attempts", db);
    for (int i = 0; i < n; i++) {
        if (rc != 0)
            record_direct(d, db, &items[i]);
        reqs[i]->item->rc = items[i].rc;
    }
    rn_pool_release(d->pool, db);
}

static void *recorder_main(void *arg)
{
    rn_dispatcher *d = arg;
    record_req *reqs[RECORD_BATCH];
    int n;
    while ((n = recorder_take(d, reqs)) > 0) {
        recorder_write(d, reqs, n);
        pthread_mutex_lock(&d->rec_lock);
        for (int i = 0; i < n; i++)
            reqs[i]->done = true;
        pthread_cond_broadcast(&d->rec_done);
        pthread_mutex_unlock(&d->rec_lock);
    }
    return NULL;
}

static void job_report(const wh_job *job, const rn_send_result *res, const wh_outcome *out)
{
    wh_attempt_row row = {.tenant_id = job->tenant_id,
                          .webhook_id = job->webhook_id,
                          .event_id = job->event_id,
                          .event_type = job->event_type,
                          .origin = WH_ORIGIN_AUTOMATIC,
                          .status = out->status,
                          .res = res};
    wh_attempt_log(&row, out->attempt_id, out->number);
    rn_metrics_delivery(strcmp(out->status, "succeeded") == 0 ? "succeeded" : "failed");
    if (!out->disabled)
        return;
    json_t *f = json_pack("{s:s, s:s}", "tenant", job->tenant_id, "webhookId", job->webhook_id);
    rn_log(RN_LOG_WARN, "webhook destination disabled", f);
    json_decref(f);
}

/* Runs one job; fills `next` (and returns true) when the worker should go
 * on with the same destination's next delivery. */
static bool job_run(worker_ctx *w, const wh_job *job, wh_job *next)
{
    rn_dispatcher *d = w->d;
    rn_db *db = rn_pool_acquire(d->pool);
    wh_job_data data;
    int found = wh_job_load(db, job, &data);
    bool has_next = false;
    if (found == 1) {
        write_begin(d);
        wh_abandon(db, job, d->node);
        write_end(d);
    }
    if (found != 0) {
        if (found < 0)
            warn_store("load delivery", db);
        wh_job_data_free(&data);
        rn_pool_release(d->pool, db);
        return false;
    }
    rn_send_result res;
    bool ok = job_send(w, job, &data, &res) == 0;
    wh_job_data_free(&data);
    wh_outcome out;
    if (job_record(w, db, job, ok, &res, &out, next, &has_next) == 0 && out.attempt_id[0])
        job_report(job, &res, &out);
    rn_send_result_free(&res);
    rn_pool_release(d->pool, db);
    return has_next;
}

/* ---- workers ------------------------------------------------------------ */

static bool worker_take(rn_dispatcher *d, wh_job *job)
{
    pthread_mutex_lock(&d->lock);
    while (!d->stopping && d->queued == 0)
        pthread_cond_wait(&d->work, &d->lock);
    bool got = !d->stopping && d->queued > 0;
    if (got) {
        *job = d->queue[--d->queued];
        d->busy++;
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

static void worker_done(rn_dispatcher *d)
{
    pthread_mutex_lock(&d->lock);
    d->busy--;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

static void *worker_main(void *arg)
{
    rn_dispatcher *d = arg;
    worker_ctx w = {.d = d, .curl = curl_easy_init()};
    wh_job job, next;
    while (worker_take(d, &job)) {
        int streak = 0;
        while (job_run(&w, &job, &next)) {
            job = next;
            if (is_stopping(d) || ++streak >= STREAK_MAX) {
                rn_db *db = rn_pool_acquire(d->pool);
                write_begin(d);
                wh_release(db, d->node, &job, 1);
                write_end(d);
                rn_pool_release(d->pool, db);
                break;
            }
        }
        worker_done(d);
    }
    if (w.curl)
        curl_easy_cleanup(w.curl);
    return NULL;
}

/* ---- the pump ----------------------------------------------------------- */

/* Claims work for idle workers. Returns how many jobs it queued, or -1. */
static int pump_claim(rn_dispatcher *d, rn_db *db)
{
    pthread_mutex_lock(&d->lock);
    int free_slots = WORKERS - d->busy - d->queued;
    pthread_mutex_unlock(&d->lock);
    if (free_slots <= 0)
        return 0;
    wh_job jobs[WORKERS];
    long long now = rn_now_ms();
    write_begin(d);
    int n = wh_claim(db, d->node, now, now + d->lease_ms, jobs, free_slots);
    write_end(d);
    if (n <= 0)
        return n;
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < n; i++)
        d->queue[d->queued++] = jobs[i];
    pthread_cond_broadcast(&d->work);
    pthread_mutex_unlock(&d->lock);
    return n;
}

/* One round; returns the time to wait before the next (0: go on at once). */
static long pump_round(rn_dispatcher *d)
{
    rn_db *db = rn_pool_acquire(d->pool);
    write_begin(d);
    int fanned = wh_fanout(db, FANOUT_BATCH);
    write_end(d);
    if (fanned < 0)
        warn_store("fan out events", db);
    int claimed = pump_claim(d, db);
    if (claimed < 0)
        warn_store("claim deliveries", db);
    rn_pool_release(d->pool, db);
    if (fanned < 0 || claimed < 0)
        return STORE_RETRY_MS;
    return fanned == FANOUT_BATCH ? 0 : POLL_MS;
}

static void pump_wait(rn_dispatcher *d, long ms)
{
    struct timespec until;
    deadline_in(&until, ms);
    pthread_mutex_lock(&d->lock);
    /* A worker coming free while claims are possible ends the wait early. */
    if (!d->stopping && ms > 0)
        pthread_cond_timedwait(&d->wake, &d->lock, &until);
    pthread_mutex_unlock(&d->lock);
}

/* Hands the claims nobody started back to the store. */
static void pump_release_queued(rn_dispatcher *d)
{
    wh_job left[WORKERS];
    pthread_mutex_lock(&d->lock);
    int n = d->queued;
    memcpy(left, d->queue, sizeof(wh_job) * (size_t)n);
    d->queued = 0;
    pthread_mutex_unlock(&d->lock);
    if (n == 0)
        return;
    rn_db *db = rn_pool_acquire(d->pool);
    write_begin(d);
    wh_release(db, d->node, left, n);
    write_end(d);
    rn_pool_release(d->pool, db);
}

static void *pump_main(void *arg)
{
    rn_dispatcher *d = arg;
    while (!is_stopping(d))
        pump_wait(d, pump_round(d));
    pump_release_queued(d);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------- */

static int dispatcher_prepare(rn_dispatcher *d, rn_app *app, char *err, size_t errlen)
{
    d->app = app;
    if (wh_schedule_parse(app->cfg.webhook_retry_schedule, &d->schedule) != 0) {
        snprintf(err, errlen,
                 "RINGNITY_WEBHOOK_RETRY_SCHEDULE must be 1 to %d comma-separated whole "
                 "seconds (0 to 604800)",
                 WH_SCHEDULE_MAX);
        return -1;
    }
    rn_id_new("node", d->node, sizeof d->node);
    d->policy = (wh_policy){.schedule = &d->schedule,
                            .max_failures = app->cfg.webhook_max_failures,
                            .node = d->node};
    /* Longer than any attempt can take (DNS, connect and transfer are each
     * bounded by the timeout), so a live node never loses a claim. */
    d->lease_ms = 2 * app->cfg.webhook_timeout_ms + 10000;
    d->pool = rn_pool_open(app->cfg.database_url, WORKERS + 2, err, errlen);
    if (!d->pool)
        return -1;
    d->serialise_writes = rn_pool_dialect(d->pool) == RN_DB_SQLITE;
    if (d->serialise_writes) {
        /* One node on SQLite: claims left by a killed predecessor are ours. */
        rn_db *db = rn_pool_acquire(d->pool);
        wh_release_all(db);
        rn_pool_release(d->pool, db);
    }
    return 0;
}

static int dispatcher_spawn(rn_dispatcher *d)
{
    if (d->serialise_writes) {
        if (pthread_create(&d->recorder, NULL, recorder_main, d) != 0)
            return -1;
        d->recorder_started = true;
    }
    for (int i = 0; i < WORKERS; i++) {
        if (pthread_create(&d->workers[i], NULL, worker_main, d) != 0)
            return -1;
        d->nworkers++;
    }
    if (pthread_create(&d->pump, NULL, pump_main, d) != 0)
        return -1;
    d->pump_started = true;
    return 0;
}

rn_dispatcher *rn_dispatcher_start(rn_app *app, char *err, size_t errlen)
{
    rn_dispatcher *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->write_lock, NULL);
    pthread_mutex_init(&d->rec_lock, NULL);
    pthread_cond_init(&d->rec_work, NULL);
    pthread_cond_init(&d->rec_done, NULL);
    pthread_cond_init(&d->work, NULL);
    pthread_cond_init(&d->wake, NULL);
    if (dispatcher_prepare(d, app, err, errlen) != 0) {
        rn_dispatcher_stop(d);
        return NULL;
    }
    if (dispatcher_spawn(d) != 0) {
        snprintf(err, errlen, "cannot start the webhook dispatcher threads");
        rn_dispatcher_stop(d);
        return NULL;
    }
    json_t *f = json_pack("{s:s, s:i, s:I}", "node", d->node, "workers", WORKERS, "leaseMs",
                          (json_int_t)d->lease_ms);
    rn_log(RN_LOG_INFO, "webhook dispatcher started", f);
    json_decref(f);
    return d;
}

void rn_dispatcher_quiesce(rn_dispatcher *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_broadcast(&d->work);
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

void rn_dispatcher_stop(rn_dispatcher *d)
{
    if (!d)
        return;
    rn_dispatcher_quiesce(d);
    if (d->pump_started)
        pthread_join(d->pump, NULL);
    for (int i = 0; i < d->nworkers; i++)
        pthread_join(d->workers[i], NULL);
    /* Only now: the workers' last attempts went through the recorder. */
    pthread_mutex_lock(&d->rec_lock);
    d->rec_stop = true;
    pthread_cond_broadcast(&d->rec_work);
    pthread_mutex_unlock(&d->rec_lock);
    if (d->recorder_started)
        pthread_join(d->recorder, NULL);
    if (d->pool)
        rn_pool_close(d->pool);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->write_lock);
    pthread_mutex_destroy(&d->rec_lock);
    pthread_cond_destroy(&d->rec_work);
    pthread_cond_destroy(&d->rec_done);
    pthread_cond_destroy(&d->work);
    pthread_cond_destroy(&d->wake);
    free(d);
}
