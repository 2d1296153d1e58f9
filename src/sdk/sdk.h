/*
 * sdk.h — the /api/sdk/ endpoints: what browsers and CRM front ends call
 * with the tokens a tenant's backend minted (SPEC §5, "SDK side").
 *
 * One verification path serves them all. A route declared with
 * SDK(method, path, audience, scope, handler) in api/routes.c is
 * authenticated by rn_auth_sdk_token (auth/auth.h, implemented in
 * sdk/auth.c) before its handler runs:
 *
 *   Authorization: Bearer <token>  (absent/empty -> 401 SDK_TOKEN_MISSING)
 *   -> rn_token_verify: signature with a key that still verifies, EdDSA
 *      only, iss, aud == the route's audience, claim shapes, nbf, exp
 *      (401 SDK_TOKEN_INVALID, or SDK_TOKEN_EXPIRED for an authentic token
 *      past its exp)
 *   -> the tenant `tid` is active; for agent/admin tokens the staff member
 *      `sub` is still active and still holds the role (401 SDK_TOKEN_INVALID)
 *   -> the route's scope is in `scope` (403 SDK_SCOPE_DENIED naming it).
 *
 * The handler then reads r->who: tenant_id/slug/timezone/country of the
 * token's tenant, subject (= sub), actor (= sub), scopes, and claims (the
 * verified claims object). Every query it runs is scoped by who.tenant_id.
 *
 * Browser access (CORS): OPTIONS on every SDK path answers the preflight
 * for any origin (the tenant is not known before the body or token is
 * read); the real request then enforces. Bearer routes answer with
 * `Access-Control-Allow-Origin: *` (the token, not a cookie, is the
 * credential); the visitor session echoes the Origin only when it is an
 * allowed widget domain of the tenant.
 */
#ifndef RN_SDK_SDK_H
#define RN_SDK_SDK_H

#include "http/http.h"
#include "tokens/tokens.h"

/* Verifies token for audience and, on RN_TOKEN_OK, fills r->who and sets
 * r->authenticated. *why names the failed check for logs (fixed text). */
rn_token_status rn_sdk_authenticate(rn_req *r, const char *token, const char *audience,
                                    const char **why);
/* Logs a refused SDK credential (never the token) and counts it. */
void rn_sdk_log_refusal(rn_req *r, const char *code, const char *why);

/* CORS headers of bearer-token SDK responses. */
void rn_sdk_cors_any(rn_req *r);
/* OPTIONS /api/sdk/...: the CORS preflight. */
void rn_sdk_preflight(rn_req *r);

/* POST /api/sdk/visitor/session (public route: the context token is in the body) */
void rn_sdk_visitor_session(rn_req *r);
/* GET /api/sdk/agent/me (ringnity:agent, agent:profile:read) */
void rn_sdk_agent_me(rn_req *r);
/* GET /api/sdk/admin/tenant (ringnity:admin, admin:tenant:read) */
void rn_sdk_admin_tenant(rn_req *r);

#endif
