/*
 * calls.c — calls an agent handles: started, then ended answered (with talk
 * time) or missed. Every call figure belongs to the day the call started, so
 * calls = answered + missed + still active for any period.
 */
#include <stdio.h>
#include <string.h>

#include "activity/internal.h"

#define CALL_COLUMNS \
    "id, conversation_id, agent_id, direction, status, outcome, started_at, ended_at, talk_seconds"

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *call_json(const rn_rows *rows, int i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(rn_rows_get(rows, i, 0)));
    json_object_set_new(o, "conversationId", text_or_null(rn_rows_get(rows, i, 1)));
    json_object_set_new(o, "agentId", json_string(rn_rows_get(rows, i, 2)));
    json_object_set_new(o, "direction", json_string(rn_rows_get(rows, i, 3)));
    json_object_set_new(o, "status", json_string(rn_rows_get(rows, i, 4)));
    json_object_set_new(o, "outcome", text_or_null(rn_rows_get(rows, i, 5)));
    json_object_set_new(o, "startedAt", act_time(rn_rows_int(rows, i, 6, 0)));
    json_object_set_new(o, "endedAt", act_time_or_null(rn_rows_int(rows, i, 7, 0)));
    json_object_set_new(o, "talkSeconds", json_integer(rn_rows_int(rows, i, 8, 0)));
    return o;
}

static rn_rows *call_load(rn_db *db, const char *tenant_id, const char *id, const char *lock)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT " CALL_COLUMNS " FROM calls WHERE tenant_id = $1 AND id = $2%s", lock);
    return rn_db_query(db, sql, RN_PARAMS(RN_T(tenant_id), RN_T(id)));
}

/* The call as stored now, as JSON (for events and replies). */
static int call_reload(rn_act *a, const char *id, json_t **out)
{
    rn_rows *rows = call_load(a->db, a->tenant_id, id, "");
    if (!rows || rn_rows_count(rows) != 1) {
        rn_rows_free(rows);
        return -1;
    }
    *out = call_json(rows, 0);
    rn_rows_free(rows);
    return 0;
}

/* Emits `type` with the call and hands the JSON to *out if wanted. */
static int call_announce(rn_act *a, const char *type, const char *id, json_t **out)
{
    if (!a->events && !out)
        return RN_ACT_OK;
    json_t *call = NULL;
    if (call_reload(a, id, &call) != 0)
        return RN_ACT_STORE;
    if (a->events && act_emit(a, type, json_pack("{s:O}", "call", call)) != 0) {
        json_decref(call);
        return RN_ACT_STORE;
    }
    if (out)
        *out = call;
    else
        json_decref(call);
    return RN_ACT_OK;
}

int rn_act_call_start(rn_act *a, const char *agent_id, const char *conversation_id,
                      const char *direction, long long at, char *call_out, json_t **out)
{
    if (!direction || (strcmp(direction, "inbound") != 0 && strcmp(direction, "outbound") != 0))
        return RN_ACT_INVALID;
    int rc = act_agent_check(a, agent_id);
    if (rc != RN_ACT_OK)
        return rc;
    act_conv *c = NULL;
    if (conversation_id && act_conv_get(a, conversation_id, &c) != 0)
        return RN_ACT_STORE;
    if (conversation_id && !c)
        return RN_ACT_NOT_FOUND;
    char id[ACT_ID_CAP];
    act_id("call", at, id, sizeof id);
    long long n = rn_db_exec(a->db,
                             "INSERT INTO calls (tenant_id, " CALL_COLUMNS ") VALUES ($1, $2, $3,"
                             " $4, $5, 'active', NULL, $6, NULL, 0)",
                             RN_PARAMS(RN_T(a->tenant_id), RN_T(id), RN_T(conversation_id),
                                       RN_T(agent_id), RN_T(direction), RN_I(at)));
    if (n != 1 || act_add(a, NULL, T_CALLS, at, 1) != 0)
        return RN_ACT_STORE;
    a->operations++;
    if (call_out)
        snprintf(call_out, ACT_ID_CAP, "%s", id);
    return call_announce(a, "call.started", id, out);
}

/* Checks talk time against the call's length; -1 means the whole length. */
static int talk_time(bool answered, long long talk, long long length_ms, long long *out)
{
    long long whole_down = length_ms / 1000, whole_up = (length_ms + 999) / 1000;
    if (!answered) {
        *out = 0;
        return talk <= 0 ? RN_ACT_OK : RN_ACT_INVALID;
    }
    *out = talk < 0 ? whole_down : talk;
    return *out <= whole_up ? RN_ACT_OK : RN_ACT_INVALID;
}

int rn_act_call_end(rn_act *a, const char *call_id, bool answered, long long talk_seconds,
                    long long at, json_t **out)
{
    rn_rows *rows = call_load(a->db, a->tenant_id, call_id, act_lock_clause(a));
    if (!rows)
        return RN_ACT_STORE;
    int rc = rn_rows_count(rows) == 1 ? RN_ACT_OK : RN_ACT_NOT_FOUND;
    if (rc == RN_ACT_OK && strcmp(rn_rows_get(rows, 0, 4), "active") != 0)
        rc = RN_ACT_CONFLICT;
    long long started = rc == RN_ACT_OK ? rn_rows_int(rows, 0, 6, 0) : 0;
    char agent[ACT_ID_CAP];
    snprintf(agent, sizeof agent, "%s", rc == RN_ACT_OK ? rn_rows_get(rows, 0, 2) : "");
    rn_rows_free(rows);
    if (rc == RN_ACT_OK && at < started)
        rc = RN_ACT_INVALID;
    long long talk = 0;
    if (rc == RN_ACT_OK)
        rc = talk_time(answered, talk_seconds, at - started, &talk);
    if (rc != RN_ACT_OK)
        return rc;
    long long n = rn_db_exec(a->db,
                             "UPDATE calls SET status = 'ended', outcome = $3, ended_at = $4,"
                             " talk_seconds = $5 WHERE tenant_id = $1 AND id = $2",
                             RN_PARAMS(RN_T(a->tenant_id), RN_T(call_id),
                                       RN_T(answered ? "answered" : "missed"), RN_I(at),
                                       RN_I(talk)));
    if (n != 1 ||
        act_add(a, NULL, answered ? T_CALLS_ANSWERED : T_CALLS_MISSED, started, 1) != 0 ||
        act_add(a, NULL, T_TALK_SECONDS, started, talk) != 0 ||
        (answered && act_add(a, agent, A_CALLS_HANDLED, started, 1) != 0) ||
        act_add(a, agent, A_TALK_SECONDS, started, talk) != 0)
        return RN_ACT_STORE;
    a->operations++;
    return call_announce(a, "call.ended", call_id, out);
}

int rn_activity_call_get(rn_db *db, const char *tenant_id, const char *id, json_t **out)
{
    rn_rows *rows = call_load(db, tenant_id, id, "");
    if (!rows)
        return RN_ACT_STORE;
    int rc = rn_rows_count(rows) == 1 ? RN_ACT_OK : RN_ACT_NOT_FOUND;
    if (rc == RN_ACT_OK)
        *out = call_json(rows, 0);
    rn_rows_free(rows);
    return rc;
}
