/*
 * visitor_messages.c — the visitor's side of a conversation, with the
 * context token as bearer (audience ringnity:visitor):
 *
 *   POST /api/sdk/visitor/messages   visitor:messages:write   {text}
 *   GET  /api/sdk/visitor/messages   visitor:messages:read    ?limit=&cursor=
 *
 * A message continues the visitor's conversation that is not closed, or
 * opens a new one. The token must first have started a visitor session
 * (POST /api/sdk/visitor/session), which is where the tenant's allowed
 * widget domains are enforced: a token that skipped it is refused with 403
 * SDK_VISITOR_SESSION_REQUIRED. The visitor is the token's `sub`; their name
 * comes from the token's context.
 */
#include <string.h>

#include "core/util.h"
#include "sdk/activity_api.h"

#define MESSAGE_MAX_CHARS 4000

/* 1 when this token started a session, 0 when not, -1 on store failure. */
static int has_session(rn_req *r)
{
    const char *jti = json_string_value(json_object_get(r->who.claims, "jti"));
    rn_db *db = rn_req_db(r);
    rn_rows *rows = db && jti ? rn_db_query(db,
                                            "SELECT 1 FROM visitor_sessions WHERE tenant_id = $1"
                                            " AND token_id = $2",
                                            RN_PARAMS(RN_T(r->who.tenant_id), RN_T(jti)))
                              : NULL;
    if (!rows)
        return db && !jti ? 0 : -1;
    int found = rn_rows_count(rows) > 0;
    rn_rows_free(rows);
    return found;
}

typedef struct {
    const char *visitor_id, *name, *text;
    long long at;
} visitor_send;

static int send_op(rn_act *a, void *ctx, json_t **out)
{
    visitor_send *m = ctx;
    return rn_act_visitor_message(a, m->visitor_id, m->name, NULL, m->text, m->at, NULL, out);
}

void rn_sdk_visitor_message_send(rn_req *r)
{
    static const char *const allowed[] = {"text", NULL};
    json_t *details = json_array();
    visitor_send m = {.visitor_id = r->who.subject, .at = rn_now_ms()};
    rn_sdk_body_only(r, allowed, details);
    rn_sdk_text(r, "text", MESSAGE_MAX_CHARS, true, true, &m.text, details);
    if (rn_sdk_details_reply(r, details) != 0)
        return;
    int session = has_session(r);
    if (session <= 0) {
        rn_reply_error(r, session < 0 ? RN_SERVER_UNAVAILABLE : RN_SDK_VISITOR_SESSION_REQUIRED,
                       NULL, NULL);
        return;
    }
    json_t *visitor = json_object_get(json_object_get(r->who.claims, "ctx"), "visitor");
    m.name = json_string_value(json_object_get(visitor, "name"));
    json_t *out = NULL;
    int rc = rn_sdk_act_run(r, send_op, &m, &out);
    if (rc != RN_ACT_OK) {
        rn_sdk_act_fail(r, rc, RN_SDK_CONVERSATION_CLOSED);
        return;
    }
    rn_reply_json(r, 201, out);
}

void rn_sdk_visitor_messages_list(rn_req *r)
{
    char conversation[48] = "", after[48], next[48] = "";
    rn_db *db = rn_req_db(r);
    int rc = db ? rn_activity_visitor_conversation(db, r->who.tenant_id, r->who.subject,
                                                   conversation)
                : RN_ACT_STORE;
    if (rc == RN_ACT_STORE) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    int limit;
    if (rn_sdk_page_params(r, "visitor-messages", conversation, &limit, after) != 0)
        return;
    json_t *items = NULL;
    if (rc == RN_ACT_NOT_FOUND) {
        rn_sdk_reply_page(r, "visitor-messages", conversation, json_array(), NULL);
        return;
    }
    rc = rn_activity_messages_list(db, r->who.tenant_id, conversation, limit,
                                   after[0] ? after : NULL, &items, next);
    if (rc != RN_ACT_OK) {
        rn_sdk_act_fail(r, rc, RN_SDK_CONVERSATION_CLOSED);
        return;
    }
    rn_sdk_reply_page(r, "visitor-messages", conversation, items, next);
}
