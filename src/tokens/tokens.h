/*
 * tokens.h — SDK tokens: what they claim, how they are minted and how they
 * are verified (SPEC §5). HTTP handlers live in tokens/api.c (minting) and
 * src/sdk/ (using them); both go through the functions below.
 *
 * A token is a compact JWS (EdDSA, jws.h) signed with the deployment's
 * current key (keyring.h). Its claims are exactly:
 *
 *   iss       the server's public URL (RINGNITY_PUBLIC_URL)
 *   aud       "ringnity:visitor" | "ringnity:agent" | "ringnity:admin"
 *   sub       agent/admin: the staff id (stf_...), which survives renames;
 *             visitor: an opaque visitor id (vis_...): derived from
 *             (tenant, externalId) with a keyed hash when the visitor has an
 *             externalId, so one visitor keeps one id, else random
 *   tid       the tenant id
 *   scope     the granted scopes, space separated, catalogue order
 *   iat, nbf  the minting second (nbf = iat)
 *   exp       iat + expiresIn
 *   jti       a unique token id (tok_...)
 *   mintedBy  the id of the server key that minted it (key_...)
 *   ctx       visitor tokens only: {"visitor": {...}, "metadata": {...}}
 *
 * Verification accepts nothing else than what minting produces: EdDSA with a
 * kid that still verifies, the configured issuer, the exact audience, the
 * claim types above, nbf with RN_TOKEN_NBF_LEEWAY_S of clock-skew leeway
 * and exp with none (a token is expired from its `exp` second on).
 *
 * Memory: json_t results are new references (caller decrefs); strings in
 * rn_token_minted are malloc'd (rn_token_minted_free).
 */
#ifndef RN_TOKENS_TOKENS_H
#define RN_TOKENS_TOKENS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"

#define RN_AUD_VISITOR "ringnity:visitor"
#define RN_AUD_AGENT "ringnity:agent"
#define RN_AUD_ADMIN "ringnity:admin"

#define RN_TOKEN_TTL_DEFAULT_S 900
#define RN_TOKEN_TTL_MIN_S 60
#define RN_TOKEN_TTL_MAX_S 3600
#define RN_TOKEN_NBF_LEEWAY_S 5
/* Largest serialized visitor context (the `ctx` claim), in bytes. */
#define RN_VISITOR_CONTEXT_MAX 4096

/* Scope catalogues (NULL-terminated, in canonical order) and defaults. */
extern const char *const RN_AGENT_SCOPES[];
extern const char *const RN_ADMIN_SCOPES[];
extern const char *const RN_AGENT_DEFAULT_SCOPES[];
extern const char *const RN_ADMIN_DEFAULT_SCOPES[];
/* What a visitor context token lets the browser do. */
#define RN_VISITOR_SCOPE "visitor:session:write visitor:messages:read visitor:messages:write"

/* Canonicalises a requested scope list: `requested` is the body's `scopes`
 * member (NULL or JSON null -> the defaults). Writes the granted scopes,
 * space separated, deduplicated, in catalogue order. Returns 0; -1 after
 * adding a details entry when the value is not a non-empty array of strings;
 * -2 after adding one "unknown_scope" entry per unknown scope ("scopes[i]"). */
int rn_token_scopes(json_t *requested, const char *const *catalogue,
                    const char *const *defaults, char *out, size_t cap, json_t *details);
/* A JSON array of the space-separated scopes (new reference). */
json_t *rn_token_scope_array(const char *scopes);

/* What to mint. Every string is borrowed. */
typedef struct {
    const char *issuer;
    const char *audience;
    const char *subject;
    const char *tenant_id;
    const char *scope;
    const char *minted_by;
    long long ttl_s;
    long long now_ms;
    json_t *ctx; /* visitor context object, or NULL */
} rn_token_spec;

typedef struct {
    char *token;
    char jti[48];
    long long iat, exp; /* seconds */
} rn_token_minted;

/* The claims of spec with jti (new reference). Pure; used by rn_token_mint. */
json_t *rn_token_claims(const rn_token_spec *spec, const char *jti);

/* Signs spec's claims with the current key. 0, or -1 (store unreachable or
 * the current key cannot be opened: see the log). */
int rn_token_mint(rn_db *db, const unsigned char master[32], const rn_token_spec *spec,
                  rn_token_minted *out);
void rn_token_minted_free(rn_token_minted *m);

/* The `ctx` claim of a visitor context token, from the request body's
 * `visitor` ({externalId, name, phone, email}) and `metadata` (flat object
 * of strings, numbers, booleans and nulls) members. Text is trimmed; empty
 * and null visitor fields are left out. Returns RN_CONTEXT_OK with *ctx = a
 * new {"visitor": {...}, "metadata": {...}}; RN_CONTEXT_INVALID after adding
 * details; RN_CONTEXT_EMPTY when neither holds a usable value (a non-empty
 * visitor field, or a metadata entry that is not null); RN_CONTEXT_TOO_LARGE
 * when its compact JSON exceeds RN_VISITOR_CONTEXT_MAX bytes. */
typedef enum {
    RN_CONTEXT_OK = 0,
    RN_CONTEXT_INVALID,
    RN_CONTEXT_EMPTY,
    RN_CONTEXT_TOO_LARGE
} rn_context_result;
rn_context_result rn_visitor_context(json_t *body, json_t **ctx, json_t *details);

/* The visitor id for sub: keyed by the master key when external_id is set. */
void rn_token_visitor_id(const unsigned char master[32], const char *tenant_id,
                         const char *external_id, char out[48]);

typedef enum {
    RN_TOKEN_OK = 0,
    RN_TOKEN_INVALID,   /* anything wrong with the token itself */
    RN_TOKEN_EXPIRED,   /* authentic and well-formed, but past its exp */
    RN_TOKEN_STORE_DOWN /* keys could not be read */
} rn_token_status;

typedef struct {
    const char *issuer;
    const char *audience;
    long long now_ms;
} rn_token_expect;

/* Verifies a compact token against want. On RN_TOKEN_OK *claims gets the
 * claims (new reference). *why (never NULL) names the failed check for logs:
 * a fixed string, never token content. */
rn_token_status rn_token_verify(rn_db *db, const unsigned char master[32], const char *token,
                                const rn_token_expect *want, json_t **claims, const char **why);

#endif
