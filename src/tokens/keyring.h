/*
 * keyring.h — the deployment's Ed25519 signing keys for SDK tokens.
 *
 * Signing keys belong to the deployment, not to a tenant: one current key
 * signs every tenant's tokens, and each token names its tenant in `tid`,
 * which verification checks against the store. So the signing_keys table is
 * global (no tenant_id) and is administered only from the CLI.
 *
 * A key has a kid ("sk_" + 26 time-sortable characters), its public key
 * (base64url, stored plain) and, while it is the current key, its 32-byte
 * Ed25519 seed sealed with the master key (rn_seal). Rotation retires the
 * current key and erases its sealed seed (a retired key never signs again),
 * then makes a new key current. A retired key keeps verifying tokens, and
 * stays in the JWKS, for RN_KEYRING_GRACE_MS after its retirement: the
 * longest token lifetime plus a margin for minting nodes that still used it
 * from their cache, and for clock skew. After that it is "expired" and no
 * token it signed can still be valid.
 *
 * Every node reads keys from the store. A process caches them for at most
 * RN_KEYRING_CACHE_MS; a verifier that meets a kid it does not know reloads
 * at once before refusing, so a key rotated on another node verifies
 * everywhere immediately and minting nodes switch to it within the cache
 * lifetime. The first key is created lazily, by the first mint.
 *
 * The cache is process-wide and assumes one store per process (tests call
 * rn_keyring_forget when they switch stores). All functions are thread-safe.
 * Return values: 0 success, -1 store failure (or, for rn_keyring_current, a
 * current key that this master key cannot open), RN_KEYRING_UNKNOWN where a
 * kid is unknown or expired.
 */
#ifndef RN_TOKENS_KEYRING_H
#define RN_TOKENS_KEYRING_H

#include <jansson.h>

#include "store/db.h"
#include "tokens/jws.h"

#define RN_KID_MAX 48
#define RN_KEYRING_CACHE_MS 2000LL
/* Longest SDK token lifetime (seconds); see tokens.h. */
#define RN_KEYRING_MAX_TTL_S 3600LL
#define RN_KEYRING_GRACE_MS ((RN_KEYRING_MAX_TTL_S + 60) * 1000LL)

enum { RN_KEYRING_UNKNOWN = 1 };

/* The current signing key. Callers wipe sk (sodium_memzero) after use. */
typedef struct {
    char kid[RN_KID_MAX];
    unsigned char sk[RN_JWS_SECRET_KEY_LEN];
} rn_signing_key;

/* Fills out with the current key, creating the deployment's first key when
 * the store has none. */
int rn_keyring_current(rn_db *db, const unsigned char master[32], rn_signing_key *out);

/* The public key of kid if it may still verify tokens (current, or retired
 * less than RN_KEYRING_GRACE_MS ago). An unknown kid triggers one reload. */
int rn_keyring_public(rn_db *db, const unsigned char master[32], const char *kid,
                      unsigned char pk[RN_JWS_PUBLIC_KEY_LEN]);

/* {"keys": [JWK...]}: the current key first, then retired keys still in
 * their grace period, newest first. New reference, or NULL on store failure. */
json_t *rn_keyring_jwks(rn_db *db, const unsigned char master[32]);

/* Makes a new key current and retires the previous one, in one transaction.
 * *out: {kid, alg, status, createdAt, retiredKid (or null)}. */
int rn_keyring_rotate(rn_db *db, const unsigned char master[32], json_t **out);

/* Every key, the current one first, then newest first: {kid, alg, status (current|retired|expired),
 * createdAt, retiredAt, verifiesUntil}. Reads the store, not the cache. */
int rn_keyring_list(rn_db *db, json_t **out);

/* Drops the process cache (and wipes the cached secret key). */
void rn_keyring_forget(void);

#endif
