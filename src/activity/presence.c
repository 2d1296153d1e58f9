/*
 * presence.c — agent presence. agent_presence holds each agent's current
 * status and since when; each change closes the running interval, stores it
 * in presence_intervals when it was online or away, and adds its length to
 * the agent's days (split at the tenant's local midnights). The interval
 * still running is not in the rollups; the reports add it at read time.
 */
#include <stdio.h>
#include <string.h>

#include "activity/internal.h"

static bool status_ok(const char *s)
{
    return s && (strcmp(s, "online") == 0 || strcmp(s, "away") == 0 ||
                 strcmp(s, "offline") == 0);
}

static json_t *presence_json(const char *agent_id, const char *status, long long since)
{
    return json_pack("{s:s, s:s, s:o}", "agentId", agent_id, "status", status, "since",
                     act_time_or_null(since));
}

/* Closes the interval [since, at) of status `was`. */
static int close_interval(rn_act *a, const char *agent_id, const char *was, long long since,
                          long long at)
{
    bool online = strcmp(was, "online") == 0;
    if (!online && strcmp(was, "away") != 0)
        return 0;
    if (at <= since)
        return 0;
    long long n = rn_db_exec(a->db,
                             "INSERT INTO presence_intervals (tenant_id, agent_id, started_at,"
                             " ended_at, status) VALUES ($1, $2, $3, $4, $5)",
                             RN_PARAMS(RN_T(a->tenant_id), RN_T(agent_id), RN_I(since), RN_I(at),
                                       RN_T(was)));
    if (n != 1)
        return -1;
    return act_add_interval(a, agent_id, online ? A_ONLINE_MS : A_AWAY_MS, since, at);
}

int rn_act_presence_set(rn_act *a, const char *agent_id, const char *status, long long at,
                        json_t **out)
{
    if (!status_ok(status))
        return RN_ACT_INVALID;
    int rc = act_agent_check(a, agent_id);
    if (rc != RN_ACT_OK)
        return rc;
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT status, since FROM agent_presence WHERE tenant_id = $1 AND agent_id = $2%s",
             act_lock_clause(a));
    rn_rows *rows = rn_db_query(a->db, sql, RN_PARAMS(RN_T(a->tenant_id), RN_T(agent_id)));
    if (!rows)
        return RN_ACT_STORE;
    char was[12] = "offline";
    long long since = 0;
    if (rn_rows_count(rows) == 1) {
        snprintf(was, sizeof was, "%s", rn_rows_get(rows, 0, 0));
        since = rn_rows_int(rows, 0, 1, 0);
    }
    rn_rows_free(rows);
    if (strcmp(was, status) == 0) {
        if (out)
            *out = presence_json(agent_id, was, since);
        return RN_ACT_OK;
    }
    if (at < since)
        return RN_ACT_INVALID;
    long long n = rn_db_exec(a->db,
                             "INSERT INTO agent_presence (tenant_id, agent_id, status, since)"
                             " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, agent_id)"
                             " DO UPDATE SET status = excluded.status, since = excluded.since",
                             RN_PARAMS(RN_T(a->tenant_id), RN_T(agent_id), RN_T(status),
                                       RN_I(at)));
    if (n != 1 || close_interval(a, agent_id, was, since, at) != 0)
        return RN_ACT_STORE;
    a->operations++;
    if (a->events &&
        act_emit(a, "agent.presence.changed",
                 json_pack("{s:s, s:s, s:s, s:o}", "agentId", agent_id, "status", status,
                           "previousStatus", was, "changedAt", act_time(at))) != 0)
        return RN_ACT_STORE;
    if (out)
        *out = presence_json(agent_id, status, at);
    return RN_ACT_OK;
}

int rn_activity_presence_get(rn_db *db, const char *tenant_id, const char *agent_id,
                             json_t **out)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT status, since FROM agent_presence"
                                " WHERE tenant_id = $1 AND agent_id = $2",
                                RN_PARAMS(RN_T(tenant_id), RN_T(agent_id)));
    if (!rows)
        return RN_ACT_STORE;
    if (rn_rows_count(rows) == 1)
        *out = presence_json(agent_id, rn_rows_get(rows, 0, 0), rn_rows_int(rows, 0, 1, 0));
    else
        *out = presence_json(agent_id, "offline", 0);
    rn_rows_free(rows);
    return RN_ACT_OK;
}
