/*
 * demo_seed.c — `ringnity demo seed --tenant T --days D --conversations N`:
 * fills a tenant with realistic activity through the activity API
 * (activity/seed.h), with a progress bar on a terminal and plain progress
 * lines otherwise (both on stderr, so --json output stays clean).
 *
 * The work is spread over the tenant's active agents and admins; when it
 * has fewer than --agents of them, agents named seed.agent.N are added (and
 * said so). Webhook events are not written for seeded history unless
 * --events is given: old activity is not news to a webhook receiver.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activity/seed.h"
#include "app.h"
#include "cli/cli.h"
#include "cli/demo_seed.h"
#include "core/util.h"
#include "tenants/tenants.h"

#define MAX_AGENTS 64

typedef struct {
    bool tty;
    long long started;
    int last_decile;
} progress_state;

static void show_progress(void *ctx, long done, long total)
{
    progress_state *p = ctx;
    double elapsed = (double)(rn_mono_ms() - p->started) / 1000.0;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    int pct = total > 0 ? (int)(100 * done / total) : 100;
    if (p->tty) {
        char bar[31];
        int filled = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%%  %ld/%ld conversations  %.0f/s ", bar, pct, done, total,
                rate);
        fflush(stderr);
        return;
    }
    if (pct / 10 > p->last_decile || done == total) {
        p->last_decile = pct / 10;
        fprintf(stderr, "seed: %ld/%ld conversations (%d%%, %.0f/s)\n", done, total, pct, rate);
    }
}

/* The tenant's active agents and admins, adding seed agents up to `want`. */
static int agents_of(rn_db *db, const char *tenant_id, int want, char ids[][48], int *n,
                     bool quiet)
{
    rn_rows *rows = rn_db_query(db,
                                "SELECT id FROM staff WHERE tenant_id = $1 AND status = 'active'"
                                " AND role IN ('agent', 'admin') ORDER BY username",
                                RN_PARAMS(RN_T(tenant_id)));
    if (!rows)
        return -1;
    *n = 0;
    for (int i = 0; i < rn_rows_count(rows) && *n < MAX_AGENTS; i++)
        snprintf(ids[(*n)++], 48, "%s", rn_rows_get(rows, i, 0));
    rn_rows_free(rows);
    for (int k = 1; *n < want && k < 1000; k++) {
        char username[32], display[32], why[160];
        snprintf(username, sizeof username, "seed.agent.%d", k);
        snprintf(display, sizeof display, "Seed Agent %d", k);
        json_t *s = NULL;
        int rc = rn_staff_add(db, tenant_id, username, "agent", display, &s, why, sizeof why);
        if (rc == RN_TENANT_CONFLICT)
            continue; /* exists but disabled: take the next name */
        if (rc != 0)
            return -1;
        snprintf(ids[(*n)++], 48, "%s", json_string_value(json_object_get(s, "id")));
        json_decref(s);
        if (!quiet)
            fprintf(stderr, "seed: added agent %s\n", username);
    }
    return 0;
}

int rn_demo_seed_tenant(rn_db *db, const rn_demo_seed *req, rn_seed_stats *stats)
{
    char ids[MAX_AGENTS][48];
    const char *agent_ids[MAX_AGENTS];
    int n = 0;
    if (agents_of(db, req->tenant_id, req->min_agents, ids, &n, !req->progress) != 0 || n == 0)
        return -1;
    for (int i = 0; i < n; i++)
        agent_ids[i] = ids[i];
    progress_state p = {.tty = isatty(STDERR_FILENO) == 1, .started = rn_mono_ms(),
                        .last_decile = -1};
    uint64_t seed = req->seed;
    if (!req->seed_given)
        randombytes_buf(&seed, sizeof seed);
    rn_seed_opts o = {
        .tenant_id = req->tenant_id,
        .timezone = req->timezone,
        .days = req->days,
        .conversations = req->conversations,
        .seed = seed,
        .events = req->events,
        .batch = req->batch,
        .agent_ids = agent_ids,
        .nagents = n,
        .progress = req->progress ? show_progress : NULL,
        .progress_ctx = &p,
    };
    /* A seeding run rewrites the same index pages over and over: give
     * SQLite a cache that holds them (this connection only, 256 MiB). */
    if (rn_db_dialect(db) == RN_DB_SQLITE)
        rn_db_exec_script(db, "PRAGMA cache_size = -262144");
    int rc = rn_activity_seed(db, &o, stats);
    if (req->progress && p.tty)
        fputc('\n', stderr);
    return rc;
}

int rn_cli_demo_seed(int argc, char **argv)
{
    static const rn_cli_option opts[] = {
        {"tenant", false, true, "tenant slug or id"},
        {"days", false, false, "local days of history up to now, 1..366 (default 30)"},
        {"conversations", false, false, "conversations in total (default 1000)"},
        {"agents", false, false, "at least this many agents, adding seed.agent.N (default 4)"},
        {"seed", false, false, "random seed, for a reproducible history"},
        {"batch", false, false, "conversations per transaction (default 2000)"},
        {"events", true, false, "also write webhook events for the seeded activity"},
        {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "demo seed", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : 1;
    long long days = 30, conversations = 1000, agents = 4, seed = 0, batch = 0;
    const char *v;
    if (((v = rn_cli_get(&a, opts, "days")) && rn_parse_int(v, 1, 366, &days) != 0) ||
        ((v = rn_cli_get(&a, opts, "conversations")) &&
         rn_parse_int(v, 0, 100000000, &conversations) != 0) ||
        ((v = rn_cli_get(&a, opts, "agents")) && rn_parse_int(v, 1, MAX_AGENTS, &agents) != 0) ||
        ((v = rn_cli_get(&a, opts, "seed")) && rn_parse_int(v, 0, INT64_MAX, &seed) != 0) ||
        ((v = rn_cli_get(&a, opts, "batch")) && rn_parse_int(v, 1, 1000000, &batch) != 0)) {
        fprintf(stderr, "ringnity: --days takes 1..366, --conversations 0..100000000,"
                        " --agents 1..%d, --seed a non-negative integer, --batch 1..1000000\n",
                MAX_AGENTS);
        return 1;
    }
    rn_app app;
    char err[512];
    if (rn_app_open(&app, 1, err, sizeof err) != 0) {
        fprintf(stderr, "ringnity: %s\n", err);
        return 3;
    }
    rn_db *db = rn_pool_acquire(app.pool);
    json_t *t = NULL;
    int code = 0;
    if (rn_tenant_get(db, rn_cli_get(&a, opts, "tenant"), &t) != 0) {
        fprintf(stderr, "ringnity: cannot find the tenant: no such tenant\n");
        code = 2;
        goto done;
    }
    rn_demo_seed req = {
        .tenant_id = json_string_value(json_object_get(t, "id")),
        .timezone = json_string_value(json_object_get(t, "timezone")),
        .days = (int)days,
        .conversations = (long)conversations,
        .min_agents = (int)agents,
        .seed = (uint64_t)seed,
        .seed_given = rn_cli_get(&a, opts, "seed") != NULL,
        .batch = (int)batch,
        .events = rn_cli_get(&a, opts, "events") != NULL,
        .progress = true,
    };
    /* A bulk load of millions of rows walks indexes far larger than
     * SQLite's default 2 MiB page cache: give this one connection more. */
    if (rn_db_dialect(db) == RN_DB_SQLITE) {
        rn_db_exec(db, "PRAGMA cache_size = -262144", RN_NOPARAMS);
        rn_db_exec(db, "PRAGMA wal_autocheckpoint = 50000", RN_NOPARAMS);
    }
    rn_seed_stats st;
    long long started = rn_mono_ms();
    if (rn_demo_seed_tenant(db, &req, &st) != 0) {
        fprintf(stderr, "ringnity: seeding failed: %s\n", rn_db_last_message(db));
        code = 3;
        goto done;
    }
    double secs = (double)(rn_mono_ms() - started) / 1000.0;
    double rate = secs > 0 ? (double)st.conversations / secs : 0;
    if (a.json)
        printf("{\"tenantId\": \"%s\", \"days\": %d, \"conversations\": %ld, \"messages\": %ld,"
               " \"calls\": %ld, \"tickets\": %ld, \"presenceChanges\": %ld, \"seconds\": %.3f,"
               " \"conversationsPerSecond\": %.0f}\n",
               req.tenant_id, req.days, st.conversations, st.messages, st.calls, st.tickets,
               st.presence_changes, secs, rate);
    else
        printf("seeded %ld conversations, %ld messages, %ld calls, %ld tickets and %ld presence"
               " changes over %d days in %.1f s (%.0f conversations/s)\n",
               st.conversations, st.messages, st.calls, st.tickets, st.presence_changes,
               req.days, secs, rate);
done:
    json_decref(t);
    rn_pool_release(app.pool, db);
    rn_app_close(&app);
    return code;
}
