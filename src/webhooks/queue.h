/*
 * queue.h — the delivery queue's store operations, kept apart from the
 * threads that drive them (dispatcher.c) so each can be tested alone.
 *
 * Life of a delivery row: fan-out inserts it 'queued'; the smallest queued
 * row of a destination is elected its head ('pending', at most one per
 * destination by a unique index). A node claims due heads with a lease
 * (claimed_by, claimed_until); PostgreSQL nodes skip rows another node has
 * locked. After the attempt, one transaction records it in webhook_attempts
 * and moves the row to 'succeeded', 'failed' or back to 'pending' for a
 * retry; a finished row makes way for the next election. Nothing is marked
 * done before the attempt is recorded, so a node killed at any point leaves
 * the row claimed, and the lease running out hands it to the next claim:
 * at least once.
 *
 * Every function runs on a connection the caller holds (one thread).
 */
#ifndef RN_WEBHOOKS_QUEUE_H
#define RN_WEBHOOKS_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"
#include "webhooks/internal.h"

typedef struct {
    char tenant_id[48];
    char webhook_id[48];
    char event_id[48];
    char event_type[64];
    int attempts; /* automatic attempts made before this claim */
} wh_job;

/* Turns up to `limit` events that are not yet fanned out into delivery rows
 * for every enabled destination subscribed to them now, and marks them
 * fanned out, in one transaction; then elects the heads. Returns how many
 * events it handled (0 also when another PostgreSQL node is fanning out),
 * or -1. */
int wh_fanout(rn_db *db, int limit);
/* The same inside the caller's transaction (SQLite's single writer, which
 * needs no lock between nodes). Returns events handled or -1 (the
 * transaction is then doomed). */
int wh_fanout_run(rn_db *db, int limit);

/* Makes the destination's smallest queued delivery its head, unless it has
 * one. With node, the head is also claimed for node until lease_until and
 * described in *next (*has_next set). Losing a race to another elector is
 * not an error. 0, or -1 (inside a transaction: the transaction is doomed). */
int wh_elect(rn_db *db, const char *tenant_id, const char *webhook_id, const char *node,
             long long lease_until, wh_job *next, bool *has_next);
/* Elects heads for enabled destinations with queued rows and none (left by
 * an elector that died between commit and election). Returns how many
 * destinations it found, or -1. */
int wh_sweep(rn_db *db);

/* Claims up to n due heads of enabled destinations for `node` until
 * lease_until (ms). Fills jobs; returns how many, or -1. */
int wh_claim(rn_db *db, const char *node, long long now, long long lease_until, wh_job *jobs,
             int n);
/* Gives claims back untouched (shutdown before they were attempted). */
void wh_release(rn_db *db, const char *node, const wh_job *jobs, int n);
/* Forgets every lease: only for SQLite, where this node is the only one. */
int wh_release_all(rn_db *db);

/* What an attempt needs from the store. `rows` owns the strings. */
typedef struct {
    rn_rows *rows;
    const char *url, *sealed, *old_sealed, *payload;
    long long old_until;
} wh_job_data;

/* 0, 1 when the destination or event no longer exists, or -1. */
int wh_job_load(rn_db *db, const wh_job *job, wh_job_data *out);
void wh_job_data_free(wh_job_data *d);
/* Ends a claimed delivery whose destination or event vanished, so that no
 * lease ever hands it out again. */
int wh_abandon(rn_db *db, const wh_job *job, const char *node);

typedef struct {
    const wh_schedule *schedule;
    long long max_failures;
    const char *node;
} wh_policy;

typedef struct {
    char attempt_id[48];
    int number;
    const char *status;        /* the attempt's: succeeded | pending | failed */
    long long next_attempt_at; /* ms, or 0 */
    bool disabled;             /* this attempt disabled the destination */
} wh_outcome;

/* Records the attempt and moves the queue on, in one transaction. res is
 * the attempt's result (send_ok: it succeeded); rnd feeds the jitter.
 * Returns 0, 1 when the destination was deleted meanwhile (nothing is
 * recorded), or -1 (rolled back: the lease will hand the row out again). */
int wh_finish(rn_db *db, const wh_job *job, bool send_ok, const rn_send_result *res,
              const wh_policy *p, uint32_t rnd, wh_outcome *out);
/* The same, and when the attempt finished its delivery, also claims the
 * destination's next delivery for p->node until lease_until (the worker
 * keeps its warm connection). *has_next says whether `next` was filled. */
int wh_finish_and_next(rn_db *db, const wh_job *job, bool send_ok, const rn_send_result *res,
                       const wh_policy *p, uint32_t rnd, wh_outcome *out,
                       long long lease_until, wh_job *next, bool *has_next);

typedef struct wh_run wh_run;

/* One attempt to record in a batch: the arguments of wh_finish_and_next
 * (next NULL: do not claim the next delivery), and its own result. */
typedef struct {
    const wh_job *job;
    bool send_ok;
    const rn_send_result *res;
    uint32_t rnd;
    long long lease_until;
    wh_job *next;
    bool *has_next;
    wh_outcome *out;
    int rc; /* 0 recorded, 1 destination deleted meanwhile */
    /* NULL, or an empty wh_job_data that wh_finish_one fills (PostgreSQL)
     * when the next delivery came with its data: no wh_job_load needed. */
    wh_job_data *next_data;
    /* NULL, or an empty run that wh_finish_seq fills (PostgreSQL) with the
     * next head's run when *next was claimed: no wh_run_load needed. */
    wh_run *next_run;
} wh_finish_item;

/* wh_finish_and_next for one item, in its own transaction. On PostgreSQL a
 * success also elects, claims and loads the next delivery in the statement
 * that records the attempt. Returns it->rc (-1: nothing recorded). */
int wh_finish_one(rn_db *db, const wh_policy *p, wh_finish_item *it);

/* One item inside the caller's transaction: 0 (see it->rc), or -1 when a
 * statement failed and the transaction is doomed. */
int wh_finish_run(rn_db *db, const wh_policy *p, wh_finish_item *it);

/* ---- runs: a destination's next few deliveries at once ------------------
 *
 * The worker holding a destination's head may also send the deliveries
 * queued behind it, in order, on the same connection, and record them all
 * at once. Nobody else can send those rows: only the head is ever claimed,
 * and only its holder moves the queue on. A node killed mid-run leaves the
 * head claimed; when the lease runs out the whole run is sent again (at
 * least once). */

#define WH_RUN_MAX 16

/* A claimed head and the deliveries queued behind it, in the order they
 * must go out, with what their attempts need. `rows` owns the strings. */
struct wh_run {
    rn_rows *rows;
    const char *url, *sealed, *old_sealed;
    long long old_until;
    int n; /* jobs[0] is the head */
    wh_job jobs[WH_RUN_MAX];
    const char *payloads[WH_RUN_MAX];
};

/* Loads `head` and up to max - 1 (max <= WH_RUN_MAX) deliveries queued
 * behind it, in one query. A queued delivery whose event is gone ends the
 * run before it. 0, 1 when the head's destination, event or delivery no
 * longer exists, or -1. */
int wh_run_load(rn_db *db, const wh_job *head, int max, wh_run *run);
void wh_run_free(wh_run *run);

/* Records the attempts of a run sent in order: items[0] is the claimed
 * head, items[i] the i-th delivery behind it; every attempt succeeded
 * except perhaps the last (a failure ends a run). Successes are recorded
 * together; a failed last delivery then becomes the head, claimed by
 * p->node, and takes the usual failure path (retry schedule, disabling).
 * items[n - 1].next, when set, receives the destination's next head
 * claimed for p->node after a run that ended in success (as
 * wh_finish_and_next), and items[n - 1].next_run, when also set, may
 * receive that head's run (PostgreSQL; otherwise it stays empty). Each
 * item's rc: 0 recorded, 1 destination deleted meanwhile, 2 not recorded
 * because the queue moved on without it (a lost lease; it will be sent
 * again), -1 its recording failed (the lease hands it out again). Returns
 * 0, or -1 when nothing was recorded.
 * On PostgreSQL the successes take one statement, which also elects and
 * claims the next head and returns its run. */
int wh_finish_seq(rn_db *db, const wh_policy *p, wh_finish_item *items, int n);
/* The same inside the caller's transaction (SQLite's single writer), one
 * delivery after the other: 0, or -1 when the transaction is doomed. */
int wh_finish_seq_run(rn_db *db, const wh_policy *p, wh_finish_item *items, int n);

/* Puts a re-enabled destination's head back in line at once (electing one
 * if it has none). */
int wh_queue_resume(rn_db *db, const char *tenant_id, const char *webhook_id, long long now);
/* Deletes a destination's queue and attempt log (inside the caller's
 * transaction). */
int wh_queue_drop(rn_db *db, const char *tenant_id, const char *webhook_id);

#endif
