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
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, (const unsigned char *)secret, strlen(secret), pepper);
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
