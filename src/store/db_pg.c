/*
 * db_pg.c — the PostgreSQL driver (libpq).
 *
 * Parameters travel as untyped text (integers in decimal), so the server
 * infers each type from where it is used; results come back as text. A
 * statement's first run goes out unnamed (one round trip); from its second
 * run on it is a named prepared statement, kept in a per-connection LRU
 * keyed by SQL text, so one-off statements never cost a Parse of their own.
 *
 * Prepared statements live in the server session: a reset connection starts
 * with an empty cache, and a statement is only deallocated (to make room)
 * outside a transaction, where a failing DEALLOCATE cannot abort caller work.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/db_internal.h"

#define CONNECT_TIMEOUT_S "5"
/* A statement that gets no answer in this time (a stalled or unreachable
 * server) fails as unavailable and its connection is dropped, so a worker
 * thread is never held indefinitely. Scripts (migrations) get longer. */
#define STATEMENT_TIMEOUT_MS 15000
#define SCRIPT_TIMEOUT_MS 600000
#define STACK_PARAMS 16

typedef struct {
    struct rn_db base;
    PGconn *conn;
    rn_dbi_cache cache;
    uintptr_t next_id;
} pg_conn;

static pg_conn *pg(rn_db *db)
{
    return (pg_conn *)db;
}

/* Folds libpq's multi-line messages into one log-friendly line. */
static void one_line(char *dst, size_t cap, const char *src)
{
    if (!dst || cap == 0)
        return;
    size_t n = 0;
    bool space = false;
    for (const char *p = src; *p && n + 1 < cap; p++) {
        bool blank = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
        if (blank) {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < cap)
            dst[n++] = ' ';
        space = false;
        dst[n++] = *p;
    }
    dst[n] = '\0';
}

static bool state_is(const char *state, const char *code)
{
    return state && strcmp(state, code) == 0;
}

static rn_db_error pg_code(PGconn *conn, const char *state)
{
    if (PQstatus(conn) == CONNECTION_BAD)
        return RN_DB_ERR_UNAVAILABLE;
    if (!state)
        return RN_DB_ERR_OTHER;
    if (strncmp(state, "23", 2) == 0)
        return RN_DB_ERR_CONSTRAINT;
    if (state_is(state, "40001") || state_is(state, "40P01") || state_is(state, "55P03"))
        return RN_DB_ERR_BUSY;
    /* 08P01 is a protocol violation such as a wrong parameter count: our bug. */
    if (state_is(state, "08P01"))
        return RN_DB_ERR_OTHER;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
        state_is(state, "53300"))
        return RN_DB_ERR_UNAVAILABLE;
    return RN_DB_ERR_OTHER;
}

/* The SQLSTATE and primary message only: DETAIL lines quote row values. */
static void pg_fail(pg_conn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    rn_db_error code = pg_code(c->conn, state);
    char text[RN_DBI_MESSAGE_MAX];
    one_line(text, sizeof text, primary ? primary : PQerrorMessage(c->conn));
    if (!text[0])
        snprintf(text, sizeof text, "%s", res ? PQresStatus(PQresultStatus(res)) : "no result");
    rn_dbi_set_error(&c->base, code, "postgres %s: %s", state ? state : "client", text);
}

/* ---- bounded waits --------------------------------------------------------- */

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Cuts the connection: libpq then reports it broken, and the pool resets it
 * on its next use. */
static void drop_connection(PGconn *conn)
{
    shutdown(PQsocket(conn), SHUT_RDWR);
    PQconsumeInput(conn);
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
}

/* Waits for the results of a sent query, keeping the last (as PQexec does),
 * for at most timeout_ms. */
static PGresult *await_result(PGconn *conn, int sent, long long timeout_ms)
{
    if (!sent)
        return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    long long deadline = mono_ms() + timeout_ms;
    PGresult *last = NULL;
    for (;;) {
        while (PQisBusy(conn)) {
            long long left = deadline - mono_ms();
            if (left <= 0) {
                PQclear(last);
                drop_connection(conn);
                return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
            }
            struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
            if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
                break;
            if (!PQconsumeInput(conn))
                break;
        }
        PGresult *res = PQgetResult(conn);
        if (!res)
            break;
        PQclear(last);
        last = res;
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
            break;
    }
    return last ? last : PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
}

static PGresult *exec_timed(PGconn *conn, const char *sql, long long timeout_ms)
{
    return await_result(conn, PQsendQuery(conn, sql), timeout_ms);
}

/* ---- connections -------------------------------------------------------- */

/* Server warnings become log lines of their own, so stderr keeps one JSON
 * object per line. */
static void notice_to_log(void *arg, const char *message)
{
    char text[RN_DBI_MESSAGE_MAX];
    one_line(text, sizeof text, message);
    json_t *f = json_pack("{s:s}", "detail", text);
    rn_log(RN_LOG_WARN, "postgres notice", f);
    json_decref(f);
}

static int session_setup(PGconn *conn, char *err, size_t errlen)
{
    PQsetNoticeProcessor(conn, notice_to_log, NULL);
    PGresult *res = PQexec(conn, "SET client_min_messages = warning");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        char text[RN_DBI_MESSAGE_MAX];
        one_line(text, sizeof text, PQerrorMessage(conn));
        rn_dbi_format(err, errlen, "session setup failed: %s", text);
    }
    return ok ? 0 : -1;
}

/* The URL goes to libpq untouched; the options before it are defaults the URL
 * may override, the application name is a fallback it may replace. */
static rn_db *pg_open(const char *url, char *err, size_t errlen)
{
    const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name", NULL};
    const char *values[] = {CONNECT_TIMEOUT_S, url, "ringnity", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn) {
        rn_dbi_format(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        one_line(err, errlen, PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    pg_conn *c = calloc(1, sizeof *c);
    if (!c || session_setup(conn, err, errlen) != 0) {
        if (!c)
            rn_dbi_format(err, errlen, "out of memory");
        free(c);
        PQfinish(conn);
        return NULL;
    }
    c->base.driver = &rn_dbi_pg_driver;
    c->conn = conn;
    return &c->base;
}

static void forget_all(pg_conn *c)
{
    for (int i = 0; i < RN_DBI_CACHE_SIZE; i++)
        rn_dbi_cache_forget(&c->cache.entries[i]);
}

static void pg_close(rn_db *db)
{
    pg_conn *c = pg(db);
    forget_all(c);
    PQfinish(c->conn);
    free(c);
}

/* A reset connection is a new server session: its prepared statements and
 * settings are gone. */
static void pg_revive(rn_db *db)
{
    pg_conn *c = pg(db);
    if (PQstatus(c->conn) != CONNECTION_BAD)
        return;
    forget_all(c);
    db->in_txn = false;
    db->txn_error = RN_DB_OK;
    PQreset(c->conn);
    if (PQstatus(c->conn) == CONNECTION_OK)
        session_setup(c->conn, NULL, 0);
}

static bool pg_in_transaction(rn_db *db)
{
    PGTransactionStatusType s = PQtransactionStatus(pg(db)->conn);
    return s == PQTRANS_ACTIVE || s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

/* ---- prepared statement cache ------------------------------------------- */

static void statement_name(const rn_dbi_cache_entry *e, char *out, size_t cap)
{
    snprintf(out, cap, "rn_%lu", (unsigned long)(uintptr_t)e->handle);
}

static bool idle(pg_conn *c)
{
    return PQtransactionStatus(c->conn) == PQTRANS_IDLE;
}

static void deallocate(pg_conn *c, rn_dbi_cache_entry *e)
{
    if (e->prepared && idle(c)) {
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE ");
        statement_name(e, sql + strlen(sql), sizeof sql - strlen(sql));
        PQclear(exec_timed(c->conn, sql, STATEMENT_TIMEOUT_MS));
    }
    rn_dbi_cache_forget(e);
}

/* Notes a first sighting of sql, when a slot can be had without risk. */
static void remember(pg_conn *c, const char *sql)
{
    rn_dbi_cache_entry *slot = rn_dbi_cache_victim(&c->cache);
    if (slot->sql && slot->prepared && !idle(c))
        return;
    if (slot->sql)
        deallocate(c, slot);
    if (rn_dbi_cache_store(&c->cache, slot, sql, (void *)++c->next_id))
        slot->prepared = false;
}

/* Prepares a cache entry; on failure returns the error result. */
static PGresult *prepare(pg_conn *c, rn_dbi_cache_entry *e)
{
    char name[32];
    statement_name(e, name, sizeof name);
    PGresult *res = await_result(c->conn, PQsendPrepare(c->conn, name, e->sql, 0, NULL),
                                 STATEMENT_TIMEOUT_MS);
    if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        e->prepared = true;
        return NULL;
    }
    rn_dbi_cache_forget(e);
    return res ? res : PQmakeEmptyPGresult(c->conn, PGRES_FATAL_ERROR);
}

/* The server lost or outgrew the plan (DISCARD, or a table changed shape). */
static bool stale_plan(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state_is(state, "26000") || state_is(state, "0A000");
}

static PGresult *run_unnamed(pg_conn *c, const char *sql, int n, const char *const *values)
{
    return await_result(c->conn, PQsendQueryParams(c->conn, sql, n, NULL, values, NULL, NULL, 0),
                        STATEMENT_TIMEOUT_MS);
}

static PGresult *run_values(pg_conn *c, const char *sql, int n, const char *const *values)
{
    bool was_idle = idle(c);
    if (PQtransactionStatus(c->conn) == PQTRANS_INERROR)
        return run_unnamed(c, sql, n, values);
    rn_dbi_cache_entry *e = rn_dbi_cache_find(&c->cache, sql);
    if (!e) {
        remember(c, sql);
        return run_unnamed(c, sql, n, values);
    }
    if (!e->prepared) {
        PGresult *failed = prepare(c, e);
        if (failed)
            return failed;
    }
    char name[32];
    statement_name(e, name, sizeof name);
    PGresult *res = await_result(
        c->conn, PQsendQueryPrepared(c->conn, name, n, values, NULL, NULL, 0),
        STATEMENT_TIMEOUT_MS);
    if (PQresultStatus(res) != PGRES_FATAL_ERROR || !stale_plan(res))
        return res;
    deallocate(c, e);
    if (!was_idle)
        return res;
    /* Outside a transaction the failed run changed nothing: run it afresh. */
    PQclear(res);
    return run_unnamed(c, sql, n, values);
}

/* Runs one statement with its parameters as text. */
static PGresult *run(pg_conn *c, const char *sql, int nparams, const rn_param *params)
{
    const char *stack_values[STACK_PARAMS];
    char stack_ints[STACK_PARAMS][24];
    const char **values = stack_values;
    char (*ints)[24] = stack_ints;
    if (nparams > STACK_PARAMS) {
        values = calloc((size_t)nparams, sizeof *values);
        ints = calloc((size_t)nparams, sizeof *ints);
        if (!values || !ints) {
            free(values);
            free(ints);
            return NULL;
        }
    }
    for (int i = 0; i < nparams; i++) {
        const rn_param *p = &params[i];
        values[i] = NULL;
        if (p->type == RN_P_INT) {
            snprintf(ints[i], sizeof ints[i], "%lld", p->i);
            values[i] = ints[i];
        } else if (p->type == RN_P_TEXT) {
            values[i] = p->text;
        }
    }
    PGresult *res = run_values(c, sql, nparams, values);
    if (values != stack_values) {
        free(values);
        free(ints);
    }
    return res;
}

/* ---- statements --------------------------------------------------------- */

/* True for a result that carries success; otherwise records the failure. */
static bool result_ok(pg_conn *c, PGresult *res)
{
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return true;
    if (s == PGRES_EMPTY_QUERY)
        rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER, "postgres: empty statement");
    else if (s == PGRES_FATAL_ERROR)
        pg_fail(c, res);
    else
        rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER, "postgres: unexpected result %s",
                         PQresStatus(s));
    return false;
}

static long long pg_exec(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    pg_conn *c = pg(db);
    PGresult *res = run(c, sql, nparams, params);
    if (!result_ok(c, res)) {
        PQclear(res);
        return -1;
    }
    long long changed = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return changed;
}

static void release_result(void *res)
{
    PQclear(res);
}

/* The rows point straight into the PGresult, which they keep alive. */
static rn_rows *wrap_result(pg_conn *c, PGresult *res)
{
    int nrows = PQntuples(res), ncols = PQnfields(res);
    rn_rows *rows = rn_dbi_rows_new(nrows, ncols);
    if (!rows) {
        PQclear(res);
        rn_dbi_set_error(&c->base, RN_DB_ERR_OTHER, "out of memory");
        return NULL;
    }
    for (int r = 0; r < nrows; r++) {
        for (int col = 0; col < ncols; col++) {
            if (!PQgetisnull(res, r, col))
                rows->cells[(size_t)r * (size_t)ncols + (size_t)col] = PQgetvalue(res, r, col);
        }
    }
    rows->owner = res;
    rows->release = release_result;
    return rows;
}

static rn_rows *pg_query(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    pg_conn *c = pg(db);
    PGresult *res = run(c, sql, nparams, params);
    if (!result_ok(c, res)) {
        PQclear(res);
        return NULL;
    }
    return wrap_result(c, res);
}

/* PQexec runs a multi-statement string as one implicit transaction. */
static int pg_exec_script(rn_db *db, const char *sql)
{
    pg_conn *c = pg(db);
    PGresult *res = exec_timed(c->conn, sql, SCRIPT_TIMEOUT_MS);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    bool ok = s == PGRES_EMPTY_QUERY || result_ok(c, res);
    PQclear(res);
    return ok ? 0 : -1;
}

/* COMMIT of a transaction the server already aborted "succeeds" with the
 * command tag ROLLBACK: that is a failure for the caller. */
static int pg_command(rn_db *db, const char *sql)
{
    pg_conn *c = pg(db);
    PGresult *res = exec_timed(c->conn, sql, STATEMENT_TIMEOUT_MS);
    if (!result_ok(c, res)) {
        PQclear(res);
        return -1;
    }
    bool rolled_back = strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    if (rolled_back) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "postgres: the server rolled the transaction back");
        return -1;
    }
    return 0;
}

const rn_db_driver rn_dbi_pg_driver = {
    .dialect = RN_DB_POSTGRES,
    .begin_sql = "BEGIN",
    .begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    .open = pg_open,
    .close = pg_close,
    .revive = pg_revive,
    .in_transaction = pg_in_transaction,
    .exec = pg_exec,
    .query = pg_query,
    .exec_script = pg_exec_script,
    .command = pg_command,
};
