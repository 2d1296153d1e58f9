#include "http/writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/log.h"

/* Most requests one transaction carries; more wait for the next one. */
#define GROUP_MAX 256

struct rn_writer {
    rn_pool *pool;
    rn_writer_hooks hooks;
    void (*ended)(rn_req *r);
    void (*resume)(rn_req *r);
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    rn_req *head, *tail; /* queued, oldest first, linked by write_next */
    bool stopping;
};

void rn_writer_push(rn_writer *w, rn_req *r)
{
    r->write_next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->write_next = r;
    else
        w->head = r;
    w->tail = r;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

/* Takes up to GROUP_MAX queued requests; NULL once stopping and empty. */
static rn_req *take(rn_writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping)
        pthread_cond_wait(&w->wake, &w->lock);
    rn_req *first = w->head, *last = first;
    for (int n = 1; last && last->write_next && n < GROUP_MAX; n++)
        last = last->write_next;
    if (last) {
        w->head = last->write_next;
        if (!w->head)
            w->tail = NULL;
        last->write_next = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    return first;
}

/* True when there is no hook or it succeeded (a statement failing in it
 * fails the group anyway: store/db.h). */
static bool run_hook(rn_db *db, int (*hook)(rn_db *db))
{
    return !hook || hook(db) == 0;
}

/* Runs each request's work: as parts of the group's transaction while
 * one is open on db, else each in a transaction of its own. */
static void run_each(rn_writer *w, rn_db *db, rn_req *group)
{
    for (rn_req *r = group; r; r = r->write_next) {
        if (!db) {
            rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
            continue;
        }
        r->db = db;
        r->error_code = NULL; /* a second run answers afresh */
        r->write_fn(r, r->write_arg);
        if (w->ended)
            w->ended(r);
        r->db = NULL;
    }
}

static void run_group(rn_writer *w, rn_req *group)
{
    rn_db *db = rn_pool_acquire(w->pool);
    bool committed = false;
    if (db && group->write_next && rn_db_group_begin(db) == 0) {
        bool ok = run_hook(db, w->hooks.begin);
        if (ok) {
            run_each(w, db, group);
            ok = run_hook(db, w->hooks.finish);
        }
        committed = rn_db_group_end(db, ok) == 0;
        if (!committed)
            rn_logf(RN_LOG_WARN, "group commit rolled back (%s); its requests run one by one",
                    rn_db_last_message(db));
    }
    /* Rolled back (or never begun): each request's work runs again alone,
     * so each gets its own answer and one request's failure costs the
     * others only time. */
    if (!committed)
        run_each(w, db, group);
    rn_pool_release(w->pool, db);
    while (group) {
        rn_req *next = group->write_next;
        group->write_next = NULL;
        w->resume(group);
        group = next;
    }
}

static void *writer_main(void *arg)
{
    rn_writer *w = arg;
    rn_req *group;
    while ((group = take(w)))
        run_group(w, group);
    return NULL;
}

rn_writer *rn_writer_start(rn_pool *pool, const rn_writer_hooks *hooks,
                           void (*ended)(rn_req *r), void (*resume)(rn_req *r))
{
    rn_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->pool = pool;
    w->ended = ended;
    w->resume = resume;
    if (hooks)
        w->hooks = *hooks;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void rn_writer_stop(rn_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
