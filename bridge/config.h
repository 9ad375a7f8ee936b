/* config: every setting of the bridge, declared once in a table (flag, environment variable, default, limits). */
#ifndef PGRT_CONFIG_H
#define PGRT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config {
    char *host;
    int port;
    char *database_url;
    char *jwt_alg;
    char *jwt_secret;
    char *jwt_secret_file;
    char *jwt_public_key_file;
    char *jwt_issuer;
    char *jwt_audience;
    char *web_root;
    char *migrations_dir;
    char *sql_dir;
    char *bridge_id;
    char *log_level;
    char *allowed_origins;
    char *tls_cert_file;
    char *tls_key_file;
    int heartbeat_seconds;
    int max_connections;
    int max_frame_bytes;
    int shutdown_grace_ms;
    int db_retry_max_ms;
    int db_pool_size;
    int batch_max;
    int max_pending_commands;
    int max_rooms_per_connection;
    int max_queue_bytes;
    int rate_limit;
    int rate_burst;
    int rate_limit_close_after;
    int bridge_stale_seconds;
    int presence_interval_ms;
    int occupancy_interval_ms;
    int slow_consumer_ms;
    int max_connections_per_user;
    int max_unauthenticated_connections;
    int handshake_timeout_seconds;
    int jwt_max_lifetime_seconds; /* 0: no maximum */
};

/* Where a lookup of an environment variable goes; tests pass their own. */
typedef const char *(*config_getenv_fn)(const char *name);

/*
 * Fills cfg from defaults, then environment variables, then argv flags (`--name value` or
 * `--name=value`), in that order of precedence; an empty environment variable counts as unset. argv holds only flags (no program name, no
 * subcommand). Returns 0, or -1 with a message naming the setting in err.
 */
int config_load(struct config *cfg, int argc, char **argv, config_getenv_fn env, char *err, size_t errlen);
void config_free(struct config *cfg);

/* Prints every setting with its flag, environment variable, default and meaning. */
void config_print_help(FILE *out);

/* Calls fn for every setting's flag and environment variable (used by the docs check). */
void config_each(void (*fn)(const char *flag, const char *env, void *arg), void *arg);

#endif
