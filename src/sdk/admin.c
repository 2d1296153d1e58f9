/*
 * admin.c — the Admin SDK endpoints beyond the tenant profile (audience
 * ringnity:admin; the admin is the token's `sub`):
 *
 *   GET  /api/sdk/admin/readiness       admin:readiness:read       as the server's sdk-readiness
 *   GET  /api/sdk/admin/domains         admin:domains:read         allowed widget domains
 *   GET  /api/sdk/admin/services        admin:services:read        chat, calls, AI
 *   GET  /api/sdk/admin/subscription    admin:subscription:read    plan and seats
 *   GET  /api/sdk/admin/ai-readiness    admin:ai-readiness:read    can the AI assistant run
 *   GET  /api/sdk/admin/staff-summary   admin:staff-summary:read   by status, role, presence
 *   GET  /api/sdk/admin/reports/export  admin:reports:export       as the server's export
 *   POST /api/sdk/admin/ai-knowledge    admin:ai-knowledge:write   add a knowledge document
 *
 * A self-hosted deployment bills nothing: every tenant is on the
 * "self-hosted" plan with every feature and no seat limit.
 */
#include <stdio.h>
#include <string.h>

#include "api/system.h"
#include "auth/audit.h"
#include "core/json.h"
#include "core/util.h"
#include "sdk/activity_api.h"
#include "sdk/domains.h"

#define TITLE_MAX_CHARS 200
#define CONTENT_MAX_CHARS 100000
#define URL_MAX_CHARS 2048

/* The tenant's counts the admin endpoints are made of. */
typedef struct {
    long long widget_keys, domains, documents;
    long long active, disabled, agents, admins;
    long long online, away;
} tenant_counts;

static int counts_of(rn_req *r, tenant_counts *c)
{
    rn_db *db = rn_req_db(r);
    rn_rows *rows = db ? rn_db_query(
                             db,
                             "SELECT"
                             " (SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1"
                             "   AND kind = 'widget' AND status = 'active'),"
                             " (SELECT COUNT(*) FROM widget_domains WHERE tenant_id = $1),"
                             " (SELECT COUNT(*) FROM ai_knowledge_documents WHERE tenant_id = $1),"
                             " (SELECT COUNT(*) FROM staff WHERE tenant_id = $1"
                             "   AND status = 'active'),"
                             " (SELECT COUNT(*) FROM staff WHERE tenant_id = $1"
                             "   AND status <> 'active'),"
                             " (SELECT COUNT(*) FROM staff WHERE tenant_id = $1"
                             "   AND status = 'active' AND role = 'agent'),"
                             " (SELECT COUNT(*) FROM staff WHERE tenant_id = $1"
                             "   AND status = 'active' AND role = 'admin'),"
                             " (SELECT COUNT(*) FROM agent_presence p JOIN staff s"
                             "   ON s.tenant_id = p.tenant_id AND s.id = p.agent_id"
                             "   WHERE p.tenant_id = $1 AND s.status = 'active'"
                             "   AND p.status = 'online'),"
                             " (SELECT COUNT(*) FROM agent_presence p JOIN staff s"
                             "   ON s.tenant_id = p.tenant_id AND s.id = p.agent_id"
                             "   WHERE p.tenant_id = $1 AND s.status = 'active'"
                             "   AND p.status = 'away')",
                             RN_PARAMS(RN_T(r->who.tenant_id)))
                       : NULL;
    if (!rows || rn_rows_count(rows) != 1) {
        rn_rows_free(rows);
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return -1;
    }
    long long *fields[] = {&c->widget_keys, &c->domains, &c->documents, &c->active,
                           &c->disabled,    &c->agents,  &c->admins,    &c->online,
                           &c->away};
    for (int i = 0; i < 9; i++)
        *fields[i] = rn_rows_int(rows, 0, i, 0);
    rn_rows_free(rows);
    return 0;
}

static bool chat_ready(const tenant_counts *c)
{
    return c->widget_keys > 0 && c->domains > 0 && c->agents + c->admins > 0;
}

void rn_sdk_admin_readiness(rn_req *r)
{
    rn_api_sdk_readiness(r);
}

void rn_sdk_admin_domains(rn_req *r)
{
    json_t *list = NULL;
    rn_db *db = rn_req_db(r);
    if (!db || rn_domain_list(db, r->who.tenant_id, &list) != 0) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    rn_reply_json(r, 200, json_pack("{s:o}", "data", list));
}

void rn_sdk_admin_services(rn_req *r)
{
    tenant_counts c;
    if (counts_of(r, &c) != 0)
        return;
    bool chat = chat_ready(&c);
    rn_reply_json(r, 200,
                  json_pack("{s:{s:b, s:I, s:I}, s:{s:b}, s:{s:b, s:I}}", "chat", "enabled",
                            chat, "agentsActive", (json_int_t)(c.agents + c.admins),
                            "agentsOnline", (json_int_t)c.online, "calls", "enabled", chat,
                            "ai", "enabled", chat && c.documents > 0, "knowledgeDocuments",
                            (json_int_t)c.documents));
}

void rn_sdk_admin_subscription(rn_req *r)
{
    tenant_counts c;
    if (counts_of(r, &c) != 0)
        return;
    rn_reply_json(r, 200,
                  json_pack("{s:s, s:s, s:{s:I, s:n}, s:[s, s, s, s, s, s], s:n}", "plan",
                            "self-hosted", "status", "active", "seats", "used",
                            (json_int_t)c.active, "limit", "features", "chat", "calls",
                            "tickets", "reports", "webhooks", "ai-knowledge", "renewsAt"));
}

static void add_check(json_t *checks, const char *name, bool ok, const char *hint)
{
    json_array_append_new(checks, json_pack("{s:s, s:b, s:s?}", "name", name, "ok", ok, "hint",
                                            ok ? NULL : hint));
}

void rn_sdk_admin_ai_readiness(rn_req *r)
{
    tenant_counts c;
    if (counts_of(r, &c) != 0)
        return;
    json_t *checks = json_array();
    add_check(checks, "knowledge_documents", c.documents > 0,
              "Add at least one AI knowledge document for the assistant to answer from.");
    add_check(checks, "chat_ready", chat_ready(&c),
              "Finish the Visitor SDK set-up: widget key, allowed domains, an active agent.");
    add_check(checks, "human_handover", c.agents + c.admins > 0,
              "Add an active agent so the assistant can hand conversations over.");
    bool ready = c.documents > 0 && chat_ready(&c);
    rn_reply_json(r, 200, json_pack("{s:b, s:I, s:o}", "ready", ready, "knowledgeDocuments",
                                    (json_int_t)c.documents, "checks", checks));
}

void rn_sdk_admin_staff_summary(rn_req *r)
{
    tenant_counts c;
    if (counts_of(r, &c) != 0)
        return;
    long long working = c.agents + c.admins;
    rn_reply_json(r, 200,
                  json_pack("{s:I, s:I, s:I, s:{s:I, s:I}, s:{s:I, s:I, s:I}}", "total",
                            (json_int_t)(c.active + c.disabled), "active", (json_int_t)c.active,
                            "disabled", (json_int_t)c.disabled, "roles", "agent",
                            (json_int_t)c.agents, "admin", (json_int_t)c.admins, "presence",
                            "online", (json_int_t)c.online, "away", (json_int_t)c.away,
                            "offline", (json_int_t)(working - c.online - c.away)));
}

/* ---- AI knowledge ----------------------------------------------------------- */

static bool url_ok(const char *url)
{
    size_t n = strlen(url);
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    return scheme && n > scheme && strpbrk(url, " \"<>\\^`{|}") == NULL;
}

static int store_document(rn_req *r, const char *id, const char *title, const char *content,
                          const char *url, long long now)
{
    rn_db *db = rn_req_db(r);
    if (!db || rn_db_begin(db) != 0)
        return -1;
    long long n = rn_db_exec(db,
                             "INSERT INTO ai_knowledge_documents (tenant_id, id, title, content,"
                             " source_url, created_by, created_at)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                             RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id), RN_T(title),
                                       RN_T(content), RN_T(url), RN_T(r->who.subject),
                                       RN_I(now)));
    json_t *details = json_pack("{s:s}", "title", title);
    int rc = n == 1 ? rn_audit_request(r, "ai_knowledge.created", id, details) : -1;
    json_decref(details);
    if (rc != 0) {
        rn_db_rollback(db);
        return -1;
    }
    return rn_db_commit(db);
}

void rn_sdk_admin_knowledge_add(rn_req *r)
{
    static const char *const allowed[] = {"title", "content", "sourceUrl", NULL};
    const char *title = NULL, *content = NULL, *url = NULL;
    json_t *details = json_array();
    rn_sdk_body_only(r, allowed, details);
    rn_sdk_text(r, "title", TITLE_MAX_CHARS, true, false, &title, details);
    rn_sdk_text(r, "content", CONTENT_MAX_CHARS, true, true, &content, details);
    if (rn_sdk_text(r, "sourceUrl", URL_MAX_CHARS, false, false, &url, details) == 0 && url &&
        !url_ok(url))
        rn_detail_add(details, "sourceUrl", "must_be_http_or_https_url");
    if (rn_sdk_details_reply(r, details) != 0)
        return;
    char id[48], when[32];
    long long now = rn_now_ms();
    rn_id_new("kdoc", id, sizeof id);
    if (store_document(r, id, title, content, url, now) != 0) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    rn_time_format(now, when, sizeof when);
    rn_reply_json(r, 201,
                  json_pack("{s:s, s:s, s:s?, s:I, s:s, s:s}", "id", id, "title", title,
                            "sourceUrl", url, "characters",
                            (json_int_t)rn_utf8_count(content, strlen(content)), "createdAt",
                            when, "createdBy", r->who.subject));
}
