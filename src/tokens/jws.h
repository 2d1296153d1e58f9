/*
 * Compact JWS (RFC 7515) signed with EdDSA over Ed25519 (RFC 8037), plus
 * sealing of small secrets under the server master key.
 *
 * This module knows nothing about SDK claims, audiences or expiry: it turns a
 * JSON object into a signed token and back, and it is strict about the token
 * shape so that callers can trust what rn_jws_verify returns. Claim checks
 * (iss, aud, exp, scope, ...) belong to the caller.
 *
 * Memory: every char * and json_t * returned here is owned by the caller
 * (free() and json_decref() respectively). Inputs are never retained. Secret
 * keys and master keys stay in the caller's buffers; this module copies no
 * key material to the heap.
 *
 * Every entry point calls sodium_init() itself (it is idempotent and
 * thread-safe), so callers need not, although start-up code should still call
 * it once to fail early if the library cannot initialise.
 */
#ifndef RN_TOKENS_JWS_H
#define RN_TOKENS_JWS_H

#include <stddef.h>

#include <jansson.h>

/* Longest token rn_jws_verify accepts and rn_jws_sign produces, in bytes. */
#define RN_JWS_MAX_TOKEN_LEN 8192

/* Length of the libsodium Ed25519 keys and signatures used here. */
#define RN_JWS_SECRET_KEY_LEN 64
#define RN_JWS_PUBLIC_KEY_LEN 32
#define RN_JWS_SIGNATURE_LEN 64

/* Master key length for rn_seal / rn_unseal. */
#define RN_SEAL_KEY_LEN 32

/*
 * base64url (RFC 4648 section 5) without padding. Returns a malloc'd
 * NUL-terminated string (caller frees), or NULL on allocation failure or when
 * in is NULL with len > 0. Encoding zero bytes yields "".
 */
char *rn_b64url_encode(const unsigned char *in, size_t len);

/*
 * Strict base64url decoding of exactly len characters of in. Rejects '='
 * padding, '+', '/', whitespace, NUL and every other byte outside the
 * alphabet, a length of 1 mod 4, and encodings whose unused trailing bits are
 * not zero (so every byte string has exactly one accepted encoding).
 * Returns 0 and sets *out to a malloc'd buffer of *outlen bytes (caller frees;
 * one spare NUL byte follows the data, not counted in *outlen), or -1 with
 * *out = NULL and *outlen = 0.
 */
int rn_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);

typedef enum {
    RN_JWS_OK = 0,
    RN_JWS_MALFORMED,     /* shape, encoding, JSON, kid/typ/crit or length problem */
    RN_JWS_BAD_ALG,       /* header alg missing or anything other than "EdDSA" */
    RN_JWS_UNKNOWN_KID,   /* the lookup callback does not know the kid */
    RN_JWS_BAD_SIGNATURE  /* well-formed, known kid, signature does not verify */
} rn_jws_error;

/*
 * Signs claims (must be a JSON object) as a compact JWS. The protected header
 * is {"alg":"EdDSA","kid":kid,"typ":"JWT"} and the payload is
 * json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS), so equal claims give
 * equal tokens. sk is a libsodium Ed25519 secret key (seed || public key).
 * Returns a malloc'd token (caller frees), or NULL if claims is not an
 * object, kid is NULL or empty, encoding fails, or the token would exceed
 * RN_JWS_MAX_TOKEN_LEN (rn_jws_verify would reject it).
 */
char *rn_jws_sign(const json_t *claims, const char *kid, const unsigned char sk[64]);

/*
 * Fills pk with the 32-byte Ed25519 public key for kid and returns 0, or
 * returns -1 if kid is unknown. kid is a non-empty NUL-terminated string
 * taken from the (not yet authenticated) token header.
 */
typedef int (*rn_jws_key_lookup)(void *ctx, const char *kid, unsigned char pk[32]);

/*
 * Verifies a compact token and returns its claims (caller json_decref), or
 * NULL with *err set (err may be NULL). Checks, in this order:
 *   - token non-NULL, at most RN_JWS_MAX_TOKEN_LEN bytes, exactly three
 *     '.'-separated parts, header and payload parts non-empty   -> MALFORMED
 *   - header: strict base64url of a JSON object without duplicate keys
 *                                                               -> MALFORMED
 *   - header alg is exactly the string "EdDSA"                  -> BAD_ALG
 *   - header kid is a non-empty string, no "crit" member, typ absent or
 *     exactly "JWT"                                             -> MALFORMED
 *   - payload part is strict base64url; signature part decodes to exactly
 *     64 bytes                                                  -> MALFORMED
 *   - lookup(ctx, kid, pk) == 0                                 -> UNKNOWN_KID
 *   - Ed25519 signature over "b64header.b64payload"             -> BAD_SIGNATURE
 *   - payload is a JSON object without duplicate keys           -> MALFORMED
 * The payload JSON is parsed only after the signature verifies. Reads at most
 * RN_JWS_MAX_TOKEN_LEN + 1 bytes of token.
 */
json_t *rn_jws_verify(const char *token, rn_jws_key_lookup lookup, void *ctx, rn_jws_error *err);

/*
 * Seals len bytes of plain under the 32-byte master key with
 * crypto_secretbox_easy (XSalsa20-Poly1305) and a fresh random nonce.
 * Returns a malloc'd string "v1." + base64url(nonce || ciphertext) (caller
 * frees), or NULL on bad arguments or allocation failure. Sealing the same
 * secret twice gives different strings.
 */
char *rn_seal(const unsigned char master[32], const unsigned char *plain, size_t len);

/*
 * Opens a string made by rn_seal. On success writes *outlen bytes to out
 * (which has room for outcap bytes) and returns 0. Returns -1, writing
 * nothing to out, if the format is wrong, the key is wrong, the data was
 * altered or truncated, or the secret does not fit in outcap.
 */
int rn_unseal(const unsigned char master[32], const char *sealed, unsigned char *out,
              size_t outcap, size_t *outlen);

#endif
