/*
 * auth.h — turning a request's credentials into a principal, before any
 * handler runs. Each function returns 0 with r->who filled and
 * r->authenticated set, or -1 after replying with the contract's error.
 */
#ifndef RN_AUTH_AUTH_H
#define RN_AUTH_AUTH_H

#include "http/http.h"

/* Server key from `Authorization: Bearer` or `X-Ringnity-Server-Key`; then
 * the per-key rate limit and the route's scope. */
int rn_auth_server_key(rn_req *r);
/* Records the server key's last use (at most once a minute a key), after
 * the request's snapshot if it has one: a write inside it could not wait. */
void rn_auth_record_use(rn_req *r);
/* SDK token (JWS) of the route's audience, then its scope (src/tokens). */
int rn_auth_sdk_token(rn_req *r);
/* Dashboard session cookie (src/dashboard). */
int rn_auth_dashboard(rn_req *r);

#endif
