/*
 * keys.h — server and widget key secrets: generation, format, peppered hash.
 *
 * A server key is "rn_sk_live_" + 40 base62 characters from the CSPRNG. Only
 * HMAC-SHA256(pepper, secret) is stored, with a display prefix and the last
 * four characters. The pepper is derived from the master key.
 */
#ifndef RN_AUTH_KEYS_H
#define RN_AUTH_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define RN_SERVER_KEY_PREFIX "rn_sk_live_"
#define RN_WIDGET_KEY_PREFIX "rn_pk_live_"
#define RN_KEY_RANDOM_CHARS 40
#define RN_KEY_HASH_HEX 65
#define RN_KEY_DISPLAY_PREFIX_CHARS 4

/* Writes prefix + 40 random base62 characters; out >= 64. */
void rn_key_generate(const char *prefix, char *out, size_t cap);
/* True if secret is prefix + 32..128 base62 characters. */
bool rn_key_well_formed(const char *secret, const char *prefix);
/* Lower-case hex HMAC-SHA256(pepper, secret) into out (RN_KEY_HASH_HEX bytes). */
void rn_key_hash(const unsigned char pepper[32], const char *secret, char out[RN_KEY_HASH_HEX]);
/* Display parts: prefix ("rn_sk_live_" + first 4 random chars) and last 4. */
void rn_key_display(const char *secret, char *prefix, size_t prefixcap, char last4[5]);
/* Derives the key-hash pepper from the 32-byte master key. */
void rn_key_pepper(const unsigned char master[32], unsigned char pepper[32]);

#endif
