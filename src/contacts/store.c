/*
 * store.c — the contacts table: every statement the module runs, each one
 * scoped by tenant_id.
 *
 * Lists walk `seq` (a global insertion counter) newest first with keyset
 * pagination: a page is the rows strictly below the last position seen, so
 * rows inserted or deleted meanwhile never shift a page (no row is skipped
 * or repeated). Search has three paths:
 *  - SQLite, 3+ characters: the FTS5 trigram index, whose rowids give each
 *    tenant a range ordered newest first, read forwards from the position,
 *    joined to the row for the tenant check; it stops at the page size;
 *  - PostgreSQL, 3+ characters: LIKE on search_text with the pg_trgm GIN
 *    index, the planner choosing between it and the (tenant_id, seq) index;
 *  - 1-2 characters, both stores: trigrams cannot help, so the page scans at
 *    most RN_CONTACT_SHORT_SCAN of the tenant's rows below the position and
 *    filters them with a plain substring test (instr / strpos); a page may
 *    then come back short (even empty) with a cursor that continues below
 *    the rows scanned.
 * The term is already case-folded (search.c) and compared as a literal
 * substring: FTS5 takes it as one quoted phrase, LIKE gets %, _ and \
 * escaped, instr/strpos have no wildcards at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts/fields.h"
#include "contacts/model.h"
#include "contacts/schema.h"

/* The columns every read returns, in contact_from_row's order. */
#define COLS_OF(p)                                                                        \
    p "id, " p "external_id, " p "name, " p "phone, " p "email, " p "company, " p "tags, "  \
    p "notes, " p "created_at, " p "updated_at, " p "seq"
#define COLS COLS_OF("c.")
#define COL_SEQ 10

#define SQL_LOAD "SELECT " COLS " FROM contacts c WHERE c.tenant_id = $1 AND c.id = $2"
#define SQL_LOAD_EXTERNAL                                                                 \
    "SELECT " COLS " FROM contacts c WHERE c.tenant_id = $1 AND c.external_id = $2"
#define SQL_INSERT                                                                        \
    "INSERT INTO contacts (tenant_id, id, external_id, name, phone, email, company, tags,"  \
    " notes, search_text, created_at, updated_at)"                                        \
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
#define SQL_INSERT_IF_NEW_EXTERNAL                                                        \
    SQL_INSERT " ON CONFLICT (tenant_id, external_id) DO NOTHING"
#define SQL_UPDATE                                                                        \
    "UPDATE contacts SET external_id = $3, name = $4, phone = $5, email = $6, company = $7," \
    " tags = $8, notes = $9, search_text = $10, updated_at = $11"                         \
    " WHERE tenant_id = $1 AND id = $2"
#define SQL_DELETE                                                                        \
    "DELETE FROM contacts WHERE tenant_id = $1 AND id = $2 RETURNING " COLS_OF("")
#define SQL_EXTERNAL_TAKEN                                                                \
    "SELECT id FROM contacts WHERE tenant_id = $1 AND external_id = $2 AND id <> $3 LIMIT 1"

#define SQL_LIST                                                                          \
    "SELECT " COLS " FROM contacts c WHERE c.tenant_id = $1 AND c.seq < $2"                \
    " ORDER BY c.seq DESC LIMIT $3"
/* The FTS5 rowid puts the tenant in its own range, newest first (migration
 * 7, contacts/schema.h): the rowid bounds are the tenant's range below
 * position $3, so FTS5 seeks to the tenant and reads forwards. */
#define SQL_SEARCH_SQLITE                                                                 \
    "SELECT " COLS " FROM contacts_fts CROSS JOIN contacts c"                             \
    " ON c.seq = " RN_CONTACTS_FTS_SEQ_SQL("contacts_fts.rowid")                           \
    " WHERE contacts_fts MATCH $2"                                                         \
    " AND contacts_fts.rowid > " RN_CONTACTS_FTS_ROWID_SQL("$1", "$3")                     \
    " AND contacts_fts.rowid <= " RN_CONTACTS_FTS_ROWID_SQL("$1", "0")                     \
    " AND c.tenant_id = $1 ORDER BY contacts_fts.rowid LIMIT $4"
#define SQL_SEARCH_PG                                                                     \
    "SELECT " COLS " FROM contacts c WHERE c.tenant_id = $1 AND c.seq < $2"                \
    " AND c.search_text LIKE $3 ESCAPE '\\' ORDER BY c.seq DESC LIMIT $4"
#define RN_STR_(x) #x
#define RN_STR(x) RN_STR_(x)
/* Short searches scan a window: the RN_CONTACT_SHORT_SCAN rows of the tenant
 * below $2. PostgreSQL runs the window as a LIMIT subquery, which its
 * executor pulls lazily (a common term stops after a few rows), and needs
 * the window's lowest position only when a page comes back short. SQLite
 * would materialise and sort such a subquery, so there the window's floor
 * is found first (an index-only scan) and bounds a plain range scan. */
#define WINDOW_ROWS RN_STR(RN_CONTACT_SHORT_SCAN)
#define SQL_WINDOW(cols)                                                                  \
    "(SELECT " cols " FROM contacts WHERE tenant_id = $1 AND seq < $2"                     \
    " ORDER BY seq DESC LIMIT " WINDOW_ROWS ")"
#define SQL_SHORT_PG                                                                      \
    "SELECT " COLS " FROM " SQL_WINDOW("*") " c WHERE strpos(c.search_text, $3) > 0"        \
    " ORDER BY c.seq DESC LIMIT $4"
#define SQL_WINDOW_END_PG "SELECT MIN(w.seq), COUNT(*) FROM " SQL_WINDOW("seq") " w"
#define SQL_FLOOR_SQLITE                                                                  \
    "SELECT seq FROM contacts WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC"         \
    " LIMIT 1 OFFSET " WINDOW_ROWS " - 1"
#define SQL_SHORT_SQLITE                                                                  \
    "SELECT " COLS " FROM contacts c WHERE c.tenant_id = $1 AND c.seq < $2"                \
    " AND c.seq >= $3 AND instr(c.search_text, $4) > 0 ORDER BY c.seq DESC LIMIT $5"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void contact_from_row(const rn_rows *rows, int row, rn_contact *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", rn_rows_get(rows, row, 0));
    c->external_id = dup_or_null(rn_rows_get(rows, row, 1));
    c->name = dup_or_null(rn_rows_get(rows, row, 2));
    c->phone = dup_or_null(rn_rows_get(rows, row, 3));
    c->email = dup_or_null(rn_rows_get(rows, row, 4));
    c->company = dup_or_null(rn_rows_get(rows, row, 5));
    c->tags = dup_or_null(rn_rows_get(rows, row, 6));
    c->notes = dup_or_null(rn_rows_get(rows, row, 7));
    c->created_at = rn_rows_int(rows, row, 8, 0);
    c->updated_at = rn_rows_int(rows, row, 9, 0);
}

/* Runs a one-row lookup; 1 found, 0 none, -1 error. */
static int load_one(rn_db *db, const char *sql, const char *tenant_id, const char *key,
                    rn_contact *out)
{
    rn_rows *rows = rn_db_query(db, sql, RN_PARAMS(RN_T(tenant_id), RN_T(key)));
    if (!rows)
        return -1;
    int found = rn_rows_count(rows) > 0;
    if (found)
        contact_from_row(rows, 0, out);
    rn_rows_free(rows);
    return found;
}

int rn_contact_load(rn_db *db, const char *tenant_id, const char *id, bool lock, rn_contact *out)
{
    bool pg_lock = lock && rn_db_dialect(db) == RN_DB_POSTGRES;
    return load_one(db, pg_lock ? SQL_LOAD " FOR UPDATE" : SQL_LOAD, tenant_id, id, out);
}

int rn_contact_load_external(rn_db *db, const char *tenant_id, const char *external_id,
                             bool lock, rn_contact *out)
{
    bool pg_lock = lock && rn_db_dialect(db) == RN_DB_POSTGRES;
    return load_one(db, pg_lock ? SQL_LOAD_EXTERNAL " FOR UPDATE" : SQL_LOAD_EXTERNAL,
                    tenant_id, external_id, out);
}

int rn_contact_insert(rn_db *db, const char *tenant_id, const rn_contact *c,
                      bool if_new_external)
{
    char *search = rn_contact_search_text(c);
    if (!search)
        return -1;
    const char *sql = if_new_external ? SQL_INSERT_IF_NEW_EXTERNAL : SQL_INSERT;
    long long n = rn_db_exec(
        db, sql,
        RN_PARAMS(RN_T(tenant_id), RN_T(c->id), RN_T(c->external_id), RN_T(c->name),
                  RN_T(c->phone), RN_T(c->email), RN_T(c->company), RN_T(c->tags),
                  RN_T(c->notes), RN_T(search), RN_I(c->created_at), RN_I(c->updated_at)));
    free(search);
    return n < 0 ? -1 : n > 0;
}

int rn_contact_update(rn_db *db, const char *tenant_id, const rn_contact *c)
{
    char *search = rn_contact_search_text(c);
    if (!search)
        return -1;
    long long n = rn_db_exec(
        db, SQL_UPDATE,
        RN_PARAMS(RN_T(tenant_id), RN_T(c->id), RN_T(c->external_id), RN_T(c->name),
                  RN_T(c->phone), RN_T(c->email), RN_T(c->company), RN_T(c->tags),
                  RN_T(c->notes), RN_T(search), RN_I(c->updated_at)));
    free(search);
    return n < 0 ? -1 : n > 0;
}

int rn_contact_delete(rn_db *db, const char *tenant_id, const char *id, rn_contact *out)
{
    return load_one(db, SQL_DELETE, tenant_id, id, out);
}

int rn_contact_external_taken(rn_db *db, const char *tenant_id, const char *external_id,
                              const char *except_id)
{
    rn_rows *rows = rn_db_query(db, SQL_EXTERNAL_TAKEN,
                                RN_PARAMS(RN_T(tenant_id), RN_T(external_id), RN_T(except_id)));
    if (!rows)
        return -1;
    int taken = rn_rows_count(rows) > 0;
    rn_rows_free(rows);
    return taken;
}

/* ---- pages ------------------------------------------------------------- */

/* The term as one FTS5 phrase: in double quotes, inner quotes doubled. */
static char *fts_phrase(const char *term)
{
    size_t len = strlen(term);
    char *out = malloc(len * 2 + 3), *p = out;
    if (!out)
        return NULL;
    *p++ = '"';
    for (const char *s = term; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

/* The term as a LIKE pattern matching it anywhere, with \ % _ escaped. */
static char *like_pattern(const char *term)
{
    size_t len = strlen(term);
    char *out = malloc(len * 2 + 3), *p = out;
    if (!out)
        return NULL;
    *p++ = '%';
    for (const char *s = term; *s; s++) {
        if (*s == '\\' || *s == '%' || *s == '_')
            *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '%';
    *p = '\0';
    return out;
}

static rn_rows *query_trigram(rn_db *db, const char *tenant_id, const char *term,
                              long long before, int fetch)
{
    bool pg = rn_db_dialect(db) == RN_DB_POSTGRES;
    /* "Before the first page" is the top of the tenant's rowid range, not
     * below every rowid of the index: else FTS5 would start reading at the
     * lowest tenant's range. */
    long long range_top = before < RN_CONTACTS_FTS_SPAN ? before : RN_CONTACTS_FTS_SPAN;
    char *arg = pg ? like_pattern(term) : fts_phrase(term);
    if (!arg)
        return NULL;
    rn_rows *rows = pg ? rn_db_query(db, SQL_SEARCH_PG,
                                     RN_PARAMS(RN_T(tenant_id), RN_I(before), RN_T(arg),
                                               RN_I(fetch)))
                       : rn_db_query(db, SQL_SEARCH_SQLITE,
                                     RN_PARAMS(RN_T(tenant_id), RN_T(arg), RN_I(range_top),
                                               RN_I(fetch)));
    free(arg);
    return rows;
}

/* One value of a one-row query with (tenant, before) parameters: the first
 * column, or -1 when it is NULL or there is no row; -2 on a store error.
 * With need_full, -1 also when the second column is below the window size. */
static long long window_edge(rn_db *db, const char *sql, const char *tenant_id, long long before,
                             bool need_full)
{
    rn_rows *rows = rn_db_query(db, sql, RN_PARAMS(RN_T(tenant_id), RN_I(before)));
    if (!rows)
        return -2;
    long long edge = rn_rows_count(rows) ? rn_rows_int(rows, 0, 0, -1) : -1;
    if (need_full && rn_rows_int(rows, 0, 1, 0) < RN_CONTACT_SHORT_SCAN)
        edge = -1;
    rn_rows_free(rows);
    return edge;
}

/* A 1-2 character search page. *floor receives where the next page starts
 * when this one comes back short: the window's lowest position, or -1 when
 * the window reached the tenant's oldest row; -2 on a store error. */
static rn_rows *query_short(rn_db *db, const char *tenant_id, const char *term, long long before,
                            int fetch, long long *floor)
{
    if (rn_db_dialect(db) == RN_DB_POSTGRES) {
        rn_rows *rows = rn_db_query(
            db, SQL_SHORT_PG, RN_PARAMS(RN_T(tenant_id), RN_I(before), RN_T(term), RN_I(fetch)));
        bool short_page = rows && rn_rows_count(rows) < fetch;
        *floor = short_page ? window_edge(db, SQL_WINDOW_END_PG, tenant_id, before, true) : -1;
        if (*floor != -2)
            return rows;
        rn_rows_free(rows);
        return NULL;
    }
    *floor = window_edge(db, SQL_FLOOR_SQLITE, tenant_id, before, false);
    if (*floor == -2)
        return NULL;
    return rn_db_query(db, SQL_SHORT_SQLITE,
                       RN_PARAMS(RN_T(tenant_id), RN_I(before), RN_I(*floor), RN_T(term),
                                 RN_I(fetch)));
}

int rn_contact_page(rn_db *db, const char *tenant_id, const char *folded, long long before,
                    int limit, rn_text *items, long long *next)
{
    bool short_term = folded && rn_utf8_length(folded, strlen(folded)) < 3;
    long long floor = -1;
    rn_rows *rows;
    if (!folded)
        rows = rn_db_query(db, SQL_LIST, RN_PARAMS(RN_T(tenant_id), RN_I(before), RN_I(limit + 1)));
    else if (short_term)
        rows = query_short(db, tenant_id, folded, before, limit + 1, &floor);
    else
        rows = query_trigram(db, tenant_id, folded, before, limit + 1);
    if (!rows)
        return -1;
    int n = rn_rows_count(rows);
    for (int i = 0; i < n && i < limit; i++) {
        rn_contact c;
        contact_from_row(rows, i, &c);
        if (i > 0)
            rn_text_put(items, ",", 1);
        rn_contact_render(items, &c);
        rn_contact_clear(&c);
    }
    /* A short page that stopped at the scan floor continues below it. */
    *next = n > limit ? rn_rows_int(rows, limit - 1, COL_SEQ, -1) : floor;
    rn_rows_free(rows);
    return 0;
}

/* ---- deferred indexing (SQLite) ------------------------------------------ */

/* The trigram index's rowids run newest first within a tenant, so indexing
 * new rows one by one as they are inserted costs a segment each (FTS5
 * writes out what it holds whenever a rowid is lower than the last):
 * writers of many rows defer them and index them here in rowid order. */
static const char *const SQL_INDEX_DEFERRED =
    "INSERT INTO contacts_fts (rowid, search_text)"
    " SELECT " RN_CONTACTS_FTS_ROWID_SQL("tenant_id", "seq") ", search_text FROM contacts"
    " WHERE seq > $1 ORDER BY 1";

int rn_contacts_defer_index(rn_db *db)
{
    if (rn_db_dialect(db) != RN_DB_SQLITE)
        return 0;
    rn_rows *rows = rn_db_query(db, "SELECT COALESCE(MAX(seq), 0) FROM contacts", RN_NOPARAMS);
    if (!rows)
        return -1;
    rn_db_defer_rows(db, rn_rows_int(rows, 0, 0, 0));
    rn_rows_free(rows);
    return 0;
}

int rn_contacts_index_deferred(rn_db *db)
{
    long long mark = rn_db_deferred_from(db);
    if (mark < 0)
        return 0;
    rn_db_defer_rows(db, -1);
    return rn_db_exec(db, SQL_INDEX_DEFERRED, RN_PARAMS(RN_I(mark))) < 0 ? -1 : 0;
}
