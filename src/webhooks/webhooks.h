/*
 * webhooks.h — the /api/server/webhooks handlers (SPEC §8) and the
 * `ringnity events emit` command.
 *
 * Destinations (destinations.c): list, create, read, update, delete, and
 * the event catalogue. Deliveries (deliveries.c): the attempt log, a test
 * send and a redelivery, both made synchronously in the request. Every
 * query is scoped by the caller's tenant; another tenant's ids answer
 * exactly like unknown ids. No response, log line or audit entry ever
 * carries a destination secret, except the create response that shows a
 * generated secret once.
 */
#ifndef RN_WEBHOOKS_WEBHOOKS_H
#define RN_WEBHOOKS_WEBHOOKS_H

#include "http/http.h"

void rn_webhooks_list(rn_req *r);
void rn_webhooks_create(rn_req *r);
void rn_webhooks_get(rn_req *r);
void rn_webhooks_update(rn_req *r);
void rn_webhooks_delete(rn_req *r);
void rn_webhooks_event_types(rn_req *r);

void rn_webhooks_deliveries(rn_req *r);
void rn_webhooks_test(rn_req *r);
void rn_webhooks_redeliver(rn_req *r);

/* `ringnity events emit --tenant SLUG --type T[,T2...] [--count N] [--rate R]`:
 * appends sample events to the outbox (for benchmarks and demos). */
int rn_cli_events_emit(int argc, char **argv);

#endif
