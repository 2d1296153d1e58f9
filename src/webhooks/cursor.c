/*
 * cursor.c — opaque, tamper-evident list cursors.
 *
 * A cursor is base64url(tag || last id), where tag is a 16-byte keyed
 * BLAKE2b of (list name, last id) under a subkey of the master key. The list
 * name includes the filters, so a cursor only works on the list (and the
 * filters) that produced it; any change to it fails the tag. Lists are
 * keyset-paginated by id, so concurrent inserts and deletes neither skip nor
 * repeat rows.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "tokens/jws.h"
#include "webhooks/internal.h"

#define TAG_LEN 16
#define LAST_ID_MAX 64
#define CURSOR_SUBKEY_ID 2
static const char CURSOR_CONTEXT[crypto_kdf_CONTEXTBYTES + 1] = "rnwhcur1";

static void cursor_tag(const unsigned char master[32], const char *list, const char *last_id,
                       size_t id_len, unsigned char tag[TAG_LEN])
{
    unsigned char key[32];
    crypto_kdf_derive_from_key(key, sizeof key, CURSOR_SUBKEY_ID, CURSOR_CONTEXT, master);
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, sizeof key, TAG_LEN);
    /* The NUL keeps ("ab", "c") and ("a", "bc") apart. */
    crypto_generichash_update(&st, (const unsigned char *)list, strlen(list) + 1);
    crypto_generichash_update(&st, (const unsigned char *)last_id, id_len);
    crypto_generichash_final(&st, tag, TAG_LEN);
    sodium_memzero(key, sizeof key);
}

char *wh_cursor_encode(const unsigned char master[32], const char *list, const char *last_id)
{
    size_t n = strlen(last_id);
    if (n > LAST_ID_MAX)
        return NULL;
    unsigned char raw[TAG_LEN + LAST_ID_MAX];
    cursor_tag(master, list, last_id, n, raw);
    memcpy(raw + TAG_LEN, last_id, n);
    return rn_b64url_encode(raw, TAG_LEN + n);
}

int wh_cursor_decode(const unsigned char master[32], const char *list, const char *cursor,
                     char *last_id, size_t cap)
{
    unsigned char *raw = NULL, tag[TAG_LEN];
    size_t len = 0;
    size_t clen = strlen(cursor);
    if (clen == 0 || clen > 2 * (TAG_LEN + LAST_ID_MAX) ||
        rn_b64url_decode(cursor, clen, &raw, &len) != 0)
        return -1;
    size_t id_len = len > TAG_LEN ? len - TAG_LEN : 0;
    int ok = id_len > 0 && id_len < cap && memchr(raw + TAG_LEN, '\0', id_len) == NULL;
    if (ok) {
        memcpy(last_id, raw + TAG_LEN, id_len);
        last_id[id_len] = '\0';
        cursor_tag(master, list, last_id, id_len, tag);
        ok = sodium_memcmp(tag, raw, TAG_LEN) == 0;
    }
    free(raw);
    return ok ? 0 : -1;
}
