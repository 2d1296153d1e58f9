/*
 * store_fixture.h — a migrated store for the unit tests that need a real
 * one: SQLite in a fresh temporary directory, or a fresh database created
 * on the PostgreSQL server that RN_TEST_PG_URL names (dropped again at
 * close; without the variable the PostgreSQL group is skipped).
 *
 * Header-only (static functions): every test file is its own executable.
 */
#ifndef RN_TEST_STORE_FIXTURE_H
#define RN_TEST_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "store/db.h"
#include "store/migrate.h"
#include "tenants/tenants.h"

typedef struct {
    rn_pool *pool;
    rn_db *db;              /* held for the whole group */
    char admin_url[512];    /* PostgreSQL: where the test database was created */
    char dbname[64];        /* PostgreSQL: the test database, "" on SQLite */
} rn_test_store;

static int rn_test_store_open(rn_test_store *s, const char *url, int connections)
{
    char err[512];
    s->pool = rn_pool_open(url, connections, err, sizeof err);
    if (!s->pool) {
        fprintf(stderr, "cannot open %s: %s\n", url, err);
        return -1;
    }
    s->db = rn_pool_acquire(s->pool);
    if (rn_migrate(s->db, err, sizeof err) < 0) {
        fprintf(stderr, "migrate: %s\n", err);
        return -1;
    }
    return 0;
}

/* A SQLite store in /tmp/rn-test-<tag>-XXXXXX with a pool of `connections`.
 * 0 or -1. */
static int rn_test_store_sqlite(rn_test_store *s, const char *tag, int connections)
{
    char dir[128], url[256];
    snprintf(dir, sizeof dir, "/tmp/rn-test-%s-XXXXXX", tag);
    if (!mkdtemp(dir))
        return -1;
    snprintf(url, sizeof url, "sqlite:%s/store.db", dir);
    return rn_test_store_open(s, url, connections);
}

static int rn_test_pg_admin(const char *url, const char *sql)
{
    char err[256];
    rn_pool *p = rn_pool_open(url, 1, err, sizeof err);
    if (!p)
        return -1;
    rn_db *db = rn_pool_acquire(p);
    int rc = rn_db_exec_script(db, sql);
    rn_pool_release(p, db);
    rn_pool_close(p);
    return rc;
}

/* A fresh database rn_t_<tag>_<random> on RN_TEST_PG_URL's server.
 * 0, -1 on failure, 1 when RN_TEST_PG_URL is not set (skip the group). */
static int rn_test_store_pg(rn_test_store *s, const char *tag, int connections)
{
    const char *url = getenv("RN_TEST_PG_URL");
    if (!url || !*url) {
        fprintf(stderr, "RN_TEST_PG_URL is not set: PostgreSQL cases are SKIPPED\n");
        return 1;
    }
    char rnd[11], sql[128], own[600];
    rn_random_base62(rnd, 10);
    for (char *p = rnd; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    snprintf(s->dbname, sizeof s->dbname, "rn_t_%s_%s", tag, rnd);
    snprintf(s->admin_url, sizeof s->admin_url, "%s", url);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", s->dbname);
    const char *slash = strrchr(url, '/');
    if (!slash || rn_test_pg_admin(url, sql) != 0)
        return -1;
    snprintf(own, sizeof own, "%.*s/%s", (int)(slash - url), url, s->dbname);
    return rn_test_store_open(s, own, connections);
}

/* A new tenant with a random lower-case slug, of timezone tz and country;
 * its id into id (48 bytes). 0 or -1. */
static inline int rn_test_tenant(rn_test_store *s, const char *tz, const char *country,
                                 char *id)
{
    char slug[32], why[128];
    memcpy(slug, "t-", 2);
    rn_random_base62(slug + 2, 12);
    for (char *p = slug; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    json_t *t = NULL;
    if (rn_tenant_create(s->db, slug, "T", tz, country, &t, why, sizeof why) != 0)
        return -1;
    snprintf(id, 48, "%s", json_string_value(json_object_get(t, "id")));
    json_decref(t);
    return 0;
}

/* Closes the store and drops a PostgreSQL test database. */
static void rn_test_store_close(rn_test_store *s)
{
    if (s->pool) {
        rn_pool_release(s->pool, s->db);
        rn_pool_close(s->pool);
    }
    if (s->dbname[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", s->dbname);
        rn_test_pg_admin(s->admin_url, sql);
    }
    memset(s, 0, sizeof *s);
}

/* cmocka group set-up for a fixture of `size` bytes whose first member is
 * an rn_test_store: *state gets the zeroed fixture with its store open, on
 * PostgreSQL when pg. Without RN_TEST_PG_URL *state is NULL and the cases
 * skip. 0 or -1. */
static inline int rn_test_fixture_open(void **state, size_t size, bool pg, const char *tag,
                                       int connections)
{
    rn_test_store *s = calloc(1, size);
    *state = s;
    if (!s)
        return -1;
    int rc = pg ? rn_test_store_pg(s, tag, connections)
                : rn_test_store_sqlite(s, tag, connections);
    if (rc == 1) {
        free(s);
        *state = NULL;
        return 0;
    }
    return rc == 0 ? 0 : -1;
}

/* The matching group tear-down. */
static inline int rn_test_fixture_close(void **state)
{
    rn_test_store *s = *state;
    if (!s)
        return 0;
    rn_test_store_close(s);
    free(s);
    *state = NULL;
    return 0;
}

#endif
