#include "core/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

extern char **environ;

typedef enum { SET_TEXT, SET_INT, SET_BOOL } setting_kind;

typedef struct {
    const char *env;
    setting_kind kind;
    size_t offset;
    size_t size; /* for text */
    const char *fallback;
    long long min, max;
    const char *meaning;
} setting;

#define TEXT(env, field, fallback, meaning) \
    {env, SET_TEXT, offsetof(rn_config, field), sizeof(((rn_config *)0)->field), fallback, 0, 0, \
     meaning}
#define INT(env, field, fallback, min, max, meaning) \
    {env, SET_INT, offsetof(rn_config, field), 0, fallback, min, max, meaning}
#define BOOL(env, field, fallback, meaning) \
    {env, SET_BOOL, offsetof(rn_config, field), 0, fallback, 0, 1, meaning}

static const setting SETTINGS[] = {
    TEXT("RINGNITY_LISTEN", listen, "127.0.0.1:8080", "address:port to listen on"),
    TEXT("RINGNITY_DATA_DIR", data_dir, "./var", "directory for the SQLite store and master key"),
    TEXT("RINGNITY_DATABASE_URL", database_url, "",
         "postgres://... or a SQLite path (default DATA_DIR/ringnity.db)"),
    TEXT("RINGNITY_PUBLIC_URL", public_url, "",
         "public base URL (token issuer); default http://LISTEN"),
    TEXT("RINGNITY_MASTER_KEY", master_key_hex, "",
         "64 hex chars; default: generated into DATA_DIR/master.key (0600)"),
    TEXT("RINGNITY_LOG_LEVEL", log_level, "info", "debug, info, warn or error"),
    BOOL("RINGNITY_WEBHOOK_ALLOW_PRIVATE_NETWORKS", webhook_allow_private, "0",
         "1 lets webhooks reach loopback/private addresses and plain http (development only)"),
    INT("RINGNITY_THREADS", threads, "4", 1, 256, "HTTP worker threads"),
    INT("RINGNITY_MAX_BODY_BYTES", max_body_bytes, "1048576", 1024, 64 << 20, "request body limit"),
    INT("RINGNITY_RATE_LIMIT_RPS", rate_limit_rps, "100", 1, 1000000, "default requests/s per key"),
    INT("RINGNITY_RATE_LIMIT_BURST", rate_limit_burst, "200", 1, 1000000, "default burst per key"),
    INT("RINGNITY_AUTH_FAILURES_PER_MINUTE", auth_failures_per_minute, "20", 1, 1000000,
        "failed authentications allowed per client address per minute"),
    INT("RINGNITY_WEBHOOK_TIMEOUT_MS", webhook_timeout_ms, "10000", 100, 60000,
        "webhook delivery timeout"),
    INT("RINGNITY_WEBHOOK_MAX_FAILURES", webhook_max_failures, "15", 1, 1000,
        "consecutive failed deliveries before a destination is disabled"),
    TEXT("RINGNITY_WEBHOOK_RETRY_SCHEDULE", webhook_retry_schedule,
         "5,300,1800,7200,18000,36000,36000", "retry delays in seconds, comma separated"),
};

/* Variables that belong to clients or tools, not to the server. */
static const char *KNOWN_OTHER[] = {"RINGNITY_API_BASE_URL", "RINGNITY_SERVER_API_KEY",
                                    "RINGNITY_WEBHOOK_SECRET",
                                    "RINGNITY_BIN", NULL};

static bool is_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof SETTINGS / sizeof *SETTINGS; i++)
        if (strlen(SETTINGS[i].env) == len && strncmp(SETTINGS[i].env, name, len) == 0)
            return true;
    for (const char **k = KNOWN_OTHER; *k; k++)
        if (strlen(*k) == len && strncmp(*k, name, len) == 0)
            return true;
    return false;
}

static int apply(rn_config *cfg, const setting *s, const char *value, char *err, size_t errlen)
{
    char *field = (char *)cfg + s->offset;
    if (s->kind == SET_TEXT) {
        if (strlen(value) >= s->size) {
            snprintf(err, errlen, "%s is too long", s->env);
            return -1;
        }
        strcpy(field, value);
        return 0;
    }
    long long v;
    if (rn_parse_int(value, s->min, s->max, &v) != 0) {
        snprintf(err, errlen, "%s must be an integer from %lld to %lld", s->env, s->min, s->max);
        return -1;
    }
    if (s->kind == SET_BOOL)
        *(bool *)field = v != 0;
    else
        *(long long *)field = v;
    return 0;
}

int rn_config_load(rn_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "RINGNITY_", 9) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
        if (!is_known(*e, len)) {
            snprintf(err, errlen, "unknown setting %.*s (see `ringnity serve --help`)", (int)len,
                     *e);
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof SETTINGS / sizeof *SETTINGS; i++) {
        const char *v = getenv(SETTINGS[i].env);
        if (apply(cfg, &SETTINGS[i], v ? v : SETTINGS[i].fallback, err, errlen) != 0)
            return -1;
    }
    rn_log_level level;
    if (rn_log_level_parse(cfg->log_level, &level) != 0) {
        snprintf(err, errlen, "RINGNITY_LOG_LEVEL must be debug, info, warn or error");
        return -1;
    }
    rn_log_set_level(level);
    if (!cfg->database_url[0])
        snprintf(cfg->database_url, sizeof cfg->database_url, "%s/ringnity.db", cfg->data_dir);
    if (!cfg->public_url[0])
        snprintf(cfg->public_url, sizeof cfg->public_url, "http://%s", cfg->listen);
    size_t plen = strlen(cfg->public_url);
    while (plen > 0 && cfg->public_url[plen - 1] == '/')
        cfg->public_url[--plen] = '\0';
    return 0;
}

void rn_config_print_help(void)
{
    fprintf(stderr, "Settings (environment variables):\n");
    for (size_t i = 0; i < sizeof SETTINGS / sizeof *SETTINGS; i++)
        fprintf(stderr, "  %-40s %s (default: %s)\n", SETTINGS[i].env, SETTINGS[i].meaning,
                SETTINGS[i].fallback[0] ? SETTINGS[i].fallback : "-");
}
