/*
 * activity_api.h — what the activity SDK endpoints (visitor messages, agent
 * activity, admin) share: running one activity operation as one unit of
 * work with retries, answering its result codes, list cursors and paging,
 * and strict body fields.
 *
 * The handlers themselves are declared here too and routed in api/routes.c.
 */
#ifndef RN_SDK_ACTIVITY_API_H
#define RN_SDK_ACTIVITY_API_H

#include <jansson.h>
#include <stdbool.h>

#include "activity/activity.h"
#include "http/http.h"

/* One activity operation: returns an RN_ACT_* code; may set *out. */
typedef int (*sdk_act_fn)(rn_act *a, void *ctx, json_t **out);

/* Runs fn in its own unit of work for the caller's tenant and commits.
 * A unit that fails on a retryable store error (a lock timeout, a
 * serialization failure, or the one-open-conversation-per-visitor index
 * losing a race) runs again, up to three times. Returns the RN_ACT_* code;
 * *out is set only on RN_ACT_OK (caller owns it). */
int rn_sdk_act_run(rn_req *r, sdk_act_fn fn, void *ctx, json_t **out);

/* Answers a failed RN_ACT_* code: 404 SDK_NOT_FOUND, 409 `conflict`, 400
 * SERVER_REQUEST_VALIDATION_FAILED, 503 SERVER_UNAVAILABLE. */
void rn_sdk_act_fail(rn_req *r, int rc, rn_err conflict);

/* Opaque list cursors: base64url(position id || MAC), bound to the list
 * name and filter and to the caller's tenant and subject. */
int rn_sdk_cursor_make(rn_req *r, const char *list, const char *filter, const char *after_id,
                       char *out, size_t cap);
/* Reads ?limit= and ?cursor= for a list; after_id (>= 48 bytes) gets the
 * position ("" for the first page). Returns -1 after replying 400. */
int rn_sdk_page_params(rn_req *r, const char *list, const char *filter, int *limit,
                       char *after_id);
/* Replies {data: items, nextCursor} (items stolen). */
void rn_sdk_reply_page(rn_req *r, const char *list, const char *filter, json_t *items,
                       const char *next_id);

/* Strict body helpers: append details and return -1 on a problem. */
int rn_sdk_body_only(rn_req *r, const char *const *allowed, json_t *details);
/* A required (or, with required false, optional) string of 1..max chars. */
int rn_sdk_text(rn_req *r, const char *name, long max, bool required, bool multiline,
                const char **out, json_t *details);
/* One of a NULL-terminated set, optional unless required. */
int rn_sdk_choice(rn_req *r, const char *name, const char *const *choices, bool required,
                  const char **out, json_t *details);
/* Replies 400 SERVER_REQUEST_VALIDATION_FAILED with details when it holds any
 * and returns -1; else frees details and returns 0. */
int rn_sdk_details_reply(rn_req *r, json_t *details);

/* ---- handlers ------------------------------------------------------------- */

/* Visitor (ringnity:visitor): visitor:messages:write / visitor:messages:read */
void rn_sdk_visitor_message_send(rn_req *r);
void rn_sdk_visitor_messages_list(rn_req *r);

/* Agent (ringnity:agent) */
void rn_sdk_agent_presence_get(rn_req *r);      /* agent:presence:read */
void rn_sdk_agent_presence_set(rn_req *r);      /* agent:presence:write */
void rn_sdk_agent_conversations(rn_req *r);     /* agent:conversations:read */
void rn_sdk_agent_conversation(rn_req *r);      /* agent:conversations:read */
void rn_sdk_agent_assign(rn_req *r);            /* agent:conversations:write */
void rn_sdk_agent_close(rn_req *r);             /* agent:conversations:write */
void rn_sdk_agent_messages(rn_req *r);          /* agent:messages:read */
void rn_sdk_agent_message_send(rn_req *r);      /* agent:messages:write */
void rn_sdk_agent_call_start(rn_req *r);        /* agent:calls:write */
void rn_sdk_agent_call_get(rn_req *r);          /* agent:calls:read */
void rn_sdk_agent_call_end(rn_req *r);          /* agent:calls:write */
void rn_sdk_agent_ticket_open(rn_req *r);       /* agent:conversations:write */
void rn_sdk_agent_ticket_get(rn_req *r);        /* agent:conversations:read */
void rn_sdk_agent_ticket_update(rn_req *r);     /* agent:conversations:write */
/* The CORS preflight of paths that also take PATCH. */
void rn_sdk_preflight_patch(rn_req *r);

/* Admin (ringnity:admin) */
void rn_sdk_admin_readiness(rn_req *r);         /* admin:readiness:read */
void rn_sdk_admin_domains(rn_req *r);           /* admin:domains:read */
void rn_sdk_admin_services(rn_req *r);          /* admin:services:read */
void rn_sdk_admin_subscription(rn_req *r);      /* admin:subscription:read */
void rn_sdk_admin_ai_readiness(rn_req *r);      /* admin:ai-readiness:read */
void rn_sdk_admin_staff_summary(rn_req *r);     /* admin:staff-summary:read */
void rn_sdk_admin_knowledge_add(rn_req *r);     /* admin:ai-knowledge:write */

#endif
