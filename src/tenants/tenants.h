/*
 * tenants.h — tenants, their staff and their API keys: the objects the CLI,
 * the dashboard and the API all administer. Every function is scoped by the
 * tenant it is given; results are new jansson references (caller decrefs).
 * Functions return 0 on success, RN_TENANT_NOT_FOUND / RN_TENANT_CONFLICT /
 * RN_TENANT_INVALID for the caller's mistakes and -1 for store failures.
 */
#ifndef RN_TENANTS_TENANTS_H
#define RN_TENANTS_TENANTS_H

#include <jansson.h>

#include "auth/audit.h"
#include "store/db.h"

enum { RN_TENANT_NOT_FOUND = 1, RN_TENANT_CONFLICT = 2, RN_TENANT_INVALID = 3 };

/* Who acts, for the audit log (request id and address may be NULL). */
typedef struct {
    const char *actor;
    const char *request_id;
    const char *client_ip;
    const char *user_agent;
} rn_actor;

int rn_tenant_create(rn_db *db, const char *slug, const char *name, const char *timezone,
                     const char *country, json_t **out, char *why, size_t whylen);
/* Tenant JSON by slug or id (either may be given). */
int rn_tenant_get(rn_db *db, const char *slug_or_id, json_t **out);
int rn_tenant_list(rn_db *db, json_t **out);

int rn_staff_add(rn_db *db, const char *tenant_id, const char *username, const char *role,
                 const char *display_name, json_t **out, char *why, size_t whylen);
int rn_staff_list(rn_db *db, const char *tenant_id, json_t **out);
int rn_staff_disable(rn_db *db, const char *tenant_id, const char *username);
/* Argon2id password for dashboard sign-in: RN_PASSWORD_MIN..256 bytes, else
 * RN_TENANT_INVALID. */
#define RN_PASSWORD_MIN 10
int rn_staff_set_password(rn_db *db, const char *tenant_id, const char *username,
                          const char *password);

/* Creates a server key. *out is the key object plus "secret" (shown once). */
int rn_key_create(rn_db *db, const unsigned char pepper[32], const char *tenant_id,
                  const char *name, const char *scopes, long long rate_rps, long long burst,
                  long long expires_at_ms, const rn_actor *who, json_t **out, char *why,
                  size_t whylen);
int rn_key_list(rn_db *db, const char *tenant_id, json_t **out);
int rn_key_get(rn_db *db, const char *tenant_id, const char *key_id, json_t **out);
/* New secret for the same id; the old one fails from the next request. */
int rn_key_rotate(rn_db *db, const unsigned char pepper[32], const char *tenant_id,
                  const char *key_id, const rn_actor *who, json_t **out);
int rn_key_revoke(rn_db *db, const char *tenant_id, const char *key_id, const rn_actor *who,
                  json_t **out);
/* The tenant's public widget key (created if absent): {"id","key"}. */
int rn_widget_key_ensure(rn_db *db, const char *tenant_id, const rn_actor *who, json_t **out);

#endif
