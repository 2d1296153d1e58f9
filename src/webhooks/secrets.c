/*
 * secrets.c — destination secrets: generated or chosen, sealed at rest,
 * opened to sign. They cannot be hashed like server keys: the dispatcher
 * needs the secret itself to compute every HMAC. They are sealed with
 * rn_seal under a subkey of the master key reserved for this purpose, so a
 * leak of another subkey's ciphertexts says nothing about these.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "tokens/jws.h"
#include "webhooks/internal.h"

#define SEAL_SUBKEY_ID 1
static const char SEAL_CONTEXT[crypto_kdf_CONTEXTBYTES + 1] = "rnwhsec1";

static void seal_key(const unsigned char master[32], unsigned char key[32])
{
    crypto_kdf_derive_from_key(key, 32, SEAL_SUBKEY_ID, SEAL_CONTEXT, master);
}

void wh_secret_generate(char *out, size_t cap)
{
    char random[33];
    rn_random_base62(random, 32);
    snprintf(out, cap, "whsec_%s", random);
    sodium_memzero(random, sizeof random);
}

bool wh_secret_acceptable(const char *s)
{
    size_t n = strlen(s);
    if (n < WH_SECRET_MIN || n > WH_SECRET_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    return true;
}

char *wh_secret_seal(const unsigned char master[32], const char *secret)
{
    unsigned char key[32];
    seal_key(master, key);
    char *sealed = rn_seal(key, (const unsigned char *)secret, strlen(secret));
    sodium_memzero(key, sizeof key);
    return sealed;
}

int wh_secret_open(const unsigned char master[32], const char *sealed, char *out, size_t cap)
{
    if (!sealed || cap < 2)
        return -1;
    unsigned char key[32];
    size_t len = 0;
    seal_key(master, key);
    int rc = rn_unseal(key, sealed, (unsigned char *)out, cap - 1, &len);
    sodium_memzero(key, sizeof key);
    if (rc != 0)
        return -1;
    out[len] = '\0';
    return strlen(out) == len ? 0 : -1;
}

int wh_secrets_open(const unsigned char master[32], const char *sealed, const char *old_sealed,
                    long long old_until, long long now_ms, char *secret, char *old, size_t cap)
{
    old[0] = '\0';
    if (wh_secret_open(master, sealed, secret, cap) != 0)
        return -1;
    if (old_sealed && old_until > now_ms && wh_secret_open(master, old_sealed, old, cap) != 0)
        return -1;
    return 0;
}

void wh_signature_header(const char *secret, const char *old_secret, long long timestamp,
                         const char *body, size_t len, char *out, size_t cap)
{
    char now[RN_SIGNATURE_LEN], before[RN_SIGNATURE_LEN];
    rn_webhook_signature(secret, timestamp, body, len, now, sizeof now);
    if (!old_secret || !old_secret[0]) {
        snprintf(out, cap, "%s", now);
        return;
    }
    rn_webhook_signature(old_secret, timestamp, body, len, before, sizeof before);
    snprintf(out, cap, "%s %s", now, before);
}
