/*
 * audit.h — the audit log: who did what to which object, from where.
 * Never pass a secret in target or details.
 */
#ifndef RN_AUTH_AUDIT_H
#define RN_AUTH_AUDIT_H

#include <jansson.h>

#include "store/db.h"

typedef struct {
    const char *tenant_id;
    const char *actor;      /* key id, staff id, or "cli" */
    const char *action;     /* "server_key.rotated", "sdk_token.agent.created", ... */
    const char *target;     /* the object's id, or NULL */
    const char *request_id; /* or NULL (CLI) */
    const char *client_ip;  /* or NULL */
    const char *user_agent; /* or NULL */
    json_t *details;        /* borrowed; small, secret-free; or NULL */
} rn_audit_entry;

/* Inserts one entry (inside the caller's transaction, if any). 0 or -1. */
int rn_audit_record(rn_db *db, const rn_audit_entry *e);

struct rn_req;
/* Records an entry for the authenticated caller of request r. */
int rn_audit_request(struct rn_req *r, const char *action, const char *target, json_t *details);

#endif
