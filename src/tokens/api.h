/*
 * tokens/api.h — the HTTP face of SDK tokens on the server side: the three
 * minting endpoints (server key + scope, checked by the pipeline) and the
 * public JWKS. Each mint is audited (sdk_token.<kind>.created) with the
 * username or visitor id, the token id and scopes; never the token.
 */
#ifndef RN_TOKENS_API_H
#define RN_TOKENS_API_H

#include "http/http.h"

/* POST /api/server/visitor-context-token */
void rn_tokens_mint_visitor(rn_req *r);
/* POST /api/server/sdk-token/agent */
void rn_tokens_mint_agent(rn_req *r);
/* POST /api/server/sdk-token/admin */
void rn_tokens_mint_admin(rn_req *r);
/* GET /.well-known/jwks.json */
void rn_tokens_jwks(rn_req *r);

#endif
