/*
 * tickets.c — tickets agents open and update. A ticket counts as created on
 * the day it is opened and as resolved on the day it first becomes
 * "resolved"; reopening it keeps that first resolution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity/internal.h"

#define TICKET_COLUMNS                                                                      \
    "id, conversation_id, subject, description, status, priority, assignee_id, created_by," \
    " created_at, updated_at, resolved_at"

static const char *const PRIORITIES[] = {"low", "normal", "high", "urgent", NULL};
static const char *const STATUSES[] = {"open", "pending", "resolved", NULL};

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *ticket_json(const rn_rows *rows, int i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(rn_rows_get(rows, i, 0)));
    json_object_set_new(o, "conversationId", text_or_null(rn_rows_get(rows, i, 1)));
    json_object_set_new(o, "subject", json_string(rn_rows_get(rows, i, 2)));
    json_object_set_new(o, "description", text_or_null(rn_rows_get(rows, i, 3)));
    json_object_set_new(o, "status", json_string(rn_rows_get(rows, i, 4)));
    json_object_set_new(o, "priority", json_string(rn_rows_get(rows, i, 5)));
    json_object_set_new(o, "assigneeId", text_or_null(rn_rows_get(rows, i, 6)));
    json_object_set_new(o, "createdBy", json_string(rn_rows_get(rows, i, 7)));
    json_object_set_new(o, "createdAt", act_time(rn_rows_int(rows, i, 8, 0)));
    json_object_set_new(o, "updatedAt", act_time(rn_rows_int(rows, i, 9, 0)));
    json_object_set_new(o, "resolvedAt", act_time_or_null(rn_rows_int(rows, i, 10, 0)));
    return o;
}

static rn_rows *ticket_load(rn_db *db, const char *tenant_id, const char *id, const char *lock)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT " TICKET_COLUMNS " FROM tickets WHERE tenant_id = $1 AND id = $2%s", lock);
    return rn_db_query(db, sql, RN_PARAMS(RN_T(tenant_id), RN_T(id)));
}

static int ticket_announce(rn_act *a, const char *type, const char *id, json_t *changes,
                           json_t **out)
{
    if (!a->events && !out) {
        json_decref(changes);
        return RN_ACT_OK;
    }
    rn_rows *rows = ticket_load(a->db, a->tenant_id, id, "");
    if (!rows || rn_rows_count(rows) != 1) {
        rn_rows_free(rows);
        json_decref(changes);
        return RN_ACT_STORE;
    }
    json_t *ticket = ticket_json(rows, 0);
    rn_rows_free(rows);
    json_t *data = json_pack("{s:O}", "ticket", ticket);
    if (changes)
        json_object_set_new(data, "changes", changes);
    if (a->events && act_emit(a, type, data) != 0) {
        json_decref(ticket);
        return RN_ACT_STORE;
    }
    if (!a->events)
        json_decref(data);
    if (out)
        *out = ticket;
    else
        json_decref(ticket);
    return RN_ACT_OK;
}

int rn_act_ticket_open(rn_act *a, const char *agent_id, const rn_ticket_fields *f, long long at,
                       char *ticket_out, json_t **out)
{
    const char *priority = f->priority ? f->priority : "normal";
    if (!f->subject || !*f->subject || !one_of(priority, PRIORITIES))
        return RN_ACT_INVALID;
    int rc = act_agent_check(a, agent_id);
    if (rc == RN_ACT_OK && f->assignee_id)
        rc = act_agent_check(a, f->assignee_id);
    if (rc != RN_ACT_OK)
        return rc;
    act_conv *c = NULL;
    if (f->conversation_id && act_conv_get(a, f->conversation_id, &c) != 0)
        return RN_ACT_STORE;
    if (f->conversation_id && !c)
        return RN_ACT_NOT_FOUND;
    char id[ACT_ID_CAP];
    act_id("tkt", at, id, sizeof id);
    long long n = rn_db_exec(
        a->db,
        "INSERT INTO tickets (tenant_id, " TICKET_COLUMNS ") VALUES ($1, $2, $3, $4, $5, 'open',"
        " $6, $7, $8, $9, $9, NULL)",
        RN_PARAMS(RN_T(a->tenant_id), RN_T(id), RN_T(f->conversation_id), RN_T(f->subject),
                  RN_T(f->description), RN_T(priority), RN_T(f->assignee_id), RN_T(agent_id),
                  RN_I(at)));
    if (n != 1 || act_add(a, NULL, T_TICKETS_CREATED, at, 1) != 0)
        return RN_ACT_STORE;
    a->operations++;
    if (ticket_out)
        snprintf(ticket_out, ACT_ID_CAP, "%s", id);
    return ticket_announce(a, "ticket.created", id, NULL, out);
}

/* The ticket's current values, copied out of the row. */
typedef struct {
    char *subject, *description, *status, *priority, *assignee_id;
    long long created_at, resolved_at;
} ticket_state;

static void state_free(ticket_state *t)
{
    free(t->subject);
    free(t->description);
    free(t->status);
    free(t->priority);
    free(t->assignee_id);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool same(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* Replaces *slot by value when it differs, recording the field's name. */
static void change(char **slot, const char *value, const char *name, json_t *changes)
{
    if (same(*slot, value))
        return;
    free(*slot);
    *slot = dup_or_null(value);
    json_array_append_new(changes, json_string(name));
}

static int check_update(rn_act *a, const rn_ticket_fields *f)
{
    if ((f->subject && !*f->subject) || (f->status && !one_of(f->status, STATUSES)) ||
        (f->priority && !one_of(f->priority, PRIORITIES)))
        return RN_ACT_INVALID;
    return f->assignee_id ? act_agent_check(a, f->assignee_id) : RN_ACT_OK;
}

static int ticket_state_load(rn_act *a, const char *id, ticket_state *t)
{
    rn_rows *rows = ticket_load(a->db, a->tenant_id, id, act_lock_clause(a));
    if (!rows)
        return RN_ACT_STORE;
    int rc = rn_rows_count(rows) == 1 ? RN_ACT_OK : RN_ACT_NOT_FOUND;
    if (rc == RN_ACT_OK) {
        t->subject = dup_or_null(rn_rows_get(rows, 0, 2));
        t->description = dup_or_null(rn_rows_get(rows, 0, 3));
        t->status = dup_or_null(rn_rows_get(rows, 0, 4));
        t->priority = dup_or_null(rn_rows_get(rows, 0, 5));
        t->assignee_id = dup_or_null(rn_rows_get(rows, 0, 6));
        t->created_at = rn_rows_int(rows, 0, 8, 0);
        t->resolved_at = rn_rows_int(rows, 0, 10, 0);
    }
    rn_rows_free(rows);
    return rc;
}

static int ticket_save(rn_act *a, const char *id, const ticket_state *t, long long at)
{
    long long n = rn_db_exec(
        a->db,
        "UPDATE tickets SET subject = $3, description = $4, status = $5, priority = $6,"
        " assignee_id = $7, updated_at = $8, resolved_at = $9 WHERE tenant_id = $1 AND id = $2",
        RN_PARAMS(RN_T(a->tenant_id), RN_T(id), RN_T(t->subject), RN_T(t->description),
                  RN_T(t->status), RN_T(t->priority), RN_T(t->assignee_id), RN_I(at),
                  t->resolved_at > 0 ? RN_I(t->resolved_at) : RN_NULLP));
    return n == 1 ? 0 : -1;
}

int rn_act_ticket_update(rn_act *a, const char *ticket_id, const rn_ticket_fields *f,
                         long long at, json_t **out)
{
    int rc = check_update(a, f);
    if (rc != RN_ACT_OK)
        return rc;
    ticket_state t = {0};
    rc = ticket_state_load(a, ticket_id, &t);
    if (rc == RN_ACT_OK && at < t.created_at)
        rc = RN_ACT_INVALID;
    if (rc != RN_ACT_OK) {
        state_free(&t);
        return rc;
    }
    json_t *changes = json_array();
    if (f->subject)
        change(&t.subject, f->subject, "subject", changes);
    if (f->description || f->clear_description)
        change(&t.description, f->clear_description ? NULL : f->description, "description",
               changes);
    if (f->status)
        change(&t.status, f->status, "status", changes);
    if (f->priority)
        change(&t.priority, f->priority, "priority", changes);
    if (f->assignee_id || f->clear_assignee)
        change(&t.assignee_id, f->clear_assignee ? NULL : f->assignee_id, "assigneeId", changes);
    bool first_resolution = strcmp(t.status, "resolved") == 0 && t.resolved_at == 0;
    if (first_resolution)
        t.resolved_at = at;
    if (json_array_size(changes) == 0) {
        json_decref(changes);
        state_free(&t);
        return out ? rn_activity_ticket_get(a->db, a->tenant_id, ticket_id, out) : RN_ACT_OK;
    }
    rc = ticket_save(a, ticket_id, &t, at) == 0 ? RN_ACT_OK : RN_ACT_STORE;
    state_free(&t);
    if (rc == RN_ACT_OK && first_resolution && act_add(a, NULL, T_TICKETS_RESOLVED, at, 1) != 0)
        rc = RN_ACT_STORE;
    if (rc != RN_ACT_OK) {
        json_decref(changes);
        return rc;
    }
    a->operations++;
    return ticket_announce(a, "ticket.updated", ticket_id, changes, out);
}

int rn_activity_ticket_get(rn_db *db, const char *tenant_id, const char *id, json_t **out)
{
    rn_rows *rows = ticket_load(db, tenant_id, id, "");
    if (!rows)
        return RN_ACT_STORE;
    int rc = rn_rows_count(rows) == 1 ? RN_ACT_OK : RN_ACT_NOT_FOUND;
    if (rc == RN_ACT_OK)
        *out = ticket_json(rows, 0);
    rn_rows_free(rows);
    return rc;
}
