#include "http/writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/log.h"

/* Most requests one transaction carries; more wait for the next one. */
#define GROUP_MAX 256

struct rn_writer {
    rn_pool *pool;
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

static void log_failure(rn_db *db, int count)
{
    json_t *f = json_pack("{s:s, s:i, s:s}", "module", "writer", "requests", count, "error",
                          db ? rn_db_last_message(db) : "no store connection");
    rn_log(RN_LOG_ERROR, "group commit failed", f);
    json_decref(f);
}

/* Runs each request's work in its own part of one transaction. */
static int run_parts(rn_db *db, rn_req *group)
{
    int count = 0;
    for (rn_req *r = group; r; r = r->write_next, count++) {
        r->db = db;
        r->write_fn(r, r->write_arg);
        r->db = NULL;
    }
    return count;
}

/* Nothing of the group was kept: requests that had succeeded, or had not
 * run, say so. Refusals (4xx) stand: they changed nothing anyway. */
static void unsay_success(rn_req *group)
{
    for (rn_req *r = group; r; r = r->write_next) {
        if (r->status >= 400)
            continue;
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, "The change was not saved; try again.", NULL);
    }
}

static void run_group(rn_writer *w, rn_req *group)
{
    rn_db *db = rn_pool_acquire(w->pool);
    if (db && rn_db_group_begin(db) == 0) {
        int count = run_parts(db, group);
        if (rn_db_group_end(db, true) != 0) {
            log_failure(db, count);
            unsay_success(group);
        }
    } else {
        log_failure(db, 0);
        unsay_success(group);
    }
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

rn_writer *rn_writer_start(rn_pool *pool, void (*resume)(rn_req *r))
{
    rn_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->pool = pool;
    w->resume = resume;
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
