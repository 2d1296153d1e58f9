/*
 * test_db.c — one conformance suite for both store drivers.
 *
 * Every backend case runs against SQLite (a temporary file) and, when
 * RN_TEST_PG_URL names a database we may scribble on, against PostgreSQL.
 * Without that variable the PostgreSQL cases are reported as skipped.
 * Tables are prefixed store_t_ and dropped before use.
 */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/db.h"
#include "store/memo.h"

/* One per backend group; each test gets fresh pools that its teardown closes,
 * so a failed assertion cannot leak a connection (or its locks) into the next. */
typedef struct {
    rn_pool *pool;
    rn_pool *solo; /* size 1, for tests that need the same connection back */
    char url[512];
    char dir[128];
} backend;

static const char *const ITEMS_DDL =
    "DROP TABLE IF EXISTS store_t_items;"
    "CREATE TABLE store_t_items (id BIGINT PRIMARY KEY, name TEXT, note TEXT, n BIGINT)";

/* ---- fixtures ----------------------------------------------------------- */

static int open_backend(void **state, const char *url, const char *dir)
{
    backend *be = calloc(1, sizeof *be);
    char err[512];
    snprintf(be->url, sizeof be->url, "%s", url);
    snprintf(be->dir, sizeof be->dir, "%s", dir);
    rn_pool *probe = rn_pool_open(url, 1, err, sizeof err);
    if (!probe) {
        fprintf(stderr, "cannot open %s: %s\n", url, err);
        free(be);
        return -1;
    }
    rn_pool_close(probe);
    *state = be;
    return 0;
}

static int open_pools(void **state)
{
    backend *be = *state;
    if (!be)
        return 0;
    be->pool = rn_pool_open(be->url, 4, NULL, 0);
    be->solo = rn_pool_open(be->url, 1, NULL, 0);
    return be->pool && be->solo ? 0 : -1;
}

static int close_pools(void **state)
{
    backend *be = *state;
    if (!be)
        return 0;
    rn_pool_close(be->pool);
    rn_pool_close(be->solo);
    be->pool = be->solo = NULL;
    return 0;
}

static int setup_sqlite(void **state)
{
    char dir[32] = "/tmp/rn-test-db-";
    memset(dir + strlen(dir), 'X', 6); /* mkdtemp's template suffix */
    if (!mkdtemp(dir))
        return -1;
    char url[512];
    /* "nested" does not exist yet: opening must create it. */
    snprintf(url, sizeof url, "sqlite:%s/nested/test.db", dir);
    return open_backend(state, url, dir);
}

static int setup_pg(void **state)
{
    const char *url = getenv("RN_TEST_PG_URL");
    if (!url || !*url) {
        fprintf(stderr, "RN_TEST_PG_URL is not set: PostgreSQL cases are SKIPPED\n");
        *state = NULL;
        return 0;
    }
    return open_backend(state, url, "");
}

static int teardown_backend(void **state)
{
    backend *be = *state;
    if (!be)
        return 0;
    if (be->dir[0]) {
        static const char *const files[] = {"nested/test.db", "nested/test.db-wal",
                                            "nested/test.db-shm", "nested", ""};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            char path[256];
            snprintf(path, sizeof path, "%s/%s", be->dir, files[i]);
            if (unlink(path) != 0)
                rmdir(path);
        }
    }
    free(be);
    return 0;
}

static backend *use(void **state)
{
    backend *be = *state;
    if (!be)
        skip();
    return be;
}

static rn_db *fresh_items(backend *be)
{
    rn_db *db = rn_pool_acquire(be->pool);
    assert_non_null(db);
    assert_int_equal(rn_db_exec_script(db, ITEMS_DDL), 0);
    return db;
}

static long long count_items(rn_db *db)
{
    rn_rows *rows = rn_db_query(db, "SELECT COUNT(*) FROM store_t_items", RN_NOPARAMS);
    assert_non_null(rows);
    long long n = rn_rows_int(rows, 0, 0, -1);
    rn_rows_free(rows);
    return n;
}

static long long insert_item(rn_db *db, long long id, const char *name)
{
    return rn_db_exec(db, "INSERT INTO store_t_items (id, name) VALUES ($1, $2)",
                      RN_PARAMS(RN_I(id), RN_T(name)));
}

/* ---- values and placeholders -------------------------------------------- */

static void test_insert_reads_back_exact_text(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    const char *sql = "INSERT INTO store_t_items (id, name, note, n) VALUES ($1, $2, $3, $4)";
    assert_int_equal(rn_db_exec(db, sql, RN_PARAMS(RN_I(1), RN_T("alice"), RN_T(NULL),
                                                   RN_I(LLONG_MAX))), 1);
    assert_int_equal(rn_db_exec(db, sql, RN_PARAMS(RN_I(2), RN_T("bob"), RN_T("x"),
                                                   RN_I(LLONG_MIN))), 1);
    assert_int_equal(rn_db_exec(db, sql, RN_PARAMS(RN_I(3), RN_T("Zoë 'q' \"d\""), RN_T(""),
                                                   RN_NULLP)), 1);

    rn_rows *rows = rn_db_query(db, "SELECT id, name, note, n FROM store_t_items ORDER BY id",
                                RN_NOPARAMS);
    assert_non_null(rows);
    assert_int_equal(rn_rows_count(rows), 3);
    assert_int_equal(rn_rows_columns(rows), 4);
    assert_string_equal(rn_rows_get(rows, 0, 0), "1");
    assert_string_equal(rn_rows_get(rows, 0, 1), "alice");
    assert_null(rn_rows_get(rows, 0, 2));
    assert_true(rn_rows_is_null(rows, 0, 2));
    assert_string_equal(rn_rows_get(rows, 0, 3), "9223372036854775807");
    assert_string_equal(rn_rows_get(rows, 1, 2), "x");
    assert_string_equal(rn_rows_get(rows, 1, 3), "-9223372036854775808");
    assert_int_equal(rn_rows_int(rows, 0, 3, 0), LLONG_MAX);
    assert_int_equal(rn_rows_int(rows, 1, 3, 0), LLONG_MIN);
    assert_string_equal(rn_rows_get(rows, 2, 1), "Zoë 'q' \"d\"");
    assert_string_equal(rn_rows_get(rows, 2, 2), "");
    assert_false(rn_rows_is_null(rows, 2, 2));
    assert_true(rn_rows_is_null(rows, 2, 3));
    assert_null(rn_rows_get(rows, 3, 0));
    assert_null(rn_rows_get(rows, 0, 4));
    assert_null(rn_rows_get(rows, -1, 0));
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

static void test_placeholders_in_reverse_order(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(rn_db_exec(db, "INSERT INTO store_t_items (id, name) VALUES ($2, $1)",
                                RN_PARAMS(RN_T("carol"), RN_I(7))), 1);
    rn_rows *rows = rn_db_query(db, "SELECT name, id FROM store_t_items WHERE id = $1",
                                RN_PARAMS(RN_I(7)));
    assert_non_null(rows);
    assert_int_equal(rn_rows_count(rows), 1);
    assert_string_equal(rn_rows_get(rows, 0, 0), "carol");
    assert_string_equal(rn_rows_get(rows, 0, 1), "7");
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

static void test_placeholder_used_twice(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(rn_db_exec(db, "INSERT INTO store_t_items (id, name, note) "
                                    "VALUES ($1, $2, $2)",
                                RN_PARAMS(RN_I(5), RN_T("dup"))), 1);
    rn_rows *rows = rn_db_query(db, "SELECT id, note FROM store_t_items "
                                    "WHERE name = $1 AND note = $1",
                                RN_PARAMS(RN_T("dup")));
    assert_non_null(rows);
    assert_int_equal(rn_rows_count(rows), 1);
    assert_string_equal(rn_rows_get(rows, 0, 0), "5");
    assert_string_equal(rn_rows_get(rows, 0, 1), "dup");
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

static void test_many_parameters(void **state)
{
    backend *be = use(state);
    rn_db *db = rn_pool_acquire(be->pool);
    char sql[1024] = "SELECT ";
    rn_param params[20];
    static const char letters[] = "abcdefghijklmnopqrst";
    static char one[20][2];
    for (int i = 0; i < 20; i++) {
        size_t len = strlen(sql);
        snprintf(sql + len, sizeof sql - len, "%sCAST($%d AS TEXT)", i ? " || " : "", i + 1);
        one[i][0] = letters[i];
        params[i] = RN_T(one[i]);
    }
    rn_rows *rows = rn_db_query(db, sql, 20, params);
    assert_non_null(rows);
    assert_string_equal(rn_rows_get(rows, 0, 0), letters);
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

static void test_rows_int_falls_back(void **state)
{
    backend *be = use(state);
    rn_db *db = rn_pool_acquire(be->pool);
    rn_rows *rows = rn_db_query(db, "SELECT 'abc', NULL, '12x', '-42', '', "
                                    "'99999999999999999999', ' 7', '+8'",
                                RN_NOPARAMS);
    assert_non_null(rows);
    assert_int_equal(rn_rows_columns(rows), 8);
    assert_int_equal(rn_rows_int(rows, 0, 0, -1), -1);
    assert_int_equal(rn_rows_int(rows, 0, 1, -1), -1);
    assert_int_equal(rn_rows_int(rows, 0, 2, -1), -1);
    assert_int_equal(rn_rows_int(rows, 0, 3, -1), -42);
    assert_int_equal(rn_rows_int(rows, 0, 4, -1), -1);
    assert_int_equal(rn_rows_int(rows, 0, 5, -1), -1);
    assert_int_equal(rn_rows_int(rows, 0, 6, -1), -1);
    assert_int_equal(rn_rows_int(rows, 0, 7, -1), 8);
    assert_int_equal(rn_rows_int(rows, 0, 8, -1), -1);
    assert_int_equal(rn_rows_int(rows, 1, 0, -1), -1);
    assert_int_equal(rn_rows_int(NULL, 0, 0, 3), 3);
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

static void test_empty_result_has_columns(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    rn_rows *rows = rn_db_query(db, "SELECT id, name FROM store_t_items WHERE id = $1",
                                RN_PARAMS(RN_I(1)));
    assert_non_null(rows);
    assert_int_equal(rn_rows_count(rows), 0);
    assert_int_equal(rn_rows_columns(rows), 2);
    assert_null(rn_rows_get(rows, 0, 0));
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

/* ---- errors ------------------------------------------------------------- */

static void test_unique_violation_is_constraint(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(insert_item(db, 1, "a"), 1);
    assert_int_equal(rn_db_last_error(db), RN_DB_OK);
    assert_int_equal(insert_item(db, 1, "b"), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_true(strlen(rn_db_last_message(db)) > 0);
    assert_int_equal(insert_item(db, 2, "b"), 1);
    assert_int_equal(rn_db_last_error(db), RN_DB_OK);
    assert_string_equal(rn_db_last_message(db), "");
    rn_pool_release(be->pool, db);
}

static void test_foreign_key_violation_is_constraint(void **state)
{
    backend *be = use(state);
    rn_db *db = rn_pool_acquire(be->pool);
    assert_int_equal(rn_db_exec_script(db,
                         "DROP TABLE IF EXISTS store_t_child;"
                         "DROP TABLE IF EXISTS store_t_parent;"
                         "CREATE TABLE store_t_parent (id BIGINT PRIMARY KEY);"
                         "CREATE TABLE store_t_child (id BIGINT PRIMARY KEY, parent BIGINT "
                         "NOT NULL REFERENCES store_t_parent (id))"),
                     0);
    assert_int_equal(rn_db_exec(db, "INSERT INTO store_t_child (id, parent) VALUES (1, $1)",
                                RN_PARAMS(RN_I(42))),
                     -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_int_equal(rn_db_exec(db, "INSERT INTO store_t_child (id, parent) VALUES (2, $1)",
                                RN_PARAMS(RN_NULLP)),
                     -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_int_equal(rn_db_exec_script(db, "DROP TABLE store_t_child; DROP TABLE store_t_parent"),
                     0);
    rn_pool_release(be->pool, db);
}

static void test_bad_sql_is_other(void **state)
{
    backend *be = use(state);
    rn_db *db = rn_pool_acquire(be->pool);
    assert_null(rn_db_query(db, "SELEC 1", RN_NOPARAMS));
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_true(strlen(rn_db_last_message(db)) > 0);
    assert_int_equal(rn_db_exec(db, "UPDATE store_t_missing SET x = 1", RN_NOPARAMS), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_int_equal(rn_db_exec_script(db, "SELECT 1; SELEC 2"), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_int_equal(rn_db_exec(db, "", RN_NOPARAMS), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_int_equal(rn_db_exec(db, NULL, RN_NOPARAMS), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);

    rn_rows *rows = rn_db_query(db, "SELECT 1", RN_NOPARAMS);
    assert_non_null(rows);
    assert_string_equal(rn_rows_get(rows, 0, 0), "1");
    assert_int_equal(rn_db_last_error(db), RN_DB_OK);
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

/* Both drivers insist on exactly $1..$n, so a mistake shows up on SQLite too. */
static void test_parameter_mismatch_is_other(void **state)
{
    backend *be = use(state);
    rn_db *db = rn_pool_acquire(be->pool);
    assert_null(rn_db_query(db, "SELECT CAST($1 AS TEXT)", RN_NOPARAMS));
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_null(rn_db_query(db, "SELECT CAST($1 AS TEXT)", RN_PARAMS(RN_T("a"), RN_T("b"))));
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_null(rn_db_query(db, "SELECT CAST($2 AS TEXT)", RN_PARAMS(RN_T("a"))));
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_null(rn_db_query(db, "SELECT ?", RN_PARAMS(RN_T("a"))));
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_int_equal(rn_db_exec(db, "SELECT 1; SELECT 2", RN_NOPARAMS), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    rn_pool_release(be->pool, db);
}

static void test_lock_wait_is_busy(void **state)
{
    backend *be = use(state);
    rn_db *holder = fresh_items(be);
    rn_db *waiter = rn_pool_acquire(be->pool);
    assert_int_equal(insert_item(holder, 1, "locked"), 1);
    bool lite = rn_db_dialect(waiter) == RN_DB_SQLITE;
    assert_int_equal(rn_db_exec_script(waiter, lite ? "PRAGMA busy_timeout = 50"
                                                    : "SET lock_timeout = '50ms'"),
                     0);
    assert_int_equal(rn_db_begin(holder), 0);
    assert_int_equal(rn_db_exec(holder, "UPDATE store_t_items SET n = 1", RN_NOPARAMS), 1);
    if (lite) {
        assert_int_equal(rn_db_begin(waiter), -1);
    } else {
        assert_int_equal(rn_db_exec(waiter, "UPDATE store_t_items SET n = 2", RN_NOPARAMS), -1);
    }
    assert_int_equal(rn_db_last_error(waiter), RN_DB_ERR_BUSY);
    rn_db_rollback(holder);
    assert_int_equal(rn_db_exec_script(waiter, lite ? "PRAGMA busy_timeout = 5000"
                                                    : "RESET lock_timeout"),
                     0);
    assert_int_equal(rn_db_exec(waiter, "UPDATE store_t_items SET n = 2", RN_NOPARAMS), 1);
    rn_pool_release(be->pool, waiter);
    rn_pool_release(be->pool, holder);
}

/* ---- transactions ------------------------------------------------------- */

static void test_rollback_leaves_nothing(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 1, "a"), 1);
    assert_int_equal(insert_item(db, 2, "b"), 1);
    assert_int_equal(count_items(db), 2);
    rn_db_rollback(db);
    assert_int_equal(count_items(db), 0);
    rn_pool_release(be->pool, db);
}

static void test_commit_persists_for_other_connections(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    rn_db *other = rn_pool_acquire(be->pool);
    assert_ptr_not_equal(db, other);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 1, "a"), 1);
    assert_int_equal(count_items(other), 0);
    assert_int_equal(rn_db_commit(db), 0);
    assert_int_equal(count_items(other), 1);
    rn_pool_release(be->pool, other);
    rn_pool_release(be->pool, db);
}

/* A failed statement dooms the transaction on both drivers: nothing commits. */
static void test_failed_statement_dooms_transaction(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 1, "a"), 1);
    assert_int_equal(insert_item(db, 1, "again"), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_int_equal(insert_item(db, 2, "b"), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    assert_int_equal(rn_db_commit(db), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_int_equal(count_items(db), 0);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(rn_db_commit(db), 0);
    rn_pool_release(be->pool, db);
}

static void test_rollback_keeps_the_error(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(insert_item(db, 1, "a"), 1);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 1, "a"), -1);
    rn_db_rollback(db);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(rn_db_begin(db), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_OTHER);
    rn_db_rollback(db);
    assert_int_equal(rn_db_commit(db), -1);
    rn_pool_release(be->pool, db);
}

static void test_release_rolls_back_open_transaction(void **state)
{
    backend *be = use(state);
    rn_pool *solo = be->solo;
    rn_db *db = fresh_items(be);
    rn_pool_release(be->pool, db);

    db = rn_pool_acquire(solo);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 1, "abandoned"), 1);
    rn_pool_release(solo, db);

    rn_db *again = rn_pool_acquire(solo);
    assert_ptr_equal(again, db);
    assert_int_equal(rn_db_begin(again), 0);
    assert_int_equal(count_items(again), 0);
    rn_db_rollback(again);
    rn_pool_release(solo, again);
}

/* A read transaction sees one snapshot: a commit by another connection in
 * the middle of it shows only after it ends. It takes no write lock. */
static void test_read_transaction_sees_one_snapshot(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    rn_db *other = rn_pool_acquire(be->pool);
    assert_int_equal(insert_item(db, 1, "a"), 1);
    assert_int_equal(rn_db_begin_read(db), 0);
    assert_int_equal(rn_db_begin_read(db), -1); /* already open */
    assert_int_equal(count_items(db), 1);
    assert_int_equal(insert_item(other, 2, "b"), 1); /* no write lock held */
    assert_int_equal(count_items(db), 1);
    assert_int_equal(rn_db_commit(db), 0);
    assert_int_equal(count_items(db), 2);
    assert_int_equal(rn_db_group_begin(db), 0); /* not inside a group */
    assert_int_equal(rn_db_begin_read(db), -1);
    assert_int_equal(rn_db_group_end(db, false), -1);
    rn_pool_release(be->pool, other);
    rn_pool_release(be->pool, db);
}

/* ---- remembered results ------------------------------------------------ */

static char *cached_name(rn_db *db, long long id)
{
    rn_rows *rows = rn_db_query_cached(db, "SELECT name FROM store_t_items WHERE id = $1",
                                       RN_PARAMS(RN_I(id)));
    assert_non_null(rows);
    char *name = rn_rows_count(rows) ? strdup(rn_rows_get(rows, 0, 0)) : strdup("(none)");
    rn_rows_free(rows);
    return name;
}

#define assert_cached_name(db, id, expected)                                                  \
    do {                                                                                      \
        char *got_ = cached_name(db, id);                                                     \
        assert_string_equal(got_, expected);                                                  \
        free(got_);                                                                           \
    } while (0)

static void set_name(rn_db *db, long long id, const char *name)
{
    assert_int_equal(rn_db_exec(db, "UPDATE store_t_items SET name = $2 WHERE id = $1",
                                RN_PARAMS(RN_I(id), RN_T(name))),
                     1);
}

/* rn_db_query_cached never answers with a result older than the data:
 * another connection's commit, the connection's own write (committed or
 * not), its read snapshot. */
static void test_query_cached_sees_every_change(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    rn_db *other = rn_pool_acquire(be->pool);
    rn_db *elsewhere = rn_pool_acquire(be->solo); /* another pool, as another process */
    assert_int_equal(insert_item(db, 1, "a"), 1);
    assert_cached_name(db, 1, "a");
    assert_cached_name(db, 1, "a");
    assert_cached_name(db, 2, "(none)");

    set_name(other, 1, "b");
    assert_cached_name(db, 1, "b");
    assert_int_equal(insert_item(elsewhere, 2, "x"), 1);
    assert_cached_name(db, 2, "x");
    set_name(elsewhere, 1, "c");
    assert_cached_name(db, 1, "c");

    set_name(db, 1, "d"); /* its own write */
    assert_cached_name(db, 1, "d");
    assert_int_equal(rn_db_begin(db), 0);
    set_name(db, 1, "e");
    assert_cached_name(db, 1, "e"); /* uncommitted, in its own transaction */
    rn_db_rollback(db);
    assert_cached_name(db, 1, "d");

    assert_int_equal(rn_db_begin_read(db), 0);
    assert_cached_name(db, 1, "d");
    set_name(other, 1, "f");
    assert_cached_name(db, 1, "d"); /* the snapshot's answer */
    assert_int_equal(rn_db_commit(db), 0);
    assert_cached_name(db, 1, "f");
    assert_cached_name(other, 1, "f");

    rn_pool_release(be->solo, elsewhere);
    rn_pool_release(be->pool, other);
    rn_pool_release(be->pool, db);
}

/* ---- group commit ------------------------------------------------------- */

/* Parts commit together: nothing shows before the group ends. */
static void test_group_commits_parts_together(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    rn_db *other = rn_pool_acquire(be->pool);
    assert_int_equal(rn_db_group_begin(db), 0);
    assert_int_equal(rn_db_group_begin(db), -1);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(rn_db_begin(db), 0);
        assert_int_equal(rn_db_begin(db), -1); /* parts do not nest */
        assert_int_equal(insert_item(db, i, "x"), 1);
        assert_int_equal(rn_db_commit(db), 0);
    }
    assert_int_equal(count_items(db), 3);
    assert_int_equal(count_items(other), 0);
    assert_int_equal(rn_db_group_end(db, true), 0);
    assert_int_equal(count_items(other), 3);
    assert_int_equal(rn_db_group_end(db, true), -1); /* no group any more */
    /* Back to plain transactions. */
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 4, "y"), 1);
    rn_db_rollback(db);
    assert_int_equal(count_items(other), 3);
    rn_pool_release(be->pool, other);
    rn_pool_release(be->pool, db);
}

/* A part that fails, or rolls back, fails the group: none of it is kept,
 * not even the parts that had succeeded. */
static void test_group_fails_with_any_part(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(insert_item(db, 1, "before"), 1);

    assert_int_equal(rn_db_group_begin(db), 0);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 2, "b"), 1);
    assert_int_equal(rn_db_commit(db), 0);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 1, "dup"), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_int_equal(rn_db_commit(db), -1);
    assert_int_equal(rn_db_last_error(db), RN_DB_ERR_CONSTRAINT);
    assert_int_equal(rn_db_group_end(db, true), -1);
    assert_int_equal(count_items(db), 1);

    assert_int_equal(rn_db_group_begin(db), 0);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 3, "c"), 1);
    rn_db_rollback(db);
    rn_db_rollback(db); /* twice: still just a failed group */
    assert_int_equal(rn_db_group_end(db, true), -1);
    assert_int_equal(count_items(db), 1);

    assert_int_equal(rn_db_group_begin(db), 0); /* a failed statement outside parts */
    assert_int_equal(insert_item(db, 5, "e"), 1);
    assert_int_equal(insert_item(db, 1, "dup"), -1);
    assert_int_equal(rn_db_group_end(db, true), -1);
    assert_int_equal(count_items(db), 1);

    assert_int_equal(rn_db_group_begin(db), 0); /* good parts, no commit */
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 4, "d"), 1);
    assert_int_equal(rn_db_commit(db), 0);
    assert_int_equal(rn_db_group_end(db, false), -1);
    assert_int_equal(count_items(db), 1);
    rn_pool_release(be->pool, db);
}

/* A group left open when its connection goes back to the pool is rolled
 * back, and the connection comes out ready for plain transactions. */
static void test_release_rolls_back_open_group(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    rn_pool_release(be->pool, db);
    rn_pool *solo = be->solo;
    db = rn_pool_acquire(solo);
    assert_int_equal(rn_db_group_begin(db), 0);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 1, "abandoned"), 1);
    rn_pool_release(solo, db);
    db = rn_pool_acquire(solo);
    assert_int_equal(count_items(db), 0);
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(insert_item(db, 2, "kept"), 1);
    assert_int_equal(rn_db_commit(db), 0);
    assert_int_equal(count_items(db), 1);
    rn_pool_release(solo, db);
}

/* ---- statement results -------------------------------------------------- */

static void test_exec_returns_changed_rows(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(insert_item(db, i, "x"), 1);
    assert_int_equal(rn_db_exec(db, "UPDATE store_t_items SET n = 5 WHERE id <= $1",
                                RN_PARAMS(RN_I(2))), 2);
    assert_int_equal(rn_db_exec(db, "UPDATE store_t_items SET n = 5 WHERE id = $1",
                                RN_PARAMS(RN_I(99))), 0);
    assert_int_equal(rn_db_exec(db, "DELETE FROM store_t_items WHERE id = $1",
                                RN_PARAMS(RN_I(3))), 1);
    assert_int_equal(rn_db_exec(db, "DROP TABLE IF EXISTS store_t_other", RN_NOPARAMS), 0);
    assert_int_equal(rn_db_exec(db, "CREATE TABLE store_t_other (id BIGINT)", RN_NOPARAMS), 0);
    assert_int_equal(rn_db_exec(db, "DROP TABLE store_t_other", RN_NOPARAMS), 0);
    assert_int_equal(rn_db_exec(db, "DELETE FROM store_t_items", RN_NOPARAMS), 2);
    rn_pool_release(be->pool, db);
}

static void test_upsert_returning(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    const char *sql = "INSERT INTO store_t_items (id, name, n) VALUES ($1, $2, $3) "
                      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                      "n = store_t_items.n + excluded.n RETURNING id, name, n";
    rn_rows *rows = rn_db_query(db, sql, RN_PARAMS(RN_I(1), RN_T("first"), RN_I(5)));
    assert_non_null(rows);
    assert_int_equal(rn_rows_count(rows), 1);
    assert_string_equal(rn_rows_get(rows, 0, 1), "first");
    assert_int_equal(rn_rows_int(rows, 0, 2, -1), 5);
    rn_rows_free(rows);

    rows = rn_db_query(db, sql, RN_PARAMS(RN_I(1), RN_T("second"), RN_I(3)));
    assert_non_null(rows);
    assert_int_equal(rn_rows_count(rows), 1);
    assert_string_equal(rn_rows_get(rows, 0, 0), "1");
    assert_string_equal(rn_rows_get(rows, 0, 1), "second");
    assert_string_equal(rn_rows_get(rows, 0, 2), "8");
    rn_rows_free(rows);

    assert_int_equal(rn_db_exec(db, sql, RN_PARAMS(RN_I(1), RN_T("third"), RN_I(1))), 1);
    assert_int_equal(count_items(db), 1);
    rn_pool_release(be->pool, db);
}

static void test_exec_script_runs_every_statement(void **state)
{
    backend *be = use(state);
    rn_db *db = fresh_items(be);
    assert_int_equal(rn_db_exec_script(db,
                         "INSERT INTO store_t_items (id, name) VALUES (1, 'a');\n"
                         "-- a comment between statements\n"
                         "INSERT INTO store_t_items (id, name) VALUES (2, 'b;c');\n"),
                     0);
    assert_int_equal(count_items(db), 2);
    assert_int_equal(rn_db_exec_script(db, "-- nothing but a comment"), 0);
    rn_pool_release(be->pool, db);
}

/* More distinct statements than a connection caches, each run several times. */
static void test_statement_cache_eviction(void **state)
{
    backend *be = use(state);
    rn_db *db = rn_pool_acquire(be->pool);
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < 300; k++) {
            char sql[96];
            snprintf(sql, sizeof sql, "SELECT CAST($1 AS BIGINT) + %d", k);
            for (int run = 0; run < 3; run++) {
                rn_rows *rows = rn_db_query(db, sql, RN_PARAMS(RN_I(run)));
                assert_non_null(rows);
                assert_int_equal(rn_rows_int(rows, 0, 0, -1), k + run);
                rn_rows_free(rows);
            }
        }
    }
    rn_pool_release(be->pool, db);
}

/* ---- concurrency -------------------------------------------------------- */

enum { THREADS = 4, INCREMENTS = 100 };

typedef struct {
    rn_pool *pool;
    int failures;
    int retries;
} worker;

static bool increment_once(rn_db *db)
{
    return rn_db_begin(db) == 0 &&
           rn_db_exec(db, "UPDATE store_t_counter SET n = n + 1 WHERE id = 1", RN_NOPARAMS) == 1 &&
           rn_db_exec(db, "INSERT INTO store_t_log (at) VALUES ($1)", RN_PARAMS(RN_I(1))) == 1 &&
           rn_db_commit(db) == 0;
}

static void *increment_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < INCREMENTS; i++) {
        for (;;) {
            rn_db *db = rn_pool_acquire(w->pool);
            bool ok = increment_once(db);
            rn_db_error code = rn_db_last_error(db);
            if (!ok)
                rn_db_rollback(db);
            rn_pool_release(w->pool, db);
            if (ok)
                break;
            if (code != RN_DB_ERR_BUSY) {
                w->failures++;
                break;
            }
            w->retries++;
        }
    }
    return NULL;
}

static void test_concurrent_increments_are_exact(void **state)
{
    backend *be = use(state);
    rn_db *db = rn_pool_acquire(be->pool);
    bool lite = rn_db_dialect(db) == RN_DB_SQLITE;
    assert_int_equal(rn_db_exec_script(db,
                         "DROP TABLE IF EXISTS store_t_counter;"
                         "DROP TABLE IF EXISTS store_t_log;"
                         "CREATE TABLE store_t_counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
                         "INSERT INTO store_t_counter (id, n) VALUES (1, 0)"),
                     0);
    assert_int_equal(rn_db_exec_script(db, lite ? "CREATE TABLE store_t_log (id INTEGER "
                                                  "PRIMARY KEY, at BIGINT)"
                                                : "CREATE TABLE store_t_log (id BIGSERIAL "
                                                  "PRIMARY KEY, at BIGINT)"),
                     0);
    rn_pool_release(be->pool, db);

    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){.pool = be->pool};
        assert_int_equal(pthread_create(&threads[i], NULL, increment_worker, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
    }

    db = rn_pool_acquire(be->pool);
    rn_rows *rows = rn_db_query(db, "SELECT n, (SELECT COUNT(*) FROM store_t_log) "
                                    "FROM store_t_counter WHERE id = 1",
                                RN_NOPARAMS);
    assert_non_null(rows);
    assert_int_equal(rn_rows_int(rows, 0, 0, -1), THREADS * INCREMENTS);
    assert_int_equal(rn_rows_int(rows, 0, 1, -1), THREADS * INCREMENTS);
    rn_rows_free(rows);
    rn_pool_release(be->pool, db);
}

/* ---- driver specifics --------------------------------------------------- */

static const char *pragma(rn_db *db, const char *sql, char *out, size_t cap)
{
    rn_rows *rows = rn_db_query(db, sql, RN_NOPARAMS);
    assert_non_null(rows);
    snprintf(out, cap, "%s", rn_rows_get(rows, 0, 0));
    rn_rows_free(rows);
    return out;
}

static void test_sqlite_connection_settings(void **state)
{
    backend *be = use(state);
    if (rn_pool_dialect(be->pool) != RN_DB_SQLITE)
        skip();
    rn_db *dbs[4];
    char v[32];
    for (int i = 0; i < 4; i++) {
        dbs[i] = rn_pool_acquire(be->pool);
        assert_int_equal(rn_db_dialect(dbs[i]), RN_DB_SQLITE);
        assert_string_equal(pragma(dbs[i], "PRAGMA journal_mode", v, sizeof v), "wal");
        assert_string_equal(pragma(dbs[i], "PRAGMA synchronous", v, sizeof v), "1");
        assert_string_equal(pragma(dbs[i], "PRAGMA foreign_keys", v, sizeof v), "1");
        assert_string_equal(pragma(dbs[i], "PRAGMA busy_timeout", v, sizeof v), "5000");
    }
    for (int i = 0; i < 4; i++)
        rn_pool_release(be->pool, dbs[i]);

    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/nested", be->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/nested/test.db", be->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_pg_reconnects_a_killed_connection(void **state)
{
    backend *be = use(state);
    if (rn_pool_dialect(be->pool) != RN_DB_POSTGRES)
        skip();
    rn_pool *solo = be->solo;
    rn_db *victim = rn_pool_acquire(solo);
    const char *pid_sql = "SELECT pg_backend_pid(), current_setting('application_name'), "
                          "current_setting('client_min_messages')";
    rn_rows *rows = NULL;
    for (int i = 0; i < 3; i++) { /* the second run prepares it */
        rn_rows_free(rows);
        rows = rn_db_query(victim, pid_sql, RN_NOPARAMS);
        assert_non_null(rows);
    }
    long long pid = rn_rows_int(rows, 0, 0, -1);
    assert_string_equal(rn_rows_get(rows, 0, 1), "ringnity");
    assert_string_equal(rn_rows_get(rows, 0, 2), "warning");
    rn_rows_free(rows);

    rn_db *killer = rn_pool_acquire(be->pool);
    rows = rn_db_query(killer, "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 5000)",
                       RN_PARAMS(RN_I(pid)));
    assert_non_null(rows);
    assert_string_equal(rn_rows_get(rows, 0, 0), "t");
    rn_rows_free(rows);
    rn_pool_release(be->pool, killer);

    assert_null(rn_db_query(victim, pid_sql, RN_NOPARAMS));
    assert_int_equal(rn_db_last_error(victim), RN_DB_ERR_UNAVAILABLE);
    rn_pool_release(solo, victim);

    victim = rn_pool_acquire(solo);
    for (int i = 0; i < 3; i++) {
        rows = rn_db_query(victim, pid_sql, RN_NOPARAMS);
        assert_non_null(rows);
        assert_int_not_equal(rn_rows_int(rows, 0, 0, -1), pid);
        assert_string_equal(rn_rows_get(rows, 0, 2), "warning");
        rn_rows_free(rows);
    }
    rn_pool_release(solo, victim);
}

/* ---- pool (no server needed) -------------------------------------------- */

static void test_pool_error_hides_password(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "postgres://ringuser:Sup3rS3cret@127.0.0.1:1/ringnity",
        "postgresql://ringuser:Sup3r%53ecret@127.0.0.1:1/ringnity?connect_timeout=2",
        "postgres://ringuser@127.0.0.1:1/ringnity?sslmode=disable&password=Sup3rS3cret",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char err[512] = "";
        assert_null(rn_pool_open(urls[i], 2, err, sizeof err));
        assert_null(strstr(err, "Sup3r"));
        assert_non_null(strstr(err, "***"));
        assert_non_null(strstr(err, "ringuser"));
        assert_non_null(strstr(err, "127.0.0.1"));
    }
}

static void test_pool_rejects_bad_arguments(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(rn_pool_open("sqlite:/tmp/never-created.db", 0, err, sizeof err));
    assert_true(strlen(err) > 0);
    err[0] = '\0';
    assert_null(rn_pool_open("", 1, err, sizeof err));
    assert_true(strlen(err) > 0);
    err[0] = '\0';
    assert_null(rn_pool_open("sqlite::memory:", 2, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(rn_pool_open("sqlite:/proc/no/such/dir/x.db", 1, NULL, 0));
}

static void test_pool_in_memory_single_connection(void **state)
{
    (void)state;
    char err[256];
    rn_pool *pool = rn_pool_open("sqlite::memory:", 1, err, sizeof err);
    assert_non_null(pool);
    assert_int_equal(rn_pool_dialect(pool), RN_DB_SQLITE);
    rn_db *db = rn_pool_acquire(pool);
    assert_int_equal(rn_db_exec_script(db, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('m')"),
                     0);
    rn_rows *rows = rn_db_query(db, "SELECT v FROM t", RN_NOPARAMS);
    assert_string_equal(rn_rows_get(rows, 0, 0), "m");
    rn_rows_free(rows);
    rn_pool_release(pool, db);
    rn_pool_close(pool);
}

/* ---- the memo itself ---------------------------------------------------- */

static rn_rows *one_row(const char *a, const char *b)
{
    rn_dbi_rows_builder builder;
    rn_dbi_rows_begin(&builder, 2);
    assert_true(rn_dbi_rows_add(&builder, a, a ? strlen(a) : 0));
    assert_true(rn_dbi_rows_add(&builder, b, b ? strlen(b) : 0));
    return rn_dbi_rows_finish(&builder);
}

static void test_memo_answers_only_the_same_query_at_the_same_stamp(void **state)
{
    (void)state;
    rn_dbi_memo memo = {0};
    const uint64_t at[2] = {7, 3}, later[2] = {8, 3}, own[2] = {7, 4};
    const char *sql = "SELECT a, b FROM t WHERE k = $1 AND n = $2";
    rn_rows *rows = one_row("alpha", NULL);
    rn_dbi_memo_store(&memo, at, sql, RN_PARAMS(RN_T("key"), RN_I(5)), rows);
    rn_rows_free(rows);

    rn_rows *hit = rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_T("key"), RN_I(5)));
    assert_non_null(hit);
    assert_int_equal(rn_rows_count(hit), 1);
    assert_int_equal(rn_rows_columns(hit), 2);
    assert_string_equal(rn_rows_get(hit, 0, 0), "alpha");
    assert_true(rn_rows_is_null(hit, 0, 1));
    rn_rows_free(hit);

    /* Other parameters, types, SQL: no answer. */
    assert_null(rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_T("key"), RN_I(6))));
    assert_null(rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_T("key"), RN_T("5"))));
    assert_null(rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_T("key"), RN_NULLP)));
    assert_null(rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_T("ke"), RN_I(5))));
    assert_null(rn_dbi_memo_find(&memo, at, "SELECT a, b FROM t WHERE k = $1 AND n = $2 ",
                                 RN_PARAMS(RN_T("key"), RN_I(5))));
    /* Another stamp in either half: no answer, and the entry is gone. */
    assert_null(rn_dbi_memo_find(&memo, own, sql, RN_PARAMS(RN_T("key"), RN_I(5))));
    assert_null(rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_T("key"), RN_I(5))));
    rows = one_row("beta", "b");
    rn_dbi_memo_store(&memo, at, sql, RN_PARAMS(RN_T("key"), RN_I(5)), rows);
    rn_rows_free(rows);
    assert_null(rn_dbi_memo_find(&memo, later, sql, RN_PARAMS(RN_T("key"), RN_I(5))));
    rn_dbi_memo_clear(&memo);
}

static void test_memo_keeps_a_bounded_number_of_small_results(void **state)
{
    (void)state;
    rn_dbi_memo memo = {0};
    const uint64_t at[2] = {1, 1};
    const char *sql = "SELECT a, b FROM t WHERE k = $1";
    for (int i = 0; i < RN_DBI_MEMO_SIZE + 1; i++) {
        rn_rows *rows = one_row("v", NULL);
        rn_dbi_memo_store(&memo, at, sql, RN_PARAMS(RN_I(i)), rows);
        rn_rows_free(rows);
    }
    /* The oldest went to make room; the others stay. */
    assert_null(rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_I(0))));
    for (int i = 1; i < RN_DBI_MEMO_SIZE + 1; i++) {
        rn_rows *hit = rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_I(i)));
        assert_non_null(hit);
        rn_rows_free(hit);
    }
    /* Storing the same query again replaces it rather than adding a copy. */
    rn_rows *rows = one_row("w", NULL);
    rn_dbi_memo_store(&memo, at, sql, RN_PARAMS(RN_I(3)), rows);
    rn_rows_free(rows);
    rn_rows *hit = rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_I(3)));
    assert_string_equal(rn_rows_get(hit, 0, 0), "w");
    rn_rows_free(hit);
    hit = rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_I(2)));
    assert_non_null(hit);
    rn_rows_free(hit);

    /* A result over the size bound is not kept. */
    char big[RN_DBI_MEMO_MAX_BYTES + 1];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rows = one_row(big, NULL);
    rn_dbi_memo_store(&memo, at, sql, RN_PARAMS(RN_I(100)), rows);
    rn_rows_free(rows);
    assert_null(rn_dbi_memo_find(&memo, at, sql, RN_PARAMS(RN_I(100))));
    rn_dbi_memo_clear(&memo);
}

#define BACKEND_TEST(fn) cmocka_unit_test_setup_teardown(fn, open_pools, close_pools)

static const struct CMUnitTest backend_tests[] = {
    BACKEND_TEST(test_insert_reads_back_exact_text),
    BACKEND_TEST(test_placeholders_in_reverse_order),
    BACKEND_TEST(test_placeholder_used_twice),
    BACKEND_TEST(test_many_parameters),
    BACKEND_TEST(test_rows_int_falls_back),
    BACKEND_TEST(test_empty_result_has_columns),
    BACKEND_TEST(test_unique_violation_is_constraint),
    BACKEND_TEST(test_foreign_key_violation_is_constraint),
    BACKEND_TEST(test_bad_sql_is_other),
    BACKEND_TEST(test_parameter_mismatch_is_other),
    BACKEND_TEST(test_lock_wait_is_busy),
    BACKEND_TEST(test_rollback_leaves_nothing),
    BACKEND_TEST(test_commit_persists_for_other_connections),
    BACKEND_TEST(test_failed_statement_dooms_transaction),
    BACKEND_TEST(test_rollback_keeps_the_error),
    BACKEND_TEST(test_release_rolls_back_open_transaction),
    BACKEND_TEST(test_read_transaction_sees_one_snapshot),
    BACKEND_TEST(test_query_cached_sees_every_change),
    BACKEND_TEST(test_group_commits_parts_together),
    BACKEND_TEST(test_group_fails_with_any_part),
    BACKEND_TEST(test_release_rolls_back_open_group),
    BACKEND_TEST(test_exec_returns_changed_rows),
    BACKEND_TEST(test_upsert_returning),
    BACKEND_TEST(test_exec_script_runs_every_statement),
    BACKEND_TEST(test_statement_cache_eviction),
    BACKEND_TEST(test_concurrent_increments_are_exact),
    BACKEND_TEST(test_sqlite_connection_settings),
    BACKEND_TEST(test_pg_reconnects_a_killed_connection),
};

static const struct CMUnitTest pool_tests[] = {
    cmocka_unit_test(test_pool_error_hides_password),
    cmocka_unit_test(test_pool_rejects_bad_arguments),
    cmocka_unit_test(test_pool_in_memory_single_connection),
    cmocka_unit_test(test_memo_answers_only_the_same_query_at_the_same_stamp),
    cmocka_unit_test(test_memo_keeps_a_bounded_number_of_small_results),
};

int main(void)
{
    int failed = 0;
    failed += cmocka_run_group_tests_name("db_sqlite", backend_tests, setup_sqlite,
                                          teardown_backend);
    failed += cmocka_run_group_tests_name("db_postgres", backend_tests, setup_pg,
                                          teardown_backend);
    failed += cmocka_run_group_tests_name("db_pool", pool_tests, NULL, NULL);
    return failed;
}
