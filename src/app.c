#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/keys.h"
#include "core/util.h"
#include "auth/ratelimit.h"
#include "store/migrate.h"

static int mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int parse_master(const char *hex, unsigned char out[32])
{
    size_t len = 0;
    if (strlen(hex) != 64 || sodium_hex2bin(out, 32, hex, 64, NULL, &len, NULL) != 0 || len != 32)
        return -1;
    return 0;
}

/* Reads DATA_DIR/master.key, creating it (0600) on first use. */
static int load_master_file(rn_app *app, char *err, size_t errlen)
{
    char path[600], hex[65] = {0};
    snprintf(path, sizeof path, "%s/master.key", app->cfg.data_dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirs(app->cfg.data_dir) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", app->cfg.data_dir, strerror(errno));
            return -1;
        }
        randombytes_buf(app->master_key, 32);
        sodium_bin2hex(hex, sizeof hex, app->master_key, 32);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            hex[64] = '\n';
            ssize_t n = write(fd, hex, 65);
            close(fd);
            sodium_memzero(hex, sizeof hex);
            if (n == 65)
                return 0;
        }
        fd = open(path, O_RDONLY); /* another process won the race: use theirs */
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, hex, 64);
    close(fd);
    int ok = n == 64 ? parse_master(hex, app->master_key) : -1;
    sodium_memzero(hex, sizeof hex);
    if (ok != 0)
        snprintf(err, errlen, "%s must hold 64 hex characters", path);
    return ok;
}

/* A store belongs to one master key: keys hashed and secrets sealed under
 * another would all fail, silently. The store keeps a fingerprint derived
 * from the key (never the key) and a node or CLI with another key refuses to
 * start. */
static int check_master_key(rn_app *app, rn_db *db, char *err, size_t errlen)
{
    unsigned char tag[32];
    char hex[65];
    crypto_kdf_derive_from_key(tag, sizeof tag, 2, "mastchk_", app->master_key);
    sodium_bin2hex(hex, sizeof hex, tag, sizeof tag);
    rn_db_exec(db, "INSERT INTO deployment_settings (name, value) VALUES ('master_key_check', $1)"
                   " ON CONFLICT (name) DO NOTHING",
               RN_PARAMS(RN_T(hex)));
    rn_rows *rows = rn_db_query(db, "SELECT value FROM deployment_settings"
                                    " WHERE name = 'master_key_check'",
                                RN_NOPARAMS);
    const char *stored = rows && rn_rows_count(rows) == 1 ? rn_rows_get(rows, 0, 0) : NULL;
    int rc = 0;
    if (!stored) {
        snprintf(err, errlen, "cannot read the master key fingerprint: %s", rn_db_last_message(db));
        rc = -1;
    } else if (!rn_str_equal_ct(stored, hex)) {
        snprintf(err, errlen, "this store was written under another master key "
                              "(check RINGNITY_MASTER_KEY or DATA_DIR/master.key)");
        rc = -1;
    }
    rn_rows_free(rows);
    return rc;
}

int rn_app_open(rn_app *app, int pool_size, char *err, size_t errlen)
{
    memset(app, 0, sizeof *app);
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -1;
    }
    if (rn_config_load(&app->cfg, err, errlen) != 0)
        return -1;
    if (app->cfg.master_key_hex[0]) {
        if (parse_master(app->cfg.master_key_hex, app->master_key) != 0) {
            snprintf(err, errlen, "RINGNITY_MASTER_KEY must be 64 hex characters");
            return -1;
        }
    } else if (load_master_file(app, err, errlen) != 0) {
        return -1;
    }
    sodium_memzero(app->cfg.master_key_hex, sizeof app->cfg.master_key_hex);
    rn_key_pepper(app->master_key, app->key_pepper);

    const char *url = app->cfg.database_url;
    bool is_pg = strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
    if (!is_pg && strstr(url, "://") && strncmp(url, "sqlite://", 9) != 0) {
        snprintf(err, errlen,
                 "RINGNITY_DATABASE_URL must be postgres://..., sqlite:PATH or a path");
        return -1;
    }
    if (!is_pg && mkdirs(app->cfg.data_dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", app->cfg.data_dir, strerror(errno));
        return -1;
    }
    int size = pool_size > 0 ? pool_size : (int)app->cfg.threads + 4;
    app->pool = rn_pool_open(app->cfg.database_url, size, err, errlen);
    if (!app->pool)
        return -1;
    rn_db *db = rn_pool_acquire(app->pool);
    int applied = rn_migrate(db, err, errlen);
    if (applied >= 0 && check_master_key(app, db, err, errlen) != 0)
        applied = -1;
    rn_pool_release(app->pool, db);
    if (applied < 0) {
        rn_pool_close(app->pool);
        app->pool = NULL;
        return -1;
    }
    app->key_limits = rn_ratelimit_new();
    app->auth_failures = rn_ratelimit_new();
    return 0;
}

void rn_app_close(rn_app *app)
{
    rn_pool_close(app->pool);
    rn_ratelimit_free(app->key_limits);
    rn_ratelimit_free(app->auth_failures);
    sodium_memzero(app->master_key, sizeof app->master_key);
    sodium_memzero(app->key_pepper, sizeof app->key_pepper);
}
