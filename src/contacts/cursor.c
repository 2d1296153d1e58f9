/*
 * cursor.c — opaque, tamper-proof list cursors.
 *
 * A cursor carries one list position (an insertion counter). The position is
 * encrypted, not just signed: the counter is global to the store, so in the
 * clear it would tell a tenant how much other tenants write. The box is
 * XChaCha20-Poly1305 with a random nonce, keyed by a subkey of the master
 * key; the list name, tenant and filter are its associated data, so a
 * cursor opened with any other list, tenant or filter fails authentication.
 *
 *   cursor = base64url(version(1) || nonce(24) || box(position, 8 bytes) || tag(16))
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contacts/model.h"

#define CURSOR_VERSION 1
#define CURSOR_KDF_ID 1
#define CURSOR_KDF_CONTEXT "rncursor" /* exactly crypto_kdf_CONTEXTBYTES */
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define RAW_BYTES (1 + NONCE_BYTES + 8 + TAG_BYTES)

/* Associated data: list \0 tenant \0 filter, in one malloc'd buffer. */
static unsigned char *associated(const char *list, const char *tenant, const char *filter,
                                 size_t *len)
{
    size_t a = strlen(list), b = strlen(tenant), c = filter ? strlen(filter) : 0;
    *len = a + b + c + 2;
    unsigned char *ad = malloc(*len);
    if (!ad)
        return NULL;
    memcpy(ad, list, a);
    ad[a] = 0;
    memcpy(ad + a + 1, tenant, b);
    ad[a + 1 + b] = 0;
    if (c)
        memcpy(ad + a + b + 2, filter, c);
    return ad;
}

static void derive(const unsigned char master_key[32], unsigned char key[32])
{
    crypto_kdf_derive_from_key(key, 32, CURSOR_KDF_ID, CURSOR_KDF_CONTEXT, master_key);
}

int rn_cursor_seal(const unsigned char master_key[32], const char *list, const char *tenant_id,
                   const char *filter, long long position, char *out, size_t cap)
{
    if (cap < sodium_base64_ENCODED_LEN(RAW_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return -1;
    size_t adlen;
    unsigned char *ad = associated(list, tenant_id, filter, &adlen);
    if (!ad)
        return -1;
    unsigned char key[32], raw[RAW_BYTES], plain[8];
    uint64_t pos = (uint64_t)position;
    for (int i = 0; i < 8; i++)
        plain[i] = (unsigned char)(pos >> (56 - 8 * i));
    raw[0] = CURSOR_VERSION;
    randombytes_buf(raw + 1, NONCE_BYTES);
    derive(master_key, key);
    crypto_aead_xchacha20poly1305_ietf_encrypt(raw + 1 + NONCE_BYTES, NULL, plain, sizeof plain,
                                               ad, adlen, NULL, raw + 1, key);
    sodium_memzero(key, sizeof key);
    free(ad);
    sodium_bin2base64(out, cap, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

int rn_cursor_open(const unsigned char master_key[32], const char *list, const char *tenant_id,
                   const char *filter, const char *cursor, long long *position)
{
    unsigned char raw[RAW_BYTES + 1], plain[8], key[32];
    size_t rawlen = 0;
    const char *end = NULL;
    if (sodium_base642bin(raw, sizeof raw, cursor, strlen(cursor), NULL, &rawlen, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        *end != '\0' || rawlen != RAW_BYTES || raw[0] != CURSOR_VERSION)
        return -1;
    size_t adlen;
    unsigned char *ad = associated(list, tenant_id, filter, &adlen);
    if (!ad)
        return -1;
    derive(master_key, key);
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, raw + 1 + NONCE_BYTES,
                                                        8 + TAG_BYTES, ad, adlen, raw + 1, key);
    sodium_memzero(key, sizeof key);
    free(ad);
    if (rc != 0)
        return -1;
    uint64_t pos = 0;
    for (int i = 0; i < 8; i++)
        pos = (pos << 8) | plain[i];
    if (pos > (uint64_t)INT64_MAX)
        return -1;
    *position = (long long)pos;
    return 0;
}
