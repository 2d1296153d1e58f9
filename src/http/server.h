/*
 * server.h — the HTTP server: libmicrohttpd with a pool of worker threads,
 * the dispatch pipeline (route, limits, auth, body, idempotency, handler),
 * one log line per request, and graceful shutdown.
 */
#ifndef RN_HTTP_SERVER_H
#define RN_HTTP_SERVER_H

#include "app.h"

typedef struct rn_server rn_server;

/* Starts listening on app->cfg.listen. NULL with a message on failure. */
rn_server *rn_server_start(rn_app *app, char *err, size_t errlen);
/* Stops accepting, waits up to grace_ms for in-flight requests, then stops. */
void rn_server_stop(rn_server *srv, int grace_ms);

#endif
