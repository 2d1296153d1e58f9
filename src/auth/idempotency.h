/*
 * idempotency.h — `Idempotency-Key` for every authenticated POST, once.
 *
 * The first request with a key reserves it (tenant, calling key or SDK subject,
 * key) with a hash of its
 * method, path and body, runs, and stores its response. A retry with the
 * same key and request within 24 h gets that stored response again
 * (`Idempotent-Replayed: true`); the same key with another request is 409
 * SERVER_IDEMPOTENCY_KEY_REUSED; a retry while the first is still running is
 * 409 SERVER_IDEMPOTENCY_IN_PROGRESS. 5xx answers are not stored, so the
 * client may retry them.
 */
#ifndef RN_AUTH_IDEMPOTENCY_H
#define RN_AUTH_IDEMPOTENCY_H

#include "http/http.h"

typedef enum {
    RN_IDEM_NONE,     /* no key, or not an authenticated POST: just run */
    RN_IDEM_PROCEED,  /* key reserved: run, then call rn_idempotency_finish */
    RN_IDEM_ANSWERED  /* replayed or refused: the reply is set, do not run */
} rn_idem_state;

rn_idem_state rn_idempotency_begin(rn_req *r);
void rn_idempotency_finish(rn_req *r);

#endif
