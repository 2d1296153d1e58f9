/*
 * config.h — every setting, read once from the environment.
 *
 * One table in config.c declares each setting's variable name, default and
 * bounds. Unknown RINGNITY_* variables are refused, so a typo cannot pass
 * silently. The client-side variables (RINGNITY_API_BASE_URL,
 * RINGNITY_SERVER_API_KEY) are known and ignored.
 */
#ifndef RN_CORE_CONFIG_H
#define RN_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char listen[128];        /* RINGNITY_LISTEN host:port */
    char database_url[1024]; /* RINGNITY_DATABASE_URL */
    char data_dir[512];      /* RINGNITY_DATA_DIR */
    char public_url[512];    /* RINGNITY_PUBLIC_URL */
    char master_key_hex[129];/* RINGNITY_MASTER_KEY (64 hex chars) or "" */
    char log_level[16];      /* RINGNITY_LOG_LEVEL */
    bool webhook_allow_private;
    long long threads;            /* RINGNITY_THREADS: HTTP worker threads */
    long long max_body_bytes;     /* RINGNITY_MAX_BODY_BYTES */
    long long rate_limit_rps;     /* RINGNITY_RATE_LIMIT_RPS: default per key */
    long long rate_limit_burst;   /* RINGNITY_RATE_LIMIT_BURST */
    long long auth_failures_per_minute; /* RINGNITY_AUTH_FAILURES_PER_MINUTE per address */
    long long webhook_timeout_ms;       /* RINGNITY_WEBHOOK_TIMEOUT_MS */
    long long webhook_max_failures;     /* RINGNITY_WEBHOOK_MAX_FAILURES before disabling */
    char webhook_retry_schedule[256];   /* RINGNITY_WEBHOOK_RETRY_SCHEDULE, seconds, a,b,c */
} rn_config;

/* Fills cfg from the environment. Returns 0, or -1 with a message in err. */
int rn_config_load(rn_config *cfg, char *err, size_t errlen);
/* Prints the table of settings (name, default, meaning) for --help. */
void rn_config_print_help(void);

#endif
