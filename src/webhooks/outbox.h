/*
 * outbox.h — the durable event outbox. A change and the event it causes are
 * written in the same transaction: call rn_event_emit inside the caller's
 * rn_db_begin/rn_db_commit. The webhook dispatcher later fans each event out
 * to the tenant's subscribed destinations (src/webhooks).
 */
#ifndef RN_WEBHOOKS_OUTBOX_H
#define RN_WEBHOOKS_OUTBOX_H

#include <jansson.h>
#include <stddef.h>

#include "store/db.h"

/* The event catalogue (SPEC §8), NULL-terminated. */
extern const char *const RN_EVENT_TYPES[];
int rn_event_type_known(const char *type);

/* Appends {id, type, createdAt, tenantId, data} to the outbox. data is
 * borrowed. Writes the new event id into id_out (>= 48 bytes) if given.
 * Returns 0, or -1 (the caller rolls its transaction back). */
int rn_event_emit(rn_db *db, const char *tenant_id, const char *type, json_t *data,
                  char *id_out, size_t id_cap);

#endif
