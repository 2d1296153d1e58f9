/*
 * catalog.c — the event catalogue: what each type means, a realistic sample
 * of its `data` for POST /webhooks/test, and subscription matching.
 *
 * `data` is always the object the event is about (a contact, a message, a
 * ticket, ...), shaped like the API shows that object. Samples use freshly
 * generated ids so a receiver's idempotency store never mistakes a test for
 * a real event.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "webhooks/internal.h"
#include "webhooks/outbox.h"

typedef struct {
    const char *type;
    const char *description;
    json_t *(*sample)(const char *now);
} catalog_entry;

static json_t *id_of(const char *prefix)
{
    char id[48];
    rn_id_new(prefix, id, sizeof id);
    return json_string(id);
}

static json_t *sample_conversation(const char *now, const char *status)
{
    return json_pack("{s:o, s:s, s:s, s:o, s:n, s:s, s:s}", "id", id_of("cnv"), "channel",
                     "web", "status", status, "contactId", id_of("ct"), "assignedAgentId",
                     "createdAt", now, "updatedAt", now);
}

static json_t *conversation_created(const char *now)
{
    return sample_conversation(now, "open");
}

static json_t *conversation_closed(const char *now)
{
    json_t *c = sample_conversation(now, "closed");
    json_object_set_new(c, "closedAt", json_string(now));
    return c;
}

static json_t *message_received(const char *now)
{
    return json_pack("{s:o, s:o, s:s, s:{s:s, s:o}, s:s, s:s}", "id", id_of("msg"),
                     "conversationId", id_of("cnv"), "direction", "inbound", "from", "type",
                     "visitor", "contactId", id_of("ct"), "text",
                     "Hello, I would like to check the status of my order #10432.", "createdAt",
                     now);
}

static json_t *sample_ticket(const char *now, const char *status)
{
    return json_pack("{s:o, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "id", id_of("tkt"), "subject",
                     "Refund for a duplicate payment", "status", status, "priority", "normal",
                     "contactId", id_of("ct"), "conversationId", id_of("cnv"), "createdAt", now,
                     "updatedAt", now);
}

static json_t *ticket_created(const char *now)
{
    return sample_ticket(now, "open");
}

static json_t *ticket_updated(const char *now)
{
    return sample_ticket(now, "pending");
}

static json_t *sample_contact(const char *now)
{
    return json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:s, s:s, s:s}", "id",
                     id_of("ct"), "externalId", "crm-100234", "name", "Siti Rahmawati", "phone",
                     "+628123456789", "email", "siti.rahmawati@example.com", "company",
                     "PT Contoh Sejahtera", "tags", "vip", "jakarta", "notes",
                     "Prefers WhatsApp in the afternoon.", "createdAt", now, "updatedAt", now);
}

static json_t *agent_presence(const char *now)
{
    return json_pack("{s:o, s:s, s:s, s:s, s:s}", "agentId", id_of("stf"), "username",
                     "agent.budi", "status", "online", "previousStatus", "away", "changedAt",
                     now);
}

static json_t *call_started(const char *now)
{
    return json_pack("{s:o, s:o, s:s, s:s, s:o, s:s}", "id", id_of("call"), "conversationId",
                     id_of("cnv"), "direction", "inbound", "from", "+628123456789", "agentId",
                     id_of("stf"), "startedAt", now);
}

static json_t *call_ended(const char *now)
{
    json_t *c = call_started(now);
    json_object_set_new(c, "endedAt", json_string(now));
    json_object_set_new(c, "durationSeconds", json_integer(184));
    json_object_set_new(c, "outcome", json_string("answered"));
    return c;
}

static const catalog_entry CATALOG[] = {
    {"conversation.created", "A visitor or contact started a conversation.",
     conversation_created},
    {"conversation.message.received", "A conversation received a message from the contact.",
     message_received},
    {"conversation.closed", "A conversation was closed.", conversation_closed},
    {"ticket.created", "A ticket was opened.", ticket_created},
    {"ticket.updated", "A ticket changed (status, priority, assignee, ...).", ticket_updated},
    {"contact.created", "A contact was created.", sample_contact},
    {"contact.updated", "A contact was changed.", sample_contact},
    {"contact.deleted", "A contact was deleted; data is the contact as it was.",
     sample_contact},
    {"agent.presence.changed", "An agent's presence changed.", agent_presence},
    {"call.started", "A call started.", call_started},
    {"call.ended", "A call ended.", call_ended},
};
#define CATALOG_SIZE (sizeof CATALOG / sizeof *CATALOG)

static const catalog_entry *catalog_find(const char *type)
{
    for (size_t i = 0; i < CATALOG_SIZE; i++)
        if (strcmp(CATALOG[i].type, type) == 0)
            return &CATALOG[i];
    return NULL;
}

const char *wh_event_description(const char *type)
{
    const catalog_entry *e = catalog_find(type);
    return e ? e->description : NULL;
}

json_t *wh_event_sample(const char *type)
{
    char now[32];
    rn_time_format(rn_now_ms(), now, sizeof now);
    const catalog_entry *e = catalog_find(type);
    return e ? e->sample(now) : json_object();
}

char *wh_event_payload(const char *event_id, const char *type, long long created_ms,
                       const char *tenant_id, json_t *data)
{
    char when[32];
    rn_time_format(created_ms, when, sizeof when);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:O}", "id", event_id, "type", type,
                             "createdAt", when, "tenantId", tenant_id, "data", data);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    return text;
}

/* The stored list is our own canonical JSON (known types, no escapes), so a
 * quoted substring is an exact element match; fan-out runs this per event
 * and destination, where parsing JSON each time would dominate. */
bool wh_events_match(const char *events_json, const char *type)
{
    char quoted[80];
    if (strstr(events_json, "\"*\""))
        return true;
    int n = snprintf(quoted, sizeof quoted, "\"%s\"", type);
    return n > 0 && (size_t)n < sizeof quoted && strstr(events_json, quoted) != NULL;
}
