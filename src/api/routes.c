/*
 * routes.c — the one route table: method, path, authentication, scope,
 * handler. Literal segments win over {parameters} whatever the order, but
 * keep each capability's rows together.
 */
#include "api/system.h"
#include "contacts/contacts.h"
#include "sdk/activity_api.h"
#include "sdk/sdk.h"
#include "tokens/api.h"
#include "http/router.h"
#include "http/writer.h"
#include "reports/reports.h"
#include "webhooks/webhooks.h"

#define PUBLIC(m, p, h) {.method = m, .pattern = p, .auth = RN_AUTH_NONE, .handler = h}
#define SERVER(m, p, s, h) {.method = m, .pattern = p, .auth = RN_AUTH_SERVER_KEY, .scope = s, \
                            .handler = h}
/* A read-only server endpoint whose statements share one snapshot (http.h). */
#define SERVER_READ(m, p, s, h)                                                                 \
    {.method = m, .pattern = p, .auth = RN_AUTH_SERVER_KEY, .scope = s, .handler = h,           \
     .snapshot = true}
/* A server endpoint whose POST body is optional (none, or a JSON object). */
#define SERVER_NO_BODY(m, p, s, h)                                                              \
    {.method = m, .pattern = p, .auth = RN_AUTH_SERVER_KEY, .scope = s, .handler = h,           \
     .body = RN_BODY_NONE}
/* An SDK endpoint: a bearer SDK token of `audience` holding `scope` (sdk/sdk.h). */
#define SDK(m, p, a, s, h)                                                                      \
    {.method = m, .pattern = p, .auth = RN_AUTH_SDK, .scope = s, .audience = a, .handler = h}
/* An SDK endpoint whose POST body is optional (none, or a JSON object). */
#define SDK_NO_BODY(m, p, a, s, h)                                                              \
    {.method = m, .pattern = p, .auth = RN_AUTH_SDK, .scope = s, .audience = a, .handler = h,   \
     .body = RN_BODY_NONE}
/* The CORS preflight of an SDK path (one row per path), and of a path that
 * also takes PATCH. */
#define SDK_PREFLIGHT_WITH(p, h)                                                                \
    {.method = "OPTIONS", .pattern = p, .auth = RN_AUTH_NONE, .handler = h, .body = RN_BODY_NONE}
#define SDK_PREFLIGHT(p) SDK_PREFLIGHT_WITH(p, rn_sdk_preflight)

const rn_route RN_ROUTES[] = {
    /* Probes and documents */
    PUBLIC("GET", "/healthz", rn_api_healthz),
    PUBLIC("GET", "/readyz", rn_api_readyz),
    PUBLIC("GET", "/metrics", rn_api_metrics),
    PUBLIC("GET", "/api/server/openapi.json", rn_api_openapi),

    /* Account */
    SERVER_READ("GET", "/api/server/health", NULL, rn_api_health),
    SERVER_READ("GET", "/api/server/tenant", NULL, rn_api_tenant),
    SERVER("GET", "/api/server/tenant/sdk-readiness", NULL, rn_api_sdk_readiness),

    /* Contacts */
    SERVER_READ("GET", "/api/server/contacts", "server:contacts:read", rn_api_contacts_list),
    SERVER("POST", "/api/server/contacts", "server:contacts:write", rn_api_contacts_create),
    SERVER_READ("GET", "/api/server/contacts/{id}", "server:contacts:read", rn_api_contacts_get),
    SERVER("PATCH", "/api/server/contacts/{id}", "server:contacts:write", rn_api_contacts_update),
    SERVER("DELETE", "/api/server/contacts/{id}", "server:contacts:write",
           rn_api_contacts_delete),

    /* SDK tokens: minting, and the public keys that verify them */
    SERVER("POST", "/api/server/visitor-context-token", "server:visitor-context:write",
           rn_tokens_mint_visitor),
    SERVER("POST", "/api/server/sdk-token/agent", "server:agent-token:write",
           rn_tokens_mint_agent),
    SERVER("POST", "/api/server/sdk-token/admin", "server:admin-token:write",
           rn_tokens_mint_admin),
    PUBLIC("GET", "/.well-known/jwks.json", rn_tokens_jwks),

    /* SDK side (the visitor session carries its token in the body) */
    PUBLIC("POST", "/api/sdk/visitor/session", rn_sdk_visitor_session),
    SDK_PREFLIGHT("/api/sdk/visitor/session"),
    SDK("GET", "/api/sdk/agent/me", "ringnity:agent", "agent:profile:read", rn_sdk_agent_me),
    SDK_PREFLIGHT("/api/sdk/agent/me"),
    SDK("GET", "/api/sdk/admin/tenant", "ringnity:admin", "admin:tenant:read",
        rn_sdk_admin_tenant),
    SDK_PREFLIGHT("/api/sdk/admin/tenant"),

    /* SDK activity: visitor messages, the agent's work, the admin's views */
    SDK("POST", "/api/sdk/visitor/messages", "ringnity:visitor", "visitor:messages:write",
        rn_sdk_visitor_message_send),
    SDK("GET", "/api/sdk/visitor/messages", "ringnity:visitor", "visitor:messages:read",
        rn_sdk_visitor_messages_list),
    SDK_PREFLIGHT("/api/sdk/visitor/messages"),
    SDK("GET", "/api/sdk/agent/presence", "ringnity:agent", "agent:presence:read",
        rn_sdk_agent_presence_get),
    SDK("POST", "/api/sdk/agent/presence", "ringnity:agent", "agent:presence:write",
        rn_sdk_agent_presence_set),
    SDK_PREFLIGHT("/api/sdk/agent/presence"),
    SDK("GET", "/api/sdk/agent/conversations", "ringnity:agent", "agent:conversations:read",
        rn_sdk_agent_conversations),
    SDK_PREFLIGHT("/api/sdk/agent/conversations"),
    SDK("GET", "/api/sdk/agent/conversations/{id}", "ringnity:agent",
        "agent:conversations:read", rn_sdk_agent_conversation),
    SDK_PREFLIGHT("/api/sdk/agent/conversations/{id}"),
    SDK_NO_BODY("POST", "/api/sdk/agent/conversations/{id}/assign", "ringnity:agent",
                "agent:conversations:write", rn_sdk_agent_assign),
    SDK_PREFLIGHT("/api/sdk/agent/conversations/{id}/assign"),
    SDK_NO_BODY("POST", "/api/sdk/agent/conversations/{id}/close", "ringnity:agent",
                "agent:conversations:write", rn_sdk_agent_close),
    SDK_PREFLIGHT("/api/sdk/agent/conversations/{id}/close"),
    SDK("GET", "/api/sdk/agent/conversations/{id}/messages", "ringnity:agent",
        "agent:messages:read", rn_sdk_agent_messages),
    SDK("POST", "/api/sdk/agent/conversations/{id}/messages", "ringnity:agent",
        "agent:messages:write", rn_sdk_agent_message_send),
    SDK_PREFLIGHT("/api/sdk/agent/conversations/{id}/messages"),
    SDK("POST", "/api/sdk/agent/calls", "ringnity:agent", "agent:calls:write",
        rn_sdk_agent_call_start),
    SDK_PREFLIGHT("/api/sdk/agent/calls"),
    SDK("GET", "/api/sdk/agent/calls/{id}", "ringnity:agent", "agent:calls:read",
        rn_sdk_agent_call_get),
    SDK_PREFLIGHT("/api/sdk/agent/calls/{id}"),
    SDK("POST", "/api/sdk/agent/calls/{id}/end", "ringnity:agent", "agent:calls:write",
        rn_sdk_agent_call_end),
    SDK_PREFLIGHT("/api/sdk/agent/calls/{id}/end"),
    SDK("POST", "/api/sdk/agent/tickets", "ringnity:agent", "agent:conversations:write",
        rn_sdk_agent_ticket_open),
    SDK_PREFLIGHT("/api/sdk/agent/tickets"),
    SDK("GET", "/api/sdk/agent/tickets/{id}", "ringnity:agent", "agent:conversations:read",
        rn_sdk_agent_ticket_get),
    SDK("PATCH", "/api/sdk/agent/tickets/{id}", "ringnity:agent", "agent:conversations:write",
        rn_sdk_agent_ticket_update),
    SDK_PREFLIGHT_WITH("/api/sdk/agent/tickets/{id}", rn_sdk_preflight_patch),
    SDK("GET", "/api/sdk/admin/readiness", "ringnity:admin", "admin:readiness:read",
        rn_sdk_admin_readiness),
    SDK_PREFLIGHT("/api/sdk/admin/readiness"),
    SDK("GET", "/api/sdk/admin/domains", "ringnity:admin", "admin:domains:read",
        rn_sdk_admin_domains),
    SDK_PREFLIGHT("/api/sdk/admin/domains"),
    SDK("GET", "/api/sdk/admin/services", "ringnity:admin", "admin:services:read",
        rn_sdk_admin_services),
    SDK_PREFLIGHT("/api/sdk/admin/services"),
    SDK("GET", "/api/sdk/admin/subscription", "ringnity:admin", "admin:subscription:read",
        rn_sdk_admin_subscription),
    SDK_PREFLIGHT("/api/sdk/admin/subscription"),
    SDK("GET", "/api/sdk/admin/ai-readiness", "ringnity:admin", "admin:ai-readiness:read",
        rn_sdk_admin_ai_readiness),
    SDK_PREFLIGHT("/api/sdk/admin/ai-readiness"),
    SDK("GET", "/api/sdk/admin/staff-summary", "ringnity:admin", "admin:staff-summary:read",
        rn_sdk_admin_staff_summary),
    SDK_PREFLIGHT("/api/sdk/admin/staff-summary"),
    SDK("GET", "/api/sdk/admin/reports/export", "ringnity:admin", "admin:reports:export",
        rn_api_reports_export),
    SDK_PREFLIGHT("/api/sdk/admin/reports/export"),
    SDK("POST", "/api/sdk/admin/ai-knowledge", "ringnity:admin", "admin:ai-knowledge:write",
        rn_sdk_admin_knowledge_add),
    SDK_PREFLIGHT("/api/sdk/admin/ai-knowledge"),

    /* Reports (from the daily rollups) */
    SERVER("GET", "/api/server/reports/summary", "server:reports:read", rn_api_reports_summary),
    SERVER("GET", "/api/server/reports/timeseries", "server:reports:read",
           rn_api_reports_timeseries),
    SERVER("GET", "/api/server/reports/productivity", "server:reports:read",
           rn_api_reports_productivity),
    SERVER("GET", "/api/server/reports/export", "server:reports:read", rn_api_reports_export),

    /* Webhooks (literal paths win over /webhooks/{id}) */
    SERVER("GET", "/api/server/webhooks", "server:webhooks:read", rn_webhooks_list),
    SERVER("POST", "/api/server/webhooks", "server:webhooks:write", rn_webhooks_create),
    SERVER("GET", "/api/server/webhooks/event-types", "server:webhooks:read",
           rn_webhooks_event_types),
    SERVER("POST", "/api/server/webhooks/test", "server:webhooks:write", rn_webhooks_test),
    SERVER("GET", "/api/server/webhooks/deliveries", "server:webhooks:read",
           rn_webhooks_deliveries),
    SERVER_NO_BODY("POST", "/api/server/webhooks/deliveries/{id}/redeliver",
                   "server:webhooks:write", rn_webhooks_redeliver),
    SERVER("GET", "/api/server/webhooks/{id}", "server:webhooks:read", rn_webhooks_get),
    SERVER("PATCH", "/api/server/webhooks/{id}", "server:webhooks:write", rn_webhooks_update),
    SERVER("DELETE", "/api/server/webhooks/{id}", "server:webhooks:write", rn_webhooks_delete),
};

const int RN_ROUTE_COUNT = sizeof RN_ROUTES / sizeof *RN_ROUTES;
/* The router and the metrics keep per-route arrays of this bound. */
_Static_assert(sizeof RN_ROUTES / sizeof *RN_ROUTES <= 128, "more routes than the router and "
                                                            "metrics arrays hold");

/* Around every group of writes (http/writer.h): new contacts join the
 * trigram index in one ordered statement per group. */
const rn_writer_hooks RN_WRITER_HOOKS = {rn_contacts_defer_index, rn_contacts_index_deferred};
