#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/log.h"
#include "core/util.h"
#include "http/server.h"
#include "tenants/tenants.h"
#include "webhooks/dispatcher.h"

enum { EXIT_USAGE = 1, EXIT_NOT_FOUND = 2, EXIT_STORE = 3 };

/* ---- argument parsing -------------------------------------------------- */

static int opt_index(const rn_cli_option *opts, const char *name)
{
    for (int i = 0; opts[i].name; i++)
        if (strcmp(opts[i].name, name) == 0)
            return i;
    return -1;
}

static void print_usage(const char *usage, const rn_cli_option *opts)
{
    printf("usage: ringnity %s\n", usage);
    for (int i = 0; opts[i].name; i++)
        printf("  --%-16s %s%s\n", opts[i].name, opts[i].help,
               opts[i].required ? " (required)" : "");
    printf("  --%-16s %s\n  --%-16s %s\n", "json", "machine-readable output", "help",
           "this text");
    printf("The environment is read as for `ringnity serve` (RINGNITY_DATABASE_URL, ...).\n");
}

int rn_cli_parse(int argc, char **argv, const char *usage, const rn_cli_option *opts,
                 rn_cli_args *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_usage(usage, opts);
            return 1;
        }
        if (strcmp(a, "--json") == 0) {
            out->json = true;
            continue;
        }
        int k = strncmp(a, "--", 2) == 0 ? opt_index(opts, a + 2) : -1;
        if (k < 0) {
            fprintf(stderr, "ringnity: unknown argument \"%s\"; see `ringnity %s --help`\n", a,
                    usage);
            return -1;
        }
        if (opts[k].is_flag) {
            out->values[k] = "1";
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "ringnity: --%s needs a value\n", opts[k].name);
            return -1;
        }
        out->values[k] = argv[++i];
    }
    for (int i = 0; opts[i].name; i++) {
        if (opts[i].required && !out->values[i]) {
            fprintf(stderr, "ringnity: --%s is required; see `ringnity %s --help`\n",
                    opts[i].name, usage);
            return -1;
        }
    }
    return 0;
}

const char *rn_cli_get(const rn_cli_args *a, const rn_cli_option *opts, const char *name)
{
    int k = opt_index(opts, name);
    return k >= 0 ? a->values[k] : NULL;
}

/* ---- shared plumbing --------------------------------------------------- */

typedef struct {
    rn_app app;
    rn_db *db;
} cli_ctx;

static int ctx_open(cli_ctx *c)
{
    char err[512];
    if (rn_app_open(&c->app, 1, err, sizeof err) != 0) {
        fprintf(stderr, "ringnity: %s\n", err);
        return -1;
    }
    c->db = rn_pool_acquire(c->app.pool);
    return 0;
}

static void ctx_close(cli_ctx *c)
{
    rn_pool_release(c->app.pool, c->db);
    rn_app_close(&c->app);
}

/* The end every command that holds the store and one result shares: frees
 * the result (NULL is fine), closes the store and passes the exit code on. */
static int cmd_end(cli_ctx *c, json_t *result, int code)
{
    json_decref(result);
    ctx_close(c);
    return code;
}

static void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s);
    free(s);
}

/* Maps a tenants.h result to an exit code, printing why it failed. */
static int report(int rc, const char *what, const char *why)
{
    if (rc == 0)
        return 0;
    if (rc == -1) {
        fprintf(stderr, "ringnity: the store failed while %s\n", what);
        return EXIT_STORE;
    }
    fprintf(stderr, "ringnity: cannot %s: %s\n", what, why && *why ? why : "not found");
    return rc == RN_TENANT_INVALID ? EXIT_USAGE : EXIT_NOT_FOUND;
}

/* Resolves --tenant (slug or id) to its id. */
static int tenant_id_of(cli_ctx *c, const char *slug, char *id, size_t cap)
{
    json_t *t = NULL;
    int rc = rn_tenant_get(c->db, slug, &t);
    if (rc != 0)
        return report(rc, "find the tenant", "no such tenant");
    snprintf(id, cap, "%s", json_string_value(json_object_get(t, "id")));
    json_decref(t);
    return 0;
}

/* The start every per-tenant command shares: parses its options, opens the
 * store and resolves --tenant into tid. Returns -1 to go on (the caller
 * then owns c and ctx_closes it), or the exit code to return at once. */
static int tenant_cmd_open(int argc, char **argv, const char *name, const rn_cli_option *opts,
                           rn_cli_args *a, cli_ctx *c, char tid[48])
{
    int p = rn_cli_parse(argc, argv, name, opts, a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    if (ctx_open(c) != 0)
        return EXIT_STORE;
    int code = tenant_id_of(c, rn_cli_get(a, opts, "tenant"), tid, 48);
    if (code == 0)
        return -1;
    ctx_close(c);
    return code;
}

/* ---- serve and migrate ------------------------------------------------- */

static int cmd_serve(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "serve", opts, &a);
    if (p != 0) {
        if (p == 1)
            rn_config_print_help();
        return p > 0 ? 0 : EXIT_USAGE;
    }
    /* Block the stop signals before any thread starts, then wait for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    rn_app app;
    char err[512];
    if (rn_app_open(&app, 0, err, sizeof err) != 0) {
        rn_logf(RN_LOG_ERROR, "cannot start: %s", err);
        return EXIT_STORE;
    }
    rn_server *srv = rn_server_start(&app, err, sizeof err);
    if (!srv) {
        rn_logf(RN_LOG_ERROR, "cannot start: %s", err);
        rn_app_close(&app);
        return EXIT_STORE;
    }
    rn_dispatcher *disp = rn_dispatcher_start(&app, err, sizeof err);
    if (!disp) {
        rn_logf(RN_LOG_ERROR, "cannot start: %s", err);
        rn_server_stop(srv, 0);
        rn_app_close(&app);
        return EXIT_STORE;
    }
    json_t *f = json_pack("{s:s, s:s, s:s, s:I}", "listen", app.cfg.listen, "store",
                          rn_pool_dialect(app.pool) == RN_DB_SQLITE ? "sqlite" : "postgres",
                          "version", RN_VERSION, "threads", (json_int_t)app.cfg.threads);
    rn_log(RN_LOG_INFO, "listening", f);
    json_decref(f);
    rn_log_flush();
    rn_log_start_buffering();

    int sig = 0;
    sigwait(&stop, &sig);
    rn_logf(RN_LOG_INFO, "received %s: finishing in-flight requests",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    rn_dispatcher_quiesce(disp);
    rn_server_stop(srv, 10000);
    rn_dispatcher_stop(disp);
    rn_app_close(&app);
    rn_log(RN_LOG_INFO, "stopped", NULL);
    rn_log_flush();
    return 0;
}

static int cmd_migrate(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "migrate", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    cli_ctx c;
    if (ctx_open(&c) != 0) /* rn_app_open applies pending migrations */
        return EXIT_STORE;
    rn_rows *rows = rn_db_query(c.db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                RN_NOPARAMS);
    long long v = rows ? rn_rows_int(rows, 0, 0, 0) : 0;
    rn_rows_free(rows);
    if (a.json)
        printf("{\"schemaVersion\": %lld}\n", v);
    else
        printf("schema is at version %lld\n", v);
    ctx_close(&c);
    return 0;
}

/* ---- tenant ------------------------------------------------------------ */

static int cmd_tenant_create(int argc, char **argv)
{
    static const rn_cli_option opts[] = {
        {"slug", false, true, "short unique name (a-z, 0-9, -)"},
        {"name", false, true, "display name"},
        {"timezone", false, false, "IANA zone (default Asia/Jakarta)"},
        {"country", false, false, "ISO country for local phone numbers (default ID)"},
        {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "tenant create", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    cli_ctx c;
    if (ctx_open(&c) != 0)
        return EXIT_STORE;
    const char *tz = rn_cli_get(&a, opts, "timezone");
    const char *country = rn_cli_get(&a, opts, "country");
    json_t *t = NULL;
    char why[160] = "";
    int rc = rn_tenant_create(c.db, rn_cli_get(&a, opts, "slug"), rn_cli_get(&a, opts, "name"),
                              tz ? tz : "Asia/Jakarta", country ? country : "ID", &t, why,
                              sizeof why);
    int code = report(rc, "create the tenant", why);
    if (code == 0) {
        if (a.json)
            print_json(t);
        else
            printf("created tenant %s (%s)\n", json_string_value(json_object_get(t, "slug")),
                   json_string_value(json_object_get(t, "id")));
    }
    return cmd_end(&c, t, code);
}

static int cmd_tenant_list(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "tenant list", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    cli_ctx c;
    if (ctx_open(&c) != 0)
        return EXIT_STORE;
    json_t *list = NULL;
    int code = report(rn_tenant_list(c.db, &list), "list tenants", NULL);
    if (code == 0 && a.json) {
        print_json(list);
    } else if (code == 0) {
        size_t i;
        json_t *t;
        json_array_foreach(list, i, t) printf("%-30s %-20s %s\n",
                                              json_string_value(json_object_get(t, "id")),
                                              json_string_value(json_object_get(t, "slug")),
                                              json_string_value(json_object_get(t, "name")));
    }
    return cmd_end(&c, list, code);
}

static int cmd_tenant_widget_key(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"}, {0}};
    rn_cli_args a;
    cli_ctx c;
    char tid[48];
    int code = tenant_cmd_open(argc, argv, "tenant widget-key", opts, &a, &c, tid);
    if (code >= 0)
        return code;
    json_t *w = NULL;
    rn_actor who = {.actor = "cli"};
    code = report(rn_widget_key_ensure(c.db, tid, &who, &w), "create the widget key", NULL);
    if (code == 0 && a.json)
        print_json(w);
    else if (code == 0)
        printf("public widget key (safe for browser snippets): %s\n",
               json_string_value(json_object_get(w, "key")));
    return cmd_end(&c, w, code);
}

/* ---- staff ------------------------------------------------------------- */

static int cmd_staff_add(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"},
                                         {"username", false, true, "login name"},
                                         {"role", false, true, "agent or admin"},
                                         {"display-name", false, false, "shown name"},
                                         {"password", false, false, "dashboard password"},
                                         {0}};
    rn_cli_args a;
    cli_ctx c;
    char tid[48];
    int code = tenant_cmd_open(argc, argv, "staff add", opts, &a, &c, tid);
    if (code >= 0)
        return code;
    char why[160] = "";
    json_t *s = NULL;
    const char *username = rn_cli_get(&a, opts, "username");
    code = report(rn_staff_add(c.db, tid, username, rn_cli_get(&a, opts, "role"),
                               rn_cli_get(&a, opts, "display-name"), &s, why, sizeof why),
                  "add the staff member", why);
    const char *password = rn_cli_get(&a, opts, "password");
    if (code == 0 && password)
        code = report(rn_staff_set_password(c.db, tid, username, password), "set the password",
                      "a password needs 10 to 256 characters");
    if (code == 0 && a.json)
        print_json(s);
    else if (code == 0)
        printf("added %s %s (%s)\n", json_string_value(json_object_get(s, "role")), username,
               json_string_value(json_object_get(s, "id")));
    return cmd_end(&c, s, code);
}

static int cmd_staff_list(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"}, {0}};
    rn_cli_args a;
    cli_ctx c;
    char tid[48];
    int code = tenant_cmd_open(argc, argv, "staff list", opts, &a, &c, tid);
    if (code >= 0)
        return code;
    json_t *list = NULL;
    code = report(rn_staff_list(c.db, tid, &list), "list staff", NULL);
    if (code == 0 && a.json) {
        print_json(list);
    } else if (code == 0) {
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s) printf("%-24s %-6s %-9s %s\n",
                                              json_string_value(json_object_get(s, "username")),
                                              json_string_value(json_object_get(s, "role")),
                                              json_string_value(json_object_get(s, "status")),
                                              json_string_value(json_object_get(s, "id")));
    }
    return cmd_end(&c, list, code);
}

static int cmd_staff_disable(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"},
                                         {"username", false, true, "login name"},
                                         {0}};
    rn_cli_args a;
    cli_ctx c;
    char tid[48];
    int code = tenant_cmd_open(argc, argv, "staff disable", opts, &a, &c, tid);
    if (code >= 0)
        return code;
    const char *username = rn_cli_get(&a, opts, "username");
    code = report(rn_staff_disable(c.db, tid, username), "disable the staff member",
                  "no such staff member");
    if (code == 0)
        printf(a.json ? "{\"username\": \"%s\", \"status\": \"disabled\"}\n" : "disabled %s\n",
               username);
    ctx_close(&c);
    return code;
}

/* ---- keys -------------------------------------------------------------- */

static void print_key(json_t *k, bool as_json, const char *verb)
{
    if (as_json) {
        print_json(k);
        return;
    }
    json_t *secret = json_object_get(k, "secret");
    printf("%s key %s (%s)\n", verb, json_string_value(json_object_get(k, "id")),
           json_string_value(json_object_get(k, "name")));
    if (secret)
        printf("secret (shown once, store it now): %s\n", json_string_value(secret));
}

static int cmd_key_create(int argc, char **argv)
{
    static const rn_cli_option opts[] = {
        {"tenant", false, true, "tenant slug"},
        {"name", false, true, "what the key is for"},
        {"scopes", false, true, "comma-separated scopes, or all"},
        {"rate-limit", false, false, "requests per second (default RINGNITY_RATE_LIMIT_RPS)"},
        {"burst", false, false, "burst size (default twice the rate)"},
        {"expires-in-days", false, false, "expire the key after this many days"},
        {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "key create", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    long long rps = 0, burst = 0, days = 0;
    const char *s_rps = rn_cli_get(&a, opts, "rate-limit");
    const char *s_burst = rn_cli_get(&a, opts, "burst");
    const char *s_days = rn_cli_get(&a, opts, "expires-in-days");
    if ((s_rps && rn_parse_int(s_rps, 1, 1000000, &rps) != 0) ||
        (s_burst && rn_parse_int(s_burst, 1, 1000000, &burst) != 0) ||
        (s_days && rn_parse_int(s_days, 1, 3650, &days) != 0) || (s_burst && !s_rps)) {
        fprintf(stderr, "ringnity: --rate-limit and --burst take 1..1000000 (--burst needs "
                        "--rate-limit); --expires-in-days takes 1..3650\n");
        return EXIT_USAGE;
    }
    cli_ctx c;
    if (ctx_open(&c) != 0)
        return EXIT_STORE;
    char tid[48], why[160] = "";
    json_t *k = NULL;
    rn_actor who = {.actor = "cli"};
    int code = tenant_id_of(&c, rn_cli_get(&a, opts, "tenant"), tid, sizeof tid);
    long long expires = days ? rn_now_ms() + days * 86400000LL : 0;
    if (code == 0)
        code = report(rn_key_create(c.db, c.app.key_pepper, tid, rn_cli_get(&a, opts, "name"),
                                    rn_cli_get(&a, opts, "scopes"), rps, burst, expires, &who, &k,
                                    why, sizeof why),
                      "create the key", why);
    if (code == 0)
        print_key(k, a.json, "created");
    return cmd_end(&c, k, code);
}

static int cmd_key_list(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"}, {0}};
    rn_cli_args a;
    cli_ctx c;
    char tid[48];
    int code = tenant_cmd_open(argc, argv, "key list", opts, &a, &c, tid);
    if (code >= 0)
        return code;
    json_t *list = NULL;
    code = report(rn_key_list(c.db, tid, &list), "list keys", NULL);
    if (code == 0 && a.json) {
        print_json(list);
    } else if (code == 0) {
        size_t i;
        json_t *k;
        json_array_foreach(list, i, k) printf("%-32s %-8s %s...%s  %s\n",
                                              json_string_value(json_object_get(k, "id")),
                                              json_string_value(json_object_get(k, "status")),
                                              json_string_value(json_object_get(k, "prefix")),
                                              json_string_value(json_object_get(k, "last4")),
                                              json_string_value(json_object_get(k, "name")));
    }
    return cmd_end(&c, list, code);
}

static int cmd_key_change(int argc, char **argv, bool rotate)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"},
                                         {"id", false, true, "key id (key_...)"},
                                         {0}};
    rn_cli_args a;
    cli_ctx c;
    char tid[48];
    const char *name = rotate ? "key rotate" : "key revoke";
    int code = tenant_cmd_open(argc, argv, name, opts, &a, &c, tid);
    if (code >= 0)
        return code;
    json_t *k = NULL;
    rn_actor who = {.actor = "cli"};
    const char *id = rn_cli_get(&a, opts, "id");
    if (rotate)
        code = report(rn_key_rotate(c.db, c.app.key_pepper, tid, id, &who, &k), "rotate the key",
                      "no such active key");
    else
        code = report(rn_key_revoke(c.db, tid, id, &who, &k), "revoke the key", "no such key");
    if (code == 0)
        print_key(k, a.json, rotate ? "rotated" : "revoked");
    return cmd_end(&c, k, code);
}

static int cmd_key_rotate(int argc, char **argv) { return cmd_key_change(argc, argv, true); }
static int cmd_key_revoke(int argc, char **argv) { return cmd_key_change(argc, argv, false); }

/* ---- dispatch ---------------------------------------------------------- */

int rn_cli_demo_init(int argc, char **argv);
int rn_cli_demo_seed(int argc, char **argv); /* demo_seed.c */
int rn_cli_demo_replay(int argc, char **argv); /* demo_replay.c */
int rn_cli_events_emit(int argc, char **argv); /* webhooks/events_cli.c */
int rn_cli_contacts_seed(int argc, char **argv); /* contacts/seed.c */
/* cli_tokens.c */
int rn_cli_signing_key_rotate(int argc, char **argv);
int rn_cli_signing_key_list(int argc, char **argv);
int rn_cli_tenant_domains(int argc, char **argv);

typedef struct {
    const char *group, *verb;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"serve", NULL, cmd_serve, "run the HTTP server"},
    {"migrate", NULL, cmd_migrate, "apply pending schema migrations"},
    {"demo", "init", rn_cli_demo_init, "create the demo tenant on an empty store"},
    {"demo", "seed", rn_cli_demo_seed, "fill a tenant with realistic activity"},
    {"demo", "replay", rn_cli_demo_replay, "apply a scripted activity file to a tenant"},
    {"tenant", "create", cmd_tenant_create, "create a tenant"},
    {"tenant", "list", cmd_tenant_list, "list tenants"},
    {"tenant", "widget-key", cmd_tenant_widget_key, "show the public widget key (created once)"},
    {"staff", "add", cmd_staff_add, "add an agent or admin"},
    {"staff", "list", cmd_staff_list, "list a tenant's staff"},
    {"staff", "disable", cmd_staff_disable, "disable a staff member"},
    {"key", "create", cmd_key_create, "create a server key (prints the secret once)"},
    {"key", "list", cmd_key_list, "list a tenant's server keys"},
    {"key", "rotate", cmd_key_rotate, "give a key a new secret (prints it once)"},
    {"key", "revoke", cmd_key_revoke, "revoke a key"},
    {"events", "emit", rn_cli_events_emit, "append sample events to a tenant's outbox"},
    {"contacts", "seed", rn_cli_contacts_seed, "bulk-insert synthetic contacts (benchmarks)"},
    {"tenant", "domains", rn_cli_tenant_domains, "add|remove|list allowed widget domains"},
    {"signing-key", "rotate", rn_cli_signing_key_rotate, "make a new SDK signing key current"},
    {"signing-key", "list", rn_cli_signing_key_list, "list SDK token signing keys"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof *COMMANDS)

static void usage(void)
{
    printf("usage: ringnity <command> [options]   (ringnity <command> --help)\n\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char name[40];
        snprintf(name, sizeof name, "%s%s%s", COMMANDS[i].group, COMMANDS[i].verb ? " " : "",
                 COMMANDS[i].verb ? COMMANDS[i].verb : "");
        printf("  %-18s %s\n", name, COMMANDS[i].summary);
    }
}

int rn_cli_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage();
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ringnity %s\n", RN_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const command *c = &COMMANDS[i];
        if (strcmp(c->group, argv[1]) != 0)
            continue;
        if (!c->verb)
            return c->run(argc - 2, argv + 2);
        if (argc >= 3 && strcmp(c->verb, argv[2]) == 0)
            return c->run(argc - 3, argv + 3);
    }
    fprintf(stderr, "ringnity: unknown command");
    for (int i = 1; i < argc && i < 3; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, "\n");
    usage();
    return EXIT_USAGE;
}
