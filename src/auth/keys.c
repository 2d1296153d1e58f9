#include "auth/keys.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

void rn_key_generate(const char *prefix, char *out, size_t cap)
{
    char random[RN_KEY_RANDOM_CHARS + 1];
    rn_random_base62(random, RN_KEY_RANDOM_CHARS);
    snprintf(out, cap, "%s%s", prefix, random);
    sodium_memzero(random, sizeof random);
}

bool rn_key_well_formed(const char *secret, const char *prefix)
{
    size_t plen = strlen(prefix), len = strlen(secret);
    if (strncmp(secret, prefix, plen) != 0 || len < plen + 32 || len > plen + 128)
        return false;
    const char *alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    return strspn(secret + plen, alphabet) == len - plen;
}

void rn_key_hash(const unsigned char pepper[32], const char *secret, char out[RN_KEY_HASH_HEX])
{
    /* Every authenticated request hashes its key: the HMAC's keyed start
     * state is computed once per thread and pepper, then copied. */
    static _Thread_local unsigned char keyed_pepper[32];
    static _Thread_local bool keyed;
    static _Thread_local crypto_auth_hmacsha256_state keyed_state;
    if (!keyed || sodium_memcmp(keyed_pepper, pepper, 32) != 0) {
        crypto_auth_hmacsha256_init(&keyed_state, pepper, 32);
        memcpy(keyed_pepper, pepper, 32);
        keyed = true;
    }
    crypto_auth_hmacsha256_state st = keyed_state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    rn_hex(mac, sizeof mac, out, RN_KEY_HASH_HEX);
}

void rn_key_display(const char *secret, char *prefix, size_t prefixcap, char last4[5])
{
    size_t len = strlen(secret);
    const char *underscore = strrchr(secret, '_');
    size_t head = underscore ? (size_t)(underscore - secret) + 1 : 0;
    snprintf(prefix, prefixcap, "%.*s", (int)(head + RN_KEY_DISPLAY_PREFIX_CHARS), secret);
    snprintf(last4, 5, "%s", len >= 4 ? secret + len - 4 : secret);
}

void rn_key_pepper(const unsigned char master[32], unsigned char pepper[32])
{
    crypto_kdf_derive_from_key(pepper, 32, 1, "keyhash_", master);
}
