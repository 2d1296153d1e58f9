/*
 * dispatcher.c — the pump and worker threads around queue.c.
 *
 * Workers make the attempts, each with its own reused curl handle. A worker
 * holding a destination's head loads it with up to RUN_MAX deliveries
 * queued behind it (one query), sends them in order on its warm
 * connection, stopping at the first failure, and records them together
 * (see wh_finish_seq: on PostgreSQL one statement for the successes). The
 * same recording claims the destination's next head for the worker (up to
 * STREAK_MAX deliveries in a row, so busy destinations cannot starve the
 * others): the order holds without a trip through the pump. On
 * PostgreSQL that recording statement also returns the next run, so a busy
 * destination costs one round trip per run.
 *
 * The pump fans new events out, claims due deliveries for idle workers and
 * hands them over. Between rounds it waits BUSY_POLL_MS while there is
 * traffic and POLL_MS once it has been idle for a while (new events from
 * other processes or nodes are only seen by polling); a worker coming free,
 * or asking for an attempt to be recorded, wakes it at once.
 *
 * The two stores want different shapes:
 *   PostgreSQL: rows are locked one by one, so workers record their own
 *     attempts in parallel and the pump only fans out and claims.
 *   SQLite: there is one writer at a time, and a connection that finds the
 *     write lock taken sleeps in steps of milliseconds. So the pump is the
 *     only writer: each round is one transaction that records every attempt
 *     the workers queued meanwhile, fans out a batch and claims. One lock
 *     acquisition per round instead of one per attempt is what keeps
 *     SQLite fast when other writers (the API, other processes) compete.
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
/* Events per fan-out transaction. SQLite's is part of the writer's round,
 * which attempts wait for: smaller keeps those waits short. */
#define FANOUT_BATCH_SQLITE 200
#define FANOUT_BATCH_PG 500
#define POLL_MS 50
#define BUSY_POLL_MS 5
#define BUSY_ROUNDS 40 /* idle rounds at BUSY_POLL_MS before slowing down */
#define STREAK_MAX 64
/* Deliveries sent before one recording. More shares the recording's cost
 * among more deliveries; fewer keeps the first ones' records sooner. */
#define RUN_MAX 16
#define STORE_RETRY_MS 1000
#define FINISH_TRIES 3
#define SWEEP_MS 5000

/* A run's attempts waiting to be recorded by the pump (SQLite); lives on
 * the worker's stack until `done`. */
typedef struct record_req {
    wh_finish_item *items;
    int n;
    bool done;
    pthread_cond_t cond; /* signalled when done: only this worker wakes */
    struct record_req *next;
} record_req;

struct rn_dispatcher {
    rn_app *app;
    rn_pool *pool;
    char node[48];
    wh_schedule schedule;
    wh_policy policy;
    long long lease_ms;
    bool single_writer; /* SQLite: the pump records the attempts */

    pthread_mutex_t lock;
    pthread_cond_t work;     /* workers: a job was queued, or stopping */
    pthread_cond_t wake;     /* pump: a worker came free or wants a record */
    wh_job queue[WORKERS];
    int queued;
    int busy;
    record_req *rec_head, *rec_tail;
    long long swept_at; /* rn_mono_ms of the last wh_sweep */
    int idle_rounds;    /* pump rounds in a row that found nothing */
    bool stopping;     /* no new claims */
    bool workers_gone; /* the pump may leave once its record queue is empty */

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

/* ---- recording attempts ------------------------------------------------- */

/* Records a run's attempts, retrying a failing store briefly. The lease
 * covers us: if every try fails, the run is attempted again once it runs
 * out. */
static int record_direct(rn_dispatcher *d, rn_db *db, wh_finish_item *items, int n)
{
    for (int i = 0; i < FINISH_TRIES; i++) {
        if (wh_finish_seq(db, &d->policy, items, n) == 0)
            return 0;
        warn_store("record attempt", db);
        sleep_ms(100 << i);
    }
    return -1;
}

/* SQLite: queues the attempts for the pump's next round and waits. */
static int record_by_pump(rn_dispatcher *d, wh_finish_item *items, int n)
{
    record_req req = {.items = items, .n = n};
    pthread_cond_init(&req.cond, NULL);
    pthread_mutex_lock(&d->lock);
    if (d->rec_tail)
        d->rec_tail->next = &req;
    else
        d->rec_head = &req;
    d->rec_tail = &req;
    pthread_cond_signal(&d->wake);
    while (!req.done)
        pthread_cond_wait(&req.cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
    pthread_cond_destroy(&req.cond);
    return 0;
}

/* ---- one job ------------------------------------------------------------ */

typedef struct {
    rn_dispatcher *d;
    void *curl;
} worker_ctx;

static int job_send(worker_ctx *w, const wh_run *run, int i, rn_send_result *res)
{
    rn_app *app = w->d->app;
    const wh_job *job = &run->jobs[i];
    char secret[WH_SECRET_MAX + 1], old[WH_SECRET_MAX + 1];
    int rc = wh_secrets_open(app->master_key, run->sealed, run->old_sealed, run->old_until,
                             rn_now_ms(), secret, old, sizeof secret);
    if (rc != 0) {
        memset(res, 0, sizeof *res);
        res->retry_after_s = -1;
        snprintf(res->error, sizeof res->error, "internal error");
        return -1;
    }
    wh_target t = {.tenant_id = job->tenant_id,
                   .webhook_id = job->webhook_id,
                   .url = run->url,
                   .secret = secret,
                   .old_secret = old[0] ? old : NULL,
                   .event_id = job->event_id,
                   .event_type = job->event_type,
                   .payload = run->payloads[i]};
    rc = wh_attempt_send(w->curl, &t, app->cfg.webhook_allow_private,
                         (long)app->cfg.webhook_timeout_ms, res);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(old, sizeof old);
    return rc;
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

/* A run in flight: its deliveries and what their attempts gave. */
typedef struct {
    wh_run run;
    int sent;
    long long next_lease; /* the lease of the next head claimed for us */
    bool ok[RUN_MAX];
    rn_send_result res[RUN_MAX];
    wh_outcome out[RUN_MAX];
    wh_finish_item items[RUN_MAX];
} run_state;

/* Sends the run in order until a failure, a stop, or too little of the
 * head's lease is left for one more attempt (a delivery sent after the
 * lease ran out could cross another node's). */
static void run_send(worker_ctx *w, run_state *st, long long lease_until)
{
    rn_dispatcher *d = w->d;
    long long timeout = (long long)d->app->cfg.webhook_timeout_ms;
    for (int i = 0; i < st->run.n; i++) {
        if (i > 0 && (is_stopping(d) || rn_now_ms() + 2 * timeout > lease_until))
            break;
        st->ok[i] = job_send(w, &st->run, i, &st->res[i]) == 0;
        st->sent = i + 1;
        if (!st->ok[i])
            break;
    }
}

/* Records what run_send sent; next and next_run: see wh_finish_seq. */
static void run_record(rn_dispatcher *d, rn_db *db, run_state *st, wh_job *next,
                       bool *has_next, wh_run *next_run)
{
    long long lease_until = rn_now_ms() + d->lease_ms;
    st->next_lease = lease_until;
    for (int i = 0; i < st->sent; i++)
        st->items[i] = (wh_finish_item){.job = &st->run.jobs[i],
                                        .send_ok = st->ok[i],
                                        .res = &st->res[i],
                                        .rnd = randombytes_random(),
                                        .lease_until = lease_until,
                                        .out = &st->out[i],
                                        .rc = -1};
    wh_finish_item *last = &st->items[st->sent - 1];
    last->next = is_stopping(d) ? NULL : next;
    last->has_next = has_next;
    last->next_run = next_run;
    *has_next = false;
    if (d->single_writer)
        record_by_pump(d, st->items, st->sent);
    else
        record_direct(d, db, st->items, st->sent);
    for (int i = 0; i < st->sent; i++) {
        if (st->items[i].rc == 0 && st->out[i].attempt_id[0])
            job_report(&st->run.jobs[i], &st->res[i], &st->out[i]);
        rn_send_result_free(&st->res[i]);
    }
}

/* Runs the claimed head `job` (its lease until *lease_until) and the
 * deliveries queued behind it: `pre` when it came loaded (taken), else
 * loaded here. Adds the deliveries sent to *sent. Fills `next` and
 * *lease_until (and returns true) when the worker should go on with the
 * destination's next head, and `pre` when that came loaded. */
static bool job_run(worker_ctx *w, const wh_job *job, long long *lease_until, wh_job *next,
                    wh_run *pre, int *sent)
{
    rn_dispatcher *d = w->d;
    rn_db *db = rn_pool_acquire(d->pool);
    run_state *st = calloc(1, sizeof *st);
    int found = -1;
    if (st && pre->rows) {
        st->run = *pre; /* moves the rows */
        memset(pre, 0, sizeof *pre);
        found = 0;
    } else if (st) {
        found = wh_run_load(db, job, RUN_MAX, &st->run);
    }
    wh_run_free(pre);
    bool has_next = false;
    if (found == 1)
        wh_abandon(db, job, d->node); /* single statement: no pump round needed */
    if (found < 0)
        warn_store("load delivery", db);
    if (found == 0) {
        run_send(w, st, *lease_until);
        run_record(d, db, st, next, &has_next, pre);
        *sent += st->sent;
        *lease_until = st->next_lease;
    }
    if (st)
        wh_run_free(&st->run);
    free(st);
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
    wh_run pre = {0};
    while (worker_take(d, &job)) {
        int sent = 0;
        long long lease_until = rn_now_ms() + d->lease_ms;
        while (job_run(&w, &job, &lease_until, &next, &pre, &sent)) {
            job = next;
            if (is_stopping(d) || sent >= STREAK_MAX) {
                rn_db *db = rn_pool_acquire(d->pool);
                wh_release(db, d->node, &job, 1);
                rn_pool_release(d->pool, db);
                break;
            }
        }
        wh_run_free(&pre); /* a next run the worker did not take */
        worker_done(d);
    }
    if (w.curl)
        curl_easy_cleanup(w.curl);
    return NULL;
}

/* ---- the pump ----------------------------------------------------------- */

typedef struct {
    record_req *reqs[WORKERS];
    int nreqs;
    int free_slots;
    wh_job jobs[WORKERS];
    int claimed;
    int fanned;
    bool failed;
} pump_round;

/* Under d->lock: what this round should do. */
static void round_take(rn_dispatcher *d, pump_round *r)
{
    memset(r, 0, sizeof *r);
    while (d->rec_head && r->nreqs < WORKERS) {
        r->reqs[r->nreqs++] = d->rec_head;
        d->rec_head = d->rec_head->next;
    }
    if (!d->rec_head)
        d->rec_tail = NULL;
    r->free_slots = d->stopping ? 0 : WORKERS - d->busy - d->queued;
}

/* Claims work for idle workers (inside a transaction on SQLite). */
static void round_claim(rn_dispatcher *d, rn_db *db, pump_round *r)
{
    if (r->free_slots <= 0 || r->failed)
        return;
    long long now = rn_now_ms();
    r->claimed = wh_claim(db, d->node, now, now + d->lease_ms, r->jobs, r->free_slots);
    if (r->claimed < 0) {
        warn_store("claim deliveries", db);
        r->failed = true;
        r->claimed = 0;
    }
}

/* SQLite: records the queued attempts, fans out and claims, all in one
 * transaction. If it fails, the attempts are recorded one by one. */
static void round_single_writer(rn_dispatcher *d, rn_db *db, pump_round *r)
{
    r->failed = rn_db_begin(db) != 0;
    for (int i = 0; i < r->nreqs && !r->failed; i++)
        r->failed = wh_finish_seq_run(db, &d->policy, r->reqs[i]->items, r->reqs[i]->n) != 0;
    if (!r->failed) {
        r->fanned = wh_fanout_run(db, FANOUT_BATCH_SQLITE);
        r->failed = r->fanned < 0;
    }
    round_claim(d, db, r);
    if (!r->failed && rn_db_commit(db) == 0)
        return;
    if (!r->failed)
        r->failed = true; /* the commit failed */
    else
        rn_db_rollback(db);
    warn_store("dispatcher round", db);
    r->claimed = r->fanned = 0;
    for (int i = 0; i < r->nreqs; i++)
        record_direct(d, db, r->reqs[i]->items, r->reqs[i]->n);
}

static void round_several_writers(rn_dispatcher *d, rn_db *db, pump_round *r)
{
    r->fanned = wh_fanout(db, FANOUT_BATCH_PG);
    if (r->fanned < 0) {
        warn_store("fan out events", db);
        r->failed = true;
        r->fanned = 0;
    }
    round_claim(d, db, r);
}

/* Under d->lock: hands claims to workers and wakes those recorded. */
static void round_deliver(rn_dispatcher *d, pump_round *r)
{
    for (int i = 0; i < r->claimed; i++)
        d->queue[d->queued++] = r->jobs[i];
    if (r->claimed)
        pthread_cond_broadcast(&d->work);
    for (int i = 0; i < r->nreqs; i++) {
        r->reqs[i]->done = true;
        pthread_cond_signal(&r->reqs[i]->cond);
    }
}

/* Repairs queues left without a head, now and then. */
static void pump_sweep(rn_dispatcher *d, rn_db *db)
{
    if (rn_mono_ms() - d->swept_at < SWEEP_MS)
        return;
    d->swept_at = rn_mono_ms();
    if (wh_sweep(db) < 0)
        warn_store("sweep queues", db);
}

/* One round; returns the time to wait before the next (0: go on at once). */
static long pump_round_run(rn_dispatcher *d)
{
    pump_round r;
    pthread_mutex_lock(&d->lock);
    round_take(d, &r);
    pthread_mutex_unlock(&d->lock);
    rn_db *db = rn_pool_acquire(d->pool);
    if (d->single_writer)
        round_single_writer(d, db, &r);
    else
        round_several_writers(d, db, &r);
    pump_sweep(d, db);
    rn_pool_release(d->pool, db);
    pthread_mutex_lock(&d->lock);
    round_deliver(d, &r);
    pthread_mutex_unlock(&d->lock);
    if (r.failed)
        return STORE_RETRY_MS;
    int batch = d->single_writer ? FANOUT_BATCH_SQLITE : FANOUT_BATCH_PG;
    if (r.fanned == batch || r.nreqs == WORKERS)
        return 0;
    d->idle_rounds = r.fanned || r.nreqs || r.claimed ? 0 : d->idle_rounds + 1;
    return d->idle_rounds < BUSY_ROUNDS ? BUSY_POLL_MS : POLL_MS;
}

/* Waits up to ms, less if a worker comes free or queues a record. The wait
 * counts on the monotonic clock: a step of the wall clock (NTP) must not
 * stall deliveries. */
static void pump_wait(rn_dispatcher *d, long ms)
{
    struct timespec until = rn_deadline_in(CLOCK_MONOTONIC, ms);
    pthread_mutex_lock(&d->lock);
    if (ms > 0 && !d->rec_head && !d->workers_gone)
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
    wh_release(db, d->node, left, n);
    rn_pool_release(d->pool, db);
}

static bool pump_done(rn_dispatcher *d)
{
    pthread_mutex_lock(&d->lock);
    bool done = d->workers_gone && !d->rec_head;
    pthread_mutex_unlock(&d->lock);
    return done;
}

/* Runs until stopped, then keeps recording what the workers still finish
 * (SQLite) until they are all gone. */
static void *pump_main(void *arg)
{
    rn_dispatcher *d = arg;
    while (!is_stopping(d))
        pump_wait(d, pump_round_run(d));
    pump_release_queued(d);
    while (!pump_done(d)) {
        pump_round_run(d);
        pump_wait(d, POLL_MS);
    }
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
    d->pool = rn_pool_open(app->cfg.database_url, WORKERS + 1, err, errlen);
    if (!d->pool)
        return -1;
    d->single_writer = rn_pool_dialect(d->pool) == RN_DB_SQLITE;
    if (d->single_writer) {
        /* One node on SQLite: claims left by a killed predecessor are ours. */
        rn_db *db = rn_pool_acquire(d->pool);
        wh_release_all(db);
        rn_pool_release(d->pool, db);
    }
    return 0;
}

static int dispatcher_spawn(rn_dispatcher *d)
{
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
    pthread_cond_init(&d->work, NULL);
    rn_cond_init_monotonic(&d->wake);
    if (dispatcher_prepare(d, app, err, errlen) != 0) {
        rn_dispatcher_stop(d);
        return NULL;
    }
    if (dispatcher_spawn(d) != 0) {
        snprintf(err, errlen, "cannot start the webhook dispatcher threads");
        rn_dispatcher_stop(d);
        return NULL;
    }
    json_t *f = json_pack("{s:s, s:i, s:I, s:s}", "node", d->node, "workers", WORKERS,
                          "leaseMs", (json_int_t)d->lease_ms, "recording",
                          d->single_writer ? "single writer" : "per worker");
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
    for (int i = 0; i < d->nworkers; i++)
        pthread_join(d->workers[i], NULL);
    /* The pump records the workers' last attempts, then sees them gone. */
    pthread_mutex_lock(&d->lock);
    d->workers_gone = true;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
    if (d->pump_started)
        pthread_join(d->pump, NULL);
    if (d->pool)
        rn_pool_close(d->pool);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->work);
    pthread_cond_destroy(&d->wake);
    free(d);
}
