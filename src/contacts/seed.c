/*
 * seed.c — `ringnity contacts seed`: synthetic contacts in bulk, for the
 * benchmark (bench/contacts.sh) and for trying search on a big tenant.
 *
 * Rows go in through multi-row INSERTs of ROWS_PER_STATEMENT rows, committed
 * every --batch rows, with the same search text the API writes, so the
 * trigram indexes are exactly what API writes would have built. Names,
 * companies and domains are drawn from small syllable tables with a fixed
 * seed; they never contain "q", so a benchmark can plant a rare search term
 * that only its own contacts hold. Seeding records no audit entries and no
 * events: it loads a fixture, it is not an API write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli/cli.h"
#include "contacts/contacts.h"
#include "contacts/model.h"
#include "core/util.h"
#include "tenants/tenants.h"

/* Rows per INSERT. A statement carries its rows as one JSON array
 * parameter, so it is one round trip on PostgreSQL and, on SQLite, one flush
 * of the FTS5 index instead of one per row. */
#define ROWS_PER_STATEMENT 5000
#define COUNT_MAX 50000000LL

static const char *const SYLLABLES[] = {
    "ba", "di", "ra", "su", "ti", "wan", "ni", "ko", "sa", "ri", "an", "to", "me", "la",
    "ga", "de", "yu", "na", "pu", "ha", "je", "lo", "mi", "ke", "ar", "in", "do", "ve",
};
static const char *const COMPANY_WORDS[] = {"Nusantara", "Sentosa", "Makmur", "Jaya",
                                            "Abadi",     "Prima",   "Global", "Mandiri",
                                            "Sejahtera", "Utama",   "Karya",  "Tekno"};
static const char *const DOMAINS[] = {"mail.example", "corp.example", "inbox.example",
                                      "bank.example", "telco.example"};
#define COUNT_OF(a) (sizeof(a) / sizeof *(a))

typedef struct {
    unsigned long long state;
} rng;

static unsigned long long rng_next(rng *g)
{
    /* xorshift64*: fast, deterministic, plenty for fixture text. */
    g->state ^= g->state >> 12;
    g->state ^= g->state << 25;
    g->state ^= g->state >> 27;
    return g->state * 2685821657736338717ULL;
}

static const char *pick(rng *g, const char *const *list, size_t n)
{
    return list[rng_next(g) % n];
}

static void make_word(rng *g, char *out, size_t cap)
{
    int parts = 2 + (int)(rng_next(g) % 2);
    out[0] = '\0';
    for (int i = 0; i < parts; i++)
        strncat(out, pick(g, SYLLABLES, COUNT_OF(SYLLABLES)), cap - strlen(out) - 1);
}

/* One synthetic contact; strings are malloc'd into c. */
static void make_contact(rng *g, const char *run, long long n, long long now, rn_contact *c)
{
    char first[32], last[32], buf[160];
    memset(c, 0, sizeof *c);
    make_word(g, first, sizeof first);
    make_word(g, last, sizeof last);
    first[0] = (char)(first[0] - 32);
    last[0] = (char)(last[0] - 32);
    rn_id_new("ct", c->id, sizeof c->id);
    snprintf(buf, sizeof buf, "%s %s", first, last);
    c->name = strdup(buf);
    snprintf(buf, sizeof buf, "%s.%s%lld@%s", first, last, n % 1000,
             pick(g, DOMAINS, COUNT_OF(DOMAINS)));
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    c->email = strdup(buf);
    snprintf(buf, sizeof buf, "+628%02llu%08llu", 11 + rng_next(g) % 89,
             rng_next(g) % 100000000ULL);
    c->phone = strdup(buf);
    snprintf(buf, sizeof buf, "PT %s %s", pick(g, COMPANY_WORDS, COUNT_OF(COMPANY_WORDS)),
             pick(g, COMPANY_WORDS, COUNT_OF(COMPANY_WORDS)));
    c->company = strdup(buf);
    /* Zero-padded so that each new id lands at the end of the unique index. */
    snprintf(buf, sizeof buf, "seed-%s-%09lld", run, n);
    c->external_id = strdup(buf);
    c->tags = strdup("[\"seed\"]");
    c->created_at = c->updated_at = now;
}

#define INSERT_COLUMNS                                                                    \
    "INSERT INTO contacts (tenant_id, id, external_id, name, phone, email, company, tags,"  \
    " notes, search_text, created_at, updated_at) "
static const char *const SQL_BULK_SQLITE =
    INSERT_COLUMNS "SELECT $1, value ->> 'id', value ->> 'ext', value ->> 'name',"
                   " value ->> 'phone', value ->> 'email', value ->> 'company',"
                   " value ->> 'tags', NULL, value ->> 'search', value ->> 'at',"
                   " value ->> 'at' FROM json_each($2)";
static const char *const SQL_BULK_PG =
    INSERT_COLUMNS "SELECT $1, r.id, r.ext, r.name, r.phone, r.email, r.company, r.tags, NULL,"
                   " r.search, r.at, r.at FROM jsonb_to_recordset($2::jsonb) AS r(id text,"
                   " ext text, name text, phone text, email text, company text, tags text,"
                   " search text, at bigint)";

/* One synthetic contact as a row of the bulk statement's JSON. */
static json_t *bulk_row(rng *g, const char *run, long long n, long long now)
{
    rn_contact c;
    make_contact(g, run, n, now, &c);
    char *search = rn_contact_search_text(&c);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", c.id, "ext",
                            c.external_id, "name", c.name, "phone", c.phone, "email", c.email,
                            "company", c.company, "tags", c.tags, "search", search ? search : "",
                            "at", (json_int_t)c.created_at);
    free(search);
    rn_contact_clear(&c);
    return row;
}

/* Inserts contacts first .. first+rows-1 in one statement. 0 or -1. */
static int insert_rows(rn_db *db, const char *tenant_id, rng *g, const char *run,
                       long long first, int rows, long long now)
{
    json_t *list = json_array();
    for (int i = 0; i < rows; i++)
        json_array_append_new(list, bulk_row(g, run, first + i, now));
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    if (!text)
        return -1;
    const char *sql = rn_db_dialect(db) == RN_DB_SQLITE ? SQL_BULK_SQLITE : SQL_BULK_PG;
    long long n = rn_db_exec(db, sql, RN_PARAMS(RN_T(tenant_id), RN_T(text)));
    free(text);
    return n == rows ? 0 : -1;
}

static int seed(rn_db *db, const char *tenant_id, long long count, long long batch)
{
    char run[7];
    rn_random_base62(run, 6);
    rng g = {.state = 0x9E3779B97F4A7C15ULL};
    long long now = rn_now_ms(), done = 0;
    int rc = 0;
    /* A big page cache for this connection only: the indexes of a million
     * rows do not fit SQLite's default 2 MB, and every miss is a read. */
    if (rn_db_dialect(db) == RN_DB_SQLITE)
        rc = rn_db_exec_script(db, "PRAGMA cache_size = -262144");
    while (rc == 0 && done < count) {
        /* A batch's rows are indexed at its end, in one ordered statement. */
        rc = rn_db_begin(db);
        if (rc == 0)
            rc = rn_contacts_defer_index(db);
        long long end = done + batch < count ? done + batch : count;
        while (rc == 0 && done < end) {
            int rows = end - done < ROWS_PER_STATEMENT ? (int)(end - done) : ROWS_PER_STATEMENT;
            rc = insert_rows(db, tenant_id, &g, run, done, rows, now);
            done += rows;
        }
        if (rc == 0)
            rc = rn_contacts_index_deferred(db);
        if (rc == 0)
            rc = rn_db_commit(db);
        else
            rn_db_rollback(db);
    }
    return rc;
}

int rn_cli_contacts_seed(int argc, char **argv)
{
    static const rn_cli_option opts[] = {
        {"tenant", false, true, "tenant slug or id"},
        {"count", false, true, "how many contacts to insert"},
        {"batch", false, false, "contacts per transaction (default 50000)"},
        {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "contacts seed", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : 1;
    long long count = 0, batch = 50000;
    const char *s_batch = rn_cli_get(&a, opts, "batch");
    if (rn_parse_int(rn_cli_get(&a, opts, "count"), 1, COUNT_MAX, &count) != 0 ||
        (s_batch && rn_parse_int(s_batch, 1, 1000000, &batch) != 0)) {
        fprintf(stderr, "ringnity: --count takes 1..%lld and --batch 1..1000000\n", COUNT_MAX);
        return 1;
    }
    rn_app app;
    char err[512];
    if (rn_app_open(&app, 1, err, sizeof err) != 0) {
        fprintf(stderr, "ringnity: %s\n", err);
        return 3;
    }
    rn_db *db = rn_pool_acquire(app.pool);
    json_t *tenant = NULL;
    int code = 0;
    long long started = rn_mono_ms();
    if (rn_tenant_get(db, rn_cli_get(&a, opts, "tenant"), &tenant) != 0) {
        fprintf(stderr, "ringnity: cannot seed contacts: no such tenant\n");
        code = 2;
    } else if (seed(db, json_string_value(json_object_get(tenant, "id")), count, batch) != 0) {
        fprintf(stderr, "ringnity: the store failed while seeding: %s\n", rn_db_last_message(db));
        code = 3;
    }
    double seconds = (double)(rn_mono_ms() - started) / 1000.0;
    if (code == 0 && a.json)
        printf("{\"tenantId\": \"%s\", \"inserted\": %lld, \"seconds\": %.1f}\n",
               json_string_value(json_object_get(tenant, "id")), count, seconds);
    else if (code == 0)
        printf("inserted %lld contacts in %.1f s\n", count, seconds);
    json_decref(tenant);
    rn_pool_release(app.pool, db);
    rn_app_close(&app);
    return code;
}
