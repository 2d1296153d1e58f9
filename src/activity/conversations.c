/*
 * conversations.c — conversations and their messages: the unit's identity
 * map, the operations that change them, and the reads the SDK lists use.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity/internal.h"

#define CONV_COLUMNS                                                                        \
    "id, visitor_id, visitor_name, status, agent_id, first_response_agent_id, closed_by,"  \
    " created_at, assigned_at, first_response_at, closed_at, last_message_at, updated_at," \
    " messages_inbound, messages_outbound"

/* ---- the identity map ------------------------------------------------------- */

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static act_conv **slot_of(act_conv **slots, size_t cap, const char *id)
{
    size_t i = (size_t)hash_id(id) & (cap - 1);
    while (slots[i] && strcmp(slots[i]->id, id) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static act_conv **vslot_of(act_conv **slots, size_t cap, const char *visitor_id)
{
    size_t i = (size_t)hash_id(visitor_id) & (cap - 1);
    while (slots[i] && strcmp(slots[i]->visitor_id, visitor_id) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* The newest of the unit's conversations wins a visitor's slot. */
static void vslot_put(act_conv **slots, size_t cap, act_conv *c)
{
    act_conv **slot = vslot_of(slots, cap, c->visitor_id);
    if (!*slot || strcmp((*slot)->id, c->id) < 0)
        *slot = c;
}

static int map_grow(rn_act *a)
{
    size_t cap = a->slot_cap ? a->slot_cap * 2 : 64;
    act_conv **slots = calloc(cap, sizeof *slots);
    act_conv **vslots = calloc(cap, sizeof *vslots);
    act_conv **order = realloc(a->order, cap * sizeof *order);
    if (order)
        a->order = order;
    if (!slots || !vslots || !order) {
        free(slots);
        free(vslots);
        return -1;
    }
    for (size_t i = 0; i < a->count; i++) {
        *slot_of(slots, cap, a->order[i]->id) = a->order[i];
        vslot_put(vslots, cap, a->order[i]);
    }
    free(a->slots);
    free(a->vslots);
    a->slots = slots;
    a->vslots = vslots;
    a->slot_cap = cap;
    a->order_cap = cap;
    return 0;
}

static act_conv *map_find(rn_act *a, const char *id)
{
    return a->slot_cap ? *slot_of(a->slots, a->slot_cap, id) : NULL;
}

/* Takes ownership of c. */
static int map_put(rn_act *a, act_conv *c)
{
    if ((a->count + 1) * 2 > a->slot_cap && map_grow(a) != 0)
        return -1;
    *slot_of(a->slots, a->slot_cap, c->id) = c;
    vslot_put(a->vslots, a->slot_cap, c);
    a->order[a->count++] = c;
    return 0;
}

static void conv_free(act_conv *c)
{
    free(c->visitor_id);
    free(c->visitor_name);
    free(c);
}

void act_conv_clear(rn_act *a)
{
    for (size_t i = 0; i < a->count; i++)
        conv_free(a->order[i]);
    a->count = 0;
    if (a->slots)
        memset(a->slots, 0, a->slot_cap * sizeof *a->slots);
    if (a->vslots)
        memset(a->vslots, 0, a->slot_cap * sizeof *a->vslots);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void copy_id(char *dst, const char *src)
{
    snprintf(dst, ACT_ID_CAP, "%s", src ? src : "");
}

static act_conv *conv_from_row(const rn_rows *rows, int i)
{
    act_conv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    copy_id(c->id, rn_rows_get(rows, i, 0));
    c->visitor_id = dup_or_null(rn_rows_get(rows, i, 1));
    c->visitor_name = dup_or_null(rn_rows_get(rows, i, 2));
    snprintf(c->status, sizeof c->status, "%s", rn_rows_get(rows, i, 3));
    copy_id(c->agent_id, rn_rows_get(rows, i, 4));
    copy_id(c->first_response_agent_id, rn_rows_get(rows, i, 5));
    copy_id(c->closed_by, rn_rows_get(rows, i, 6));
    c->created_at = rn_rows_int(rows, i, 7, 0);
    c->assigned_at = rn_rows_int(rows, i, 8, 0);
    c->first_response_at = rn_rows_int(rows, i, 9, 0);
    c->closed_at = rn_rows_int(rows, i, 10, 0);
    c->last_message_at = rn_rows_int(rows, i, 11, 0);
    c->updated_at = rn_rows_int(rows, i, 12, 0);
    c->messages_inbound = rn_rows_int(rows, i, 13, 0);
    c->messages_outbound = rn_rows_int(rows, i, 14, 0);
    if (!c->visitor_id) {
        conv_free(c);
        return NULL;
    }
    return c;
}

/* Loads one row (locked on PostgreSQL) into the map. */
static int conv_load(rn_act *a, const char *where, const char *value, act_conv **out)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT " CONV_COLUMNS " FROM conversations WHERE tenant_id = $1 AND %s%s", where,
             act_lock_clause(a));
    *out = NULL;
    rn_rows *rows = rn_db_query(a->db, sql, RN_PARAMS(RN_T(a->tenant_id), RN_T(value)));
    if (!rows)
        return -1;
    int rc = 0;
    act_conv *mapped = rn_rows_count(rows) == 1 ? map_find(a, rn_rows_get(rows, 0, 0)) : NULL;
    if (mapped) { /* the unit's version is newer than the store's */
        *out = mapped;
    } else if (rn_rows_count(rows) == 1) {
        act_conv *c = conv_from_row(rows, 0);
        if (!c || map_put(a, c) != 0) {
            if (c)
                conv_free(c);
            rc = -1;
        } else {
            *out = c;
        }
    }
    rn_rows_free(rows);
    return rc;
}

int act_conv_get(rn_act *a, const char *id, act_conv **out)
{
    *out = NULL;
    if (!id || strlen(id) >= ACT_ID_CAP)
        return 0;
    act_conv *hit = map_find(a, id);
    if (hit) {
        *out = hit;
        return 0;
    }
    return conv_load(a, "id = $2", id, out);
}

int act_conv_open_of(rn_act *a, const char *visitor_id, act_conv **out)
{
    act_conv *mine = a->slot_cap ? *vslot_of(a->vslots, a->slot_cap, visitor_id) : NULL;
    if (mine && strcmp(mine->status, "closed") != 0) {
        *out = mine;
        return 0;
    }
    *out = NULL;
    if (a->new_visitors && !mine)
        return 0;
    act_conv *found = NULL;
    if (conv_load(a, "visitor_id = $2 AND status <> 'closed'", visitor_id, &found) != 0)
        return -1;
    *out = found && strcmp(found->status, "closed") != 0 ? found : NULL;
    return 0;
}

act_conv *act_conv_new(rn_act *a, const char *visitor_id, const char *visitor_name,
                       long long at)
{
    act_conv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    act_id("cnv", at, c->id, sizeof c->id);
    c->visitor_id = strdup(visitor_id);
    c->visitor_name = dup_or_null(visitor_name);
    snprintf(c->status, sizeof c->status, "open");
    c->created_at = c->last_message_at = c->updated_at = at;
    c->is_new = c->dirty = true;
    if (!c->visitor_id || map_put(a, c) != 0) {
        conv_free(c);
        return NULL;
    }
    return c;
}

static rn_param text_or_null(const char *s)
{
    return RN_T(s && *s ? s : NULL);
}

static rn_param time_or_null(long long ms)
{
    return ms > 0 ? RN_I(ms) : RN_NULLP;
}

static int conv_write(rn_act *a, const act_conv *c)
{
    static const char *insert_sql =
        "INSERT INTO conversations (tenant_id, " CONV_COLUMNS ") VALUES ($1, $2, $3, $4, $5,"
        " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
    static const char *update_sql =
        "UPDATE conversations SET visitor_id = $3, visitor_name = $4, status = $5,"
        " agent_id = $6, first_response_agent_id = $7, closed_by = $8, created_at = $9,"
        " assigned_at = $10, first_response_at = $11, closed_at = $12, last_message_at = $13,"
        " updated_at = $14, messages_inbound = $15, messages_outbound = $16"
        " WHERE tenant_id = $1 AND id = $2";
    long long n = rn_db_exec(
        a->db, c->is_new ? insert_sql : update_sql,
        RN_PARAMS(RN_T(a->tenant_id), RN_T(c->id), RN_T(c->visitor_id),
                  text_or_null(c->visitor_name), RN_T(c->status), text_or_null(c->agent_id),
                  text_or_null(c->first_response_agent_id), text_or_null(c->closed_by),
                  RN_I(c->created_at), time_or_null(c->assigned_at),
                  time_or_null(c->first_response_at), time_or_null(c->closed_at),
                  RN_I(c->last_message_at), RN_I(c->updated_at), RN_I(c->messages_inbound),
                  RN_I(c->messages_outbound)));
    return n == 1 ? 0 : -1;
}

int act_conv_flush(rn_act *a)
{
    for (size_t i = 0; i < a->count; i++) {
        act_conv *c = a->order[i];
        if (!c->dirty)
            continue;
        if (conv_write(a, c) != 0)
            return -1;
        c->dirty = c->is_new = false;
    }
    return 0;
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *id_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *act_conv_json(const act_conv *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "status", json_string(c->status));
    json_object_set_new(o, "visitorId", json_string(c->visitor_id));
    json_object_set_new(o, "visitorName", id_or_null(c->visitor_name));
    json_object_set_new(o, "agentId", id_or_null(c->agent_id));
    json_object_set_new(o, "createdAt", act_time(c->created_at));
    json_object_set_new(o, "assignedAt", act_time_or_null(c->assigned_at));
    json_object_set_new(o, "firstResponseAt", act_time_or_null(c->first_response_at));
    json_object_set_new(o, "closedAt", act_time_or_null(c->closed_at));
    json_object_set_new(o, "closedBy", id_or_null(c->closed_by));
    json_object_set_new(o, "messagesInbound", json_integer(c->messages_inbound));
    json_object_set_new(o, "messagesOutbound", json_integer(c->messages_outbound));
    json_object_set_new(o, "lastMessageAt", act_time(c->last_message_at));
    json_object_set_new(o, "updatedAt", act_time(c->updated_at));
    return o;
}

static json_t *message_json(const char *id, const char *conversation_id, const char *direction,
                            const char *sender_id, const char *text, long long at)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", id, "conversationId",
                     conversation_id, "direction", direction, "senderId", sender_id, "text",
                     text, "createdAt", act_time(at));
}

/* ---- operations ------------------------------------------------------------- */

static int insert_message(rn_act *a, act_conv *c, const char *direction, const char *sender,
                          const char *text, long long at, char *id_out)
{
    act_id("msg", at, id_out, ACT_ID_CAP);
    if (act_msg_add(a, c->id, id_out, direction, sender, text, at) != 0)
        return -1;
    c->last_message_at = c->updated_at = at > c->last_message_at ? at : c->last_message_at;
    c->dirty = true;
    return 0;
}

/* Records that agent_id was assigned c (handled counts once per agent). */
static int mark_handled(rn_act *a, act_conv *c, const char *agent_id, long long at)
{
    long long n = rn_db_exec(a->db,
                             "INSERT INTO conversation_agents (tenant_id, conversation_id,"
                             " agent_id, assigned_at) VALUES ($1, $2, $3, $4)"
                             " ON CONFLICT DO NOTHING",
                             RN_PARAMS(RN_T(a->tenant_id), RN_T(c->id), RN_T(agent_id),
                                       RN_I(at)));
    if (n < 0)
        return -1;
    if (n == 1 && act_add(a, agent_id, A_CONVERSATIONS_HANDLED, at, 1) != 0)
        return -1;
    return 0;
}

static int assign_to(rn_act *a, act_conv *c, const char *agent_id, long long at)
{
    if (strcmp(c->agent_id, agent_id) == 0 && strcmp(c->status, "assigned") == 0)
        return 0;
    copy_id(c->agent_id, agent_id);
    snprintf(c->status, sizeof c->status, "assigned");
    c->assigned_at = at;
    c->updated_at = at > c->updated_at ? at : c->updated_at;
    c->dirty = true;
    return mark_handled(a, c, agent_id, at);
}

static int open_conversation(rn_act *a, const char *visitor_id, const char *visitor_name,
                             const char *hint, long long at, act_conv **out)
{
    act_conv *c = NULL;
    if (hint && act_conv_get(a, hint, &c) != 0)
        return RN_ACT_STORE;
    /* A hint that is unknown, closed or another visitor's is only a miss. */
    if (c && (strcmp(c->visitor_id, visitor_id) != 0 || strcmp(c->status, "closed") == 0))
        c = NULL;
    if (!c && act_conv_open_of(a, visitor_id, &c) != 0)
        return RN_ACT_STORE;
    if (c) {
        *out = c;
        return RN_ACT_OK;
    }
    c = act_conv_new(a, visitor_id, visitor_name, at);
    if (!c || act_add(a, NULL, T_CONVERSATIONS, at, 1) != 0)
        return RN_ACT_STORE;
    if (a->events && act_emit(a, "conversation.created",
                              json_pack("{s:o}", "conversation", act_conv_json(c))) != 0)
        return RN_ACT_STORE;
    *out = c;
    return RN_ACT_OK;
}

int rn_act_visitor_message(rn_act *a, const char *visitor_id, const char *visitor_name,
                           const char *conversation_hint, const char *text, long long at,
                           char *conversation_out, json_t **out)
{
    if (!visitor_id || !*visitor_id || !text || !*text)
        return RN_ACT_INVALID;
    act_conv *c = NULL;
    int rc = open_conversation(a, visitor_id, visitor_name, conversation_hint, at, &c);
    if (rc != RN_ACT_OK)
        return rc;
    char mid[ACT_ID_CAP];
    if (insert_message(a, c, "inbound", visitor_id, text, at, mid) != 0 ||
        act_add(a, NULL, T_MESSAGES_INBOUND, at, 1) != 0)
        return RN_ACT_STORE;
    c->messages_inbound++;
    a->operations++;
    json_t *msg = a->events || out ? message_json(mid, c->id, "inbound", visitor_id, text, at)
                                   : NULL;
    if (a->events && act_emit(a, "conversation.message.received",
                              json_pack("{s:s, s:O}", "conversationId", c->id, "message", msg)) !=
                         0) {
        json_decref(msg);
        return RN_ACT_STORE;
    }
    if (conversation_out)
        snprintf(conversation_out, ACT_ID_CAP, "%s", c->id);
    if (out)
        *out = json_pack("{s:o, s:O}", "conversation", act_conv_json(c), "message", msg);
    json_decref(msg);
    return RN_ACT_OK;
}

/* The conversation for an agent operation: known, and (unless closing) not closed. */
static int agent_target(rn_act *a, const char *conversation_id, const char *agent_id,
                        act_conv **out)
{
    int rc = act_agent_check(a, agent_id);
    if (rc != RN_ACT_OK)
        return rc;
    if (act_conv_get(a, conversation_id, out) != 0)
        return RN_ACT_STORE;
    return *out ? RN_ACT_OK : RN_ACT_NOT_FOUND;
}

static int first_response(rn_act *a, act_conv *c, const char *agent_id, long long at)
{
    long long waited = at - c->created_at;
    c->first_response_at = at;
    copy_id(c->first_response_agent_id, agent_id);
    if (act_add(a, NULL, T_FIRST_RESPONSE_COUNT, at, 1) != 0 ||
        act_add(a, NULL, T_FIRST_RESPONSE_MS, at, waited) != 0 ||
        act_add(a, agent_id, A_FIRST_RESPONSE_COUNT, at, 1) != 0 ||
        act_add(a, agent_id, A_FIRST_RESPONSE_MS, at, waited) != 0)
        return -1;
    return 0;
}

int rn_act_agent_message(rn_act *a, const char *conversation_id, const char *agent_id,
                         const char *text, long long at, json_t **out)
{
    if (!text || !*text)
        return RN_ACT_INVALID;
    act_conv *c = NULL;
    int rc = agent_target(a, conversation_id, agent_id, &c);
    if (rc != RN_ACT_OK)
        return rc;
    if (strcmp(c->status, "closed") == 0)
        return RN_ACT_CONFLICT;
    if (at < c->created_at)
        return RN_ACT_INVALID;
    if (strcmp(c->status, "open") == 0 && assign_to(a, c, agent_id, at) != 0)
        return RN_ACT_STORE;
    if (c->first_response_at == 0 && first_response(a, c, agent_id, at) != 0)
        return RN_ACT_STORE;
    char mid[ACT_ID_CAP];
    if (insert_message(a, c, "outbound", agent_id, text, at, mid) != 0 ||
        act_add(a, NULL, T_MESSAGES_OUTBOUND, at, 1) != 0 ||
        act_add(a, agent_id, A_MESSAGES_SENT, at, 1) != 0)
        return RN_ACT_STORE;
    c->messages_outbound++;
    a->operations++;
    if (out)
        *out = json_pack("{s:o, s:o}", "conversation", act_conv_json(c), "message",
                         message_json(mid, c->id, "outbound", agent_id, text, at));
    return RN_ACT_OK;
}

int rn_act_assign(rn_act *a, const char *conversation_id, const char *agent_id, long long at,
                  json_t **out)
{
    act_conv *c = NULL;
    int rc = agent_target(a, conversation_id, agent_id, &c);
    if (rc != RN_ACT_OK)
        return rc;
    if (strcmp(c->status, "closed") == 0)
        return RN_ACT_CONFLICT;
    if (at < c->created_at)
        return RN_ACT_INVALID;
    if (assign_to(a, c, agent_id, at) != 0)
        return RN_ACT_STORE;
    a->operations++;
    if (out)
        *out = act_conv_json(c);
    return RN_ACT_OK;
}

int rn_act_close(rn_act *a, const char *conversation_id, const char *agent_id, long long at,
                 json_t **out)
{
    act_conv *c = NULL;
    int rc = agent_target(a, conversation_id, agent_id, &c);
    if (rc != RN_ACT_OK)
        return rc;
    if (strcmp(c->status, "closed") != 0) {
        if (at < c->created_at)
            return RN_ACT_INVALID;
        snprintf(c->status, sizeof c->status, "closed");
        c->closed_at = at;
        copy_id(c->closed_by, agent_id);
        c->updated_at = at > c->updated_at ? at : c->updated_at;
        c->dirty = true;
        long long took = at - c->created_at;
        if (act_add(a, NULL, T_CONVERSATIONS_RESOLVED, at, 1) != 0 ||
            act_add(a, NULL, T_RESOLUTION_COUNT, at, 1) != 0 ||
            act_add(a, NULL, T_RESOLUTION_MS, at, took) != 0 ||
            act_add(a, agent_id, A_CONVERSATIONS_RESOLVED, at, 1) != 0)
            return RN_ACT_STORE;
        if (a->events && act_emit(a, "conversation.closed",
                                  json_pack("{s:o}", "conversation", act_conv_json(c))) != 0)
            return RN_ACT_STORE;
        a->operations++;
    }
    if (out)
        *out = act_conv_json(c);
    return RN_ACT_OK;
}

/* ---- reads ------------------------------------------------------------------ */

int rn_activity_conversation_get(rn_db *db, const char *tenant_id, const char *id,
                                 json_t **out)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT " CONV_COLUMNS " FROM conversations"
                                " WHERE tenant_id = $1 AND id = $2",
                                RN_PARAMS(RN_T(tenant_id), RN_T(id)));
    if (!rows)
        return RN_ACT_STORE;
    int rc = RN_ACT_NOT_FOUND;
    act_conv *c = rn_rows_count(rows) == 1 ? conv_from_row(rows, 0) : NULL;
    if (c) {
        *out = act_conv_json(c);
        conv_free(c);
        rc = RN_ACT_OK;
    }
    rn_rows_free(rows);
    return rc;
}

int rn_activity_conversations_list(rn_db *db, const char *tenant_id, const char *status,
                                   int limit, const char *after_id, json_t **items,
                                   char *next_out)
{
    /* One more row than asked tells whether another page exists; '' is "no cursor". */
    const char *sql =
        status ? "SELECT " CONV_COLUMNS " FROM conversations WHERE tenant_id = $1"
                 " AND status = $2 AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
               : "SELECT " CONV_COLUMNS " FROM conversations WHERE tenant_id = $1"
                 " AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3";
    const char *after = after_id ? after_id : "";
    rn_rows *rows = status ? rn_db_query(db, sql,
                                         RN_PARAMS(RN_T(tenant_id), RN_T(status), RN_T(after),
                                                   RN_I(limit + 1)))
                           : rn_db_query(db, sql,
                                         RN_PARAMS(RN_T(tenant_id), RN_T(after),
                                                   RN_I(limit + 1)));
    if (!rows)
        return RN_ACT_STORE;
    *items = json_array();
    next_out[0] = '\0';
    int n = rn_rows_count(rows);
    for (int i = 0; i < n && i < limit; i++) {
        act_conv *c = conv_from_row(rows, i);
        if (!c)
            continue;
        json_array_append_new(*items, act_conv_json(c));
        if (n > limit && i == limit - 1)
            copy_id(next_out, c->id);
        conv_free(c);
    }
    rn_rows_free(rows);
    return RN_ACT_OK;
}

int rn_activity_visitor_conversation(rn_db *db, const char *tenant_id, const char *visitor_id,
                                     char *id_out)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT id FROM conversations WHERE tenant_id = $1"
                                " AND visitor_id = $2 AND status <> 'closed'",
                                RN_PARAMS(RN_T(tenant_id), RN_T(visitor_id)));
    if (!rows)
        return RN_ACT_STORE;
    int rc = rn_rows_count(rows) == 1 ? RN_ACT_OK : RN_ACT_NOT_FOUND;
    if (rc == RN_ACT_OK)
        copy_id(id_out, rn_rows_get(rows, 0, 0));
    rn_rows_free(rows);
    return rc;
}

int rn_activity_messages_list(rn_db *db, const char *tenant_id, const char *conversation_id,
                              int limit, const char *after_id, json_t **items, char *next_out)
{
    json_t *conv = NULL;
    int rc = rn_activity_conversation_get(db, tenant_id, conversation_id, &conv);
    if (rc != RN_ACT_OK)
        return rc;
    json_decref(conv);
    rn_rows *rows = rn_db_query(db,
                                "SELECT id, direction, sender_id, body, created_at FROM messages"
                                " WHERE tenant_id = $1 AND conversation_id = $2"
                                " AND ($3 = '' OR id > $3) ORDER BY id LIMIT $4",
                                RN_PARAMS(RN_T(tenant_id), RN_T(conversation_id),
                                          RN_T(after_id ? after_id : ""), RN_I(limit + 1)));
    if (!rows)
        return RN_ACT_STORE;
    *items = json_array();
    next_out[0] = '\0';
    int n = rn_rows_count(rows);
    for (int i = 0; i < n && i < limit; i++) {
        const char *id = rn_rows_get(rows, i, 0);
        json_array_append_new(*items, message_json(id, conversation_id, rn_rows_get(rows, i, 1),
                                                   rn_rows_get(rows, i, 2),
                                                   rn_rows_get(rows, i, 3),
                                                   rn_rows_int(rows, i, 4, 0)));
        if (n > limit && i == limit - 1)
            copy_id(next_out, id);
    }
    rn_rows_free(rows);
    return RN_ACT_OK;
}
