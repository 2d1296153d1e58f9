/*
 * writer.h — group commit for requests that write (SQLite's one writer).
 *
 * SQLite lets one connection write at a time, so requests that write queue
 * for its lock and each pays a commit of its own. A handler that calls
 * rn_req_write (http.h) instead hands its store work to this writer: the
 * request's connection is suspended (its worker thread serves others), the
 * writer thread runs every queued request's work as a part of one
 * transaction (store/db.h, rn_db_group_begin), commits once, and only then
 * resumes the connections so their answers go out: an answer is never sent
 * before its change is durable. If any part fails, or the commit does, the
 * group is rolled back and each request's work runs again in a transaction
 * of its own, so every request gets the answer it would have got alone.
 * The work must therefore be able to run twice (a second run starts from
 * the same arguments; nothing of the first is kept). A lone request runs
 * in a transaction of its own straight away.
 *
 * The work runs on the writer thread with r->db set to the writer's
 * connection. It may read the request's headers: libmicrohttpd leaves a
 * suspended connection's memory alone until it is resumed.
 *
 * Not used on PostgreSQL, which has row locks and many writers: there
 * rn_req_write runs the work at once on the request's own connection.
 */
#ifndef RN_HTTP_WRITER_H
#define RN_HTTP_WRITER_H

#include "http/http.h"
#include "store/db.h"

typedef struct rn_writer rn_writer;

/* What a group does around its parts, in the group's transaction (0, or
 * -1 to fail the group): begin after the transaction opens, finish after the
 * last part. Either may be NULL. */
typedef struct {
    int (*begin)(rn_db *db);
    int (*finish)(rn_db *db);
} rn_writer_hooks;

/* The server's: deferred trigram indexing of new contacts (api/routes.c). */
extern const rn_writer_hooks RN_WRITER_HOOKS;

/* ended(r) runs right after r's work, on the writer's connection and in
 * the same transaction (the server stores the Idempotency-Key answer
 * there); resume(r) once r's work is committed or has failed. hooks and
 * ended may be NULL. */
rn_writer *rn_writer_start(rn_pool *pool, const rn_writer_hooks *hooks,
                           void (*ended)(rn_req *r), void (*resume)(rn_req *r));
/* Queues r (its connection already suspended). */
void rn_writer_push(rn_writer *w, rn_req *r);
/* Runs what is queued, then ends the thread. */
void rn_writer_stop(rn_writer *w);

#endif
