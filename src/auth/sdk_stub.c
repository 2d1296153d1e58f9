/* Placeholder until the SDK-token module lands: no SDK route exists yet, so
 * nothing reaches these. Replaced by src/tokens and src/dashboard. */
#include "auth/auth.h"

int rn_auth_sdk_token(rn_req *r)
{
    rn_reply_error(r, RN_SDK_TOKEN_INVALID, NULL, NULL);
    return -1;
}

int rn_auth_dashboard(rn_req *r)
{
    rn_reply_error(r, RN_SERVER_ROUTE_NOT_FOUND, NULL, NULL);
    return -1;
}
