/*
 * domains.h — a tenant's allowed widget domains: where its Visitor SDK may
 * run. Administered by `ringnity tenant domains add|remove|list` (and the
 * dashboard); read by POST /api/sdk/visitor/session against Origin.
 *
 * An entry is a host name ("shop.example.com", "localhost"), an IPv4
 * address ("127.0.0.1"), or a wildcard "*.example.com" that matches every
 * subdomain of example.com at any depth but not example.com itself. Entries
 * are stored lower-case. An Origin matches on its host alone: scheme and
 * port are ignored, so "http://localhost:3000" matches "localhost".
 * IPv6 literals are not supported.
 *
 * Writes are audited (widget_domain.added / widget_domain.removed).
 * Functions return 0, RN_TENANT_INVALID / RN_TENANT_NOT_FOUND /
 * RN_TENANT_CONFLICT (tenants.h) for the caller's mistakes, -1 for the store.
 */
#ifndef RN_SDK_DOMAINS_H
#define RN_SDK_DOMAINS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tenants/tenants.h"

#define RN_DOMAIN_MAX 256

/* Checks and lower-cases a domain entry into out. 0, or -1 with a reason. */
int rn_domain_normalize(const char *in, char *out, size_t cap, char *why, size_t whylen);
/* The lower-case host of an Origin header value ("scheme://host[:port]",
 * http or https). 0, or -1 when it is not such an origin. */
int rn_origin_host(const char *origin, char *host, size_t cap);
/* Whether a normalised entry allows host. */
bool rn_domain_matches(const char *entry, const char *host);

int rn_domain_add(rn_db *db, const char *tenant_id, const char *domain, const rn_actor *who,
                  json_t **out, char *why, size_t whylen);
int rn_domain_remove(rn_db *db, const char *tenant_id, const char *domain, const rn_actor *who);
/* [{domain, createdAt}] sorted by domain. */
int rn_domain_list(rn_db *db, const char *tenant_id, json_t **out);
/* 1 when origin is allowed for the tenant, 0 when not, -1 store failure. */
int rn_domain_origin_allowed(rn_db *db, const char *tenant_id, const char *origin);

#endif
