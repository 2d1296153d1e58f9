#include "webhooks/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

const char *const RN_EVENT_TYPES[] = {
    "conversation.created", "conversation.message.received", "conversation.closed",
    "ticket.created",       "ticket.updated",                "contact.created",
    "contact.updated",      "contact.deleted",               "agent.presence.changed",
    "call.started",         "call.ended",                    NULL,
};

int rn_event_type_known(const char *type)
{
    for (const char *const *t = RN_EVENT_TYPES; *t; t++)
        if (strcmp(*t, type) == 0)
            return 1;
    return 0;
}

int rn_event_emit(rn_db *db, const char *tenant_id, const char *type, json_t *data,
                  char *id_out, size_t id_cap)
{
    char id[48], when[32];
    long long now = rn_now_ms();
    rn_id_new("evt", id, sizeof id);
    rn_time_format(now, when, sizeof when);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "type", type, "createdAt",
                             when, "tenantId", tenant_id, "data",
                             data ? json_incref(data) : json_object());
    char *payload = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    long long n = rn_db_exec(db,
                             "INSERT INTO events (tenant_id, id, type, created_at, payload,"
                             " fanned_out) VALUES ($1, $2, $3, $4, $5, 0)",
                             RN_PARAMS(RN_T(tenant_id), RN_T(id), RN_T(type), RN_I(now),
                                       RN_T(payload)));
    free(payload);
    if (n != 1)
        return -1;
    if (id_out)
        snprintf(id_out, id_cap, "%s", id);
    return 0;
}
