/*
 * demo.c — `ringnity demo init`: on a store without tenant "demo", creates it
 * with an admin, an agent, a widget key with localhost allowed, and a server
 * key holding every scope, then prints the key and the dashboard sign-in
 * once. On a store that has it, says so and prints no secret.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli/cli.h"
#include "cli/demo_seed.h"
#include "core/util.h"
#include "tenants/tenants.h"

static int create_demo(rn_app *app, rn_db *db, json_t **key, char *password, size_t pwcap)
{
    char why[160];
    json_t *tenant = NULL, *staff = NULL, *widget = NULL;
    rn_actor who = {.actor = "cli"};
    int rc = rn_tenant_create(db, "demo", "Demo Bank", "Asia/Jakarta", "ID", &tenant, why,
                              sizeof why);
    if (rc != 0)
        return rc;
    char tid[48];
    snprintf(tid, sizeof tid, "%s", json_string_value(json_object_get(tenant, "id")));
    json_decref(tenant);
    rn_random_base62(password, pwcap > 17 ? 16 : pwcap - 1);
    if (rn_staff_add(db, tid, "admin.one", "admin", "Admin One", &staff, why, sizeof why) != 0 ||
        rn_staff_set_password(db, tid, "admin.one", password) != 0)
        return -1;
    json_decref(staff);
    if (rn_staff_add(db, tid, "agent.one", "agent", "Agent One", &staff, why, sizeof why) != 0)
        return -1;
    json_decref(staff);
    if (rn_widget_key_ensure(db, tid, &who, &widget) != 0)
        return -1;
    json_decref(widget);
    const char *domains[] = {"localhost", "127.0.0.1"};
    for (int i = 0; i < 2; i++)
        rn_db_exec(db, "INSERT INTO widget_domains (tenant_id, domain, created_at)"
                       " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                   RN_PARAMS(RN_T(tid), RN_T(domains[i]), RN_I(rn_now_ms())));
    /* 30 days of activity for the reports and the dashboard chart: modest,
     * so that `make run` stays quick (well under a second). */
    rn_demo_seed history = {.tenant_id = tid, .timezone = "Asia/Jakarta", .days = 30,
                            .conversations = 1200, .min_agents = 4};
    rn_seed_stats seeded;
    if (rn_demo_seed_tenant(db, &history, &seeded) != 0)
        return -1;
    return rn_key_create(db, app->key_pepper, tid, "Demo backend", "all", 0, 0, 0, &who, key, why,
                         sizeof why);
}

int rn_cli_demo_init(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "demo init", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : 1;
    rn_app app;
    char err[512];
    if (rn_app_open(&app, 1, err, sizeof err) != 0) {
        fprintf(stderr, "ringnity: %s\n", err);
        return 3;
    }
    rn_db *db = rn_pool_acquire(app.pool);
    json_t *existing = NULL, *key = NULL;
    char password[20] = "";
    int code = 0;
    if (rn_tenant_get(db, "demo", &existing) == 0) {
        if (a.json)
            printf("{\"created\": false}\n");
        else
            printf("Demo tenant already exists; its secrets were shown when it was created.\n");
    } else if (create_demo(&app, db, &key, password, sizeof password) != 0) {
        fprintf(stderr, "ringnity: could not create the demo tenant\n");
        code = 3;
    } else if (a.json) {
        json_t *out = json_pack("{s:b, s:s, s:O, s:{s:s, s:s}}", "created", 1, "tenant", "demo",
                                "serverKey", key, "dashboard", "username", "admin.one",
                                "password", password);
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        json_decref(out);
    } else {
        const char *secret = json_string_value(json_object_get(key, "secret"));
        printf("\nDemo tenant created: slug \"demo\" (Asia/Jakarta), admin.one and agent.one,\n"
               "with 30 days of demo activity.\n"
               "Server API key (shown once, store it now):\n\n    %s\n\n"
               "Dashboard sign-in: admin.one / %s  (shown once)\n\n"
               "Try it:\n\n    curl -H \"Authorization: Bearer %s\" \\\n"
               "         http://%s/api/server/health\n\n",
               secret, password, secret, app.cfg.listen);
    }
    sodium_memzero(password, sizeof password);
    json_decref(existing);
    json_decref(key);
    rn_pool_release(app.pool, db);
    rn_app_close(&app);
    return code;
}
