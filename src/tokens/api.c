/*
 * tokens/api.c — minting SDK tokens over HTTP, and the JWKS.
 *
 * Each handler checks the whole body first (unknown fields, types, bounds:
 * 400 with details), then the contract's specific errors, then mints, audits
 * and answers 201. A mint that cannot be audited is not handed out; on
 * SQLite the audit entry joins other requests' writes in one commit
 * (rn_req_write, http/writer.h).
 */
#include "tokens/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/audit.h"
#include "core/json.h"
#include "core/util.h"
#include "tokens/keyring.h"
#include "tokens/tokens.h"

/* How long clients may cache the JWKS: short, so a rotation is seen soon;
 * verifiers also refetch when they meet an unknown kid. */
#define JWKS_MAX_AGE "public, max-age=60"

typedef struct {
    const char *audience;
    const char *action;             /* audit action */
    const char *const *catalogue;   /* allowed scopes */
    const char *const *defaults;    /* scopes when omitted */
    rn_err not_found;
    bool admin_only;
} staff_kind;

static const staff_kind AGENT = {RN_AUD_AGENT, "sdk_token.agent.created", RN_AGENT_SCOPES,
                                 RN_AGENT_DEFAULT_SCOPES, RN_SERVER_AGENT_NOT_FOUND, false};
static const staff_kind ADMIN = {RN_AUD_ADMIN, "sdk_token.admin.created", RN_ADMIN_SCOPES,
                                 RN_ADMIN_DEFAULT_SCOPES, RN_SERVER_ADMIN_NOT_FOUND, true};

/* ---- shared steps -------------------------------------------------------- */

/* expiresIn: absent or null -> the default; else an integer 60..3600. */
static long long ttl_of(json_t *body, json_t *details)
{
    json_t *v = json_object_get(body, "expiresIn");
    if (!v || json_is_null(v))
        return RN_TOKEN_TTL_DEFAULT_S;
    long long ttl = json_is_integer(v) ? json_integer_value(v) : 0;
    if (ttl < RN_TOKEN_TTL_MIN_S || ttl > RN_TOKEN_TTL_MAX_S) {
        rn_detail_add(details, "expiresIn", "must_be_integer_60_to_3600");
        return 0;
    }
    return ttl;
}

static void fill_spec(rn_req *r, rn_token_spec *spec, const char *audience, long long ttl)
{
    memset(spec, 0, sizeof *spec);
    spec->issuer = r->app->cfg.public_url;
    spec->audience = audience;
    spec->tenant_id = r->who.tenant_id;
    spec->minted_by = r->who.key_id;
    spec->ttl_s = ttl;
    spec->now_ms = rn_now_ms();
}

/* Mints spec and fills the common response members. Returns the response
 * (new reference) with the audit details in *details, or NULL after
 * replying. */
static json_t *mint(rn_req *r, const rn_token_spec *spec, const char *token_member,
                    json_t **details)
{
    rn_db *db = rn_req_db(r);
    if (!db) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return NULL;
    }
    rn_token_minted m;
    if (rn_token_mint(db, r->app->master_key, spec, &m) != 0) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return NULL;
    }
    char expires[32];
    rn_time_format(m.exp * 1000, expires, sizeof expires);
    *details = json_pack("{s:s, s:s, s:s, s:s}", "jti", m.jti, "subject", spec->subject,
                         "scope", spec->scope, "expiresAt", expires);
    json_t *resp = json_pack("{s:s, s:s, s:I, s:s}", token_member, m.token, "tokenType", "Bearer",
                             "expiresIn", (json_int_t)spec->ttl_s, "expiresAt", expires);
    rn_token_minted_free(&m);
    return resp;
}

/* A minted token waiting for its audit entry. */
typedef struct {
    const char *action;
    char *target;
    json_t *details, *resp;
} audit_job;

static void audit_job_free(void *arg)
{
    audit_job *job = arg;
    free(job->target);
    json_decref(job->details);
    json_decref(job->resp);
    free(job);
}

/* The audit entry (one statement), then the 201 with the token. */
static void audit_write(rn_req *r, void *arg)
{
    audit_job *job = arg;
    if (!rn_req_db(r) || rn_audit_request(r, job->action, job->target, job->details) != 0) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    rn_reply_json(r, 201, json_incref(job->resp));
}

/* Answers resp (stolen) once the mint is audited: a mint that cannot be
 * audited is not handed out. The audit entry is written with other
 * requests' writes on SQLite (rn_req_write). details is stolen. */
static void audit_and_reply(rn_req *r, const char *action, const char *target, json_t *details,
                            json_t *resp)
{
    audit_job *job = calloc(1, sizeof *job);
    char *target_copy = strdup(target);
    if (!job || !target_copy) {
        free(job);
        free(target_copy);
        json_decref(details);
        json_decref(resp);
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    *job = (audit_job){action, target_copy, details, resp};
    rn_req_write(r, audit_write, job, audit_job_free);
}

/* ---- visitor ------------------------------------------------------------- */

void rn_tokens_mint_visitor(rn_req *r)
{
    static const char *const allowed[] = {"visitor", "metadata", "expiresIn", NULL};
    json_t *details = json_array();
    rn_json_reject_unknown(r->json, allowed, NULL, details);
    long long ttl = ttl_of(r->json, details);
    json_t *ctx = NULL;
    rn_context_result cr = rn_visitor_context(r->json, &ctx, details);
    if (json_array_size(details) > 0 || cr == RN_CONTEXT_INVALID) {
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
        json_decref(ctx);
        return;
    }
    json_decref(details);
    if (cr != RN_CONTEXT_OK) {
        rn_reply_error(r, cr == RN_CONTEXT_EMPTY ? RN_SERVER_VISITOR_CONTEXT_EMPTY
                                                 : RN_SERVER_VISITOR_CONTEXT_TOO_LARGE,
                       NULL, NULL);
        return;
    }
    const char *external = json_string_value(
        json_object_get(json_object_get(ctx, "visitor"), "externalId"));
    char visitor_id[48];
    rn_token_visitor_id(r->app->master_key, r->who.tenant_id, external, visitor_id);
    rn_token_spec spec;
    fill_spec(r, &spec, RN_AUD_VISITOR, ttl);
    spec.subject = visitor_id;
    spec.scope = RN_VISITOR_SCOPE;
    spec.ctx = ctx;
    json_t *audit = NULL;
    json_t *resp = mint(r, &spec, "contextToken", &audit);
    if (resp)
        audit_and_reply(r, "sdk_token.visitor.created", external ? external : visitor_id,
                        audit, resp);
    json_decref(ctx);
}

/* ---- agent and admin ----------------------------------------------------- */

/* Reads username, scopes and expiresIn; replies and returns -1 on a 400. */
static int staff_body(rn_req *r, const staff_kind *kind, const char **username, char *scopes,
                      size_t cap, long long *ttl)
{
    static const char *const allowed[] = {"username", "scopes", "expiresIn", NULL};
    json_t *details = json_array();
    rn_json_reject_unknown(r->json, allowed, NULL, details);
    json_t *u = json_object_get(r->json, "username");
    *username = json_string_value(u);
    if (!u || json_is_null(u))
        rn_detail_add(details, "username", "required");
    else if (!json_is_string(u))
        rn_detail_add(details, "username", "must_be_string");
    else if (json_string_length(u) == 0)
        rn_detail_add(details, "username", "must_not_be_empty");
    *ttl = ttl_of(r->json, details);
    json_t *scope_details = json_array();
    int sc = rn_token_scopes(json_object_get(r->json, "scopes"), kind->catalogue, kind->defaults,
                             scopes, cap, scope_details);
    if (sc == -1)
        json_array_extend(details, scope_details);
    if (json_array_size(details) > 0) {
        json_decref(scope_details);
        rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
        return -1;
    }
    json_decref(details);
    if (sc == -2) {
        rn_reply_invalid(r, RN_SERVER_SDK_SCOPE_INVALID, scope_details);
        return -1;
    }
    json_decref(scope_details);
    return 0;
}

/* The active staff member; replies and returns NULL when absent or not
 * allowed. Disabled staff are treated as unknown. */
static json_t *staff_lookup(rn_req *r, const staff_kind *kind, const char *username)
{
    rn_db *db = rn_req_db(r);
    rn_rows *rows = db ? rn_db_query(db,
                                     "SELECT id, username, display_name, role FROM staff"
                                     " WHERE tenant_id = $1 AND username = $2"
                                     " AND status = 'active'",
                                     RN_PARAMS(RN_T(r->who.tenant_id), RN_T(username)))
                       : NULL;
    if (!rows) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return NULL;
    }
    json_t *staff = NULL;
    if (rn_rows_count(rows) != 1)
        rn_reply_error(r, kind->not_found, NULL, NULL);
    else if (kind->admin_only && strcmp(rn_rows_get(rows, 0, 3), "admin") != 0)
        rn_reply_error(r, RN_SERVER_ADMIN_ROLE_REQUIRED, NULL, NULL);
    else
        staff = json_pack("{s:s, s:s, s:s, s:s}", "id", rn_rows_get(rows, 0, 0), "username",
                          rn_rows_get(rows, 0, 1), "displayName", rn_rows_get(rows, 0, 2),
                          "role", rn_rows_get(rows, 0, 3));
    rn_rows_free(rows);
    return staff;
}

static void mint_staff(rn_req *r, const staff_kind *kind, const char *member)
{
    const char *username = NULL;
    char scopes[1024];
    long long ttl = 0;
    if (staff_body(r, kind, &username, scopes, sizeof scopes, &ttl) != 0)
        return;
    json_t *staff = staff_lookup(r, kind, username);
    if (!staff)
        return;
    rn_token_spec spec;
    fill_spec(r, &spec, kind->audience, ttl);
    spec.subject = json_string_value(json_object_get(staff, "id"));
    spec.scope = scopes;
    json_t *details = NULL;
    json_t *resp = mint(r, &spec, "token", &details);
    if (resp) {
        json_object_set_new(resp, "scopes", rn_token_scope_array(scopes));
        json_object_set(resp, member, staff);
        audit_and_reply(r, kind->action, username, details, resp);
    }
    json_decref(staff);
}

void rn_tokens_mint_agent(rn_req *r)
{
    mint_staff(r, &AGENT, "agent");
}

void rn_tokens_mint_admin(rn_req *r)
{
    mint_staff(r, &ADMIN, "admin");
}

/* ---- JWKS ---------------------------------------------------------------- */

void rn_tokens_jwks(rn_req *r)
{
    rn_db *db = rn_req_db(r);
    json_t *jwks = db ? rn_keyring_jwks(db, r->app->master_key) : NULL;
    if (!jwks) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    rn_reply_header(r, "Cache-Control", JWKS_MAX_AGE);
    rn_reply_header(r, "Access-Control-Allow-Origin", "*");
    rn_reply_json(r, 200, jwks);
}
