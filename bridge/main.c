/* rt-bridge: `serve` (the default) runs the WebSocket bridge; `migrate` deploys the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "migrate.h"
#include "server.h"

static void usage(FILE *out)
{
    fprintf(out,
            "rt-bridge %s: real-time rooms over WebSocket, with PostgreSQL as the source of truth.\n\n"
            "Usage: rt-bridge [serve] [--setting value ...]   run the bridge\n"
            "       rt-bridge migrate [--setting value ...]   apply migrations/ and sql/ to the database\n"
            "       rt-bridge --help | --version\n\n"
            "Every setting is also read from its environment variable; flags win. The database is found\n"
            "through --database-url or libpq's PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE, ...).\n\n",
            PGRT_VERSION);
    config_print_help(out);
}

static const char *real_getenv(const char *name) { return getenv(name); }

int main(int argc, char **argv)
{
    int first = 1;
    const char *command = "serve";
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("rt-bridge %s\n", PGRT_VERSION);
        return 0;
    }
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        command = argv[1];
        first = 2;
    }
    if (strcmp(command, "serve") != 0 && strcmp(command, "migrate") != 0) {
        fprintf(stderr, "rt-bridge: unknown command \"%s\" (serve or migrate; see --help)\n", command);
        return 2;
    }
    struct config cfg;
    char err[512];
    if (config_load(&cfg, argc - first, argv + first, real_getenv, err, sizeof err) != 0) {
        fprintf(stderr, "rt-bridge: %s\n", err);
        return 2;
    }
    log_set_level((enum log_level)log_level_parse(cfg.log_level));
    if (strcmp(command, "migrate") == 0) {
        int rc = migrate_run(&cfg);
        config_free(&cfg);
        return rc == 0 ? 0 : 1;
    }
    return server_run(&cfg);
}
