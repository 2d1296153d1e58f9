/*
 * seed.h — realistic demo activity for one tenant, written through the
 * activity API (activity.h) in large units of work, so seeded data has the
 * same rows, rollups and invariants as live data.
 *
 * The history covers the tenant's last `days` local days up to `now`:
 * conversations arrive in working-hour waves (fewer at weekends and at
 * night), agents work early and late shifts with a lunch break (presence),
 * answer after a wait, exchange about ten messages, and close most
 * conversations; some conversations get a call (mostly answered) or a
 * ticket (mostly resolved later). Nothing is dated after `now`: what would
 * happen later is left open, as it would be in a live tenant.
 *
 * The same seed value gives the same history (ids aside).
 */
#ifndef RN_ACTIVITY_SEED_H
#define RN_ACTIVITY_SEED_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

typedef struct {
    long conversations, messages, calls, tickets, presence_changes;
} rn_seed_stats;

typedef struct {
    const char *tenant_id;
    const char *timezone;
    int days;            /* 1 .. 366 */
    long conversations;  /* total over the period */
    long long now_ms;    /* end of the history (0: the current time) */
    uint64_t seed;       /* PRNG seed */
    bool events;         /* also append webhook events (off: history is not news) */
    int batch;           /* conversations per unit of work (0: 2000) */
    const char *const *agent_ids; /* active agents/admins to spread the work over */
    int nagents;
    /* Called after each committed unit (and at the end). */
    void (*progress)(void *ctx, long done, long total);
    void *progress_ctx;
} rn_seed_opts;

/* Seeds; 0, or -1 when a unit failed (units committed before it remain). */
int rn_activity_seed(rn_db *db, const rn_seed_opts *opts, rn_seed_stats *stats);

#endif
