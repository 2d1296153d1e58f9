#include "http/headwatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "core/util.h"

#define CHECK_EVERY_MS 250

struct rn_headwatch_conn {
    int fd;
    atomic_llong waiting_since; /* monotonic ms; 0 while busy */
    bool cut;                   /* shut down already (under the lock) */
    rn_headwatch_conn *prev, *next;
};

struct rn_headwatch {
    long deadline_ms;
    pthread_mutex_t lock; /* the list, and shutting sockets down */
    pthread_cond_t wake;
    bool stopping;
    rn_headwatch_conn *head;
    pthread_t thread;
};

/* Cuts the connections that have waited too long for a head. */
static void sweep(rn_headwatch *w, long long now)
{
    for (rn_headwatch_conn *c = w->head; c; c = c->next) {
        long long since = atomic_load(&c->waiting_since);
        if (since == 0 || c->cut || now - since <= w->deadline_ms)
            continue;
        shutdown(c->fd, SHUT_RDWR);
        c->cut = true;
    }
}

static void *watch_main(void *arg)
{
    rn_headwatch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        struct timespec at = rn_deadline_in(CLOCK_MONOTONIC, CHECK_EVERY_MS);
        pthread_cond_timedwait(&w->wake, &w->lock, &at);
        if (!w->stopping)
            sweep(w, rn_mono_ms());
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

rn_headwatch *rn_headwatch_start(long deadline_ms)
{
    rn_headwatch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->deadline_ms = deadline_ms;
    pthread_mutex_init(&w->lock, NULL);
    rn_cond_init_monotonic(&w->wake);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void rn_headwatch_stop(rn_headwatch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    while (w->head) {
        rn_headwatch_conn *c = w->head;
        w->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

rn_headwatch_conn *rn_headwatch_add(rn_headwatch *w, int fd)
{
    rn_headwatch_conn *c = calloc(1, sizeof *c);
    if (!w || !c) {
        free(c);
        return NULL;
    }
    c->fd = fd;
    atomic_store(&c->waiting_since, rn_mono_ms());
    pthread_mutex_lock(&w->lock);
    c->next = w->head;
    if (w->head)
        w->head->prev = c;
    w->head = c;
    pthread_mutex_unlock(&w->lock);
    return c;
}

void rn_headwatch_remove(rn_headwatch *w, rn_headwatch_conn *c)
{
    if (!w || !c)
        return;
    pthread_mutex_lock(&w->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->lock);
    free(c);
}

void rn_headwatch_busy(rn_headwatch_conn *c)
{
    if (c)
        atomic_store(&c->waiting_since, 0);
}

void rn_headwatch_idle(rn_headwatch_conn *c)
{
    if (c)
        atomic_store(&c->waiting_since, rn_mono_ms());
}
