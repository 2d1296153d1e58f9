/*
 * activity.h — conversations, messages, calls, tickets and agent presence:
 * the activity the reports count, as one C API used by the SDK endpoints
 * and by `ringnity demo seed` alike.
 *
 * A unit of work (rn_act) is one store transaction for one tenant. Each
 * operation writes its raw rows, appends its webhook event to the outbox,
 * and adds its figures to the unit's pending rollup deltas; rn_act_commit
 * writes the deltas into report_daily / report_agent_daily and commits, so a
 * change, its event and its report figures land together or not at all. An
 * SDK request runs one operation per unit; the seeder runs thousands.
 *
 * Conversations touched in a unit are held in memory (an identity map) and
 * written once at commit, which is what lets a seeding unit add ten messages
 * to a conversation with ten INSERTs and one conversation row.
 *
 * Every figure is attributed to the tenant's local day (its IANA zone, read
 * through core/tz) of the instant that produces it:
 *   conversations           day the conversation was created (first visitor message)
 *   conversationsResolved   day it was closed
 *   messagesInbound/Outbound day of each message
 *   first response          day of the first agent message; duration from creation
 *   resolution              day of closing; duration from creation
 *   calls, answered, missed, talk seconds   day the call started
 *   ticketsCreated          day created;  ticketsResolved  day first resolved
 *   handled (per agent)     day the agent was first assigned the conversation
 *   online / away time      split at local midnights
 *
 * Times are milliseconds since the epoch; ids are time-sortable and carry
 * the activity's own time (`at`), so seeded history sorts like live data.
 *
 * Memory: json_t outputs are new references (caller decrefs); `out`
 * arguments may be NULL when the caller needs no JSON (the seeder).
 */
#ifndef RN_ACTIVITY_ACTIVITY_H
#define RN_ACTIVITY_ACTIVITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"

typedef struct rn_act rn_act;

typedef enum {
    RN_ACT_OK = 0,
    RN_ACT_NOT_FOUND = 1, /* unknown (or another tenant's) conversation, call, ticket, agent */
    RN_ACT_CONFLICT = 2,  /* the object's state forbids it: closed conversation, ended call */
    RN_ACT_INVALID = 3,   /* an argument the caller should have checked */
    RN_ACT_STORE = -1     /* the store failed: roll the unit back */
} rn_act_result;

/* ---- units of work --------------------------------------------------------- */

/* Opens a unit for tenant_id whose zone is `timezone` (begins the transaction).
 * NULL when the zone is unknown or BEGIN fails. */
rn_act *rn_act_begin(rn_db *db, const char *tenant_id, const char *timezone);
/* Events are on by default; the seeder turns them off for historical data. */
void rn_act_set_events(rn_act *a, bool emit);
/* The caller promises that a visitor first seen in this unit has no open
 * conversation in the store (the seeder makes up fresh visitor ids), which
 * saves a lookup per new conversation. Off by default. */
void rn_act_set_new_visitors(rn_act *a, bool fresh);
/* Operations done in this unit so far. */
long rn_act_operations(const rn_act *a);
/* Writes pending conversations and rollups, commits, frees a. 0, or -1
 * (rolled back; rn_db_last_error tells whether a retry may help). */
int rn_act_commit(rn_act *a);
/* Rolls back and frees a. */
void rn_act_rollback(rn_act *a);

/* ---- conversations and messages -------------------------------------------- */

/* A visitor's message: continues the visitor's conversation that is not
 * closed, or opens a new one (event conversation.created), then records the
 * message (event conversation.message.received). conversation_hint, if not
 * NULL, names the conversation the caller believes is open (the seeder);
 * without it the unit's own conversations and then the store are searched.
 * conversation_out (>= 48 bytes, may be NULL) gets the conversation id;
 * *out (may be NULL) gets {conversation, message}. */
int rn_act_visitor_message(rn_act *a, const char *visitor_id, const char *visitor_name,
                           const char *conversation_hint, const char *text, long long at,
                           char *conversation_out, json_t **out);
/* An agent's message in an open or assigned conversation. The first one is
 * the conversation's first response; an unassigned conversation is assigned
 * to its first responder. RN_ACT_CONFLICT when closed. *out: {conversation, message}. */
int rn_act_agent_message(rn_act *a, const char *conversation_id, const char *agent_id,
                         const char *text, long long at, json_t **out);
/* Assigns to agent_id (an active agent or admin). RN_ACT_CONFLICT when closed.
 * *out: the conversation. */
int rn_act_assign(rn_act *a, const char *conversation_id, const char *agent_id, long long at,
                  json_t **out);
/* Closes (event conversation.closed). Closing a closed conversation changes
 * nothing and is not an error. *out: the conversation. */
int rn_act_close(rn_act *a, const char *conversation_id, const char *agent_id, long long at,
                 json_t **out);

/* ---- calls ----------------------------------------------------------------- */

/* Starts a call handled by agent_id (event call.started). direction is
 * "inbound" or "outbound"; conversation_id may be NULL. call_out >= 48 bytes
 * or NULL; *out: the call. */
int rn_act_call_start(rn_act *a, const char *agent_id, const char *conversation_id,
                      const char *direction, long long at, char *call_out, json_t **out);
/* Ends an active call (event call.ended). A missed call has no talk time;
 * an answered one has talk_seconds (0 .. the call's length in whole seconds,
 * rounded up), or -1 for the whole length (rounded down). RN_ACT_CONFLICT
 * when already ended; RN_ACT_INVALID for talk time out of range. */
int rn_act_call_end(rn_act *a, const char *call_id, bool answered, long long talk_seconds,
                    long long at, json_t **out);

/* ---- tickets --------------------------------------------------------------- */

typedef struct {
    const char *subject;         /* required on open */
    const char *description;     /* or NULL */
    const char *priority;        /* low | normal | high | urgent; NULL = normal / unchanged */
    const char *status;          /* update only: open | pending | resolved; NULL = unchanged */
    const char *conversation_id; /* open only, or NULL */
    const char *assignee_id;     /* an active agent or admin, or NULL */
    bool clear_description, clear_assignee; /* update only: set them to null */
} rn_ticket_fields;

/* Opens a ticket created by agent_id (event ticket.created). */
int rn_act_ticket_open(rn_act *a, const char *agent_id, const rn_ticket_fields *f, long long at,
                       char *ticket_out, json_t **out);
/* Changes the fields given (event ticket.updated when anything changed). The
 * first change to "resolved" sets resolvedAt and counts as a resolution;
 * reopening keeps resolvedAt. */
int rn_act_ticket_update(rn_act *a, const char *ticket_id, const rn_ticket_fields *f,
                         long long at, json_t **out);

/* ---- presence -------------------------------------------------------------- */

/* Sets agent_id's presence to online | away | offline (event
 * agent.presence.changed). The interval that ends is recorded and its online
 * or away time added to the agent's days. Setting the current status again
 * changes nothing. *out: {agentId, status, since}. */
int rn_act_presence_set(rn_act *a, const char *agent_id, const char *status, long long at,
                        json_t **out);

/* ---- contacts -------------------------------------------------------------- */

/* Counts a contact created at `at` in the unit's rollups. */
int rn_act_contact_created(rn_act *a, long long at);
/* The same for a caller that holds its own transaction (the contacts module):
 * adds 1 to contactsCreated of the local day of `at` with one upsert. */
int rn_activity_count_contact(rn_db *db, const char *tenant_id, const char *timezone,
                              long long at);

/* ---- reads (no unit needed) ------------------------------------------------ */

/* Staff id of an active agent or admin of the tenant: RN_ACT_OK / NOT_FOUND / STORE. */
int rn_activity_agent_check(rn_db *db, const char *tenant_id, const char *agent_id);
int rn_activity_conversation_get(rn_db *db, const char *tenant_id, const char *id,
                                 json_t **out);
/* Newest first; status NULL for all; after_id is the cursor position (or
 * NULL). *items is an array; next_out (>= 48 bytes) gets the last id when
 * there may be more, else "". */
int rn_activity_conversations_list(rn_db *db, const char *tenant_id, const char *status,
                                   int limit, const char *after_id, json_t **items,
                                   char *next_out);
/* The id (>= 48 bytes) of the visitor's conversation that is not closed;
 * RN_ACT_NOT_FOUND when there is none. */
int rn_activity_visitor_conversation(rn_db *db, const char *tenant_id, const char *visitor_id,
                                     char *id_out);
/* Oldest first. RN_ACT_NOT_FOUND for an unknown conversation. */
int rn_activity_messages_list(rn_db *db, const char *tenant_id, const char *conversation_id,
                              int limit, const char *after_id, json_t **items, char *next_out);
int rn_activity_call_get(rn_db *db, const char *tenant_id, const char *id, json_t **out);
int rn_activity_ticket_get(rn_db *db, const char *tenant_id, const char *id, json_t **out);
/* {agentId, status, since}; an agent never seen is offline since null. */
int rn_activity_presence_get(rn_db *db, const char *tenant_id, const char *agent_id,
                             json_t **out);

#endif
