/*
 * db_internal.h — what db.c shares with the two drivers (db_sqlite.c, db_pg.c).
 * Not for use outside src/store/.
 *
 * db.c owns the pool, the transaction bookkeeping and the result sets; a
 * driver only opens connections and runs single statements. Every driver
 * connection struct starts with a `struct rn_db` so the two convert freely.
 */
#ifndef RN_STORE_DB_INTERNAL_H
#define RN_STORE_DB_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>

#include "store/db.h"

#define RN_DBI_MESSAGE_MAX 512
/* Prepared statements kept per connection: the request paths use far fewer. */
#define RN_DBI_CACHE_SIZE 128

typedef struct rn_db_driver rn_db_driver;

struct rn_db {
    const rn_db_driver *driver;
    rn_db_error error;
    char message[RN_DBI_MESSAGE_MAX];
    /* Set by rn_db_begin. After a failed statement the transaction is doomed on
     * both drivers (PostgreSQL's rule): txn_error remembers why. */
    bool in_txn;
    /* Inside rn_db_group_begin: rn_db_begin/commit/rollback mark a part of
     * the group's transaction; group_failed once a part has failed. */
    bool group, group_failed;
    /* rn_db_defer_rows: rows above defer_mark are left out of an index. */
    bool deferring;
    long long defer_mark;
    rn_db_error txn_error;
    char txn_message[RN_DBI_MESSAGE_MAX];
};

struct rn_db_driver {
    rn_dialect dialect;
    const char *begin_sql;
    const char *begin_read_sql; /* a read-only transaction on one snapshot */
    /* Opens one connection to `target` (a path or a libpq URL). On failure
     * returns NULL and writes a message without secrets into err. */
    rn_db *(*open)(const char *target, char *err, size_t errlen);
    void (*close)(rn_db *db);
    /* Called on every acquire: repairs a broken connection if it can. */
    void (*revive)(rn_db *db);
    /* True while the server side has a transaction open on this connection. */
    bool (*in_transaction)(rn_db *db);
    long long (*exec)(rn_db *db, const char *sql, int nparams, const rn_param *params);
    rn_rows *(*query)(rn_db *db, const char *sql, int nparams, const rn_param *params);
    int (*exec_script)(rn_db *db, const char *sql);
    /* BEGIN / COMMIT / ROLLBACK: 0 or -1 with the error set. */
    int (*command)(rn_db *db, const char *sql);
    /* rn_db_query_cached, for a driver that can tell that nothing changed;
     * NULL: every call runs the query. */
    rn_rows *(*query_cached)(rn_db *db, const char *sql, int nparams, const rn_param *params);
};

extern const rn_db_driver rn_dbi_sqlite_driver;
extern const rn_db_driver rn_dbi_pg_driver;

/* Error state of a connection. */
void rn_dbi_clear_error(rn_db *db);
void rn_dbi_set_error(rn_db *db, rn_db_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* snprintf into a caller's buffer that may be NULL or empty. */
void rn_dbi_format(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Result sets. Cells point into `text` (built here) or into `owner` (a
 * driver result released with `release`). A NULL cell is SQL NULL. */
struct rn_rows {
    int nrows;
    int ncols;
    const char **cells;
    char *text;
    void *owner;
    void (*release)(void *owner);
};

/* Allocates a result whose cells the driver fills in itself. */
rn_rows *rn_dbi_rows_new(int nrows, int ncols);

/* Builds a result by copying values one cell at a time, row by row. */
typedef struct {
    int ncols;
    size_t ncells;
    size_t cells_cap;
    size_t *offsets; /* into text; SIZE_MAX marks NULL */
    char *text;
    size_t text_len;
    size_t text_cap;
} rn_dbi_rows_builder;

void rn_dbi_rows_begin(rn_dbi_rows_builder *b, int ncols);
/* value NULL appends SQL NULL. False when out of memory. */
bool rn_dbi_rows_add(rn_dbi_rows_builder *b, const char *value, size_t len);
/* Hands the rows over (NULL when out of memory); the builder is emptied. */
rn_rows *rn_dbi_rows_finish(rn_dbi_rows_builder *b);
void rn_dbi_rows_discard(rn_dbi_rows_builder *b);

/* A small LRU map from SQL text to a driver handle (prepared statement). */
typedef struct {
    char *sql;
    const char *origin; /* the caller's pointer it was stored from */
    size_t len;
    uint64_t hash;
    uint64_t last_used;
    void *handle;
    bool prepared;
    bool params_in_order; /* SQLite: parameter i is named "$i" (bind by index) */
} rn_dbi_cache_entry;

typedef struct {
    rn_dbi_cache_entry entries[RN_DBI_CACHE_SIZE];
    uint64_t clock;
} rn_dbi_cache;

rn_dbi_cache_entry *rn_dbi_cache_find(rn_dbi_cache *cache, const char *sql);
/* An empty slot, or the least recently used one: the caller disposes of its
 * handle (if the slot's sql is set) before rn_dbi_cache_store. */
rn_dbi_cache_entry *rn_dbi_cache_victim(rn_dbi_cache *cache);
/* False when out of memory (the slot is left empty). */
bool rn_dbi_cache_store(rn_dbi_cache *cache, rn_dbi_cache_entry *slot, const char *sql,
                        void *handle);
void rn_dbi_cache_forget(rn_dbi_cache_entry *entry);

/* Writes url to out with any password replaced by "***". */
void rn_dbi_redact_url(const char *url, char *out, size_t outlen);
/* Replaces every occurrence of secret in text (in place) with "***". */
void rn_dbi_scrub(char *text, const char *secret);

#endif
