/*
 * test_contacts.c — the contacts module below the HTTP layer:
 *  - case folding and the stored search text (search.c);
 *  - sealed list cursors (cursor.c): round trip, and refusal of every
 *    altered byte, another list, tenant or filter;
 *  - body checks and normalisation (validate.c);
 *  - the store (store.c) on SQLite in a temporary file and, when
 *    RN_TEST_PG_URL names a PostgreSQL database we may create databases
 *    from, on a fresh database there: the trigram index follows inserts,
 *    updates and deletes; pages are tenant-scoped keyset pages; wildcards
 *    are literal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "contacts/contacts.h"
#include "contacts/model.h"
#include "core/util.h"
#include "store/db.h"
#include "store_fixture.h"
#include "store/migrate.h"
#include "tenants/tenants.h"

static const unsigned char MASTER[32] = {7, 1, 2};

/* ---- folding ------------------------------------------------------------ */

static void assert_fold(const char *in, const char *want)
{
    char *got = rn_contact_fold(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_fold(void **state)
{
    (void)state;
    assert_fold("Budi SANTOSO 42", "budi santoso 42");
    assert_fold("\xc3\x89LODIE", "\xc3\xa9lodie");                  /* ÉLODIE */
    assert_fold("\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91",           /* ΑΘΗΝΑ */
                "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1");
    assert_fold("\xd0\x96\xd0\x9a", "\xd0\xb6\xd0\xba");              /* ЖК */
    assert_fold("\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87"); /* 中文 */
    assert_fold("\xf0\x9f\x98\x80 A", "\xf0\x9f\x98\x80 a");           /* emoji */
    assert_fold("\xef\xbc\xa1", "\xef\xbd\x81");                      /* full-width A */
    /* U+023A grows from two bytes to three when folded (U+2C65). */
    assert_fold("\xc8\xba", "\xe2\xb1\xa5");
    assert_fold("%_\\", "%_\\");
    assert_fold("", "");
    assert_null(rn_contact_fold("bad \xc3\x28"));
    assert_null(rn_contact_fold("\xed\xa0\x80"));
}

static void test_search_text(void **state)
{
    (void)state;
    rn_contact c = {0};
    c.name = strdup("Budi");
    c.email = strdup("B@X.example");
    c.phone = strdup("+628123456789");
    char *s = rn_contact_search_text(&c);
    assert_string_equal(s, "budi\x1f" "b@x.example\x1f\x1f\x1f+628123456789");
    free(s);
    rn_contact_clear(&c);
    rn_contact empty = {0};
    s = rn_contact_search_text(&empty);
    assert_string_equal(s, "\x1f\x1f\x1f\x1f");
    free(s);
}

static void test_render(void **state)
{
    (void)state;
    rn_contact c = {0};
    strcpy(c.id, "ct_x");
    c.name = strdup("Quote \" back\\ nl\n tab\t bell\x07 \xc3\xa9");
    c.tags = strdup("[\"a\",\"b\"]");
    c.created_at = 1764746100000LL;
    c.updated_at = 1764746100001LL;
    rn_text t = {0};
    rn_contact_render(&t, &c);
    assert_string_equal(t.text,
                        "{\"id\":\"ct_x\",\"externalId\":null,"
                        "\"name\":\"Quote \\\" back\\\\ nl\\n tab\\t bell\\u0007 \xc3\xa9\","
                        "\"phone\":null,\"email\":null,\"company\":null,\"tags\":[\"a\",\"b\"],"
                        "\"notes\":null,\"createdAt\":\"2025-12-03T07:15:00.000Z\","
                        "\"updatedAt\":\"2025-12-03T07:15:00.001Z\"}");
    json_t *v = rn_contact_json(&c);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "name")), c.name);
    assert_int_equal(json_array_size(json_object_get(v, "tags")), 2);
    json_decref(v);
    rn_text_free(&t);
    rn_contact_clear(&c);
}

/* ---- cursors ------------------------------------------------------------ */

static void test_cursor_round_trip(void **state)
{
    (void)state;
    const long long positions[] = {0, 1, 255, 1LL << 40, INT64_MAX};
    for (size_t i = 0; i < sizeof positions / sizeof *positions; i++) {
        char c[RN_CURSOR_MAX];
        long long back = -1;
        assert_int_equal(rn_cursor_seal(MASTER, "contacts", "ten_a", "budi", positions[i], c,
                                        sizeof c),
                         0);
        assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "budi", c, &back), 0);
        assert_int_equal(back, positions[i]);
    }
    char small[16];
    assert_int_equal(rn_cursor_seal(MASTER, "contacts", "ten_a", "", 1, small, sizeof small), -1);
}

static void test_cursor_refusals(void **state)
{
    (void)state;
    char c[RN_CURSOR_MAX], other[RN_CURSOR_MAX];
    long long pos = 0;
    assert_int_equal(rn_cursor_seal(MASTER, "contacts", "ten_a", "", 42, c, sizeof c), 0);
    /* Two seals of one position differ (random nonce) and both open. */
    assert_int_equal(rn_cursor_seal(MASTER, "contacts", "ten_a", "", 42, other, sizeof other), 0);
    assert_string_not_equal(c, other);
    assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "", other, &pos), 0);
    assert_int_equal(rn_cursor_open(MASTER, "webhooks", "ten_a", "", c, &pos), -1);
    assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_b", "", c, &pos), -1);
    assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "x", c, &pos), -1);
    unsigned char other_key[32] = {8};
    assert_int_equal(rn_cursor_open(other_key, "contacts", "ten_a", "", c, &pos), -1);
    /* Every single-character change is refused. */
    size_t len = strlen(c);
    for (size_t i = 0; i < len; i++) {
        char bad[RN_CURSOR_MAX];
        memcpy(bad, c, len + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "", bad, &pos), -1);
    }
    char longer[RN_CURSOR_MAX + 2];
    snprintf(longer, sizeof longer, "%sA", c);
    assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "", longer, &pos), -1);
    c[len - 1] = '\0';
    assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "", c, &pos), -1);
    assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "", "", &pos), -1);
    assert_int_equal(rn_cursor_open(MASTER, "contacts", "ten_a", "", "a+b/c==", &pos), -1);
}

/* ---- validation --------------------------------------------------------- */

/* Parses body text; returns the details array (new reference). */
static json_t *parse(const char *text, rn_contact *c, unsigned *present)
{
    json_t *body = json_loads(text, 0, NULL);
    assert_non_null(body);
    json_t *details = json_array();
    int rc = rn_contact_parse(body, "ID", c, present, details);
    assert_int_equal(rc, json_array_size(details) ? -1 : 0);
    json_decref(body);
    return details;
}

static void assert_details(json_t *details, const char *want)
{
    char *got = json_dumps(details, JSON_COMPACT);
    assert_string_equal(got, want);
    free(got);
    json_decref(details);
}

static void test_parse_normalises(void **state)
{
    (void)state;
    rn_contact c;
    unsigned present;
    json_t *d = parse("{\"name\":\"  Budi  \",\"phone\":\"0812-3456-789\","
                      "\"email\":\"B@EXAMPLE.Com\",\"tags\":[\" a \",\"A\",\"b\"],"
                      "\"company\":\"\",\"notes\":null}",
                      &c, &present);
    assert_details(d, "[]");
    assert_string_equal(c.name, "Budi");
    assert_string_equal(c.phone, "+628123456789");
    assert_string_equal(c.email, "B@example.com");
    assert_string_equal(c.tags, "[\"a\",\"b\"]");
    assert_null(c.company);
    assert_null(c.notes);
    assert_null(c.external_id);
    assert_int_equal(present, RN_CF_NAME | RN_CF_PHONE | RN_CF_EMAIL | RN_CF_TAGS |
                                  RN_CF_COMPANY | RN_CF_NOTES);
    assert_true(rn_contact_identified(&c));
    rn_contact_clear(&c);

    d = parse("{\"company\":\"X\"}", &c, &present);
    assert_details(d, "[]");
    assert_false(rn_contact_identified(&c));
    assert_string_equal(c.tags, "[]");
    rn_contact_clear(&c);
}

static void test_parse_refuses(void **state)
{
    (void)state;
    rn_contact c;
    unsigned present;
    json_t *d = parse("{\"x\":1,\"updatedAt\":1,\"externalId\":\"\",\"name\":\"a\\u0085\","
                      "\"phone\":\"+62 1\",\"email\":7,\"tags\":[1,\"\",\"ok\"],"
                      "\"notes\":\"a\\rb\"}",
                      &c, &present);
    assert_details(d, "[{\"field\":\"x\",\"issue\":\"unknown_field\"},"
                      "{\"field\":\"updatedAt\",\"issue\":\"read_only\"},"
                      "{\"field\":\"externalId\",\"issue\":\"invalid_format\"},"
                      "{\"field\":\"name\",\"issue\":\"control_characters\"},"
                      "{\"field\":\"phone\",\"issue\":\"invalid_format\"},"
                      "{\"field\":\"email\",\"issue\":\"must_be_string\"},"
                      "{\"field\":\"tags[0]\",\"issue\":\"must_be_string\"},"
                      "{\"field\":\"tags[1]\",\"issue\":\"invalid_format\"},"
                      "{\"field\":\"notes\",\"issue\":\"control_characters\"}]");
    rn_contact_clear(&c);

    /* 51 distinct tags after deduplication are too many; 50 are not. */
    json_t *tags = json_array();
    for (int i = 0; i < 51; i++)
        json_array_append_new(tags, json_sprintf("t%d", i));
    json_t *body = json_pack("{s:o}", "tags", tags);
    json_t *details = json_array();
    assert_int_equal(rn_contact_parse(body, "ID", &c, &present, details), -1);
    assert_details(details, "[{\"field\":\"tags\",\"issue\":\"too_many\"}]");
    rn_contact_clear(&c);
    json_array_remove(tags, 50);
    json_array_append_new(tags, json_string("T0"));
    details = json_array();
    assert_int_equal(rn_contact_parse(body, "ID", &c, &present, details), 0);
    json_decref(details);
    rn_contact_clear(&c);
    json_decref(body);
}

static void test_merge_and_same(void **state)
{
    (void)state;
    rn_contact cur, body, merged;
    unsigned present, ignored;
    json_decref(parse("{\"name\":\"A\",\"email\":\"a@example.com\",\"notes\":\"n\"}", &cur,
                      &ignored));
    json_decref(parse("{\"email\":null,\"company\":\"C\"}", &body, &present));
    rn_contact_copy(&merged, &cur);
    rn_contact_merge(&merged, &body, present);
    assert_string_equal(merged.name, "A");
    assert_null(merged.email);
    assert_string_equal(merged.company, "C");
    assert_string_equal(merged.notes, "n");
    assert_false(rn_contact_same(&cur, &merged));
    rn_contact again;
    rn_contact_copy(&again, &merged);
    assert_true(rn_contact_same(&again, &merged));
    rn_contact_clear(&again);
    rn_contact_clear(&merged);
    rn_contact_clear(&body);
    rn_contact_clear(&cur);
}

/* ---- store -------------------------------------------------------------- */

typedef struct {
    rn_test_store s;
    char tenant[2][48];
} fixture;

static int new_tenant(fixture *f, int i)
{
    return rn_test_tenant(&f->s, "Asia/Jakarta", "ID", f->tenant[i]);
}

/* The store, and two tenants in it. */
static int open_with_tenants(void **state, bool pg)
{
    if (rn_test_fixture_open(state, sizeof(fixture), pg, "ct", 2) != 0)
        return -1;
    fixture *f = *state;
    return !f || (new_tenant(f, 0) == 0 && new_tenant(f, 1) == 0) ? 0 : -1;
}

static int setup_sqlite(void **state)
{
    return open_with_tenants(state, false);
}

static int setup_pg(void **state)
{
    return open_with_tenants(state, true);
}

/* Inserts a contact named name into tenant i; writes its id into id. */
static void add(fixture *f, int i, const char *name, char *id)
{
    rn_contact c = {0};
    c.name = strdup(name);
    c.tags = strdup("[]");
    rn_id_new("ct", c.id, sizeof c.id);
    c.created_at = c.updated_at = rn_now_ms();
    assert_int_equal(rn_contact_insert(f->s.db, f->tenant[i], &c, false), 1);
    if (id)
        strcpy(id, c.id);
    rn_contact_clear(&c);
}

/* One page as a JSON array (a new reference). */
static json_t *page(fixture *f, int i, const char *folded, long long before, int limit,
                    long long *next)
{
    rn_text t = {0};
    rn_text_puts(&t, "[");
    assert_int_equal(rn_contact_page(f->s.db, f->tenant[i], folded, before, limit, &t, next), 0);
    rn_text_puts(&t, "]");
    json_error_t err;
    json_t *items = json_loads(t.text, 0, &err);
    assert_non_null(items);
    rn_text_free(&t);
    return items;
}

/* The names a search finds in tenant i, newest first, joined by '|'. */
static char *find(fixture *f, int i, const char *term)
{
    char *folded = term ? rn_contact_fold(term) : NULL;
    long long next = 0;
    json_t *items = page(f, i, folded, INT64_MAX, 100, &next);
    assert_int_equal(next, -1);
    free(folded);
    static char out[1024];
    out[0] = '\0';
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it) {
        if (k)
            strcat(out, "|");
        strcat(out, json_string_value(json_object_get(it, "name")));
    }
    json_decref(items);
    return out;
}

static void test_store_search_follows_writes(void **state)
{
    fixture *f = *state;
    if (!f)
        skip();
    char id[48];
    add(f, 0, "Alpha 100% Real", NULL);
    add(f, 0, "Beta a_b", id);
    add(f, 0, "Gamma back\\slash", NULL);
    add(f, 1, "Alpha in other tenant", NULL);
    assert_string_equal(find(f, 0, "alpha"), "Alpha 100% Real");
    assert_string_equal(find(f, 1, "ALPHA"), "Alpha in other tenant");
    assert_string_equal(find(f, 0, "0% r"), "Alpha 100% Real");
    assert_string_equal(find(f, 0, "%"), "Alpha 100% Real");
    assert_string_equal(find(f, 0, "a_b"), "Beta a_b");
    assert_string_equal(find(f, 0, "_"), "Beta a_b");
    assert_string_equal(find(f, 0, "k\\s"), "Gamma back\\slash");
    assert_string_equal(find(f, 0, "a"), "Gamma back\\slash|Beta a_b|Alpha 100% Real");
    assert_string_equal(find(f, 0, NULL), "Gamma back\\slash|Beta a_b|Alpha 100% Real");

    rn_contact c;
    assert_int_equal(rn_contact_load(f->s.db, f->tenant[0], id, false, &c), 1);
    free(c.name);
    c.name = strdup("Delta renamed");
    assert_int_equal(rn_contact_update(f->s.db, f->tenant[0], &c), 1);
    assert_int_equal(rn_contact_update(f->s.db, f->tenant[1], &c), 0);
    rn_contact_clear(&c);
    assert_string_equal(find(f, 0, "beta"), "");
    assert_string_equal(find(f, 0, "delta ren"), "Delta renamed");
    assert_int_equal(rn_contact_load(f->s.db, f->tenant[1], id, false, &c), 0);
    assert_int_equal(rn_contact_delete(f->s.db, f->tenant[1], id, &c), 0);
    assert_int_equal(rn_contact_delete(f->s.db, f->tenant[0], id, &c), 1);
    assert_string_equal(c.name, "Delta renamed");
    rn_contact_clear(&c);
    assert_string_equal(find(f, 0, "delta"), "");
    if (rn_db_dialect(f->s.db) == RN_DB_SQLITE) {
        long long ok = rn_db_exec(f->s.db, "INSERT INTO contacts_fts (contacts_fts)"
                                         " VALUES ('integrity-check')",
                                  RN_NOPARAMS);
        assert_true(ok >= 0);
        /* The index itself (all tenants): renamed and deleted text is gone. */
        rn_rows *n = rn_db_query(f->s.db, "SELECT (SELECT COUNT(*) FROM contacts_fts"
                                        " WHERE contacts_fts MATCH '\"ha 1\"'),"
                                        " (SELECT COUNT(*) FROM contacts_fts"
                                        " WHERE contacts_fts MATCH '\"delta\" OR \"beta\"')",
                                 RN_NOPARAMS);
        assert_int_equal(rn_rows_int(n, 0, 0, -1), 1); /* "Alpha 100% Real" */
        assert_int_equal(rn_rows_int(n, 0, 1, -1), 0);
        rn_rows_free(n);
    }
}

/* Renames contact id of tenant i. */
static void rename_contact(fixture *f, int i, const char *id, const char *name)
{
    rn_contact c;
    assert_int_equal(rn_contact_load(f->s.db, f->tenant[i], id, false, &c), 1);
    free(c.name);
    c.name = strdup(name);
    assert_int_equal(rn_contact_update(f->s.db, f->tenant[i], &c), 1);
    rn_contact_clear(&c);
}

/* How many rows of the whole trigram index (every tenant) hold term. */
static long long index_count(fixture *f, const char *term)
{
    char match[64];
    snprintf(match, sizeof match, "\"%s\"", term);
    rn_rows *n = rn_db_query(f->s.db, "SELECT COUNT(*) FROM contacts_fts WHERE contacts_fts"
                                      " MATCH $1", RN_PARAMS(RN_T(match)));
    assert_non_null(n);
    long long count = rn_rows_int(n, 0, 0, -1);
    rn_rows_free(n);
    return count;
}

/* Rows a writer defers join the search when it indexes them, as they ended
 * up (renamed, deleted); later writes find the index as they expect it. */
static void test_store_deferred_index(void **state)
{
    fixture *f = *state;
    if (!f)
        skip();
    rn_db *db = f->s.db;
    char kept[48], renamed[48], gone[48];
    assert_int_equal(rn_db_begin(db), 0);
    assert_int_equal(rn_contacts_defer_index(db), 0);
    add(f, 0, "Deferred Kappa", kept);
    add(f, 0, "Deferred Lambda", renamed);
    add(f, 1, "Deferred Mu", gone);
    rename_contact(f, 0, renamed, "Deferred Omicron");
    rn_contact c;
    assert_int_equal(rn_contact_delete(db, f->tenant[1], gone, &c), 1);
    rn_contact_clear(&c);
    assert_int_equal(rn_contacts_index_deferred(db), 0);
    assert_int_equal(rn_db_deferred_from(db), -1);
    assert_int_equal(rn_db_commit(db), 0);
    assert_string_equal(find(f, 0, "deferred"), "Deferred Omicron|Deferred Kappa");
    assert_string_equal(find(f, 0, "lambda"), "");
    assert_string_equal(find(f, 1, "deferred"), "");

    rename_contact(f, 0, renamed, "Plain Sigma"); /* a plain write, trigger-indexed */
    assert_string_equal(find(f, 0, "omicron"), "");
    assert_string_equal(find(f, 0, "sigma"), "Plain Sigma");
    assert_string_equal(find(f, 0, "deferred"), "Deferred Kappa");
    if (rn_db_dialect(db) == RN_DB_SQLITE) {
        assert_true(rn_db_exec(db, "INSERT INTO contacts_fts (contacts_fts)"
                                   " VALUES ('integrity-check')",
                               RN_NOPARAMS) >= 0);
        assert_int_equal(index_count(f, "kappa"), 1);
        assert_int_equal(index_count(f, "sigma"), 1);
        assert_int_equal(index_count(f, "lambda"), 0);
        assert_int_equal(index_count(f, "omicron"), 0);
        assert_int_equal(index_count(f, "deferred mu"), 0);
    }
}

static void test_store_pages_and_external_ids(void **state)
{
    fixture *f = *state;
    if (!f)
        skip();
    char names[7][16];
    for (int i = 0; i < 7; i++) {
        snprintf(names[i], sizeof names[i], "Pager %d", i);
        add(f, 1, names[i], NULL);
    }
    char *term = rn_contact_fold("pager");
    for (int pass = 0; pass < 2; pass++) {
        const char *folded = pass ? term : NULL;
        long long before = INT64_MAX;
        int seen = 0;
        for (int pages = 0; before >= 0; pages++) {
            json_t *items = page(f, 1, folded, before, 3, &before);
            for (size_t k = 0; k < json_array_size(items); k++, seen++) {
                const char *name = json_string_value(json_object_get(json_array_get(items, k),
                                                                     "name"));
                if (strncmp(name, "Pager", 5) == 0)
                    assert_string_equal(name, names[6 - seen]);
            }
            json_decref(items);
            assert_true(pages < 5);
        }
        assert_true(seen >= 7);
    }
    free(term);

    rn_contact c = {0};
    c.external_id = strdup("ext-1");
    c.name = strdup("E");
    c.tags = strdup("[]");
    rn_id_new("ct", c.id, sizeof c.id);
    assert_int_equal(rn_contact_insert(f->s.db, f->tenant[0], &c, true), 1);
    rn_id_new("ct", c.id, sizeof c.id);
    assert_int_equal(rn_contact_insert(f->s.db, f->tenant[0], &c, true), 0);
    assert_int_equal(rn_contact_insert(f->s.db, f->tenant[1], &c, true), 1);
    assert_int_equal(rn_contact_external_taken(f->s.db, f->tenant[0], "ext-1", "ct_other"), 1);
    assert_int_equal(rn_contact_external_taken(f->s.db, f->tenant[1], "ext-1", c.id), 0);
    rn_contact found;
    assert_int_equal(rn_contact_load_external(f->s.db, f->tenant[1], "ext-1", false, &found), 1);
    assert_string_equal(found.id, c.id);
    rn_contact_clear(&found);
    rn_contact_clear(&c);
}

/* Two tenants whose ids end alike share a range of the SQLite trigram index;
 * searches must still keep them apart, page by page. */
static void test_store_shared_bucket(void **state)
{
    fixture *f = *state;
    if (!f)
        skip();
    const char *ids[] = {"ten_00000000000000000000000xyz", "ten_11111111111111111111111xyz"};
    for (int t = 0; t < 2; t++) {
        assert_int_equal(rn_db_exec(f->s.db,
                                    "INSERT INTO tenants (id, client_id, slug, name, timezone,"
                                    " country, status, created_at, updated_at)"
                                    " VALUES ($1, $1, $1, 'B', 'UTC', 'ID', 'active', 0, 0)",
                                    RN_PARAMS(RN_T(ids[t]))),
                         1);
        snprintf(f->tenant[t], sizeof f->tenant[t], "%s", ids[t]);
    }
    add(f, 0, "Bucket zero one", NULL);
    add(f, 1, "Bucket one one", NULL);
    add(f, 0, "Bucket zero two", NULL);
    add(f, 1, "Bucket one two", NULL);
    add(f, 0, "Bucket zero three", NULL);
    assert_string_equal(find(f, 0, "bucket"), "Bucket zero three|Bucket zero two|Bucket zero one");
    assert_string_equal(find(f, 1, "bucket"), "Bucket one two|Bucket one one");
    char *term = rn_contact_fold("bucket");
    long long next = INT64_MAX;
    json_t *first = page(f, 0, term, next, 2, &next);
    assert_int_equal(json_array_size(first), 2);
    assert_true(next >= 0);
    json_t *second = page(f, 0, term, next, 2, &next);
    assert_int_equal(json_array_size(second), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(second, 0), "name")),
                        "Bucket zero one");
    assert_int_equal(next, -1);
    json_decref(first);
    json_decref(second);
    free(term);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_search_text),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_cursor_round_trip),
        cmocka_unit_test(test_cursor_refusals),
        cmocka_unit_test(test_parse_normalises),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_merge_and_same),
    };
    const struct CMUnitTest store[] = {
        cmocka_unit_test(test_store_search_follows_writes),
        cmocka_unit_test(test_store_pages_and_external_ids),
        cmocka_unit_test(test_store_shared_bucket),
        cmocka_unit_test(test_store_deferred_index),
    };
    int failed = cmocka_run_group_tests_name("contacts", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("contacts store on SQLite", store, setup_sqlite,
                                          rn_test_fixture_close);
    failed += cmocka_run_group_tests_name("contacts store on PostgreSQL", store, setup_pg,
                                          rn_test_fixture_close);
    return failed;
}
