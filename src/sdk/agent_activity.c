/*
 * agent_activity.c — what an agent does through the Agent SDK (audience
 * ringnity:agent; the agent is the token's `sub`, a staff id):
 *
 *   GET   /api/sdk/agent/presence                        agent:presence:read
 *   POST  /api/sdk/agent/presence                        agent:presence:write
 *   GET   /api/sdk/agent/conversations                   agent:conversations:read
 *   GET   /api/sdk/agent/conversations/{id}              agent:conversations:read
 *   POST  /api/sdk/agent/conversations/{id}/assign       agent:conversations:write
 *   POST  /api/sdk/agent/conversations/{id}/close        agent:conversations:write
 *   GET   /api/sdk/agent/conversations/{id}/messages     agent:messages:read
 *   POST  /api/sdk/agent/conversations/{id}/messages     agent:messages:write
 *   POST  /api/sdk/agent/calls                           agent:calls:write
 *   GET   /api/sdk/agent/calls/{id}                      agent:calls:read
 *   POST  /api/sdk/agent/calls/{id}/end                  agent:calls:write
 *   POST  /api/sdk/agent/tickets                         agent:conversations:write
 *   GET   /api/sdk/agent/tickets/{id}                    agent:conversations:read
 *   PATCH /api/sdk/agent/tickets/{id}                    agent:conversations:write
 *
 * The agent scope catalogue (SPEC §5) has no ticket scopes; tickets are
 * opened from and about conversations, so they take the conversation scopes.
 * The inbox is shared: any agent of the tenant sees and works every
 * conversation. Every change is one unit of work (activity.h): the rows,
 * the rollups and the webhook event commit together.
 */
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "sdk/activity_api.h"
#include "sdk/sdk.h"

#define MESSAGE_MAX_CHARS 4000
#define SUBJECT_MAX_CHARS 200
#define DESCRIPTION_MAX_CHARS 10000
#define TALK_MAX_SECONDS (7 * 86400LL)

static const char *const PRESENCE[] = {"online", "away", "offline", NULL};
static const char *const CONVERSATION_STATUS[] = {"open", "assigned", "closed", NULL};
static const char *const DIRECTIONS[] = {"inbound", "outbound", NULL};
static const char *const OUTCOMES[] = {"answered", "missed", NULL};
static const char *const PRIORITIES[] = {"low", "normal", "high", "urgent", NULL};
static const char *const TICKET_STATUS[] = {"open", "pending", "resolved", NULL};

/* The arguments of any one agent operation. */
typedef struct {
    const char *agent, *id, *text, *status, *direction, *conversation;
    const char *target; /* assign: the agent to assign (NULL: oneself) */
    bool answered;
    long long talk;
    rn_ticket_fields ticket;
    long long at;
} agent_op;

static agent_op op_for(rn_req *r)
{
    return (agent_op){.agent = r->who.subject, .id = rn_req_param(r, 0), .talk = -1,
                      .at = rn_now_ms()};
}

static void reply_or_fail(rn_req *r, int rc, json_t *out, int status, rn_err conflict)
{
    if (rc == RN_ACT_OK)
        rn_reply_json(r, status, out);
    else
        rn_sdk_act_fail(r, rc, conflict);
}

/* One read of the store by tenant and id; needs no unit of work. */
typedef int (*agent_read_fn)(rn_db *db, const char *tenant_id, const char *id, json_t **out);

/* Answers 200 with the record `id` read by `get`, or the failure. */
static void reply_read(rn_req *r, agent_read_fn get, const char *id, rn_err conflict)
{
    json_t *out = NULL;
    rn_db *db = rn_req_db(r);
    int rc = db ? get(db, r->who.tenant_id, id, &out) : RN_ACT_STORE;
    reply_or_fail(r, rc, out, 200, conflict);
}

/* One page of a list read by tenant and filter (status, conversation id). */
typedef int (*agent_list_fn)(rn_db *db, const char *tenant_id, const char *filter, int limit,
                             const char *after_id, json_t **items, char *next_out);

/* Answers the page of `list` (the cursor's name) that ?limit= and ?cursor=
 * ask for, read by `get`, or the failure. */
static void reply_page(rn_req *r, const char *list, agent_list_fn get, const char *filter)
{
    int limit;
    char after[48], next[48] = "";
    if (rn_sdk_page_params(r, list, filter, &limit, after) != 0)
        return;
    json_t *items = NULL;
    rn_db *db = rn_req_db(r);
    int rc = db ? get(db, r->who.tenant_id, filter, limit, after[0] ? after : NULL, &items, next)
                : RN_ACT_STORE;
    if (rc != RN_ACT_OK) {
        rn_sdk_act_fail(r, rc, RN_SDK_CONVERSATION_CLOSED);
        return;
    }
    rn_sdk_reply_page(r, list, filter, items, next);
}

/* Runs `op` as one unit of work and answers `status` with its result. */
static void run_reply(rn_req *r, sdk_act_fn op, agent_op *o, int status, rn_err conflict)
{
    json_t *out = NULL;
    int rc = rn_sdk_act_run(r, op, o, &out);
    reply_or_fail(r, rc, out, status, conflict);
}

/* ---- presence ------------------------------------------------------------- */

void rn_sdk_agent_presence_get(rn_req *r)
{
    reply_read(r, rn_activity_presence_get, r->who.subject, RN_SDK_CONVERSATION_CLOSED);
}

static int presence_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_presence_set(a, o->agent, o->status, o->at, out);
}

void rn_sdk_agent_presence_set(rn_req *r)
{
    static const char *const allowed[] = {"status", NULL};
    agent_op o = op_for(r);
    json_t *details = json_array();
    rn_sdk_body_only(r, allowed, details);
    rn_sdk_choice(r, "status", PRESENCE, true, &o.status, details);
    if (rn_sdk_details_reply(r, details) != 0)
        return;
    run_reply(r, presence_op, &o, 200, RN_SDK_CONVERSATION_CLOSED);
}

/* ---- conversations -------------------------------------------------------- */

void rn_sdk_agent_conversations(rn_req *r)
{
    const char *status = rn_req_query(r, "status");
    bool known = !status;
    for (const char *const *s = CONVERSATION_STATUS; status && *s; s++)
        known = known || strcmp(status, *s) == 0;
    if (!known) {
        json_t *details = json_array();
        rn_detail_add(details, "status", "must_be_open_assigned_or_closed");
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
        return;
    }
    reply_page(r, "conversations", rn_activity_conversations_list, status);
}

void rn_sdk_agent_conversation(rn_req *r)
{
    reply_read(r, rn_activity_conversation_get, rn_req_param(r, 0), RN_SDK_CONVERSATION_CLOSED);
}

static int assign_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_assign(a, o->id, o->target ? o->target : o->agent, o->at, out);
}

/* Body optional: {agentId} assigns to another agent or admin, else to oneself. */
void rn_sdk_agent_assign(rn_req *r)
{
    static const char *const allowed[] = {"agentId", NULL};
    agent_op o = op_for(r);
    json_t *details = json_array(), *out = NULL;
    rn_sdk_body_only(r, allowed, details);
    if (r->json)
        rn_sdk_text(r, "agentId", 64, false, false, &o.target, details);
    if (rn_sdk_details_reply(r, details) != 0)
        return;
    rn_db *db = rn_req_db(r);
    int check = !o.target ? RN_ACT_OK
                : db          ? rn_activity_agent_check(db, r->who.tenant_id, o.target)
                              : RN_ACT_STORE;
    if (check == RN_ACT_NOT_FOUND) {
        details = json_array();
        rn_detail_add(details, "agentId", "unknown_agent");
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
        return;
    }
    int rc = check == RN_ACT_OK ? rn_sdk_act_run(r, assign_op, &o, &out) : check;
    reply_or_fail(r, rc, out, 200, RN_SDK_CONVERSATION_CLOSED);
}

static int close_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_close(a, o->id, o->agent, o->at, out);
}

void rn_sdk_agent_close(rn_req *r)
{
    agent_op o = op_for(r);
    json_t *details = json_array();
    static const char *const allowed[] = {NULL};
    rn_sdk_body_only(r, allowed, details);
    if (rn_sdk_details_reply(r, details) != 0)
        return;
    run_reply(r, close_op, &o, 200, RN_SDK_CONVERSATION_CLOSED);
}

/* ---- messages ------------------------------------------------------------- */

void rn_sdk_agent_messages(rn_req *r)
{
    reply_page(r, "messages", rn_activity_messages_list, rn_req_param(r, 0));
}

static int message_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_agent_message(a, o->id, o->agent, o->text, o->at, out);
}

void rn_sdk_agent_message_send(rn_req *r)
{
    static const char *const allowed[] = {"text", NULL};
    agent_op o = op_for(r);
    json_t *details = json_array();
    rn_sdk_body_only(r, allowed, details);
    rn_sdk_text(r, "text", MESSAGE_MAX_CHARS, true, true, &o.text, details);
    if (rn_sdk_details_reply(r, details) != 0)
        return;
    run_reply(r, message_op, &o, 201, RN_SDK_CONVERSATION_CLOSED);
}

/* ---- calls ---------------------------------------------------------------- */

/* Checks an optional conversation reference; replies and returns -1 if bad. */
static int conversation_ref(rn_req *r, const char *id, const char *field)
{
    json_t *c = NULL;
    rn_db *db = rn_req_db(r);
    int rc = !id ? RN_ACT_OK : db ? rn_activity_conversation_get(db, r->who.tenant_id, id, &c)
                                  : RN_ACT_STORE;
    json_decref(c);
    if (rc == RN_ACT_OK)
        return 0;
    if (rc == RN_ACT_NOT_FOUND) {
        json_t *details = json_array();
        rn_detail_add(details, field, "unknown_conversation");
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
    } else {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
    }
    return -1;
}

static int call_start_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_call_start(a, o->agent, o->conversation, o->direction, o->at, NULL, out);
}

void rn_sdk_agent_call_start(rn_req *r)
{
    static const char *const allowed[] = {"direction", "conversationId", NULL};
    agent_op o = op_for(r);
    json_t *details = json_array();
    rn_sdk_body_only(r, allowed, details);
    rn_sdk_choice(r, "direction", DIRECTIONS, true, &o.direction, details);
    rn_sdk_text(r, "conversationId", 64, false, false, &o.conversation, details);
    if (rn_sdk_details_reply(r, details) != 0 ||
        conversation_ref(r, o.conversation, "conversationId") != 0)
        return;
    run_reply(r, call_start_op, &o, 201, RN_SDK_CALL_ENDED);
}

void rn_sdk_agent_call_get(rn_req *r)
{
    reply_read(r, rn_activity_call_get, rn_req_param(r, 0), RN_SDK_CALL_ENDED);
}

static int call_end_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_call_end(a, o->id, o->answered, o->talk, o->at, out);
}

/* {outcome: answered|missed, talkSeconds?}: talk time defaults to the whole
 * call when answered and may not exceed it; a missed call has none. */
void rn_sdk_agent_call_end(rn_req *r)
{
    static const char *const allowed[] = {"outcome", "talkSeconds", NULL};
    agent_op o = op_for(r);
    const char *outcome = NULL;
    json_t *details = json_array(), *out = NULL;
    rn_sdk_body_only(r, allowed, details);
    rn_sdk_choice(r, "outcome", OUTCOMES, true, &outcome, details);
    json_t *talk = json_object_get(r->json, "talkSeconds");
    if (talk && !json_is_null(talk) &&
        (!json_is_integer(talk) || json_integer_value(talk) < 0 ||
         json_integer_value(talk) > TALK_MAX_SECONDS))
        rn_detail_add(details, "talkSeconds", "must_be_integer_0_to_604800");
    else if (json_is_integer(talk))
        o.talk = json_integer_value(talk);
    o.answered = outcome && strcmp(outcome, "answered") == 0;
    if (outcome && !o.answered && o.talk > 0)
        rn_detail_add(details, "talkSeconds", "missed_call_has_no_talk_time");
    if (rn_sdk_details_reply(r, details) != 0)
        return;
    int rc = rn_sdk_act_run(r, call_end_op, &o, &out);
    if (rc == RN_ACT_INVALID) {
        details = json_array();
        rn_detail_add(details, "talkSeconds", "longer_than_the_call");
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
        return;
    }
    reply_or_fail(r, rc, out, 200, RN_SDK_CALL_ENDED);
}

/* ---- tickets -------------------------------------------------------------- */

/* Checks an optional assignee; replies and returns -1 if unknown. */
static int assignee_ref(rn_req *r, const char *id)
{
    rn_db *db = rn_req_db(r);
    int rc = !id ? RN_ACT_OK : db ? rn_activity_agent_check(db, r->who.tenant_id, id)
                                  : RN_ACT_STORE;
    if (rc == RN_ACT_OK)
        return 0;
    if (rc == RN_ACT_NOT_FOUND) {
        json_t *details = json_array();
        rn_detail_add(details, "assigneeId", "unknown_agent");
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
    } else {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
    }
    return -1;
}

static int ticket_open_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_ticket_open(a, o->agent, &o->ticket, o->at, NULL, out);
}

void rn_sdk_agent_ticket_open(rn_req *r)
{
    static const char *const allowed[] = {"subject", "description", "priority",
                                          "conversationId", "assigneeId", NULL};
    agent_op o = op_for(r);
    rn_ticket_fields *t = &o.ticket;
    json_t *details = json_array();
    rn_sdk_body_only(r, allowed, details);
    rn_sdk_text(r, "subject", SUBJECT_MAX_CHARS, true, false, &t->subject, details);
    rn_sdk_text(r, "description", DESCRIPTION_MAX_CHARS, false, true, &t->description, details);
    rn_sdk_choice(r, "priority", PRIORITIES, false, &t->priority, details);
    rn_sdk_text(r, "conversationId", 64, false, false, &t->conversation_id, details);
    rn_sdk_text(r, "assigneeId", 64, false, false, &t->assignee_id, details);
    if (rn_sdk_details_reply(r, details) != 0 ||
        conversation_ref(r, t->conversation_id, "conversationId") != 0 ||
        assignee_ref(r, t->assignee_id) != 0)
        return;
    run_reply(r, ticket_open_op, &o, 201, RN_SDK_CONVERSATION_CLOSED);
}

void rn_sdk_agent_ticket_get(rn_req *r)
{
    reply_read(r, rn_activity_ticket_get, rn_req_param(r, 0), RN_SDK_CONVERSATION_CLOSED);
}

static int ticket_update_op(rn_act *a, void *ctx, json_t **out)
{
    agent_op *o = ctx;
    return rn_act_ticket_update(a, o->id, &o->ticket, o->at, out);
}

static bool is_null_member(rn_req *r, const char *name)
{
    return json_is_null(json_object_get(r->json, name));
}

/* Only the fields sent change; description and assigneeId may be null. */
void rn_sdk_agent_ticket_update(rn_req *r)
{
    static const char *const allowed[] = {"subject", "description", "status", "priority",
                                          "assigneeId", NULL};
    agent_op o = op_for(r);
    rn_ticket_fields *t = &o.ticket;
    json_t *details = json_array();
    rn_sdk_body_only(r, allowed, details);
    if (is_null_member(r, "subject") || is_null_member(r, "status") ||
        is_null_member(r, "priority"))
        rn_detail_add(details, is_null_member(r, "subject")    ? "subject"
                               : is_null_member(r, "status") ? "status"
                                                             : "priority",
                      "must_not_be_null");
    rn_sdk_text(r, "subject", SUBJECT_MAX_CHARS, false, false, &t->subject, details);
    rn_sdk_text(r, "description", DESCRIPTION_MAX_CHARS, false, true, &t->description, details);
    rn_sdk_choice(r, "status", TICKET_STATUS, false, &t->status, details);
    rn_sdk_choice(r, "priority", PRIORITIES, false, &t->priority, details);
    rn_sdk_text(r, "assigneeId", 64, false, false, &t->assignee_id, details);
    t->clear_description = is_null_member(r, "description");
    t->clear_assignee = is_null_member(r, "assigneeId");
    if (json_object_size(r->json) == 0)
        rn_detail_add(details, "body", "no_fields");
    if (rn_sdk_details_reply(r, details) != 0 || assignee_ref(r, t->assignee_id) != 0)
        return;
    run_reply(r, ticket_update_op, &o, 200, RN_SDK_CONVERSATION_CLOSED);
}

void rn_sdk_preflight_patch(rn_req *r)
{
    rn_sdk_preflight(r);
    rn_reply_header(r, "Access-Control-Allow-Methods", "GET, POST, PATCH, OPTIONS");
}
