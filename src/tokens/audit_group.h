/*
 * audit_group.h — group commit of the audit entries of token mints.
 *
 * Every mint must be audited before its token is handed out, and mints are
 * the hottest write path. Written one transaction each, concurrent mints
 * queue on the store's write lock (on SQLite through its sleeping busy
 * handler). Here they queue on a mutex instead: the first waiting thread
 * becomes the leader, writes every entry queued so far in one transaction
 * on its own connection, and wakes the others with the outcome. Each caller
 * still returns only after its own entry is committed (or has failed), so
 * the guarantee is the same as rn_audit_record's, at a fraction of the
 * commits. This is for SQLite, whose writers are serialised anyway; on
 * PostgreSQL each entry is simply inserted on the caller's connection.
 */
#ifndef RN_TOKENS_AUDIT_GROUP_H
#define RN_TOKENS_AUDIT_GROUP_H

#include "auth/audit.h"

/* Records e (borrowed until return) using db when this thread leads a
 * batch. 0 once committed, -1 if the batch failed. */
int rn_audit_group_record(rn_db *db, const rn_audit_entry *e);

#endif
