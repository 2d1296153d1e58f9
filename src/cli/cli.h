/*
 * cli.h — the `ringnity` command line: serve, migrate, demo, tenant, staff,
 * key. Every command reads the same environment as `serve`, has --help,
 * prints machine-readable output with --json, and reports errors on stderr
 * with a non-zero exit (1 usage/validation, 2 not found/conflict, 3 store).
 */
#ifndef RN_CLI_CLI_H
#define RN_CLI_CLI_H

#include <stdbool.h>

int rn_cli_main(int argc, char **argv);

/* Options of one command: NULL-terminated names without "--"; flags take no value. */
typedef struct {
    const char *name;
    bool is_flag;
    bool required;
    const char *help;
} rn_cli_option;

typedef struct {
    const char *values[16];
    bool json;
} rn_cli_args;

/* Parses argv against opts (plus --json and --help). Returns 0, 1 after
 * printing help, or -1 after printing a usage error. */
int rn_cli_parse(int argc, char **argv, const char *usage, const rn_cli_option *opts,
                 rn_cli_args *out);
const char *rn_cli_get(const rn_cli_args *a, const rn_cli_option *opts, const char *name);

#endif
