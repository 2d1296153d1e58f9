/*
 * dispatcher.h — the background webhook dispatcher inside `ringnity serve`.
 *
 * One pump thread fans new outbox events out into per-destination queues
 * and claims due deliveries; a pool of worker threads, each with its own
 * reused curl handle, makes the attempts. A destination's deliveries go out
 * in event order with one in flight at a time; destinations proceed in
 * parallel. The dispatcher has its own store pool (pump + workers), so it
 * never competes with HTTP requests for connections. See queue.h for the
 * at-least-once argument and several-node behaviour.
 *
 * Lifetime: start after rn_server_start, quiesce on SIGTERM (stop claiming),
 * then rn_dispatcher_stop (waits for in-flight attempts, each bounded by
 * RINGNITY_WEBHOOK_TIMEOUT_MS) before rn_app_close.
 */
#ifndef RN_WEBHOOKS_DISPATCHER_H
#define RN_WEBHOOKS_DISPATCHER_H

#include <stddef.h>

#include "app.h"

typedef struct rn_dispatcher rn_dispatcher;

/* Starts the threads. NULL with a message in err (e.g. a malformed
 * RINGNITY_WEBHOOK_RETRY_SCHEDULE or an unreachable store). */
rn_dispatcher *rn_dispatcher_start(rn_app *app, char *err, size_t errlen);
/* Stops claiming new work; returns at once. Safe on NULL. */
void rn_dispatcher_quiesce(rn_dispatcher *d);
/* Quiesces, waits for in-flight attempts to be recorded, frees. NULL ok. */
void rn_dispatcher_stop(rn_dispatcher *d);

#endif
