/* Placeholder until the dashboard module lands: no dashboard route exists
 * yet, so nothing reaches this. Replaced by src/dashboard. (The SDK-token
 * half of the former stub is implemented in src/sdk/auth.c.) */
#include "auth/auth.h"

int rn_auth_dashboard(rn_req *r)
{
    rn_reply_error(r, RN_SERVER_ROUTE_NOT_FOUND, NULL, NULL);
    return -1;
}
