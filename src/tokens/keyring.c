/*
 * keyring.c — signing keys in the store, and the process cache in front of
 * them (see keyring.h for the life of a key).
 *
 * The cache holds the public keys that may still verify and, once a minting
 * path asked for it, the current key's secret, unsealed. It is refreshed
 * when older than RN_KEYRING_CACHE_MS, or at once when a verifier meets an
 * unknown, well-formed kid. A failed refresh keeps the previous contents, so
 * a store hiccup does not stop verification of known keys.
 */
#include "tokens/keyring.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define MAX_CACHED_KEYS 64
#define SEED_LEN 32
#define ROTATE_ATTEMPTS 3

typedef struct {
    char kid[RN_KID_MAX];
    unsigned char pk[RN_JWS_PUBLIC_KEY_LEN];
    long long created_at; /* ms */
    long long retired_at; /* ms, 0 while current */
} cached_key;

static struct {
    pthread_mutex_t lock;
    bool loaded;
    long long loaded_mono;
    int count;
    cached_key keys[MAX_CACHED_KEYS];
    bool has_current;   /* the store has a current key */
    bool has_secret;    /* ... and we could open it */
    char current_kid[RN_KID_MAX];
    unsigned char current_sk[RN_JWS_SECRET_KEY_LEN];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The current key first (whatever the clocks of the nodes that made the
 * keys), then the newest. */
static const char *LOAD_SQL =
    "SELECT kid, public_key, private_key, status, created_at, retired_at FROM signing_keys"
    " WHERE status = 'current' OR retired_at > $1"
    " ORDER BY CASE WHEN status = 'current' THEN 0 ELSE 1 END, created_at DESC, kid DESC"
    " LIMIT 64";

static bool still_verifies(const cached_key *k, long long now_ms)
{
    return k->retired_at == 0 || k->retired_at + RN_KEYRING_GRACE_MS > now_ms;
}

static int decode_public(const char *text, unsigned char pk[RN_JWS_PUBLIC_KEY_LEN])
{
    unsigned char *raw = NULL;
    size_t len = 0;
    if (!text || rn_b64url_decode(text, strlen(text), &raw, &len) != 0)
        return -1;
    int ok = len == RN_JWS_PUBLIC_KEY_LEN ? 0 : -1;
    if (ok == 0)
        memcpy(pk, raw, len);
    free(raw);
    return ok;
}

/* Opens the sealed seed of the current key into the cache. The derived
 * public key must equal the stored one: anything else means another master
 * key sealed it. */
static void open_current(const unsigned char master[32], const char *sealed,
                         const unsigned char pk[RN_JWS_PUBLIC_KEY_LEN])
{
    unsigned char seed[SEED_LEN], derived[RN_JWS_PUBLIC_KEY_LEN];
    size_t len = 0;
    cache.has_secret = false;
    if (sealed && rn_unseal(master, sealed, seed, sizeof seed, &len) == 0 && len == SEED_LEN &&
        crypto_sign_seed_keypair(derived, cache.current_sk, seed) == 0 &&
        sodium_memcmp(derived, pk, sizeof derived) == 0)
        cache.has_secret = true;
    sodium_memzero(seed, sizeof seed);
    if (!cache.has_secret) {
        sodium_memzero(cache.current_sk, sizeof cache.current_sk);
        json_t *f = json_pack("{s:s}", "kid", cache.current_kid);
        rn_log(RN_LOG_ERROR, "the current signing key cannot be opened with this master key", f);
        json_decref(f);
    }
}

/* Replaces the cache with the store's keys. Caller holds the lock. */
static int load(rn_db *db, const unsigned char master[32])
{
    long long now = rn_now_ms();
    rn_rows *rows = rn_db_query(db, LOAD_SQL, RN_PARAMS(RN_I(now - RN_KEYRING_GRACE_MS)));
    if (!rows)
        return -1;
    cache.count = 0;
    cache.has_current = cache.has_secret = false;
    sodium_memzero(cache.current_sk, sizeof cache.current_sk);
    for (int i = 0; i < rn_rows_count(rows) && cache.count < MAX_CACHED_KEYS; i++) {
        cached_key *k = &cache.keys[cache.count];
        if (decode_public(rn_rows_get(rows, i, 1), k->pk) != 0)
            continue;
        snprintf(k->kid, sizeof k->kid, "%s", rn_rows_get(rows, i, 0));
        k->created_at = rn_rows_int(rows, i, 4, 0);
        k->retired_at = rn_rows_int(rows, i, 5, 0);
        cache.count++;
        if (strcmp(rn_rows_get(rows, i, 3), "current") != 0 || cache.has_current)
            continue;
        cache.has_current = true;
        snprintf(cache.current_kid, sizeof cache.current_kid, "%s", k->kid);
        open_current(master, rn_rows_get(rows, i, 2), k->pk);
    }
    rn_rows_free(rows);
    cache.loaded = true;
    cache.loaded_mono = rn_mono_ms();
    return 0;
}

static bool stale(void)
{
    return !cache.loaded || rn_mono_ms() - cache.loaded_mono >= RN_KEYRING_CACHE_MS;
}

/* Inserts a new current key. The unique index on the current status makes a
 * concurrent second insert fail instead of leaving two current keys. */
static int insert_key(rn_db *db, const unsigned char master[32], long long now,
                      char kid[RN_KID_MAX])
{
    unsigned char seed[SEED_LEN], pk[RN_JWS_PUBLIC_KEY_LEN], sk[RN_JWS_SECRET_KEY_LEN];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(sk, sizeof sk);
    char *sealed = rn_seal(master, seed, sizeof seed);
    sodium_memzero(seed, sizeof seed);
    char *x = rn_b64url_encode(pk, sizeof pk);
    rn_id_new("sk", kid, RN_KID_MAX);
    long long n = -1;
    if (sealed && x)
        n = rn_db_exec(db,
                       "INSERT INTO signing_keys (kid, alg, public_key, private_key, status,"
                       " created_at) VALUES ($1, 'EdDSA', $2, $3, 'current', $4)",
                       RN_PARAMS(RN_T(kid), RN_T(x), RN_T(sealed), RN_I(now)));
    free(sealed);
    free(x);
    return n == 1 ? 0 : -1;
}

int rn_keyring_current(rn_db *db, const unsigned char master[32], rn_signing_key *out)
{
    int rc = 0;
    pthread_mutex_lock(&cache.lock);
    if ((stale() || !cache.has_secret) && load(db, master) != 0 && !cache.has_secret)
        rc = -1;
    if (rc == 0 && !cache.has_current) {
        char kid[RN_KID_MAX];
        /* Another node may win the race to create the first key: reload
         * either way and use whichever key is current. */
        if (insert_key(db, master, rn_now_ms(), kid) == 0) {
            json_t *f = json_pack("{s:s}", "kid", kid);
            rn_log(RN_LOG_INFO, "created the first signing key", f);
            json_decref(f);
        }
        rc = load(db, master);
    }
    if (rc == 0 && !cache.has_secret)
        rc = -1;
    if (rc == 0) {
        snprintf(out->kid, sizeof out->kid, "%s", cache.current_kid);
        memcpy(out->sk, cache.current_sk, sizeof out->sk);
    }
    pthread_mutex_unlock(&cache.lock);
    return rc;
}

static const cached_key *find(const char *kid)
{
    for (int i = 0; i < cache.count; i++)
        if (strcmp(cache.keys[i].kid, kid) == 0)
            return &cache.keys[i];
    return NULL;
}

int rn_keyring_public(rn_db *db, const unsigned char master[32], const char *kid,
                      unsigned char pk[RN_JWS_PUBLIC_KEY_LEN])
{
    int rc = 0;
    pthread_mutex_lock(&cache.lock);
    bool reloaded = stale();
    if (reloaded && load(db, master) != 0 && !cache.loaded)
        rc = -1;
    const cached_key *k = rc == 0 ? find(kid) : NULL;
    /* Only kids we could have issued are worth a trip to the store. */
    if (rc == 0 && !k && !reloaded && rn_id_valid("sk", kid)) {
        rc = load(db, master);
        k = rc == 0 ? find(kid) : NULL;
    }
    if (rc == 0 && (!k || !still_verifies(k, rn_now_ms())))
        rc = RN_KEYRING_UNKNOWN;
    if (rc == 0)
        memcpy(pk, k->pk, RN_JWS_PUBLIC_KEY_LEN);
    pthread_mutex_unlock(&cache.lock);
    return rc;
}

static json_t *jwk(const cached_key *k)
{
    char *x = rn_b64url_encode(k->pk, sizeof k->pk);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                          x ? x : "", "kid", k->kid, "use", "sig", "alg", "EdDSA");
    free(x);
    return j;
}

json_t *rn_keyring_jwks(rn_db *db, const unsigned char master[32])
{
    json_t *keys = NULL;
    pthread_mutex_lock(&cache.lock);
    if (!stale() || load(db, master) == 0 || cache.loaded) {
        keys = json_array();
        long long now = rn_now_ms();
        for (int i = 0; i < cache.count; i++)
            if (still_verifies(&cache.keys[i], now))
                json_array_append_new(keys, jwk(&cache.keys[i]));
    }
    pthread_mutex_unlock(&cache.lock);
    return keys ? json_pack("{s:o}", "keys", keys) : NULL;
}

static json_t *time_or_null(long long ms)
{
    char buf[32];
    if (ms <= 0)
        return json_null();
    rn_time_format(ms, buf, sizeof buf);
    return json_string(buf);
}

/* One rotation attempt: 0, or -1 with the transaction rolled back. */
static int rotate_once(rn_db *db, const unsigned char master[32], char kid[RN_KID_MAX],
                       char retired[RN_KID_MAX], long long *now)
{
    *now = rn_now_ms();
    retired[0] = '\0';
    if (rn_db_begin(db) != 0)
        return -1;
    rn_rows *rows = rn_db_query(db, "SELECT kid FROM signing_keys WHERE status = 'current'",
                                RN_NOPARAMS);
    if (rows && rn_rows_count(rows) == 1)
        snprintf(retired, RN_KID_MAX, "%s", rn_rows_get(rows, 0, 0));
    long long n = rows ? rn_db_exec(db,
                                    "UPDATE signing_keys SET status = 'retired', retired_at = $1,"
                                    " private_key = NULL WHERE status = 'current'",
                                    RN_PARAMS(RN_I(*now)))
                       : -1;
    rn_rows_free(rows);
    if (n < 0 || insert_key(db, master, *now, kid) != 0 || rn_db_commit(db) != 0) {
        rn_db_rollback(db);
        return -1;
    }
    return 0;
}

int rn_keyring_rotate(rn_db *db, const unsigned char master[32], json_t **out)
{
    char kid[RN_KID_MAX], retired[RN_KID_MAX];
    long long now = 0;
    int rc = -1;
    /* A concurrent rotation on another node makes ours fail on the unique
     * current index (PostgreSQL) or wait for the lock (SQLite): try again. */
    for (int i = 0; i < ROTATE_ATTEMPTS && rc != 0; i++)
        rc = rotate_once(db, master, kid, retired, &now);
    if (rc != 0)
        return -1;
    rn_keyring_forget();
    *out = json_pack("{s:s, s:s, s:s, s:o, s:o}", "kid", kid, "alg", "EdDSA", "status",
                     "current", "createdAt", time_or_null(now), "retiredKid",
                     retired[0] ? json_string(retired) : json_null());
    return 0;
}

static const char *status_of(const char *stored, long long retired_at, long long now)
{
    if (strcmp(stored, "current") == 0)
        return "current";
    return retired_at + RN_KEYRING_GRACE_MS > now ? "retired" : "expired";
}

int rn_keyring_list(rn_db *db, json_t **out)
{
    rn_rows *rows = rn_db_query(db, "SELECT kid, alg, status, created_at, retired_at"
                                    " FROM signing_keys ORDER BY CASE WHEN status = 'current'"
                                    " THEN 0 ELSE 1 END, created_at DESC, kid DESC",
                                RN_NOPARAMS);
    if (!rows)
        return -1;
    long long now = rn_now_ms();
    *out = json_array();
    for (int i = 0; i < rn_rows_count(rows); i++) {
        long long retired = rn_rows_int(rows, i, 4, 0);
        json_array_append_new(
            *out, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "kid", rn_rows_get(rows, i, 0),
                            "alg", rn_rows_get(rows, i, 1), "status",
                            status_of(rn_rows_get(rows, i, 2), retired, now), "createdAt",
                            time_or_null(rn_rows_int(rows, i, 3, 0)), "retiredAt",
                            time_or_null(retired), "verifiesUntil",
                            time_or_null(retired ? retired + RN_KEYRING_GRACE_MS : 0)));
    }
    rn_rows_free(rows);
    return 0;
}

void rn_keyring_forget(void)
{
    pthread_mutex_lock(&cache.lock);
    cache.loaded = false;
    cache.count = 0;
    cache.has_current = cache.has_secret = false;
    sodium_memzero(cache.current_sk, sizeof cache.current_sk);
    pthread_mutex_unlock(&cache.lock);
}
