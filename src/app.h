/*
 * app.h — the process-wide state every module reaches through the request:
 * settings, the store pool, secrets derived from the master key, and the
 * in-memory limiters. Created once by rn_app_open, freed by rn_app_close.
 */
#ifndef RN_APP_H
#define RN_APP_H

#include <signal.h>
#include <stdbool.h>

#include "core/config.h"
#include "store/db.h"

typedef struct rn_ratelimit rn_ratelimit;

typedef struct rn_app {
    rn_config cfg;
    rn_pool *pool;
    unsigned char master_key[32];
    unsigned char key_pepper[32]; /* HMAC key for server-key hashes */
    rn_ratelimit *key_limits;     /* token buckets per server key */
    rn_ratelimit *auth_failures;  /* failed authentications per client address */
    volatile sig_atomic_t stopping;
} rn_app;

/* Loads settings and the master key (generating DATA_DIR/master.key on first
 * use), opens the store and applies migrations. pool_size 0 picks a default.
 * Returns 0, or -1 with a message in err. */
int rn_app_open(rn_app *app, int pool_size, char *err, size_t errlen);
void rn_app_close(rn_app *app);

#endif
