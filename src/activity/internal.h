/*
 * internal.h — what the activity files share: the unit of work, its
 * identity map of conversations, and its pending rollup deltas. Not for use
 * outside src/activity/.
 */
#ifndef RN_ACTIVITY_INTERNAL_H
#define RN_ACTIVITY_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "activity/activity.h"
#include "core/tz.h"

#define ACT_ID_CAP 48

/* Tenant-wide daily figures (report_daily columns, in order). */
enum {
    T_CONVERSATIONS,
    T_CONVERSATIONS_RESOLVED,
    T_MESSAGES_INBOUND,
    T_MESSAGES_OUTBOUND,
    T_FIRST_RESPONSE_COUNT,
    T_FIRST_RESPONSE_MS,
    T_RESOLUTION_COUNT,
    T_RESOLUTION_MS,
    T_CALLS,
    T_CALLS_ANSWERED,
    T_CALLS_MISSED,
    T_TALK_SECONDS,
    T_CONTACTS_CREATED,
    T_TICKETS_CREATED,
    T_TICKETS_RESOLVED,
    T_COUNT
};

/* Per-agent daily figures (report_agent_daily columns, in order). */
enum {
    A_CONVERSATIONS_HANDLED,
    A_CONVERSATIONS_RESOLVED,
    A_MESSAGES_SENT,
    A_FIRST_RESPONSE_COUNT,
    A_FIRST_RESPONSE_MS,
    A_CALLS_HANDLED,
    A_TALK_SECONDS,
    A_ONLINE_MS,
    A_AWAY_MS,
    A_COUNT
};

extern const char *const ACT_TENANT_COLUMNS[T_COUNT];
extern const char *const ACT_AGENT_COLUMNS[A_COUNT];

typedef struct {
    long long day;
    char agent_id[ACT_ID_CAP]; /* "" for the tenant-wide row */
    long long v[T_COUNT];      /* T_* or A_* figures */
} act_delta;

/* A conversation as the unit sees it; written back at commit when dirty. */
typedef struct {
    char id[ACT_ID_CAP];
    char *visitor_id, *visitor_name;
    char status[12];
    char agent_id[ACT_ID_CAP];
    char first_response_agent_id[ACT_ID_CAP];
    char closed_by[ACT_ID_CAP];
    long long created_at, assigned_at, first_response_at, closed_at;
    long long last_message_at, updated_at;
    long long messages_inbound, messages_outbound;
    bool is_new, dirty;
} act_conv;

/* A message row waiting to be written (messages.c). direction is one of
 * the static strings "inbound" / "outbound". */
#define ACT_MSG_BATCH 64
typedef struct {
    char conversation_id[ACT_ID_CAP];
    char id[ACT_ID_CAP];
    const char *direction;
    char *sender_id, *body;
    long long at;
} act_msg;

struct rn_act {
    rn_db *db;
    char tenant_id[ACT_ID_CAP];
    const rn_tz *tz;
    bool events;
    bool new_visitors; /* rn_act_set_new_visitors */
    long operations;
    /* identity map: open addressing by id and by visitor (the visitor's
     * newest conversation in the unit), plus insertion order */
    act_conv **slots, **vslots;
    size_t slot_cap;
    act_conv **order;
    size_t count, order_cap;
    /* pending rollups */
    act_delta *deltas;
    size_t ndeltas, deltas_cap;
    /* message rows not written yet: at most ACT_MSG_BATCH */
    act_msg *msgs;
    size_t nmsgs;
    /* active agents already checked in this unit */
    char (*agents)[ACT_ID_CAP];
    size_t nagents, agents_cap;
};

/* Queues a message row; writes the queue when it is full. 0 or -1. */
int act_msg_add(rn_act *a, const char *conversation_id, const char *id, const char *direction,
                const char *sender_id, const char *body, long long at);
/* Writes the queued message rows. 0 or -1 (the unit must then roll back). */
int act_msgs_flush(rn_act *a);
/* Drops the queued rows unwritten (rollback). */
void act_msgs_clear(rn_act *a);
/* A new id "prefix_" + 10 base32 characters of `at` + 16 random ones. */
void act_id(const char *prefix, long long at, char *buf, size_t cap);
/* Adds n to figure `field` of the tenant row (agent NULL) or an agent row of
 * the local day of `at`. Returns 0 or -1 (out of memory). */
int act_add(rn_act *a, const char *agent_id, int field, long long at, long long n);
/* Adds an interval's length to `field` of agent_id, split at local midnights. */
int act_add_interval(rn_act *a, const char *agent_id, int field, long long from,
                     long long to);
/* Writes the pending deltas (sorted by key, so concurrent units lock rows in
 * one order) and clears them. 0 or -1. */
int act_rollups_flush(rn_act *a);
/* RN_ACT_OK when agent_id is an active agent or admin of the tenant. */
int act_agent_check(rn_act *a, const char *agent_id);
/* Appends an event to the outbox when events are on. data is stolen. */
int act_emit(rn_act *a, const char *type, json_t *data);
/* " FOR UPDATE" on PostgreSQL (row lock for read-modify-write), "" on SQLite
 * (whose BEGIN IMMEDIATE already serialises writers). */
const char *act_lock_clause(const rn_act *a);

/* The conversation with id, from the map or the store (then mapped).
 * *out NULL when unknown; returns 0 or -1 (store). */
int act_conv_get(rn_act *a, const char *id, act_conv **out);
/* The visitor's conversation that is not closed, from the map, else the store. */
int act_conv_open_of(rn_act *a, const char *visitor_id, act_conv **out);
/* A new conversation in the map (written at commit). */
act_conv *act_conv_new(rn_act *a, const char *visitor_id, const char *visitor_name,
                       long long at);
int act_conv_flush(rn_act *a);
void act_conv_clear(rn_act *a);

json_t *act_conv_json(const act_conv *c);
/* RFC 3339 text of ms, or JSON null for 0 / negative "unset" values. */
json_t *act_time_or_null(long long ms);
json_t *act_time(long long ms);

#endif
