/*
 * db.c — the driver-independent half of the store: URL dispatch, the
 * connection pool, transaction bookkeeping, result sets and the statement
 * cache both drivers use.
 *
 * Transactions behave the PostgreSQL way on both drivers: once a statement
 * fails inside one, every further statement fails and COMMIT rolls back and
 * reports the first error. SQLite alone would keep the earlier statements and
 * commit them, so code tested on SQLite would behave differently in
 * production.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db_internal.h"

#define POOL_WAIT_S 10 /* longest wait for a free connection */

#define POOL_MAX 1024
#define PARAMS_MAX 10000

struct rn_pool {
    const rn_db_driver *driver;
    pthread_mutex_t lock;
    pthread_cond_t available;
    int size;
    int nfree;
    rn_db **all;
    rn_db **free_list;
};

/* ---- errors ---------------------------------------------------------- */

void rn_dbi_format(char *out, size_t outlen, const char *fmt, ...)
{
    if (!out || outlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
}

void rn_dbi_clear_error(rn_db *db)
{
    db->error = RN_DB_OK;
    db->message[0] = '\0';
}

void rn_dbi_set_error(rn_db *db, rn_db_error code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->message, sizeof db->message, fmt, ap);
    va_end(ap);
    db->error = code;
}

rn_db_error rn_db_last_error(const rn_db *db)
{
    return db ? db->error : RN_DB_ERR_UNAVAILABLE;
}

const char *rn_db_last_message(const rn_db *db)
{
    return db ? db->message : "no connection";
}

/* ---- secrets in URLs --------------------------------------------------- */

/* Where the password of "scheme://user:password@host/..." sits, if any. */
static bool url_password_span(const char *url, size_t *start, size_t *len)
{
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end)
        return false;
    const char *authority = scheme_end + 3;
    size_t authority_len = strcspn(authority, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < authority_len; i++) {
        if (authority[i] == '@')
            at = authority + i;
    }
    if (!at)
        return false;
    const char *colon = memchr(authority, ':', (size_t)(at - authority));
    if (!colon)
        return false;
    *start = (size_t)(colon + 1 - url);
    *len = (size_t)(at - colon - 1);
    return true;
}

/* Appends src[0..n) to out, keeping it terminated and within outlen. */
static void append(char *out, size_t outlen, size_t *used, const char *src, size_t n)
{
    if (*used + 1 >= outlen)
        return;
    size_t room = outlen - 1 - *used;
    if (n > room)
        n = room;
    memcpy(out + *used, src, n);
    *used += n;
    out[*used] = '\0';
}

/* Copies text to out, hiding each "password=VALUE" query parameter's value. */
static void append_without_query_passwords(char *out, size_t outlen, size_t *used,
                                           const char *text)
{
    static const char key[] = "password=";
    const char *p = text;
    for (;;) {
        const char *hit = strstr(p, key);
        if (!hit) {
            append(out, outlen, used, p, strlen(p));
            return;
        }
        bool at_boundary = hit > text && (hit[-1] == '?' || hit[-1] == '&');
        size_t keep = (size_t)(hit - p) + sizeof key - 1;
        append(out, outlen, used, p, keep);
        p = hit + sizeof key - 1;
        if (at_boundary) {
            append(out, outlen, used, "***", 3);
            p += strcspn(p, "&#");
        }
    }
}

void rn_dbi_redact_url(const char *url, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    out[0] = '\0';
    size_t used = 0, start, len;
    if (url_password_span(url, &start, &len)) {
        append(out, outlen, &used, url, start);
        append(out, outlen, &used, "***", 3);
        url += start + len;
    }
    append_without_query_passwords(out, outlen, &used, url);
}

void rn_dbi_scrub(char *text, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n == 0)
        return;
    char *cursor = text, *hit;
    while ((hit = strstr(cursor, secret)) != NULL) {
        size_t tail = strlen(hit + n);
        size_t mask = n < 3 ? n : 3;
        memset(hit, '*', mask);
        memmove(hit + mask, hit + n, tail + 1);
        cursor = hit + mask;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The password of a URL, as written and percent-decoded, for scrubbing. */
static void url_passwords(const char *url, char *raw, char *decoded, size_t cap)
{
    raw[0] = decoded[0] = '\0';
    size_t start, len;
    if (!url_password_span(url, &start, &len) || len >= cap)
        return;
    memcpy(raw, url + start, len);
    raw[len] = '\0';
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = i + 2 < len ? hex_value(raw[i + 1]) : -1;
        int lo = i + 2 < len ? hex_value(raw[i + 2]) : -1;
        if (raw[i] == '%' && hi >= 0 && lo >= 0) {
            decoded[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            decoded[j++] = raw[i];
        }
    }
    decoded[j] = '\0';
}

/* ---- result sets ------------------------------------------------------- */

rn_rows *rn_dbi_rows_new(int nrows, int ncols)
{
    rn_rows *rows = calloc(1, sizeof *rows);
    if (!rows)
        return NULL;
    size_t ncells = (size_t)nrows * (size_t)ncols;
    rows->cells = calloc(ncells ? ncells : 1, sizeof *rows->cells);
    if (!rows->cells) {
        free(rows);
        return NULL;
    }
    rows->nrows = nrows;
    rows->ncols = ncols;
    return rows;
}

void rn_dbi_rows_begin(rn_dbi_rows_builder *b, int ncols)
{
    memset(b, 0, sizeof *b);
    b->ncols = ncols;
}

static bool grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t next = *cap ? *cap : 64;
    while (next < need)
        next *= 2;
    void *p = realloc(*buf, next * elem);
    if (!p)
        return false;
    *buf = p;
    *cap = next;
    return true;
}

bool rn_dbi_rows_add(rn_dbi_rows_builder *b, const char *value, size_t len)
{
    if (!grow((void **)&b->offsets, &b->cells_cap, b->ncells + 1, sizeof *b->offsets))
        return false;
    if (!value) {
        b->offsets[b->ncells++] = SIZE_MAX;
        return true;
    }
    if (!grow((void **)&b->text, &b->text_cap, b->text_len + len + 1, 1))
        return false;
    memcpy(b->text + b->text_len, value, len);
    b->text[b->text_len + len] = '\0';
    b->offsets[b->ncells++] = b->text_len;
    b->text_len += len + 1;
    return true;
}

rn_rows *rn_dbi_rows_finish(rn_dbi_rows_builder *b)
{
    int nrows = b->ncols > 0 ? (int)(b->ncells / (size_t)b->ncols) : 0;
    rn_rows *rows = rn_dbi_rows_new(nrows, b->ncols);
    if (!rows) {
        rn_dbi_rows_discard(b);
        return NULL;
    }
    for (size_t i = 0; i < b->ncells; i++) {
        if (b->offsets[i] != SIZE_MAX)
            rows->cells[i] = b->text + b->offsets[i];
    }
    rows->text = b->text;
    b->text = NULL;
    rn_dbi_rows_discard(b);
    return rows;
}

void rn_dbi_rows_discard(rn_dbi_rows_builder *b)
{
    free(b->offsets);
    free(b->text);
    memset(b, 0, sizeof *b);
}

int rn_rows_count(const rn_rows *rows)
{
    return rows ? rows->nrows : 0;
}

int rn_rows_columns(const rn_rows *rows)
{
    return rows ? rows->ncols : 0;
}

const char *rn_rows_get(const rn_rows *rows, int row, int col)
{
    if (!rows || row < 0 || col < 0 || row >= rows->nrows || col >= rows->ncols)
        return NULL;
    return rows->cells[(size_t)row * (size_t)rows->ncols + (size_t)col];
}

long long rn_rows_int(const rn_rows *rows, int row, int col, long long fallback)
{
    const char *text = rn_rows_get(rows, row, col);
    if (!text || !(*text == '-' || *text == '+' || (*text >= '0' && *text <= '9')))
        return fallback;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return fallback;
    return v;
}

bool rn_rows_is_null(const rn_rows *rows, int row, int col)
{
    return rn_rows_get(rows, row, col) == NULL;
}

void rn_rows_free(rn_rows *rows)
{
    if (!rows)
        return;
    if (rows->release)
        rows->release(rows->owner);
    free(rows->text);
    free(rows->cells);
    free(rows);
}

/* ---- statement cache --------------------------------------------------- */

static uint64_t hash_text(const char *s, size_t *len)
{
    uint64_t h = 1469598103934665603ull;
    const char *p = s;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    *len = (size_t)(p - s);
    return h;
}

rn_dbi_cache_entry *rn_dbi_cache_find(rn_dbi_cache *cache, const char *sql)
{
    /* Nearly every statement is a string constant passed by the same
     * pointer each time: try that before hashing the text. The text is
     * still compared, since a buffer can be reused for other SQL. */
    for (int i = 0; i < RN_DBI_CACHE_SIZE; i++) {
        rn_dbi_cache_entry *e = &cache->entries[i];
        if (e->origin == sql && e->sql && strcmp(e->sql, sql) == 0) {
            e->last_used = ++cache->clock;
            return e;
        }
    }
    size_t len;
    uint64_t h = hash_text(sql, &len);
    for (int i = 0; i < RN_DBI_CACHE_SIZE; i++) {
        rn_dbi_cache_entry *e = &cache->entries[i];
        if (e->sql && e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->last_used = ++cache->clock;
            e->origin = sql;
            return e;
        }
    }
    return NULL;
}

rn_dbi_cache_entry *rn_dbi_cache_victim(rn_dbi_cache *cache)
{
    rn_dbi_cache_entry *oldest = &cache->entries[0];
    for (int i = 0; i < RN_DBI_CACHE_SIZE; i++) {
        rn_dbi_cache_entry *e = &cache->entries[i];
        if (!e->sql)
            return e;
        if (e->last_used < oldest->last_used)
            oldest = e;
    }
    return oldest;
}

bool rn_dbi_cache_store(rn_dbi_cache *cache, rn_dbi_cache_entry *slot, const char *sql,
                        void *handle)
{
    rn_dbi_cache_forget(slot);
    size_t len;
    uint64_t h = hash_text(sql, &len);
    slot->sql = malloc(len + 1);
    if (!slot->sql)
        return false;
    memcpy(slot->sql, sql, len + 1);
    slot->len = len;
    slot->hash = h;
    slot->origin = sql;
    slot->handle = handle;
    slot->last_used = ++cache->clock;
    return true;
}

void rn_dbi_cache_forget(rn_dbi_cache_entry *entry)
{
    free(entry->sql);
    memset(entry, 0, sizeof *entry);
}

/* ---- statements and transactions ---------------------------------------- */

static bool arguments_ok(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    if (!sql) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "no SQL given");
        return false;
    }
    if (nparams < 0 || nparams > PARAMS_MAX || (nparams > 0 && !params)) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "bad parameter list (%d)", nparams);
        return false;
    }
    return true;
}

/* Refuses statements in a transaction an earlier failure has doomed. */
static bool txn_usable(rn_db *db)
{
    if (!db->in_txn || db->txn_error == RN_DB_OK)
        return true;
    rn_dbi_set_error(db, RN_DB_ERR_OTHER,
                     "transaction already failed (%s); roll it back", db->txn_message);
    return false;
}

static bool statement_start(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    rn_dbi_clear_error(db);
    return arguments_ok(db, sql, nparams, params) && txn_usable(db);
}

/* Remembers the first failure inside a transaction. In a group, a statement
 * that fails outside any part fails the group (its own change, if any, is
 * in the group's transaction too). */
static void statement_end(rn_db *db)
{
    if (db->error == RN_DB_OK)
        return;
    if (db->group && !db->in_txn)
        db->group_failed = true;
    if (!db->in_txn || db->txn_error != RN_DB_OK)
        return;
    db->txn_error = db->error;
    snprintf(db->txn_message, sizeof db->txn_message, "%s", db->message);
}

long long rn_db_exec(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    if (!db)
        return -1;
    if (!statement_start(db, sql, nparams, params))
        return -1;
    long long changed = db->driver->exec(db, sql, nparams, params);
    statement_end(db);
    return changed;
}

rn_rows *rn_db_query(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    if (!db)
        return NULL;
    if (!statement_start(db, sql, nparams, params))
        return NULL;
    rn_rows *rows = db->driver->query(db, sql, nparams, params);
    statement_end(db);
    return rows;
}

rn_rows *rn_db_query_cached(rn_db *db, const char *sql, int nparams, const rn_param *params)
{
    if (!db)
        return NULL;
    if (!db->driver->query_cached || db->group)
        return rn_db_query(db, sql, nparams, params);
    if (!statement_start(db, sql, nparams, params))
        return NULL;
    rn_rows *rows = db->driver->query_cached(db, sql, nparams, params);
    statement_end(db);
    return rows;
}

int rn_db_exec_script(rn_db *db, const char *sql)
{
    if (!db)
        return -1;
    if (!statement_start(db, sql, 0, NULL))
        return -1;
    int rc = db->driver->exec_script(db, sql);
    statement_end(db);
    return rc;
}

static void txn_opened(rn_db *db)
{
    db->in_txn = true;
    db->txn_error = RN_DB_OK;
    db->txn_message[0] = '\0';
}

/* rn_db_begin inside a group: a part, only while the group's transaction
 * is still open. Parts take no savepoint: SQLite's FTS5 writes out its
 * pending index at every savepoint, which would cost a segment per part. */
static int part_begin(rn_db *db)
{
    if (db->in_txn || !db->driver->in_transaction(db)) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, db->in_txn ? "a part is already open"
                                                         : "the group's transaction is gone");
        return -1;
    }
    txn_opened(db);
    return 0;
}

/* A part that fails or is rolled back fails the whole group: its writes
 * cannot be taken out of the group's transaction on their own. */
static void part_abandon(rn_db *db)
{
    db->in_txn = false;
    db->txn_error = RN_DB_OK;
    db->group_failed = true;
}

/* Opens a transaction with sql: 0 or -1 with the error set. */
static int txn_begin(rn_db *db, const char *sql)
{
    if (db->in_txn || db->driver->in_transaction(db)) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "a transaction is already open");
        return -1;
    }
    if (db->driver->command(db, sql) != 0)
        return -1;
    txn_opened(db);
    return 0;
}

int rn_db_begin_read(rn_db *db)
{
    if (!db)
        return -1;
    rn_dbi_clear_error(db);
    if (db->group) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "no read transaction inside a group");
        return -1;
    }
    return txn_begin(db, db->driver->begin_read_sql);
}

int rn_db_begin(rn_db *db)
{
    if (!db)
        return -1;
    rn_dbi_clear_error(db);
    if (db->group)
        return part_begin(db);
    return txn_begin(db, db->driver->begin_sql);
}

/* Ends the transaction on the server whatever state it is in. */
static void abandon_txn(rn_db *db)
{
    if (db->group) { /* a part's failure never ends the group's transaction */
        if (db->in_txn)
            part_abandon(db);
        return;
    }
    if (db->driver->in_transaction(db))
        db->driver->command(db, "ROLLBACK");
    db->in_txn = false;
    db->txn_error = RN_DB_OK;
}

int rn_db_commit(rn_db *db)
{
    if (!db)
        return -1;
    rn_dbi_clear_error(db);
    if (!db->in_txn) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "commit without a transaction");
        return -1;
    }
    if (db->txn_error != RN_DB_OK) {
        rn_db_error code = db->txn_error;
        char why[RN_DBI_MESSAGE_MAX];
        snprintf(why, sizeof why, "%s", db->txn_message);
        abandon_txn(db);
        rn_dbi_set_error(db, code, "transaction rolled back: %s", why);
        return -1;
    }
    if (db->group) {
        db->in_txn = false;
        return 0;
    }
    int rc = db->driver->command(db, "COMMIT");
    if (rc != 0) {
        rn_db_error code = db->error;
        char why[RN_DBI_MESSAGE_MAX];
        snprintf(why, sizeof why, "%s", db->message);
        abandon_txn(db);
        rn_dbi_set_error(db, code, "%s", why);
    }
    db->in_txn = false;
    return rc;
}

/* Keeps the error that made the caller roll back, so it can still be read. */
void rn_db_rollback(rn_db *db)
{
    if (!db)
        return;
    rn_db_error code = db->error;
    char why[RN_DBI_MESSAGE_MAX];
    snprintf(why, sizeof why, "%s", db->message);
    abandon_txn(db);
    db->error = code;
    snprintf(db->message, sizeof db->message, "%s", why);
}

void rn_db_defer_rows(rn_db *db, long long mark)
{
    if (!db)
        return;
    db->deferring = mark >= 0;
    db->defer_mark = mark;
}

long long rn_db_deferred_from(const rn_db *db)
{
    return db && db->deferring ? db->defer_mark : -1;
}

int rn_db_group_begin(rn_db *db)
{
    if (!db)
        return -1;
    if (db->group) {
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "a group is already open");
        return -1;
    }
    if (rn_db_begin(db) != 0)
        return -1;
    db->in_txn = false;
    db->group = true;
    db->group_failed = false;
    db->deferring = false;
    return 0;
}

int rn_db_group_end(rn_db *db, bool commit)
{
    if (!db || !db->group)
        return -1;
    bool failed = db->group_failed || db->in_txn;
    db->deferring = false;
    db->group = false;
    db->group_failed = false;
    db->in_txn = true;
    if (commit && !failed)
        return rn_db_commit(db);
    rn_db_rollback(db);
    if (failed)
        rn_dbi_set_error(db, RN_DB_ERR_OTHER, "a part of the group failed");
    return -1;
}

rn_dialect rn_db_dialect(const rn_db *db)
{
    return db ? db->driver->dialect : RN_DB_SQLITE; /* no connection: every statement fails */
}

/* ---- pool -------------------------------------------------------------- */

static const rn_db_driver *driver_for(const char *url, const char **target)
{
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        *target = url;
        return &rn_dbi_pg_driver;
    }
    *target = url;
    if (strncmp(url, "sqlite:", 7) == 0) {
        *target = url + 7;
        if (strncmp(*target, "//", 2) == 0)
            *target += 2;
    }
    return &rn_dbi_sqlite_driver;
}

static void close_all(rn_pool *pool, int count)
{
    for (int i = 0; i < count; i++)
        pool->driver->close(pool->all[i]);
}

static rn_pool *pool_alloc(const rn_db_driver *driver, int size)
{
    rn_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->all = calloc((size_t)size, sizeof *pool->all);
    pool->free_list = calloc((size_t)size, sizeof *pool->free_list);
    if (!pool->all || !pool->free_list) {
        free(pool->all);
        free(pool->free_list);
        free(pool);
        return NULL;
    }
    pool->driver = driver;
    pool->size = size;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->available, NULL);
    return pool;
}

static void pool_free(rn_pool *pool)
{
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->available);
    free(pool->all);
    free(pool->free_list);
    free(pool);
}

rn_pool *rn_pool_open(const char *url, int size, char *err, size_t errlen)
{
    rn_dbi_format(err, errlen, "%s", "");
    if (!url || !*url) {
        rn_dbi_format(err, errlen, "no database URL given");
        return NULL;
    }
    if (size < 1 || size > POOL_MAX) {
        rn_dbi_format(err, errlen, "pool size %d outside 1..%d", size, POOL_MAX);
        return NULL;
    }
    const char *target;
    const rn_db_driver *driver = driver_for(url, &target);
    if (driver == &rn_dbi_sqlite_driver && strcmp(target, ":memory:") == 0 && size > 1) {
        rn_dbi_format(err, errlen, "an in-memory SQLite database cannot be pooled; use size 1");
        return NULL;
    }
    rn_pool *pool = pool_alloc(driver, size);
    if (!pool) {
        rn_dbi_format(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < size; i++) {
        char why[RN_DBI_MESSAGE_MAX] = "";
        pool->all[i] = driver->open(target, why, sizeof why);
        if (!pool->all[i]) {
            char safe_url[512], raw[256], decoded[256];
            rn_dbi_redact_url(url, safe_url, sizeof safe_url);
            url_passwords(url, raw, decoded, sizeof raw);
            rn_dbi_scrub(why, raw);
            rn_dbi_scrub(why, decoded);
            rn_dbi_format(err, errlen, "database %s: connection %d of %d failed: %s",
                          safe_url, i + 1, size, why);
            close_all(pool, i);
            pool_free(pool);
            return NULL;
        }
        pool->free_list[pool->nfree++] = pool->all[i];
    }
    return pool;
}

void rn_pool_close(rn_pool *pool)
{
    if (!pool)
        return;
    close_all(pool, pool->size);
    pool_free(pool);
}

rn_db *rn_pool_acquire(rn_pool *pool)
{
    if (!pool)
        return NULL;
    /* Bounded: when every connection is stuck (a stalled database), the
     * caller answers 503 instead of queueing forever. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += POOL_WAIT_S;
    pthread_mutex_lock(&pool->lock);
    while (pool->nfree == 0) {
        if (pthread_cond_timedwait(&pool->available, &pool->lock, &deadline) != 0 &&
            pool->nfree == 0) {
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
    }
    rn_db *db = pool->free_list[--pool->nfree];
    pthread_mutex_unlock(&pool->lock);

    db->driver->revive(db);
    rn_dbi_clear_error(db);
    return db;
}

/* A connection goes back clean: a transaction the caller left open is
 * rolled back rather than handed to the next request. */
void rn_pool_release(rn_pool *pool, rn_db *db)
{
    if (!pool || !db)
        return;
    if (db->group)
        rn_db_group_end(db, false);
    db->deferring = false;
    if (db->in_txn || db->driver->in_transaction(db))
        abandon_txn(db);
    pthread_mutex_lock(&pool->lock);
    pool->free_list[pool->nfree++] = db;
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->lock);
}

rn_dialect rn_pool_dialect(const rn_pool *pool)
{
    return pool->driver->dialect;
}
