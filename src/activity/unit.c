/*
 * unit.c — the unit of work: transaction, pending rollup deltas and their
 * upserts, the per-unit cache of checked agents, ids and events.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity/internal.h"
#include "core/util.h"
#include "webhooks/outbox.h"

const char *const ACT_TENANT_COLUMNS[T_COUNT] = {
    "conversations",        "conversations_resolved", "messages_inbound", "messages_outbound",
    "first_response_count", "first_response_ms",      "resolution_count", "resolution_ms",
    "calls",                "calls_answered",         "calls_missed",     "talk_seconds",
    "contacts_created",     "tickets_created",        "tickets_resolved",
};

const char *const ACT_AGENT_COLUMNS[A_COUNT] = {
    "conversations_handled", "conversations_resolved", "messages_sent",
    "first_response_count",  "first_response_ms",      "calls_handled",
    "talk_seconds",          "online_ms",              "away_ms",
};

void act_id(const char *prefix, long long at, char *buf, size_t cap)
{
    rn_id_at(prefix, at, buf, cap);
}

json_t *act_time(long long ms)
{
    char buf[32];
    rn_time_format(ms, buf, sizeof buf);
    return json_string(buf);
}

json_t *act_time_or_null(long long ms)
{
    return ms > 0 ? act_time(ms) : json_null();
}

/* ---- units ----------------------------------------------------------------- */

rn_act *rn_act_begin(rn_db *db, const char *tenant_id, const char *timezone)
{
    const rn_tz *tz = rn_tz_get(timezone);
    if (!db || !tz || !tenant_id || strlen(tenant_id) >= ACT_ID_CAP)
        return NULL;
    rn_act *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->db = db;
    a->tz = tz;
    a->events = true;
    snprintf(a->tenant_id, sizeof a->tenant_id, "%s", tenant_id);
    if (rn_db_begin(db) != 0) {
        free(a);
        return NULL;
    }
    return a;
}

void rn_act_set_events(rn_act *a, bool emit)
{
    a->events = emit;
}

void rn_act_set_new_visitors(rn_act *a, bool fresh)
{
    a->new_visitors = fresh;
}

long rn_act_operations(const rn_act *a)
{
    return a->operations;
}

static void unit_free(rn_act *a)
{
    act_conv_clear(a);
    act_msgs_clear(a);
    free(a->msgs);
    free(a->slots);
    free(a->vslots);
    free(a->order);
    free(a->deltas);
    free(a->agents);
    free(a);
}

int rn_act_commit(rn_act *a)
{
    int rc = 0;
    if (act_msgs_flush(a) != 0 || act_conv_flush(a) != 0 || act_rollups_flush(a) != 0) {
        rn_db_rollback(a->db);
        rc = -1;
    } else if (rn_db_commit(a->db) != 0) {
        rc = -1;
    }
    unit_free(a);
    return rc;
}

void rn_act_rollback(rn_act *a)
{
    if (!a)
        return;
    rn_db_rollback(a->db);
    unit_free(a);
}

const char *act_lock_clause(const rn_act *a)
{
    return rn_db_dialect(a->db) == RN_DB_POSTGRES ? " FOR UPDATE" : "";
}

int act_emit(rn_act *a, const char *type, json_t *data)
{
    int rc = 0;
    if (a->events)
        rc = rn_event_emit(a->db, a->tenant_id, type, data, NULL, 0);
    json_decref(data);
    return rc;
}

/* ---- agents ------------------------------------------------------------------ */

int rn_activity_agent_check(rn_db *db, const char *tenant_id, const char *agent_id)
{
    if (!agent_id || !*agent_id)
        return RN_ACT_NOT_FOUND;
    rn_rows *rows = rn_db_query(db,
                                "SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $2"
                                " AND status = 'active' AND role IN ('agent', 'admin')",
                                RN_PARAMS(RN_T(tenant_id), RN_T(agent_id)));
    if (!rows)
        return RN_ACT_STORE;
    int rc = rn_rows_count(rows) == 1 ? RN_ACT_OK : RN_ACT_NOT_FOUND;
    rn_rows_free(rows);
    return rc;
}

int act_agent_check(rn_act *a, const char *agent_id)
{
    if (!agent_id || strlen(agent_id) >= ACT_ID_CAP)
        return RN_ACT_NOT_FOUND;
    for (size_t i = 0; i < a->nagents; i++)
        if (strcmp(a->agents[i], agent_id) == 0)
            return RN_ACT_OK;
    int rc = rn_activity_agent_check(a->db, a->tenant_id, agent_id);
    if (rc != RN_ACT_OK)
        return rc;
    if (a->nagents == a->agents_cap) {
        size_t cap = a->agents_cap ? a->agents_cap * 2 : 8;
        void *grown = realloc(a->agents, cap * sizeof *a->agents);
        if (!grown)
            return RN_ACT_OK; /* only the cache is lost */
        a->agents = grown;
        a->agents_cap = cap;
    }
    snprintf(a->agents[a->nagents++], ACT_ID_CAP, "%s", agent_id);
    return RN_ACT_OK;
}

/* ---- rollup deltas ------------------------------------------------------------ */

static act_delta *delta_for(rn_act *a, long long day, const char *agent_id)
{
    const char *agent = agent_id ? agent_id : "";
    /* Newest first: a unit works through time, so the hit is usually recent. */
    for (size_t i = a->ndeltas; i-- > 0;) {
        act_delta *d = &a->deltas[i];
        if (d->day == day && strcmp(d->agent_id, agent) == 0)
            return d;
    }
    if (strlen(agent) >= ACT_ID_CAP)
        return NULL;
    if (a->ndeltas == a->deltas_cap) {
        size_t cap = a->deltas_cap ? a->deltas_cap * 2 : 8;
        act_delta *grown = realloc(a->deltas, cap * sizeof *grown);
        if (!grown)
            return NULL;
        a->deltas = grown;
        a->deltas_cap = cap;
    }
    act_delta *d = &a->deltas[a->ndeltas++];
    memset(d, 0, sizeof *d);
    d->day = day;
    snprintf(d->agent_id, sizeof d->agent_id, "%s", agent);
    return d;
}

int act_add(rn_act *a, const char *agent_id, int field, long long at, long long n)
{
    act_delta *d = delta_for(a, rn_tz_local_day(a->tz, at), agent_id);
    if (!d)
        return -1;
    d->v[field] += n;
    return 0;
}

int act_add_interval(rn_act *a, const char *agent_id, int field, long long from, long long to)
{
    while (from < to) {
        long long day = rn_tz_local_day(a->tz, from);
        long long next = rn_tz_day_start_ms(a->tz, day + 1);
        long long end = next < to ? next : to;
        act_delta *d = delta_for(a, day, agent_id);
        if (!d)
            return -1;
        d->v[field] += end - from;
        from = end;
    }
    return 0;
}

static int delta_order(const void *x, const void *y)
{
    const act_delta *p = x, *q = y;
    bool pa = p->agent_id[0] != '\0', qa = q->agent_id[0] != '\0';
    if (pa != qa)
        return pa ? 1 : -1; /* tenant rows first */
    if (p->day != q->day)
        return p->day < q->day ? -1 : 1;
    return strcmp(p->agent_id, q->agent_id);
}

/* "INSERT INTO t (tenant_id, day[, agent_id], c1..cn) VALUES (...) ON CONFLICT
 * (...) DO UPDATE SET c1 = t.c1 + excluded.c1, ...", built once per table. */
static void build_upsert(char *sql, size_t cap, const char *table, bool agent,
                         const char *const *cols, int n)
{
    size_t len = (size_t)snprintf(sql, cap, "INSERT INTO %s (tenant_id, day%s", table,
                                  agent ? ", agent_id" : "");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", %s", cols[i]);
    len += (size_t)snprintf(sql + len, cap - len, ") VALUES ($1, $2");
    int first = agent ? 4 : 3;
    if (agent)
        len += (size_t)snprintf(sql + len, cap - len, ", $3");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(sql + len, cap - len, ", $%d", first + i);
    len += (size_t)snprintf(sql + len, cap - len, ") ON CONFLICT (tenant_id, day%s) DO UPDATE SET ",
                            agent ? ", agent_id" : "");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(sql + len, cap - len, "%s%s = %s.%s + excluded.%s",
                                i ? ", " : "", cols[i], table, cols[i], cols[i]);
}

static char tenant_upsert[2048], agent_upsert[2048];
static pthread_once_t upserts_once = PTHREAD_ONCE_INIT;

static void build_upserts(void)
{
    build_upsert(tenant_upsert, sizeof tenant_upsert, "report_daily", false, ACT_TENANT_COLUMNS,
                 T_COUNT);
    build_upsert(agent_upsert, sizeof agent_upsert, "report_agent_daily", true,
                 ACT_AGENT_COLUMNS, A_COUNT);
}

static bool delta_empty(const act_delta *d, int n)
{
    for (int i = 0; i < n; i++)
        if (d->v[i] != 0)
            return false;
    return true;
}

static int upsert_delta(rn_db *db, const char *tenant_id, const act_delta *d)
{
    bool agent = d->agent_id[0] != '\0';
    int n = agent ? A_COUNT : T_COUNT;
    if (delta_empty(d, n))
        return 0;
    char day[16];
    rn_day_format(d->day, day, sizeof day);
    rn_param params[3 + T_COUNT];
    int k = 0;
    params[k++] = RN_T(tenant_id);
    params[k++] = RN_T(day);
    if (agent)
        params[k++] = RN_T(d->agent_id);
    for (int i = 0; i < n; i++)
        params[k++] = RN_I(d->v[i]);
    pthread_once(&upserts_once, build_upserts);
    return rn_db_exec(db, agent ? agent_upsert : tenant_upsert, k, params) == 1 ? 0 : -1;
}

int act_rollups_flush(rn_act *a)
{
    if (a->ndeltas > 1)
        qsort(a->deltas, a->ndeltas, sizeof *a->deltas, delta_order);
    for (size_t i = 0; i < a->ndeltas; i++)
        if (upsert_delta(a->db, a->tenant_id, &a->deltas[i]) != 0)
            return -1;
    a->ndeltas = 0;
    return 0;
}

int rn_act_contact_created(rn_act *a, long long at)
{
    a->operations++;
    return act_add(a, NULL, T_CONTACTS_CREATED, at, 1) == 0 ? RN_ACT_OK : RN_ACT_STORE;
}

int rn_activity_count_contact(rn_db *db, const char *tenant_id, const char *timezone,
                              long long at)
{
    const rn_tz *tz = rn_tz_get(timezone);
    if (!tz)
        return -1;
    act_delta d = {.day = rn_tz_local_day(tz, at)};
    d.v[T_CONTACTS_CREATED] = 1;
    return upsert_delta(db, tenant_id, &d);
}
