/*
 * db.h — the one database interface every module uses.
 *
 * SQL is written once, with PostgreSQL-style positional placeholders ($1, $2,
 * ...). Both drivers accept that text: PostgreSQL natively, SQLite by binding
 * each "$N" by name. Where the dialects really differ, callers branch on
 * rn_db_dialect() and keep both spellings side by side.
 *
 * Results are fully materialised as text (NULL stays NULL), the way libpq's
 * text format returns them. Integers come back as decimal text; use
 * rn_rows_int(). Times are stored as BIGINT milliseconds since the epoch.
 *
 * Ownership: rn_rows belongs to the caller (rn_rows_free); strings returned by
 * rn_rows_get live as long as the rows. A connection (rn_db) is used by one
 * thread at a time; take it from the pool and give it back.
 */
#ifndef RN_STORE_DB_H
#define RN_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rn_db rn_db;
typedef struct rn_rows rn_rows;
typedef struct rn_pool rn_pool;

typedef enum { RN_DB_SQLITE, RN_DB_POSTGRES } rn_dialect;

/* What went wrong with the last statement on a connection. */
typedef enum {
    RN_DB_OK = 0,
    RN_DB_ERR_CONSTRAINT,  /* unique / foreign key / check violation */
    RN_DB_ERR_BUSY,        /* lock timeout, serialization failure: retryable */
    RN_DB_ERR_UNAVAILABLE, /* connection lost, server down */
    RN_DB_ERR_OTHER        /* anything else (a bug in our SQL, most likely) */
} rn_db_error;

typedef enum { RN_P_NULL, RN_P_TEXT, RN_P_INT } rn_param_type;

typedef struct {
    rn_param_type type;
    const char *text;
    long long i;
} rn_param;

/* Parameter constructors: RN_T(NULL) is SQL NULL. RN_T calls a function so
 * that a char array argument compiles (-Waddress) and is evaluated once. */
static inline rn_param rn_param_text(const char *s)
{
    return (rn_param){.type = s ? RN_P_TEXT : RN_P_NULL, .text = s};
}
#define RN_T(s) rn_param_text(s)
#define RN_I(v) ((rn_param){.type = RN_P_INT, .i = (long long)(v)})
#define RN_NULLP ((rn_param){.type = RN_P_NULL})
/* RN_PARAMS(a, b, c) expands to the (count, array) pair the calls below take. */
#define RN_PARAMS(...)                                                      \
    (int)(sizeof((rn_param[]){__VA_ARGS__}) / sizeof(rn_param)),            \
        (rn_param[]) { __VA_ARGS__ }
#define RN_NOPARAMS 0, NULL

/* Opens a pool of `size` connections for a URL: "postgres://..." or
 * "postgresql://..." selects PostgreSQL; "sqlite:PATH" or a plain path
 * selects SQLite. Returns NULL and fills err (if given) on failure. */
rn_pool *rn_pool_open(const char *url, int size, char *err, size_t errlen);
void rn_pool_close(rn_pool *pool);
/* Blocks until a connection is free. Reconnects a broken PostgreSQL one. */
rn_db *rn_pool_acquire(rn_pool *pool);
void rn_pool_release(rn_pool *pool, rn_db *db);
rn_dialect rn_pool_dialect(const rn_pool *pool);

rn_dialect rn_db_dialect(const rn_db *db);

/* Runs a statement; returns the number of rows changed, or -1 on error. */
long long rn_db_exec(rn_db *db, const char *sql, int nparams, const rn_param *params);
/* Runs a query; returns its rows, or NULL on error. */
rn_rows *rn_db_query(rn_db *db, const char *sql, int nparams, const rn_param *params);
/* rn_db_query for a small, hot lookup (a server key): the connection keeps
 * the result and answers the same query with it again while the database is
 * provably unchanged since (SQLite: no commit by any connection or process,
 * nothing written in the current transaction). PostgreSQL always queries.
 * Only for SQL whose result depends on the stored rows alone: nothing like
 * the current time, random() or a connection's state. */
rn_rows *rn_db_query_cached(rn_db *db, const char *sql, int nparams, const rn_param *params);
/* Runs several ';'-separated statements without parameters (migrations). */
int rn_db_exec_script(rn_db *db, const char *sql);

/* Transactions. rn_db_begin takes the write lock at once on SQLite
 * (BEGIN IMMEDIATE) so that read-then-write never deadlocks. */
int rn_db_begin(rn_db *db);
/* A read-only transaction: every query in it sees the same snapshot (and on
 * SQLite it takes the WAL read lock once, not per statement). End it with
 * rn_db_commit or rn_db_rollback. Not inside a group. */
int rn_db_begin_read(rn_db *db);
int rn_db_commit(rn_db *db);
void rn_db_rollback(rn_db *db);

/* Group commit: several callers' transactions in one. Between
 * rn_db_group_begin and rn_db_group_end, rn_db_begin and rn_db_commit mark a
 * part of the group's transaction, so code written for a transaction of its
 * own runs unchanged inside the group; nothing is durable until
 * rn_db_group_end(db, true) returns 0. A part cannot be undone alone (no
 * savepoints: they make SQLite's FTS5 write a segment each): a part that
 * fails or rolls back fails the group, and so does a statement that fails
 * outside any part (a single statement needs no part of its own);
 * rn_db_group_end then rolls all of it back and returns -1, and the caller
 * runs each part again on its own. A part that starts after the group's
 * transaction was lost (SQLite rolls back by itself on some I/O errors)
 * fails instead of running outside it. */
int rn_db_group_begin(rn_db *db);
/* Commits (commit true, no part failed) or rolls back the group; 0 when
 * committed. */
int rn_db_group_end(rn_db *db, bool commit);

/* SQLite's FTS5 writes out what it holds whenever a row arrives with a lower
 * rowid than the one before, and the contacts' trigram index gives newer
 * rows lower rowids: indexing many new rows one by one costs a segment
 * each. So a writer of many rows can defer them: while a mark is set, the
 * SQL function rn_deferred(n) is 1 for n > mark, the contacts triggers skip
 * those rows (migration 10), and the writer indexes them itself, in rowid
 * order, before it commits. mark < 0 ends the deferral. A connection goes
 * back to the pool, and every group starts and ends, without a mark. */
void rn_db_defer_rows(rn_db *db, long long mark);
/* The mark set by rn_db_defer_rows, or -1. */
long long rn_db_deferred_from(const rn_db *db);

rn_db_error rn_db_last_error(const rn_db *db);
/* The driver's message for the last error: for logs only, never for clients. */
const char *rn_db_last_message(const rn_db *db);

int rn_rows_count(const rn_rows *rows);
int rn_rows_columns(const rn_rows *rows);
/* NULL for SQL NULL or out of range. */
const char *rn_rows_get(const rn_rows *rows, int row, int col);
/* The value as an integer; `fallback` for NULL or non-numeric text. */
long long rn_rows_int(const rn_rows *rows, int row, int col, long long fallback);
bool rn_rows_is_null(const rn_rows *rows, int row, int col);
void rn_rows_free(rn_rows *rows);

#endif
