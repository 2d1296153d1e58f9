/*
 * system.h — health, tenant profile, SDK readiness, probes, metrics and the
 * OpenAPI document.
 */
#ifndef RN_API_SYSTEM_H
#define RN_API_SYSTEM_H

#include "http/http.h"

void rn_api_health(rn_req *r);
void rn_api_tenant(rn_req *r);
void rn_api_sdk_readiness(rn_req *r);
void rn_api_healthz(rn_req *r);
void rn_api_readyz(rn_req *r);
void rn_api_metrics(rn_req *r);
void rn_api_openapi(rn_req *r);

/* The OpenAPI document as JSON text (built once from the embedded YAML). */
const char *rn_openapi_json(size_t *len);

#endif
