/*
 * sdk/visitor.c — POST /api/sdk/visitor/session: a browser starts a visitor
 * session with {slug, contextToken}.
 *
 * Checks, in order: the body (400); the slug names an active tenant (404
 * SDK_TENANT_NOT_FOUND: slugs are public, they sit in the embed code); the
 * Origin header is an allowed widget domain of that tenant (403
 * SDK_ORIGIN_NOT_ALLOWED; no Origin is not allowed either); the context
 * token verifies through the common SDK path with audience ringnity:visitor
 * and belongs to that tenant (else 401 SDK_CONTEXT_TOKEN_INVALID, whatever
 * the reason, expiry included).
 *
 * One session per context token: presenting the same token again returns
 * the same session (200) instead of creating another (201). The identity
 * and metadata come from the verified token only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "sdk/domains.h"
#include "sdk/sdk.h"

typedef struct {
    char id[48];
    char slug[64];
    char name[256];
} session_tenant;

/* {slug, contextToken}: replies 400 and returns -1 when malformed. */
static int read_body(rn_req *r, const char **slug, const char **token)
{
    static const char *const allowed[] = {"slug", "contextToken", NULL};
    json_t *details = json_array();
    rn_json_reject_unknown(r->json, allowed, NULL, details);
    const char *names[] = {"slug", "contextToken"};
    const char **outs[] = {slug, token};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(r->json, names[i]);
        *outs[i] = json_string_value(v);
        if (!v || json_is_null(v))
            rn_detail_add(details, names[i], "required");
        else if (!json_is_string(v))
            rn_detail_add(details, names[i], "must_be_string");
        else if (json_string_length(v) == 0)
            rn_detail_add(details, names[i], "must_not_be_empty");
    }
    if (json_array_size(details) == 0) {
        json_decref(details);
        return 0;
    }
    rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
    return -1;
}

/* 0 found, 1 not found (or not active), -1 store. */
static int tenant_by_slug(rn_db *db, const char *slug, session_tenant *t)
{
    rn_rows *rows = rn_db_query(db, "SELECT id, slug, name, status FROM tenants WHERE slug = $1",
                                RN_PARAMS(RN_T(slug)));
    if (!rows)
        return -1;
    int rc = rn_rows_count(rows) == 1 && strcmp(rn_rows_get(rows, 0, 3), "active") == 0 ? 0 : 1;
    if (rc == 0) {
        snprintf(t->id, sizeof t->id, "%s", rn_rows_get(rows, 0, 0));
        snprintf(t->slug, sizeof t->slug, "%s", rn_rows_get(rows, 0, 1));
        snprintf(t->name, sizeof t->name, "%s", rn_rows_get(rows, 0, 2));
    }
    rn_rows_free(rows);
    return rc;
}

/* The session of this token: created (201) or found (200). 0 on store failure. */
static int session_upsert(rn_req *r, json_t *claims, const char *origin, char id[48])
{
    json_t *ctx = json_object_get(claims, "ctx");
    char *visitor = json_dumps(json_object_get(ctx, "visitor"), JSON_COMPACT | JSON_SORT_KEYS);
    char *metadata = json_dumps(json_object_get(ctx, "metadata"), JSON_COMPACT | JSON_SORT_KEYS);
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    long long exp = json_integer_value(json_object_get(claims, "exp"));
    rn_id_new("ses", id, 48);
    rn_db *db = rn_req_db(r);
    long long n = rn_db_exec(
        db,
        "INSERT INTO visitor_sessions (tenant_id, id, token_id, visitor_id, visitor, metadata,"
        " origin, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT DO NOTHING",
        RN_PARAMS(RN_T(r->who.tenant_id), RN_T(id), RN_T(jti), RN_T(r->who.subject),
                  RN_T(visitor ? visitor : "{}"), RN_T(metadata ? metadata : "{}"), RN_T(origin),
                  RN_I(rn_now_ms()), RN_I(exp * 1000)));
    free(visitor);
    free(metadata);
    if (n == 1)
        return 201;
    rn_rows *rows = n < 0 ? NULL
                          : rn_db_query(db,
                                        "SELECT id FROM visitor_sessions"
                                        " WHERE tenant_id = $1 AND token_id = $2",
                                        RN_PARAMS(RN_T(r->who.tenant_id), RN_T(jti)));
    int status = rows && rn_rows_count(rows) == 1 ? 200 : 0;
    if (status)
        snprintf(id, 48, "%s", rn_rows_get(rows, 0, 0));
    rn_rows_free(rows);
    return status;
}

static json_t *visitor_json(rn_req *r, json_t *ctx)
{
    json_t *v = json_object_get(ctx, "visitor");
    json_t *out = json_pack("{s:s}", "id", r->who.subject);
    static const char *const fields[] = {"externalId", "name", "phone", "email"};
    for (int i = 0; i < 4; i++) {
        json_t *f = json_object_get(v, fields[i]);
        json_object_set_new(out, fields[i], json_is_string(f) ? json_copy(f) : json_null());
    }
    return out;
}

static void reply_session(rn_req *r, int status, const char *id, const session_tenant *t)
{
    json_t *claims = r->who.claims;
    json_t *ctx = json_object_get(claims, "ctx");
    char expires[32];
    rn_time_format(json_integer_value(json_object_get(claims, "exp")) * 1000, expires,
                   sizeof expires);
    json_t *metadata = json_object_get(ctx, "metadata");
    rn_reply_json(r, status,
                  json_pack("{s:s, s:{s:s, s:s}, s:o, s:O, s:s}", "sessionId", id, "tenant",
                            "slug", t->slug, "name", t->name, "visitor", visitor_json(r, ctx),
                            "metadata", json_is_object(metadata) ? metadata : json_object(),
                            "expiresAt", expires));
}

/* Verifies the context token for tenant t; replies and returns -1 when it
 * is refused. */
static int check_token(rn_req *r, const char *token, const session_tenant *t)
{
    const char *why = "";
    rn_token_status st = rn_sdk_authenticate(r, token, RN_AUD_VISITOR, &why);
    if (st == RN_TOKEN_STORE_DOWN) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return -1;
    }
    if (st == RN_TOKEN_OK && strcmp(r->who.tenant_id, t->id) == 0)
        return 0;
    if (st == RN_TOKEN_OK) {
        why = "another tenant";
        json_decref(r->who.claims);
        memset(&r->who, 0, sizeof r->who);
        r->authenticated = false;
    }
    rn_sdk_log_refusal(r, "SDK_CONTEXT_TOKEN_INVALID", why);
    rn_reply_error(r, RN_SDK_CONTEXT_TOKEN_INVALID, NULL, NULL);
    return -1;
}

void rn_sdk_visitor_session(rn_req *r)
{
    rn_reply_header(r, "Vary", "Origin");
    const char *slug = NULL, *token = NULL;
    if (read_body(r, &slug, &token) != 0)
        return;
    rn_db *db = rn_req_db(r);
    session_tenant t;
    int found = db ? tenant_by_slug(db, slug, &t) : -1;
    const char *origin = rn_req_header(r, "Origin");
    int allowed = found == 0 ? rn_domain_origin_allowed(db, t.id, origin) : 0;
    if (found < 0 || allowed < 0) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    if (found > 0) {
        rn_reply_error(r, RN_SDK_TENANT_NOT_FOUND, NULL, NULL);
        return;
    }
    if (!allowed) {
        rn_reply_error(r, RN_SDK_ORIGIN_NOT_ALLOWED, NULL, NULL);
        return;
    }
    rn_reply_header(r, "Access-Control-Allow-Origin", origin);
    rn_reply_header(r, "Access-Control-Expose-Headers", "X-Request-Id");
    if (check_token(r, token, &t) != 0)
        return;
    char id[48];
    int status = session_upsert(r, r->who.claims, origin, id);
    if (!status) {
        rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
        return;
    }
    reply_session(r, status, id, &t);
}
