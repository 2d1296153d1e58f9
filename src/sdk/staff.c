/*
 * sdk/staff.c — the first agent and admin SDK endpoints. Both run after
 * rn_auth_sdk_token, so r->who is the token's verified tenant and staff
 * member; every query is scoped by r->who.tenant_id.
 */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "sdk/sdk.h"
#include "tenants/tenants.h"

void rn_sdk_agent_me(rn_req *r)
{
    rn_db *db = rn_req_db(r);
    rn_rows *rows = db ? rn_db_query(db,
                                     "SELECT s.id, s.username, s.display_name, s.role, t.slug,"
                                     " t.name FROM staff s JOIN tenants t ON t.id = s.tenant_id"
                                     " WHERE s.tenant_id = $1 AND s.id = $2",
                                     RN_PARAMS(RN_T(r->who.tenant_id), RN_T(r->who.subject)))
                       : NULL;
    if (!rows || rn_rows_count(rows) != 1) {
        /* The row was there a moment ago, during authentication. */
        rn_reply_error(r, rows ? RN_SDK_TOKEN_INVALID : RN_SERVER_UNAVAILABLE, NULL, NULL);
        rn_rows_free(rows);
        return;
    }
    char expires[32];
    rn_time_format(json_integer_value(json_object_get(r->who.claims, "exp")) * 1000, expires,
                   sizeof expires);
    json_t *me = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:s}", "id",
                           rn_rows_get(rows, 0, 0), "username", rn_rows_get(rows, 0, 1),
                           "displayName", rn_rows_get(rows, 0, 2), "role",
                           rn_rows_get(rows, 0, 3), "tenant", "id", r->who.tenant_id, "slug",
                           rn_rows_get(rows, 0, 4), "name", rn_rows_get(rows, 0, 5), "scopes",
                           rn_token_scope_array(r->who.scopes), "tokenExpiresAt", expires);
    rn_rows_free(rows);
    rn_reply_json(r, 200, me);
}

void rn_sdk_admin_tenant(rn_req *r)
{
    json_t *tenant = NULL;
    rn_db *db = rn_req_db(r);
    int rc = db ? rn_tenant_get(db, r->who.tenant_id, &tenant) : -1;
    if (rc != 0) {
        rn_reply_error(r, rc < 0 ? RN_SERVER_UNAVAILABLE : RN_SDK_TOKEN_INVALID, NULL, NULL);
        return;
    }
    rn_reply_json(r, 200, tenant);
}
