/*
 * migrations.c — the schema, version by version. Never edit a released
 * migration: add a new one. Every tenant-owned table leads its primary key
 * and its indexes with tenant_id, so tenants can later be split across
 * databases. The one global index is api_keys.secret_hash: a key arrives
 * without its tenant, so the hash is the lookup (a directory when sharded).
 * Times are BIGINT milliseconds since the epoch; booleans are INTEGER 0/1.
 */
#include "store/migrate.h"

#include "contacts/schema.h"

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

/* Webhooks (issue 6; src/webhooks/queue.c explains the model). At most one
 * delivery per destination is 'pending' (the head of its queue, enforced by
 * the unique partial index webhook_deliveries_heads); the others
 * wait as 'queued' and go out in outbox insertion order (event_seq), which,
 * unlike the ids, orders events written within one millisecond. That order
 * is events.seq on PostgreSQL and the rowid on SQLite (events are never
 * deleted, so VACUUM leaves rowids as they are). The partial indexes are the
 * dispatcher's work lists: the heads (one per busy destination), the waiting
 * rows, and the events not yet fanned out; they stay small however long the
 * history grows. */
#define V4_WEBHOOKS \
    "CREATE TABLE webhooks (" \
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id)," \
    "  id TEXT NOT NULL," \
    "  name TEXT NOT NULL," \
    "  url TEXT NOT NULL," \
    "  events TEXT NOT NULL," \
    "  enabled INTEGER NOT NULL," \
    "  disabled_reason TEXT," \
    "  secret_sealed TEXT NOT NULL," \
    "  old_secret_sealed TEXT," \
    "  old_secret_until BIGINT," \
    "  consecutive_failures INTEGER NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE TABLE webhook_deliveries (" \
    "  tenant_id TEXT NOT NULL," \
    "  webhook_id TEXT NOT NULL," \
    "  event_id TEXT NOT NULL," \
    "  event_type TEXT NOT NULL," \
    "  event_seq BIGINT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  attempts INTEGER NOT NULL," \
    "  next_attempt_at BIGINT," \
    "  claimed_by TEXT," \
    "  claimed_until BIGINT," \
    "  created_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, webhook_id, event_id));" \
    "CREATE UNIQUE INDEX webhook_deliveries_heads ON webhook_deliveries" \
    "  (tenant_id, webhook_id) WHERE status = 'pending';" \
    "CREATE INDEX webhook_deliveries_queued ON webhook_deliveries" \
    "  (tenant_id, webhook_id, event_seq) WHERE status = 'queued';" \
    "CREATE TABLE webhook_attempts (" \
    "  tenant_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  webhook_id TEXT NOT NULL," \
    "  event_id TEXT NOT NULL," \
    "  event_type TEXT NOT NULL," \
    "  attempt INTEGER NOT NULL," \
    "  origin TEXT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  response_status INTEGER," \
    "  duration_ms BIGINT NOT NULL," \
    "  error TEXT," \
    "  response_body TEXT," \
    "  created_at BIGINT NOT NULL," \
    "  next_attempt_at BIGINT," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE INDEX webhook_attempts_webhook ON webhook_attempts (tenant_id, webhook_id, id);" \
    "CREATE INDEX webhook_attempts_event ON webhook_attempts (tenant_id, event_id, id);"

#define V4_WEBHOOKS_SQLITE \
    "CREATE INDEX events_unfanned ON events (tenant_id) WHERE fanned_out = 0;"
#define V4_WEBHOOKS_PG \
    "ALTER TABLE events ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;" \
    "CREATE INDEX events_unfanned ON events (tenant_id, seq) WHERE fanned_out = 0;"

/* SDK tokens (issue 4). signing_keys is global, not tenant-owned: the keys
 * belong to the deployment and sign every tenant's tokens (each token names
 * its tenant in `tid`). private_key is the Ed25519 seed sealed with the
 * master key, erased when the key is retired; the partial unique index
 * allows one current key at a time, even with concurrent rotations.
 * visitor_sessions holds one row per visitor context token presented to
 * POST /api/sdk/visitor/session. */
#define V3_SIGNING_KEYS \
    "CREATE TABLE signing_keys (" \
    "  kid TEXT PRIMARY KEY," \
    "  alg TEXT NOT NULL," \
    "  public_key TEXT NOT NULL," \
    "  private_key TEXT," \
    "  status TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  retired_at BIGINT);" \
    "CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (status)" \
    "  WHERE status = 'current';" \
    "CREATE TABLE visitor_sessions (" \
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id)," \
    "  id TEXT NOT NULL," \
    "  token_id TEXT NOT NULL," \
    "  visitor_id TEXT NOT NULL," \
    "  visitor TEXT NOT NULL," \
    "  metadata TEXT NOT NULL," \
    "  origin TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  expires_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, id)," \
    "  UNIQUE (tenant_id, token_id));" \
    "CREATE INDEX visitor_sessions_visitor ON visitor_sessions (tenant_id, visitor_id);"

/* Contacts (issue 3). `seq` is a global insertion counter: lists and their
 * cursors walk it newest first, and on SQLite it is the rowid that the FTS5
 * trigram index points at, so a search reads the index in list order and
 * stops at the page size. search_text holds the searchable fields, case-folded
 * by the server (src/contacts/search.c) and joined by U+001F, which no field
 * can contain. The trigram indexes (FTS5, pg_trgm) are global inverted
 * indexes and so cannot lead with tenant_id; every query joins back to the
 * row and filters by tenant. On SQLite the rowid is the table's key, so the
 * (tenant_id, id) key is a unique index; the FTS5 table keeps no per-row
 * sizes (columnsize=0: nothing ranks by them, and skipping them nearly
 * halves the index's cost per write). */
#define V2_CONTACTS_SQLITE \
    "CREATE TABLE contacts (" \
    "  seq INTEGER PRIMARY KEY," \
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id)," \
    "  id TEXT NOT NULL," \
    "  external_id TEXT," \
    "  name TEXT," \
    "  phone TEXT," \
    "  email TEXT," \
    "  company TEXT," \
    "  tags TEXT NOT NULL," \
    "  notes TEXT," \
    "  search_text TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL);" \
    "CREATE UNIQUE INDEX contacts_id ON contacts (tenant_id, id);" \
    "CREATE UNIQUE INDEX contacts_external_id ON contacts (tenant_id, external_id);" \
    "CREATE INDEX contacts_recent ON contacts (tenant_id, seq);" \
    "CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content='contacts'," \
    "  content_rowid='seq', tokenize='trigram case_sensitive 1', columnsize=0);" \
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN" \
    "  INSERT INTO contacts_fts (rowid, search_text) VALUES (new.seq, new.search_text);" \
    "END;" \
    "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', old.seq, old.search_text);" \
    "END;" \
    "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts" \
    "  WHEN old.search_text IS NOT new.search_text BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', old.seq, old.search_text);" \
    "  INSERT INTO contacts_fts (rowid, search_text) VALUES (new.seq, new.search_text);" \
    "END;"

#define V2_CONTACTS_PG \
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;" \
    "CREATE TABLE contacts (" \
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id)," \
    "  id TEXT NOT NULL," \
    "  seq BIGINT GENERATED ALWAYS AS IDENTITY," \
    "  external_id TEXT," \
    "  name TEXT," \
    "  phone TEXT," \
    "  email TEXT," \
    "  company TEXT," \
    "  tags TEXT NOT NULL," \
    "  notes TEXT," \
    "  search_text TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE UNIQUE INDEX contacts_external_id ON contacts (tenant_id, external_id);" \
    "CREATE INDEX contacts_recent ON contacts (tenant_id, seq);" \
    "CREATE INDEX contacts_search ON contacts USING gin (search_text gin_trgm_ops);"

/* The append-heavy tables and the rollups the reports range-scan: on SQLite
 * they are WITHOUT ROWID, so each is one b-tree in key order instead of a
 * table plus its key index (a report reads its days without a lookup per row). */
#define V5_ACTIVITY_KEYED(suffix) \
    "CREATE TABLE conversation_agents (" \
    "  tenant_id TEXT NOT NULL," \
    "  conversation_id TEXT NOT NULL," \
    "  agent_id TEXT NOT NULL," \
    "  assigned_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, conversation_id, agent_id))" suffix ";" \
    "CREATE TABLE messages (" \
    "  tenant_id TEXT NOT NULL," \
    "  conversation_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  direction TEXT NOT NULL," \
    "  sender_id TEXT NOT NULL," \
    "  body TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, conversation_id, id))" suffix ";" \
    "CREATE TABLE report_daily (" \
    "  tenant_id TEXT NOT NULL," \
    "  day TEXT NOT NULL," \
    "  conversations BIGINT NOT NULL," \
    "  conversations_resolved BIGINT NOT NULL," \
    "  messages_inbound BIGINT NOT NULL," \
    "  messages_outbound BIGINT NOT NULL," \
    "  first_response_count BIGINT NOT NULL," \
    "  first_response_ms BIGINT NOT NULL," \
    "  resolution_count BIGINT NOT NULL," \
    "  resolution_ms BIGINT NOT NULL," \
    "  calls BIGINT NOT NULL," \
    "  calls_answered BIGINT NOT NULL," \
    "  calls_missed BIGINT NOT NULL," \
    "  talk_seconds BIGINT NOT NULL," \
    "  contacts_created BIGINT NOT NULL," \
    "  tickets_created BIGINT NOT NULL," \
    "  tickets_resolved BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, day))" suffix ";" \
    "CREATE TABLE report_agent_daily (" \
    "  tenant_id TEXT NOT NULL," \
    "  day TEXT NOT NULL," \
    "  agent_id TEXT NOT NULL," \
    "  conversations_handled BIGINT NOT NULL," \
    "  conversations_resolved BIGINT NOT NULL," \
    "  messages_sent BIGINT NOT NULL," \
    "  first_response_count BIGINT NOT NULL," \
    "  first_response_ms BIGINT NOT NULL," \
    "  calls_handled BIGINT NOT NULL," \
    "  talk_seconds BIGINT NOT NULL," \
    "  online_ms BIGINT NOT NULL," \
    "  away_ms BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, day, agent_id))" suffix ";"

/* Activity and reports (issue 5; src/activity/activity.h explains the model).
 * Raw rows: conversations, messages, the agents each conversation was
 * assigned to, calls, tickets, each agent's current presence and its closed
 * presence intervals. Reports read only the two daily rollups, which the
 * activity code keeps in the same transaction as each change; `day` is the
 * tenant's local date ('YYYY-MM-DD'). Durations in the rollups are sums in
 * milliseconds (talk time in seconds) with the count they average over.
 * Messages are keyed by conversation: they are only ever read per
 * conversation, so the key is the one index they need. The partial unique
 * index allows one conversation that is not closed per visitor. */
#define V5_ACTIVITY \
    "CREATE TABLE conversations (" \
    "  tenant_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  visitor_id TEXT NOT NULL," \
    "  visitor_name TEXT," \
    "  status TEXT NOT NULL," \
    "  agent_id TEXT," \
    "  created_at BIGINT NOT NULL," \
    "  assigned_at BIGINT," \
    "  first_response_at BIGINT," \
    "  first_response_agent_id TEXT," \
    "  closed_at BIGINT," \
    "  closed_by TEXT," \
    "  messages_inbound BIGINT NOT NULL," \
    "  messages_outbound BIGINT NOT NULL," \
    "  last_message_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE INDEX conversations_status ON conversations (tenant_id, status, id);" \
    "CREATE UNIQUE INDEX conversations_open_visitor ON conversations (tenant_id, visitor_id)" \
    "  WHERE status <> 'closed';" \
    "CREATE TABLE calls (" \
    "  tenant_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  conversation_id TEXT," \
    "  agent_id TEXT NOT NULL," \
    "  direction TEXT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  outcome TEXT," \
    "  started_at BIGINT NOT NULL," \
    "  ended_at BIGINT," \
    "  talk_seconds BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE TABLE tickets (" \
    "  tenant_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  conversation_id TEXT," \
    "  subject TEXT NOT NULL," \
    "  description TEXT," \
    "  status TEXT NOT NULL," \
    "  priority TEXT NOT NULL," \
    "  assignee_id TEXT," \
    "  created_by TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  updated_at BIGINT NOT NULL," \
    "  resolved_at BIGINT," \
    "  PRIMARY KEY (tenant_id, id));" \
    "CREATE TABLE agent_presence (" \
    "  tenant_id TEXT NOT NULL," \
    "  agent_id TEXT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  since BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, agent_id));" \
    "CREATE TABLE presence_intervals (" \
    "  tenant_id TEXT NOT NULL," \
    "  agent_id TEXT NOT NULL," \
    "  started_at BIGINT NOT NULL," \
    "  ended_at BIGINT NOT NULL," \
    "  status TEXT NOT NULL," \
    "  PRIMARY KEY (tenant_id, agent_id, started_at));" \
    "CREATE TABLE ai_knowledge_documents (" \
    "  tenant_id TEXT NOT NULL," \
    "  id TEXT NOT NULL," \
    "  title TEXT NOT NULL," \
    "  content TEXT NOT NULL," \
    "  source_url TEXT," \
    "  created_by TEXT NOT NULL," \
    "  created_at BIGINT NOT NULL," \
    "  PRIMARY KEY (tenant_id, id));"

/* Contacts, newest first in the trigram index (SQLite only). FTS5 reads a
 * doclist backwards by first loading it whole, so "newest first" over a
 * common trigram cost a full doclist per page. The index now holds -seq as
 * its rowid and is read forwards. It is contentless: nothing is ever read
 * back from it, and a delete names the old text, which the row still has. */
#define V6_CONTACTS_FTS_SQLITE \
    "DROP TRIGGER contacts_fts_insert;" \
    "DROP TRIGGER contacts_fts_delete;" \
    "DROP TRIGGER contacts_fts_update;" \
    "DROP TABLE contacts_fts;" \
    "CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content=''," \
    "  tokenize='trigram case_sensitive 1', columnsize=0);" \
    "INSERT INTO contacts_fts (rowid, search_text) SELECT -seq, search_text FROM contacts;" \
    RN_CONTACTS_FTS_INSERT_TRIGGER_V6 \
    "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', -old.seq, old.search_text);" \
    "END;" \
    "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts" \
    "  WHEN old.search_text IS NOT new.search_text BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', -old.seq, old.search_text);" \
    "  INSERT INTO contacts_fts (rowid, search_text) VALUES (-new.seq, new.search_text);" \
    "END;"

/* Contacts: each tenant in its own range of the trigram index (SQLite only;
 * the rowid arithmetic is in contacts/schema.h). Migration 6 ordered the
 * index newest first across all tenants, so searching a term that is
 * common in a busier tenant stepped over that tenant's matches one by one. */
#define V7_FTS_ROWID(row) RN_CONTACTS_FTS_ROWID_SQL(row ".tenant_id", row ".seq")
#define V7_CONTACTS_FTS_SQLITE \
    "DROP TRIGGER contacts_fts_insert;" \
    "DROP TRIGGER contacts_fts_delete;" \
    "DROP TRIGGER contacts_fts_update;" \
    "DROP TABLE contacts_fts;" \
    "CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content=''," \
    "  tokenize='trigram case_sensitive 1', columnsize=0);" \
    "INSERT INTO contacts_fts (rowid, search_text)" \
    "  SELECT " V7_FTS_ROWID("c") ", c.search_text FROM contacts c ORDER BY 1;" \
    RN_CONTACTS_FTS_INSERT_TRIGGER_V7 \
    "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', " V7_FTS_ROWID("old") ", old.search_text);" \
    "END;" \
    "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts" \
    "  WHEN old.search_text IS NOT new.search_text BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', " V7_FTS_ROWID("old") ", old.search_text);" \
    "  INSERT INTO contacts_fts (rowid, search_text)" \
    "    VALUES (" V7_FTS_ROWID("new") ", new.search_text);" \
    "END;"

/* Deployment-wide settings (not tenant-owned): e.g. the fingerprint of the
 * master key the store was written under (src/app.c). */
#define V8_DEPLOYMENT \
    "CREATE TABLE deployment_settings (" \
    "  name TEXT PRIMARY KEY," \
    "  value TEXT NOT NULL);"

/* events_pending (v1) served no query once events_unfanned (v4) existed,
 * yet every event paid for it twice: on insert and when fanned out. */
#define V9_DROP_EVENTS_PENDING "DROP INDEX events_pending;"

/* Contacts (SQLite): the trigram-index triggers skip the rows a writer
 * defers (rn_deferred, store/db.h), which that writer then indexes in one
 * ordered statement: the HTTP group writer and `ringnity contacts seed`.
 * The update and delete triggers skip them too, since a deferred row is not
 * in the index yet. */
#define V10_CONTACTS_FTS_DEFERRED_SQLITE \
    "DROP TRIGGER contacts_fts_insert;" \
    "DROP TRIGGER contacts_fts_delete;" \
    "DROP TRIGGER contacts_fts_update;" \
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts" \
    "  WHEN NOT rn_deferred(new.seq) BEGIN" \
    "  INSERT INTO contacts_fts (rowid, search_text)" \
    "    VALUES (" V7_FTS_ROWID("new") ", new.search_text);" \
    "END;" \
    "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts" \
    "  WHEN NOT rn_deferred(old.seq) BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', " V7_FTS_ROWID("old") ", old.search_text);" \
    "END;" \
    "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts" \
    "  WHEN old.search_text IS NOT new.search_text AND NOT rn_deferred(old.seq) BEGIN" \
    "  INSERT INTO contacts_fts (contacts_fts, rowid, search_text)" \
    "    VALUES ('delete', " V7_FTS_ROWID("old") ", old.search_text);" \
    "  INSERT INTO contacts_fts (rowid, search_text)" \
    "    VALUES (" V7_FTS_ROWID("new") ", new.search_text);" \
    "END;"

const rn_migration RN_MIGRATIONS[] = {
    {1, "foundation", V1_FOUNDATION, NULL, NULL},
    {2, "contacts", NULL, V2_CONTACTS_SQLITE, V2_CONTACTS_PG},
    {3, "signing_keys", V3_SIGNING_KEYS, NULL, NULL},
    {4, "webhooks", V4_WEBHOOKS, V4_WEBHOOKS_SQLITE, V4_WEBHOOKS_PG},
    {5, "activity", V5_ACTIVITY, V5_ACTIVITY_KEYED(" WITHOUT ROWID"), V5_ACTIVITY_KEYED("")},
    {6, "contacts_fts_newest_first", NULL, V6_CONTACTS_FTS_SQLITE, NULL},
    {7, "contacts_fts_by_tenant", NULL, V7_CONTACTS_FTS_SQLITE, NULL},
    {8, "deployment_settings", V8_DEPLOYMENT, NULL, NULL},
    {9, "drop_events_pending", V9_DROP_EVENTS_PENDING, NULL, NULL},
    {10, "contacts_fts_deferred", NULL, V10_CONTACTS_FTS_DEFERRED_SQLITE, NULL},
};

const int RN_MIGRATION_COUNT = sizeof RN_MIGRATIONS / sizeof *RN_MIGRATIONS;
