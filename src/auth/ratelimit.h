/*
 * ratelimit.h — token buckets keyed by a string (a key id, a client address).
 *
 * In memory, per process: a limit, not an authorisation, so a node that has
 * not seen a key yet simply starts it with a full bucket. Thread-safe
 * (striped locks). Idle full buckets are swept when a stripe grows large.
 */
#ifndef RN_AUTH_RATELIMIT_H
#define RN_AUTH_RATELIMIT_H

#include <stdbool.h>

typedef struct rn_ratelimit rn_ratelimit;

typedef struct {
    long long limit;       /* the burst: most requests allowed at once */
    long long remaining;   /* whole tokens left after this call */
    long long reset_s;     /* seconds until the bucket is full again */
    long long retry_after; /* seconds until one token is available (0 if now) */
} rn_rate_state;

rn_ratelimit *rn_ratelimit_new(void);
void rn_ratelimit_free(rn_ratelimit *rl);
/* Takes one token from key's bucket (refilling at rate/s up to burst).
 * Returns true if a token was available. st (optional) describes the bucket. */
bool rn_ratelimit_take(rn_ratelimit *rl, const char *key, double rate, double burst,
                       long long now_ms, rn_rate_state *st);
/* Like take, without taking: true if a token is available. */
bool rn_ratelimit_peek(rn_ratelimit *rl, const char *key, double rate, double burst,
                       long long now_ms, rn_rate_state *st);

/* A fixed window instead of a bucket: `limit` tokens per window_ms, all
 * restored when the window that began with the first use ends (used for
 * failed authentications: N failures, then refused until the window ends).
 * A limiter must use either the bucket calls or the window calls, not both. */
bool rn_ratelimit_window_take(rn_ratelimit *rl, const char *key, long long limit,
                              long long window_ms, long long now_ms, rn_rate_state *st);
bool rn_ratelimit_window_peek(rn_ratelimit *rl, const char *key, long long limit,
                              long long window_ms, long long now_ms, rn_rate_state *st);

#endif
