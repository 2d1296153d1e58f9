#include "store/migrate.h"

#include <stdio.h>

#include "core/util.h"

/* True if version is recorded as applied (-1 if the store failed). */
static int applied_already(rn_db *db, int version)
{
    rn_rows *rows = rn_db_query(db, "SELECT 1 FROM schema_migrations WHERE version = $1",
                                RN_PARAMS(RN_I(version)));
    int found = rows ? rn_rows_count(rows) > 0 : -1;
    rn_rows_free(rows);
    return found;
}

static int apply(rn_db *db, const rn_migration *m)
{
    const char *extra = rn_db_dialect(db) == RN_DB_SQLITE ? m->sqlite_sql : m->pg_sql;
    if (rn_db_begin(db) != 0)
        return -1;
    if ((m->sql && rn_db_exec_script(db, m->sql) != 0) ||
        (extra && rn_db_exec_script(db, extra) != 0) ||
        rn_db_exec(db,
                   "INSERT INTO schema_migrations (version, name, applied_at)"
                   " VALUES ($1, $2, $3)",
                   RN_PARAMS(RN_I(m->version), RN_T(m->name), RN_I(rn_now_ms()))) != 1) {
        rn_db_rollback(db);
        return -1;
    }
    return rn_db_commit(db);
}

int rn_migrate(rn_db *db, char *err, size_t errlen)
{
    bool pg = rn_db_dialect(db) == RN_DB_POSTGRES;
    if (pg) {
        rn_rows *lock = rn_db_query(db, "SELECT pg_advisory_lock(7267413)", RN_NOPARAMS);
        rn_rows_free(lock);
    }
    int applied = 0;
    if (rn_db_exec_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                              " applied_at BIGINT NOT NULL)") != 0) {
        snprintf(err, errlen, "cannot create schema_migrations: %s", rn_db_last_message(db));
        applied = -1;
        goto done;
    }
    for (int i = 0; i < RN_MIGRATION_COUNT && applied >= 0; i++) {
        const rn_migration *m = &RN_MIGRATIONS[i];
        int done = applied_already(db, m->version);
        if (done < 0) {
            snprintf(err, errlen, "cannot read schema_migrations: %s", rn_db_last_message(db));
            applied = -1;
            break;
        }
        if (done)
            continue;
        if (apply(db, m) != 0) {
            snprintf(err, errlen, "migration %d (%s) failed: %s", m->version, m->name,
                     rn_db_last_message(db));
            applied = -1;
            break;
        }
        applied++;
    }
done:
    if (pg) {
        rn_rows *unlock = rn_db_query(db, "SELECT pg_advisory_unlock(7267413)", RN_NOPARAMS);
        rn_rows_free(unlock);
    }
    return applied;
}
