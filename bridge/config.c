/* config: the settings table and its parser. Adding a setting is one line in `settings`. */
#include "config.h"
#include "log.h"
#include "protocol.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifndef PGRT_DATA_DIR
#define PGRT_DATA_DIR "."
#endif

enum setting_type { SETTING_STRING, SETTING_INT };

struct setting {
    const char *flag;  /* without the leading "--" */
    const char *env;
    enum setting_type type;
    size_t offset;
    const char *default_value; /* NULL: unset */
    long min, max;             /* SETTING_INT only */
    const char *help;
};

#define STR(field) SETTING_STRING, offsetof(struct config, field)
#define INT(field) SETTING_INT, offsetof(struct config, field)

static const struct setting settings[] = {
    {"host", "RT_HOST", STR(host), "0.0.0.0", 0, 0, "address to listen on"},
    {"port", "RT_PORT", INT(port), "8080", 1, 65535, "TCP port for HTTP and WebSocket"},
    {"database-url", "RT_DATABASE_URL", STR(database_url), NULL, 0, 0,
     "libpq connection string or URI; unset: libpq's PG* environment variables"},
    {"jwt-alg", "RT_JWT_ALG", STR(jwt_alg), "HS256", 0, 0,
     "the one accepted JWT algorithm: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512"},
    {"jwt-secret", "RT_JWT_SECRET", STR(jwt_secret), NULL, 0, 0, "shared secret for HS* tokens"},
    {"jwt-secret-file", "RT_JWT_SECRET_FILE", STR(jwt_secret_file), NULL, 0, 0,
     "file holding the HS* secret (trailing newline ignored)"},
    {"jwt-public-key-file", "RT_JWT_PUBLIC_KEY_FILE", STR(jwt_public_key_file), NULL, 0, 0,
     "PEM public key for RS*/ES* tokens"},
    {"jwt-issuer", "RT_JWT_ISSUER", STR(jwt_issuer), NULL, 0, 0, "when set, the required `iss` claim"},
    {"jwt-audience", "RT_JWT_AUDIENCE", STR(jwt_audience), NULL, 0, 0,
     "when set, the required `aud` claim (a string or an array containing it)"},
    {"jwt-max-lifetime", "RT_JWT_MAX_LIFETIME", INT(jwt_max_lifetime_seconds), "0", 0, 31536000,
     "when not 0, tokens valid for longer (exp - iat, or exp - now without iat) are refused with 401"},
    {"web-root", "RT_WEB_ROOT", STR(web_root), PGRT_DATA_DIR "/web", 0, 0,
     "directory served at / (browser client and demo)"},
    {"migrations-dir", "RT_MIGRATIONS_DIR", STR(migrations_dir), PGRT_DATA_DIR "/migrations", 0, 0,
     "directory of NNNN_name.sql migrations"},
    {"sql-dir", "RT_SQL_DIR", STR(sql_dir), PGRT_DATA_DIR "/sql", 0, 0,
     "directory of function definitions, re-applied by `migrate`"},
    {"bridge-id", "RT_BRIDGE_ID", STR(bridge_id), NULL, 0, 0,
     "this bridge's id in presence and logs; unset: hostname-pid-random"},
    {"log-level", "RT_LOG_LEVEL", STR(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"allowed-origins", "RT_ALLOWED_ORIGINS", STR(allowed_origins), NULL, 0, 0,
     "comma-separated Origin values allowed to upgrade (others get 403); unset: any origin"},
    {"tls-cert-file", "RT_TLS_CERT_FILE", STR(tls_cert_file), NULL, 0, 0,
     "PEM certificate (chain): serve https:// and wss:// instead of plain HTTP"},
    {"tls-key-file", "RT_TLS_KEY_FILE", STR(tls_key_file), NULL, 0, 0, "PEM private key of --tls-cert-file"},
    {"heartbeat", "RT_HEARTBEAT", INT(heartbeat_seconds), "30", 5, 3600,
     "seconds of silence before the bridge pings a connection; a peer silent for twice that is dropped"},
    {"max-connections", "RT_MAX_CONNECTIONS", INT(max_connections), "10000", 1, 1000000,
     "WebSocket connections at once; more are refused with HTTP 503"},
    {"max-connections-per-user", "RT_MAX_CONNECTIONS_PER_USER", INT(max_connections_per_user), "32", 1, 1000000,
     "WebSocket connections one user (token sub) may hold on this bridge; more are refused with HTTP 429"},
    {"handshake-timeout", "RT_HANDSHAKE_TIMEOUT", INT(handshake_timeout_seconds), "10", 1, 300,
     "seconds a new connection has to complete its HTTP request or WebSocket upgrade (and a pgrt.auth connection "
     "its auth frame) before it is dropped"},
    {"max-unauthenticated-connections", "RT_MAX_UNAUTHENTICATED_CONNECTIONS", INT(max_unauthenticated_connections),
     "1000", 1, 1000000,
     "pgrt.auth connections waiting for their auth frame at once; more upgrades are refused with HTTP 503"},
    {"max-frame-bytes", "RT_MAX_FRAME_BYTES", INT(max_frame_bytes), "131072", 1024, 16777216,
     "largest client frame; larger ones close the connection with 1009"},
    {"shutdown-grace-ms", "RT_SHUTDOWN_GRACE_MS", INT(shutdown_grace_ms), "5000", 0, 600000,
     "on SIGTERM, how long in-flight work may take before exit"},
    {"db-retry-max-ms", "RT_DB_RETRY_MAX_MS", INT(db_retry_max_ms), "5000", 100, 600000,
     "cap of the exponential backoff between database reconnects"},
    {"db-pool-size", "RT_DB_POOL_SIZE", INT(db_pool_size), "2", 1, 16,
     "database connections for commands (pipelined), besides the LISTEN connection"},
    {"batch-max", "RT_BATCH_MAX", INT(batch_max), "32", 1, PROTOCOL_BATCH_MAX,
     "most client commands sent to the database in one rt.batch transaction"},
    {"max-pending-commands", "RT_MAX_PENDING_COMMANDS", INT(max_pending_commands), "10000", 16, 1000000,
     "commands waiting for a database connection; beyond it commands get UNAVAILABLE (retry)"},
    {"max-rooms-per-connection", "RT_MAX_ROOMS_PER_CONNECTION", INT(max_rooms_per_connection), "100", 1, 100000,
     "rooms one connection may join at once; more get TOO_LARGE"},
    {"max-queue-bytes", "RT_MAX_QUEUE_BYTES", INT(max_queue_bytes), "1048576", 65536, 1073741824,
     "bytes queued for one client; a client behind by more continues from the event log at its own pace"},
    {"slow-consumer-ms", "RT_SLOW_CONSUMER_MS", INT(slow_consumer_ms), "5000", 100, 600000,
     "a client that takes no data this long while some waits is closed with 4008 (it resumes with since)"},
    {"rate-limit", "RT_RATE_LIMIT", INT(rate_limit), "100", 1, 1000000, "frames per second one user may send, over all their connections to this bridge"},
    {"rate-burst", "RT_RATE_BURST", INT(rate_burst), "200", 1, 1000000, "frames one user may send at once; reconnecting does not refill it"},
    {"rate-limit-close-after", "RT_RATE_LIMIT_CLOSE_AFTER", INT(rate_limit_close_after), "50", 1, 1000000,
     "RATE_LIMITED refusals without a quiet second before the connection is closed with 4029"},
    {"bridge-stale-seconds", "RT_BRIDGE_STALE_SECONDS", INT(bridge_stale_seconds), "30", 10, 3600,
     "a bridge silent this long is presumed dead and its presence is removed"},
    {"presence-interval-ms", "RT_PRESENCE_INTERVAL_MS", INT(presence_interval_ms), "100", 0, 10000,
     "presence changes in a room are coalesced over this interval (0: forward each at once)"},
    {"occupancy-interval-ms", "RT_OCCUPANCY_INTERVAL_MS", INT(occupancy_interval_ms), "500", 0, 10000,
     "occupancy signals of a room above its presence threshold: at most one per room per interval (per started 1,000 members joined here), the latest (0: each at once)"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

static int assign(struct config *cfg, const struct setting *s, const char *value, const char *origin,
                  char *err, size_t errlen)
{
    char *slot = (char *)cfg + s->offset;
    if (s->type == SETTING_STRING) {
        char **dst = (char **)(void *)slot;
        char *copy = strdup(value);
        if (!copy) {
            snprintf(err, errlen, "%s%s: out of memory", origin, s->flag);
            return -1;
        }
        free(*dst);
        *dst = copy;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0' || isspace((unsigned char)value[0])) {
        snprintf(err, errlen, "%s%s: \"%.64s\" is not an integer", origin, s->flag, value);
        return -1;
    }
    if (v < s->min || v > s->max) {
        snprintf(err, errlen, "%s%s: %ld is out of range [%ld, %ld]", origin, s->flag, v, s->min, s->max);
        return -1;
    }
    *(int *)(void *)slot = (int)v;
    return 0;
}

static const struct setting *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strlen(settings[i].flag) == len && strncmp(settings[i].flag, name, len) == 0)
            return &settings[i];
    return NULL;
}

/* Cross-field rules that a single setting cannot express. */
static int validate(const struct config *cfg, char *err, size_t errlen)
{
    static const char *const algs[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                       "RS512", "ES256", "ES384", "ES512"};
    bool known = false;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        known |= strcmp(cfg->jwt_alg, algs[i]) == 0;
    if (!known) {
        snprintf(err, errlen, "--jwt-alg: \"%.32s\" is not one of HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512",
             cfg->jwt_alg);
        return -1;
    }
    if (log_level_parse(cfg->log_level) < 0) {
        snprintf(err, errlen, "--log-level: \"%.32s\" is not one of debug, info, warn, error", cfg->log_level);
        return -1;
    }
    if (cfg->jwt_secret && cfg->jwt_secret_file) {
        snprintf(err, errlen, "--jwt-secret and --jwt-secret-file are both set; choose one");
        return -1;
    }
    if (!cfg->tls_cert_file != !cfg->tls_key_file) {
        snprintf(err, errlen, "--tls-cert-file and --tls-key-file go together");
        return -1;
    }
    if (cfg->allowed_origins) {
        for (const char *o = cfg->allowed_origins; *o; o++)
            if ((unsigned char)*o < 0x21 && *o != ' ') {
                snprintf(err, errlen, "--allowed-origins: control characters are not allowed");
                return -1;
            }
    }
    if (cfg->bridge_id) {
        size_t n = strlen(cfg->bridge_id);
        bool ok = n >= 1 && n <= 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = isalnum((unsigned char)cfg->bridge_id[i]) || strchr("._-", cfg->bridge_id[i]);
        if (!ok) {
            snprintf(err, errlen, "--bridge-id: \"%.64s\" must be 1-64 characters of A-Z a-z 0-9 . _ -",
                 cfg->bridge_id);
            return -1;
        }
    }
    return 0;
}

int config_load(struct config *cfg, int argc, char **argv, config_getenv_fn env, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].default_value && assign(cfg, &settings[i], settings[i].default_value, "--", err, errlen))
            goto bad;
    for (size_t i = 0; env && i < NSETTINGS; i++) {
        const char *v = env(settings[i].env);
        if (v && *v && assign(cfg, &settings[i], v, "environment for --", err, errlen))
            goto bad;
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument \"%.64s\" (settings are --name value)", arg);
            goto bad;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct setting *s = find_flag(name, len);
        if (!s) {
            snprintf(err, errlen, "unknown setting \"%.64s\" (see --help)", arg);
            goto bad;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", s->flag);
                goto bad;
            }
            value = argv[++i];
        }
        if (assign(cfg, s, value, "--", err, errlen))
            goto bad;
    }
    if (validate(cfg, err, errlen))
        goto bad;
    return 0;
bad:
    config_free(cfg);
    return -1;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (settings[i].type != SETTING_STRING)
            continue;
        char **slot = (char **)(void *)((char *)cfg + settings[i].offset);
        free(*slot);
        *slot = NULL;
    }
}

void config_print_help(FILE *out)
{
    fprintf(out, "Settings (flag / environment variable, default):\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "  --%-22s %-24s %s\n", s->flag, s->env, s->default_value ? s->default_value : "(unset)");
        fprintf(out, "      %s", s->help);
        if (s->type == SETTING_INT)
            fprintf(out, " [%ld..%ld]", s->min, s->max);
        fputc('\n', out);
    }
}

void config_each(void (*fn)(const char *flag, const char *env, void *arg), void *arg)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        fn(settings[i].flag, settings[i].env, arg);
}
