/*
 * cli_tokens.c — `ringnity signing-key rotate|list` (the deployment's SDK
 * token signing keys) and `ringnity tenant domains add|remove|list` (a
 * tenant's allowed widget domains). Exit codes as in cli.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli/cli.h"
#include "sdk/domains.h"
#include "tenants/tenants.h"
#include "tokens/keyring.h"

enum { EXIT_USAGE = 1, EXIT_NOT_FOUND = 2, EXIT_STORE = 3 };

int rn_cli_signing_key_rotate(int argc, char **argv);
int rn_cli_signing_key_list(int argc, char **argv);
int rn_cli_tenant_domains(int argc, char **argv);

typedef struct {
    rn_app app;
    rn_db *db;
} session;

static int open_session(session *s)
{
    char err[512];
    if (rn_app_open(&s->app, 1, err, sizeof err) != 0) {
        fprintf(stderr, "ringnity: %s\n", err);
        return -1;
    }
    s->db = rn_pool_acquire(s->app.pool);
    return 0;
}

static void close_session(session *s)
{
    rn_pool_release(s->app.pool, s->db);
    rn_app_close(&s->app);
}

static void print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
}

static const char *str(json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "-";
}

/* ---- signing-key --------------------------------------------------------- */

int rn_cli_signing_key_rotate(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "signing-key rotate", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    session s;
    if (open_session(&s) != 0)
        return EXIT_STORE;
    json_t *key = NULL;
    int code = rn_keyring_rotate(s.db, s.app.master_key, &key) == 0 ? 0 : EXIT_STORE;
    if (code != 0)
        fprintf(stderr, "ringnity: the store failed while rotating the signing key\n");
    else if (a.json)
        print_json(key);
    else
        printf("signing key %s is now current; %s%s verifies existing tokens for another %lld s\n",
               str(key, "kid"), json_is_null(json_object_get(key, "retiredKid")) ? "" : "retired ",
               json_is_null(json_object_get(key, "retiredKid")) ? "no previous key"
                                                                 : str(key, "retiredKid"),
               RN_KEYRING_GRACE_MS / 1000);
    json_decref(key);
    close_session(&s);
    return code;
}

int rn_cli_signing_key_list(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "signing-key list", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    session s;
    if (open_session(&s) != 0)
        return EXIT_STORE;
    json_t *list = NULL;
    int code = rn_keyring_list(s.db, &list) == 0 ? 0 : EXIT_STORE;
    if (code != 0) {
        fprintf(stderr, "ringnity: the store failed while listing signing keys\n");
    } else if (a.json) {
        print_json(list);
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(list, i, k) printf("%-32s %-8s created %s  verifies until %s\n",
                                              str(k, "kid"), str(k, "status"),
                                              str(k, "createdAt"), str(k, "verifiesUntil"));
    }
    json_decref(list);
    close_session(&s);
    return code;
}

/* ---- tenant domains ------------------------------------------------------ */

static int tenant_id_of(session *s, const char *slug, char *id, size_t cap)
{
    json_t *t = NULL;
    int rc = rn_tenant_get(s->db, slug, &t);
    if (rc != 0) {
        fprintf(stderr, rc < 0 ? "ringnity: the store failed while finding the tenant\n"
                               : "ringnity: cannot find the tenant: no such tenant\n");
        return rc < 0 ? EXIT_STORE : EXIT_NOT_FOUND;
    }
    snprintf(id, cap, "%s", json_string_value(json_object_get(t, "id")));
    json_decref(t);
    return 0;
}

static int report(int rc, const char *what, const char *why)
{
    if (rc == 0)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "ringnity: the store failed while %s\n", what);
        return EXIT_STORE;
    }
    fprintf(stderr, "ringnity: cannot %s: %s\n", what, why);
    return rc == RN_TENANT_INVALID ? EXIT_USAGE : EXIT_NOT_FOUND;
}

static int domains_change(int argc, char **argv, bool add)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"},
                                         {"domain", false, true,
                                          "host name, IPv4 address or *.example.com"},
                                         {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, add ? "tenant domains add" : "tenant domains remove", opts,
                         &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    session s;
    if (open_session(&s) != 0)
        return EXIT_STORE;
    char tid[48], why[160] = "not an allowed domain of this tenant";
    const char *domain = rn_cli_get(&a, opts, "domain");
    rn_actor who = {.actor = "cli"};
    json_t *out = NULL;
    int code = tenant_id_of(&s, rn_cli_get(&a, opts, "tenant"), tid, sizeof tid);
    if (code == 0 && add)
        code = report(rn_domain_add(s.db, tid, domain, &who, &out, why, sizeof why),
                      "add the domain", why);
    else if (code == 0)
        code = report(rn_domain_remove(s.db, tid, domain, &who), "remove the domain", why);
    if (code == 0 && !out)
        out = json_pack("{s:s, s:b}", "domain", domain, "removed", 1);
    if (code == 0 && a.json)
        print_json(out);
    else if (code == 0)
        printf("%s %s\n", add ? "allowed" : "removed", str(out, "domain"));
    json_decref(out);
    close_session(&s);
    return code;
}

static int domains_list(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug"}, {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "tenant domains list", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : EXIT_USAGE;
    session s;
    if (open_session(&s) != 0)
        return EXIT_STORE;
    char tid[48];
    json_t *list = NULL;
    int code = tenant_id_of(&s, rn_cli_get(&a, opts, "tenant"), tid, sizeof tid);
    if (code == 0)
        code = report(rn_domain_list(s.db, tid, &list), "list domains", "");
    if (code == 0 && a.json) {
        print_json(list);
    } else if (code == 0) {
        size_t i;
        json_t *d;
        json_array_foreach(list, i, d) printf("%s\n", str(d, "domain"));
    }
    json_decref(list);
    close_session(&s);
    return code;
}

/* `tenant domains <verb> ...`: argv[0] is the verb. */
int rn_cli_tenant_domains(int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    if (strcmp(verb, "add") == 0)
        return domains_change(argc - 1, argv + 1, true);
    if (strcmp(verb, "remove") == 0)
        return domains_change(argc - 1, argv + 1, false);
    if (strcmp(verb, "list") == 0)
        return domains_list(argc - 1, argv + 1);
    bool help = strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0;
    FILE *out = help ? stdout : stderr;
    fprintf(out, "usage: ringnity tenant domains add|remove --tenant SLUG --domain HOST\n"
                 "       ringnity tenant domains list --tenant SLUG\n"
                 "Allowed widget domains: a host name, an IPv4 address, or *.example.com for\n"
                 "every subdomain. An Origin matches on its host; scheme and port are ignored.\n");
    return help ? 0 : EXIT_USAGE;
}
