/*
 * demo_seed.h — seeding demo activity from the command line: shared by
 * `ringnity demo seed` and `ringnity demo init` (which seeds the demo tenant).
 */
#ifndef RN_CLI_DEMO_SEED_H
#define RN_CLI_DEMO_SEED_H

#include <stdbool.h>
#include <stdint.h>

#include "activity/seed.h"
#include "store/db.h"

typedef struct {
    const char *tenant_id;
    const char *timezone;
    int days;
    long conversations;
    int min_agents;   /* add seed.agent.N until the tenant has this many */
    uint64_t seed;
    bool seed_given;  /* else a random seed */
    int batch;        /* 0: the default */
    bool events;
    bool progress;    /* progress bar / lines and notes on stderr */
} rn_demo_seed;

/* Seeds one tenant. 0, or -1 (store failure; see rn_db_last_message). */
int rn_demo_seed_tenant(rn_db *db, const rn_demo_seed *req, rn_seed_stats *stats);

/* `ringnity demo seed ...` */
int rn_cli_demo_seed(int argc, char **argv);

#endif
