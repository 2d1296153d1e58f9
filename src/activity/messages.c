/*
 * messages.c — a unit's message rows, written in batches.
 *
 * A conversation is a dozen messages and the seeder plays a million of
 * them, so one INSERT per message made the statement overhead (binding,
 * stepping, resetting) a large part of seeding. Messages are only ever read
 * after their unit commits (no read inside a unit looks at them), so the
 * unit keeps them and writes them ACT_MSG_BATCH rows per statement, the
 * rest one by one, at the latest when it commits. A failing write fails the
 * commit, as a failing single INSERT failed the operation before: either
 * way nothing of the unit is kept.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity/internal.h"

#define COLUMNS "INSERT INTO messages (tenant_id, conversation_id, id, direction, sender_id," \
                " body, created_at) VALUES "
#define PER_ROW 6 /* parameters per row besides the shared tenant id ($1) */

static char batch_sql[sizeof COLUMNS + ACT_MSG_BATCH * 48];
static pthread_once_t batch_once = PTHREAD_ONCE_INIT;

/* "... VALUES ($1, $2, ..., $7), ($1, $8, ..., $13), ...": the tenant id is
 * bound once, each row adds six parameters in order. */
static void build_batch_sql(void)
{
    size_t n = (size_t)snprintf(batch_sql, sizeof batch_sql, "%s", COLUMNS);
    for (int row = 0; row < ACT_MSG_BATCH; row++) {
        int p = 2 + row * PER_ROW;
        n += (size_t)snprintf(batch_sql + n, sizeof batch_sql - n,
                              "%s($1, $%d, $%d, $%d, $%d, $%d, $%d)", row ? ", " : "", p,
                              p + 1, p + 2, p + 3, p + 4, p + 5);
    }
}

static void params_of(const act_msg *m, rn_param *p)
{
    p[0] = RN_T(m->conversation_id);
    p[1] = RN_T(m->id);
    p[2] = RN_T(m->direction);
    p[3] = RN_T(m->sender_id);
    p[4] = RN_T(m->body);
    p[5] = RN_I(m->at);
}

static int write_batch(rn_act *a, const act_msg *rows)
{
    pthread_once(&batch_once, build_batch_sql);
    rn_param params[1 + ACT_MSG_BATCH * PER_ROW];
    params[0] = RN_T(a->tenant_id);
    for (int i = 0; i < ACT_MSG_BATCH; i++)
        params_of(&rows[i], &params[1 + i * PER_ROW]);
    long long n = rn_db_exec(a->db, batch_sql, 1 + ACT_MSG_BATCH * PER_ROW, params);
    return n == ACT_MSG_BATCH ? 0 : -1;
}

static int write_one(rn_act *a, const act_msg *m)
{
    rn_param params[1 + PER_ROW];
    params[0] = RN_T(a->tenant_id);
    params_of(m, &params[1]);
    long long n = rn_db_exec(a->db,
                             COLUMNS "($1, $2, $3, $4, $5, $6, $7)", 1 + PER_ROW, params);
    return n == 1 ? 0 : -1;
}

static void forget(act_msg *m)
{
    free(m->sender_id);
    free(m->body);
    memset(m, 0, sizeof *m);
}

int act_msgs_flush(rn_act *a)
{
    size_t i = 0;
    int rc = 0;
    for (; rc == 0 && a->nmsgs - i >= ACT_MSG_BATCH; i += ACT_MSG_BATCH)
        rc = write_batch(a, &a->msgs[i]);
    for (; rc == 0 && i < a->nmsgs; i++)
        rc = write_one(a, &a->msgs[i]);
    act_msgs_clear(a);
    return rc;
}

void act_msgs_clear(rn_act *a)
{
    for (size_t i = 0; i < a->nmsgs; i++)
        forget(&a->msgs[i]);
    a->nmsgs = 0;
}

int act_msg_add(rn_act *a, const char *conversation_id, const char *id, const char *direction,
                const char *sender_id, const char *body, long long at)
{
    if (!a->msgs && !(a->msgs = calloc(ACT_MSG_BATCH, sizeof *a->msgs)))
        return -1;
    act_msg *m = &a->msgs[a->nmsgs];
    snprintf(m->conversation_id, sizeof m->conversation_id, "%s", conversation_id);
    snprintf(m->id, sizeof m->id, "%s", id);
    m->direction = direction;
    m->sender_id = strdup(sender_id);
    m->body = strdup(body);
    m->at = at;
    a->nmsgs++;
    if (!m->sender_id || !m->body) {
        act_msgs_clear(a);
        return -1;
    }
    return a->nmsgs == ACT_MSG_BATCH ? act_msgs_flush(a) : 0;
}
