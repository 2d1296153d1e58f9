/*
 * routes.c — the one route table: method, path, authentication, scope,
 * handler. Literal segments win over {parameters} whatever the order, but
 * keep each capability's rows together.
 */
#include "api/system.h"
#include "http/router.h"

#define PUBLIC(m, p, h) {m, p, RN_AUTH_NONE, NULL, NULL, h, RN_BODY_JSON}
#define SERVER(m, p, scope, h) {m, p, RN_AUTH_SERVER_KEY, scope, NULL, h, RN_BODY_JSON}

const rn_route RN_ROUTES[] = {
    /* Probes and documents */
    PUBLIC("GET", "/healthz", rn_api_healthz),
    PUBLIC("GET", "/readyz", rn_api_readyz),
    PUBLIC("GET", "/metrics", rn_api_metrics),
    PUBLIC("GET", "/api/server/openapi.json", rn_api_openapi),

    /* Account */
    SERVER("GET", "/api/server/health", NULL, rn_api_health),
    SERVER("GET", "/api/server/tenant", NULL, rn_api_tenant),
    SERVER("GET", "/api/server/tenant/sdk-readiness", NULL, rn_api_sdk_readiness),
};

const int RN_ROUTE_COUNT = sizeof RN_ROUTES / sizeof *RN_ROUTES;
