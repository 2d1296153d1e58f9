/*
 * migrate.h — versioned schema migrations, applied in order, each once, each
 * in its own transaction. The list lives in migrations.c; a migration is one
 * SQL text shared by both stores, or a pair when the dialects differ.
 */
#ifndef RN_STORE_MIGRATE_H
#define RN_STORE_MIGRATE_H

#include <stddef.h>

#include "store/db.h"

typedef struct {
    int version;
    const char *name;
    const char *sql;        /* both stores, unless overridden below */
    const char *sqlite_sql; /* SQLite only (in addition to sql), or NULL */
    const char *pg_sql;     /* PostgreSQL only (in addition to sql), or NULL */
} rn_migration;

extern const rn_migration RN_MIGRATIONS[];
extern const int RN_MIGRATION_COUNT;

/* Applies every pending migration. Returns how many were applied, or -1 with
 * a message in err. Safe when several nodes start at once on PostgreSQL (an
 * advisory lock serialises them). */
int rn_migrate(rn_db *db, char *err, size_t errlen);

#endif
