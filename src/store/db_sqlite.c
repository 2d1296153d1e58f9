/*
 * db_sqlite.c — the SQLite driver.
 *
 * Every connection runs in WAL mode with foreign keys on and a 5 s busy
 * timeout, and keeps its prepared statements in an LRU keyed by SQL text:
 * the same few dozen statements run on every request.
 *
 * Placeholders are PostgreSQL's "$N". SQLite accepts "$1" as a named
 * parameter, so each value is bound by name, which makes "$2 ... $1" and a
 * repeated "$1" work. As PostgreSQL does, a statement must use exactly the
 * parameters it is given: anything else is a bug that would only show up in
 * production otherwise.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db_internal.h"
#include "store/memo.h"

#define BUSY_TIMEOUT_MS 5000

typedef struct {
    struct rn_db base;
    sqlite3 *handle;
    rn_dbi_cache cache;
    rn_dbi_memo memo; /* rn_db_query_cached's results */
} lite_conn;

static lite_conn *lite(rn_db *db)
{
    return (lite_conn *)db;
}

static rn_db_error lite_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        return RN_DB_ERR_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return RN_DB_ERR_BUSY;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_FULL:
    case SQLITE_NOTADB:
        return RN_DB_ERR_UNAVAILABLE;
    default:
        return RN_DB_ERR_OTHER;
    }
}

static void lite_fail(lite_conn *c, int rc)
{
    rn_dbi_set_error(&c->base, lite_code(rc), "sqlite: %s", sqlite3_errmsg(c->handle));
}

/* ---- opening ------------------------------------------------------------ */

/* mkdir -p for the directory holding path (private: the file holds secrets). */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        rn_dbi_format(err, errlen, "sqlite path too long");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    rn_dbi_format(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
    return -1;
}

/* Creates the file owner-only before SQLite does (its -wal and -shm files
 * copy these permissions). An existing file keeps its mode. */
/* Creates the file 0600 if it does not exist yet. Never open()/close() an
 * existing database: closing any descriptor of the file drops this process's
 * POSIX locks on it, and SQLite may then delete a WAL that other connections
 * still use (lost commits). */
static int precreate_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return 0;
    if (fd < 0) {
        rn_dbi_format(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static int read_first_value(void *out, int ncols, char **values, char **names)
{
    if (ncols > 0 && values[0])
        snprintf(out, 16, "%s", values[0]);
    return 0;
}

static int configure(sqlite3 *h, bool in_memory, char *err, size_t errlen)
{
    char mode[16] = "";
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
    int rc = sqlite3_exec(h, "PRAGMA journal_mode=WAL", read_first_value, mode, NULL);
    if (rc != SQLITE_OK || (!in_memory && strcmp(mode, "wal") != 0)) {
        rn_dbi_format(err, errlen, "cannot switch to WAL mode: %s",
                      rc != SQLITE_OK ? sqlite3_errmsg(h) : mode);
        return -1;
    }
    rc = sqlite3_exec(h, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rn_dbi_format(err, errlen, "cannot configure connection: %s", sqlite3_errmsg(h));
        return -1;
    }
    return 0;
}

/* SQLite's allocation statistics take a global mutex on every malloc: with
 * one connection per worker thread that lock is the hottest in the process.
 * Must run before SQLite initialises, hence once, before the first open. */
static pthread_once_t lite_config_once = PTHREAD_ONCE_INIT;

static void lite_config(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* rn_deferred(n): 1 while the connection defers rows above a mark and n is
 * one of them (store/db.h, rn_db_defer_rows). */
static void lite_fn_deferred(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const rn_db *db = sqlite3_user_data(ctx);
    long long n = sqlite3_value_int64(argv[0]);
    sqlite3_result_int(ctx, db->deferring && n > db->defer_mark);
}

static rn_db *lite_open(const char *path, char *err, size_t errlen)
{
    pthread_once(&lite_config_once, lite_config);
    if (!*path) {
        rn_dbi_format(err, errlen, "empty sqlite path");
        return NULL;
    }
    bool in_memory = strcmp(path, ":memory:") == 0;
    if (!in_memory && (make_parent_dirs(path, err, errlen) != 0 ||
                       precreate_file(path, err, errlen) != 0))
        return NULL;
    lite_conn *c = calloc(1, sizeof *c);
    if (!c) {
        rn_dbi_format(err, errlen, "out of memory");
        return NULL;
    }
    c->base.driver = &rn_dbi_sqlite_driver;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &c->handle, flags, NULL);
    if (rc != SQLITE_OK) {
        rn_dbi_format(err, errlen, "sqlite cannot open %s: %s", path,
                      c->handle ? sqlite3_errmsg(c->handle) : sqlite3_errstr(rc));
        goto fail;
    }
    if (configure(c->handle, in_memory, err, errlen) != 0)
        goto fail;
    /* Innocuous (no side effects), so triggers may call it. */
    rc = sqlite3_create_function(c->handle, "rn_deferred", 1, SQLITE_UTF8 | SQLITE_INNOCUOUS,
                                 &c->base, lite_fn_deferred, NULL, NULL);
    if (rc != SQLITE_OK) {
        rn_dbi_format(err, errlen, "sqlite cannot register rn_deferred: %s",
                      sqlite3_errmsg(c->handle));
        goto fail;
    }
    return &c->base;
fail:
    sqlite3_close_v2(c->handle);
    free(c);
    return NULL;
}

static void lite_close(rn_db *db)
{
    lite_conn *c = lite(db);
    for (int i = 0; i < RN_DBI_CACHE_SIZE; i++) {
        rn_dbi_cache_entry *e = &c->cache.entries[i];
        if (e->sql)
            sqlite3_finalize(e->handle);
        rn_dbi_cache_forget(e);
    }
    rn_dbi_memo_clear(&c->memo);
    sqlite3_close_v2(c->handle);
    free(c);
}

static void lite_revive(rn_db *db)
{
    (void)db;
}

static bool lite_in_transaction(rn_db *db)
{
    return !sqlite3_get_autocommit(lite(db)->handle);
}

/* ---- statements --------------------------------------------------------- */

/* "$N" with 1 <= N <= count and no leading zero. */
static bool placeholder_ok(const char *name, int count)
{
    if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
        return false;
    long n = 0;
    for (const char *p = name + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || n > count)
            return false;
        n = n * 10 + (*p - '0');
    }
    return n <= count;
}

/* Every parameter must be some "$N" in 1..count; SQLite numbers distinct
 * names 1..count, so together they are exactly $1..$count. */
static bool placeholders_ok(lite_conn *c, sqlite3_stmt *stmt)
{
    int count = sqlite3_bind_parameter_count(stmt);
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(stmt, i);
        if (!placeholder_ok(name, count)) {
            rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER,
                             "sqlite: placeholder %s is not one of $1..$%d", name ? name : "?",
                             count);
            return false;
        }
    }
    return true;
}

/* True when rest holds no further statement (only blanks, ';' or comments). */
static bool only_one_statement(lite_conn *c, const char *rest)
{
    rest += strspn(rest, " \t\r\n;");
    if (!*rest)
        return true;
    sqlite3_stmt *next = NULL;
    int rc = sqlite3_prepare_v2(c->handle, rest, -1, &next, NULL);
    sqlite3_finalize(next);
    if (rc != SQLITE_OK || next) {
        rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER,
                         "sqlite: more than one statement (use rn_db_exec_script)");
        return false;
    }
    return true;
}

static sqlite3_stmt *lite_compile(lite_conn *c, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    const char *rest = NULL;
    int rc = sqlite3_prepare_v3(c->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &rest);
    if (rc != SQLITE_OK) {
        lite_fail(c, rc);
        return NULL;
    }
    if (!stmt) {
        rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER, "sqlite: empty statement");
        return NULL;
    }
    if (!only_one_statement(c, rest) || !placeholders_ok(c, stmt)) {
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

/* True when parameter i of stmt is "$i" for every i. */
static bool params_in_order(sqlite3_stmt *stmt)
{
    int count = sqlite3_bind_parameter_count(stmt);
    for (int i = 1; i <= count; i++) {
        char expected[16];
        snprintf(expected, sizeof expected, "$%d", i);
        if (strcmp(sqlite3_bind_parameter_name(stmt, i), expected) != 0)
            return false;
    }
    return true;
}

/* The cache entry of sql, compiling and caching it on first use. */
static rn_dbi_cache_entry *lite_statement(lite_conn *c, const char *sql)
{
    rn_dbi_cache_entry *hit = rn_dbi_cache_find(&c->cache, sql);
    if (hit)
        return hit;
    sqlite3_stmt *stmt = lite_compile(c, sql);
    if (!stmt)
        return NULL;
    rn_dbi_cache_entry *slot = rn_dbi_cache_victim(&c->cache);
    if (slot->sql)
        sqlite3_finalize(slot->handle);
    if (!rn_dbi_cache_store(&c->cache, slot, sql, stmt)) {
        sqlite3_finalize(stmt);
        rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER, "out of memory");
        return NULL;
    }
    slot->params_in_order = params_in_order(stmt);
    return slot;
}

static int bind_one(sqlite3_stmt *stmt, int index, const rn_param *p)
{
    if (p->type == RN_P_INT)
        return sqlite3_bind_int64(stmt, index, p->i);
    if (p->type == RN_P_TEXT && p->text)
        /* STATIC is safe: the statement is reset and unbound before we return,
         * while the caller's strings are still alive. */
        return sqlite3_bind_text(stmt, index, p->text, -1, SQLITE_STATIC);
    return sqlite3_bind_null(stmt, index);
}

static bool lite_bind(lite_conn *c, const rn_dbi_cache_entry *e, int nparams,
                      const rn_param *params)
{
    sqlite3_stmt *stmt = e->handle;
    int expected = sqlite3_bind_parameter_count(stmt);
    if (nparams != expected) {
        rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER,
                         "sqlite: statement takes %d parameters, %d given", expected, nparams);
        return false;
    }
    /* lite_compile made sure each parameter is named "$N", N in 1..count. */
    for (int index = 1; index <= nparams; index++) {
        const char *name = e->params_in_order ? NULL : sqlite3_bind_parameter_name(stmt, index);
        int n = e->params_in_order ? index : name ? atoi(name + 1) : 0;
        int rc = n >= 1 && n <= nparams ? bind_one(stmt, index, &params[n - 1]) : SQLITE_RANGE;
        if (rc != SQLITE_OK) {
            lite_fail(c, rc);
            sqlite3_clear_bindings(stmt);
            return false;
        }
    }
    return true;
}

/* The statement for sql with params bound, ready to step. */
static sqlite3_stmt *lite_ready(lite_conn *c, const char *sql, int nparams,
                                const rn_param *params)
{
    rn_dbi_cache_entry *e = lite_statement(c, sql);
    if (!e || !lite_bind(c, e, nparams, params))
        return NULL;
    return e->handle;
}

/* Releases the statement's locks and the caller's strings. */
static void lite_finish(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

static long long lite_exec(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    lite_conn *c = lite(db);
    sqlite3_stmt *stmt = lite_ready(c, sql, nparams, params);
    if (!stmt)
        return -1;
    sqlite3_int64 before = sqlite3_total_changes64(c->handle);
    long long rows = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        rows++;
    if (rc != SQLITE_DONE) {
        lite_fail(c, rc);
        lite_finish(stmt);
        return -1;
    }
    /* sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, so
     * DDL would report a stale number; a query reports its rows (as libpq). */
    long long changed = 0;
    if (sqlite3_stmt_readonly(stmt))
        changed = rows;
    else if (sqlite3_total_changes64(c->handle) != before)
        changed = sqlite3_changes64(c->handle);
    lite_finish(stmt);
    return changed;
}

static bool add_row(rn_dbi_rows_builder *b, sqlite3_stmt *stmt, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
            if (!rn_dbi_rows_add(b, NULL, 0))
                return false;
            continue;
        }
        const unsigned char *text = sqlite3_column_text(stmt, i);
        size_t len = (size_t)sqlite3_column_bytes(stmt, i);
        if (!text || !rn_dbi_rows_add(b, (const char *)text, len))
            return false;
    }
    return true;
}

static rn_rows *lite_query(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    lite_conn *c = lite(db);
    sqlite3_stmt *stmt = lite_ready(c, sql, nparams, params);
    if (!stmt)
        return NULL;
    int ncols = sqlite3_column_count(stmt);
    rn_dbi_rows_builder b;
    rn_dbi_rows_begin(&b, ncols);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!add_row(&b, stmt, ncols)) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_NOMEM)
            rn_dbi_set_error(db, RN_DB_ERR_OTHER, "out of memory");
        else
            lite_fail(c, rc);
        lite_finish(stmt);
        rn_dbi_rows_discard(&b);
        return NULL;
    }
    lite_finish(stmt);
    rn_rows *rows = rn_dbi_rows_finish(&b);
    if (!rows)
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "out of memory");
    return rows;
}

/* The database's version as of now, for the memo: SQLite's data version,
 * which moves with every commit by any connection or process (read when a
 * read transaction begins: the PRAGMA starts one, or runs in the open one),
 * and this connection's count of changed rows, which moves with its own
 * writes before they commit. False when it cannot tell. */
static bool lite_stamp(lite_conn *c, uint64_t stamp[2])
{
    if (sqlite3_txn_state(c->handle, "main") == SQLITE_TXN_WRITE)
        return false;
    sqlite3_stmt *stmt = lite_ready(c, "PRAGMA data_version", 0, NULL);
    if (!stmt)
        return false;
    int rc = sqlite3_step(stmt);
    lite_finish(stmt);
    unsigned int version = 0;
    if (rc != SQLITE_ROW ||
        sqlite3_file_control(c->handle, "main", SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK)
        return false;
    stamp[0] = version;
    stamp[1] = (uint64_t)sqlite3_total_changes64(c->handle);
    return true;
}

static rn_rows *lite_query_cached(rn_db *db, const char *sql, int nparams,
                                  const rn_param *params)
{
    lite_conn *c = lite(db);
    uint64_t stamp[2];
    if (!lite_stamp(c, stamp)) {
        rn_dbi_clear_error(db); /* the query says whether the store works */
        return lite_query(db, sql, nparams, params);
    }
    rn_rows *rows = rn_dbi_memo_find(&c->memo, stamp, sql, nparams, params);
    if (rows)
        return rows;
    rows = lite_query(db, sql, nparams, params);
    if (rows)
        rn_dbi_memo_store(&c->memo, stamp, sql, nparams, params, rows);
    return rows;
}

static int lite_exec_script(rn_db *db, const char *sql)
{
    lite_conn *c = lite(db);
    char *why = NULL;
    int rc = sqlite3_exec(c->handle, sql, NULL, NULL, &why);
    if (rc != SQLITE_OK) {
        rn_dbi_set_error(db, lite_code(rc), "sqlite: %s", why ? why : sqlite3_errstr(rc));
        sqlite3_free(why);
        return -1;
    }
    return 0;
}

static int lite_command(rn_db *db, const char *sql)
{
    return lite_exec(db, sql, 0, NULL) < 0 ? -1 : 0;
}

const rn_db_driver rn_dbi_sqlite_driver = {
    .dialect = RN_DB_SQLITE,
    .begin_sql = "BEGIN IMMEDIATE",
    /* Deferred: the first read takes the WAL snapshot that every later read
     * of the transaction sees; no write lock. */
    .begin_read_sql = "BEGIN",
    .open = lite_open,
    .close = lite_close,
    .revive = lite_revive,
    .in_transaction = lite_in_transaction,
    .exec = lite_exec,
    .query = lite_query,
    .exec_script = lite_exec_script,
    .command = lite_command,
    .query_cached = lite_query_cached,
};
