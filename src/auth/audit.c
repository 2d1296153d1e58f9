#include "auth/audit.h"

#include <stdlib.h>

#include "core/util.h"
#include "http/http.h"

int rn_audit_record(rn_db *db, const rn_audit_entry *e)
{
    char id[48];
    rn_id_new("aud", id, sizeof id);
    char *details = e->details ? json_dumps(e->details, JSON_COMPACT) : NULL;
    long long n = rn_db_exec(
        db,
        "INSERT INTO audit_log (tenant_id, id, created_at, actor, action, target, request_id,"
        " client_ip, user_agent, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        RN_PARAMS(RN_T(e->tenant_id), RN_T(id), RN_I(rn_now_ms()), RN_T(e->actor),
                  RN_T(e->action), RN_T(e->target), RN_T(e->request_id), RN_T(e->client_ip),
                  RN_T(e->user_agent), RN_T(details)));
    free(details);
    return n == 1 ? 0 : -1;
}

int rn_audit_request(rn_req *r, const char *action, const char *target, json_t *details)
{
    rn_audit_entry e = {
        .tenant_id = r->who.tenant_id,
        .actor = r->who.actor,
        .action = action,
        .target = target,
        .request_id = r->request_id,
        .client_ip = r->client_ip,
        .user_agent = rn_req_header(r, "User-Agent"),
        .details = details,
    };
    return rn_audit_record(rn_req_db(r), &e);
}
