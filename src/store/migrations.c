/*
 * migrations.c — the schema, version by version. Never edit a released
 * migration: add a new one. Every tenant-owned table leads its primary key
 * and its indexes with tenant_id, so tenants can later be split across
 * databases. The one global index is api_keys.secret_hash: a key arrives
 * without its tenant, so the hash is the lookup (a directory when sharded).
 * Times are BIGINT milliseconds since the epoch; booleans are INTEGER 0/1.
 */
#include "store/migrate.h"

#define V1_FOUNDATION \
    "CREATE TABLE tenants (" \
    "  id TEXT PRIMARY KEY," \
    "  client_id TEXT NOT NULL UNIQUE," \
    "  slug TEXT NOT NULL UNIQUE," \
    "  name TEXT NOT NULL," \
    "  timezone TEXT NOT NULL," \
    "  country TEXT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL);" \
    "CREATE TABLE staff (" \
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id)," \
    "  id TEXT NOT NULL," \
    "  username TEXT NOT NULL," \
    "  display_name TEXT NOT NULL," \
    "  role TEXT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  password_hash TEXT," \
    "  created_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, id)," \
    "  UNIQUE (tenant_id, username));" \
    "CREATE TABLE api_keys (" \
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id)," \
    "  id TEXT NOT NULL," \
    "  kind TEXT NOT NULL," \
    "  name TEXT NOT NULL," \
    "  secret_hash TEXT NOT NULL," \
    "  public_key TEXT," \
    "  prefix TEXT NOT NULL," \
    "  last4 TEXT NOT NULL," \
    "  scopes TEXT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  rate_limit_rps BIGINT," \
    "  rate_limit_burst BIGINT," \
    "  created_at BIGINT NOT NULL," \
    "  created_by TEXT NOT NULL," \
    "  rotated_at BIGINT," \
    "  revoked_at BIGINT," \
    "  last_used_at BIGINT," \
    "  expires_at BIGINT," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys (secret_hash);" \
    "CREATE TABLE widget_domains (" \
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id)," \
    "  domain TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, domain));" \
    "CREATE TABLE audit_log (" \
    "  tenant_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  actor TEXT NOT NULL," \
    "  action TEXT NOT NULL," \
    "  target TEXT," \
    "  request_id TEXT," \
    "  client_ip TEXT," \
    "  user_agent TEXT," \
    "  details TEXT," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE TABLE idempotency_keys (" \
    "  tenant_id TEXT NOT NULL," \
    "  idem_key TEXT NOT NULL," \
    "  request_hash TEXT NOT NULL," \
    "  status INTEGER NOT NULL," \
    "  response_body TEXT," \
    "  content_type TEXT," \
    "  created_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, idem_key));" \
    "CREATE TABLE events (" \
    "  tenant_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  type TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  payload TEXT NOT NULL," \
    "  fanned_out INTEGER NOT NULL," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE INDEX events_pending ON events (tenant_id, fanned_out, id);"

const rn_migration RN_MIGRATIONS[] = {
    {1, "foundation", V1_FOUNDATION, NULL, NULL},
};

const int RN_MIGRATION_COUNT = sizeof RN_MIGRATIONS / sizeof *RN_MIGRATIONS;
