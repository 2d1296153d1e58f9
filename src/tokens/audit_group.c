/*
 * audit_group.c — leader/follower group commit (see audit_group.h).
 *
 * Entries wait in a singly linked queue of stack-allocated nodes: a node
 * lives in its caller's frame, and its caller does not return before the
 * node is marked done, so the leader may read it without copying.
 */
#include "tokens/audit_group.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct pending {
    const rn_audit_entry *entry;
    struct pending *next;
    int result;
    bool done;
} pending;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static pending *head, *tail;
static bool leader_busy;

/* Writes one batch in one transaction; 0 or -1 for all of it. */
static int write_batch(rn_db *db, pending *batch)
{
    if (rn_db_begin(db) != 0)
        return -1;
    for (pending *p = batch; p; p = p->next) {
        if (rn_audit_record(db, p->entry) != 0) {
            rn_db_rollback(db);
            return -1;
        }
    }
    return rn_db_commit(db) == 0 ? 0 : -1;
}

static void lead(rn_db *db)
{
    pending *batch = head;
    head = tail = NULL;
    leader_busy = true;
    pthread_mutex_unlock(&lock);
    int rc = write_batch(db, batch);
    pthread_mutex_lock(&lock);
    for (pending *p = batch, *next; p; p = next) {
        next = p->next; /* read before done: the owner may return at once */
        p->result = rc;
        p->done = true;
    }
    leader_busy = false;
    pthread_cond_broadcast(&finished);
}

int rn_audit_group_record(rn_db *db, const rn_audit_entry *e)
{
    /* PostgreSQL takes concurrent inserts well; funnelling them through one
     * connection only adds round trips (measured: half the throughput). */
    if (rn_db_dialect(db) == RN_DB_POSTGRES)
        return rn_audit_record(db, e);
    pending me = {.entry = e};
    pthread_mutex_lock(&lock);
    if (tail)
        tail->next = &me;
    else
        head = &me;
    tail = &me;
    while (!me.done) {
        if (!leader_busy)
            lead(db);
        else
            pthread_cond_wait(&finished, &lock);
    }
    pthread_mutex_unlock(&lock);
    return me.result;
}
