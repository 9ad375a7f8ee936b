/*
 * listener: keeps one connection to PostgreSQL open for notifications. A server shutdown or a
 * killed backend shows up as EOF on its socket at once, so its state doubles as the database
 * health that /health reports.
 */
#include "listener.h"

#include <libpq-fe.h>
#include <stdlib.h>

#include "log.h"
#include "pgconn.h"
#include "server.h"

struct listener {
    struct bridge *br;
    struct pgconn *pc;
};

static void on_ready(struct pgconn *pc)
{
    struct listener *l = pgconn_user(pc);
    log_info("db_up", "bridge=%s reconnects=%lu", l->br->id, pgconn_reconnects(pc));
}

/* Reads everything available; the connection sends no queries, so results are only notices. */
static void on_io(struct pgconn *pc, int events)
{
    (void)events;
    PGconn *conn = pgconn_pg(pc);
    if (!PQconsumeInput(conn)) {
        pgconn_fail(pc, PQerrorMessage(conn));
        return;
    }
    while (!PQisBusy(conn)) {
        PGresult *r = PQgetResult(conn);
        if (!r)
            break;
        PQclear(r);
    }
    PGnotify *n;
    while ((n = PQnotifies(conn)))
        PQfreemem(n);
    if (PQstatus(conn) == CONNECTION_BAD)
        pgconn_fail(pc, "connection lost");
}

static void on_lost(struct pgconn *pc, const char *why)
{
    struct listener *l = pgconn_user(pc);
    (void)why;
    log_warn("db_down", "bridge=%s", l->br->id);
}

static const struct pgconn_ops listener_ops = {on_ready, on_io, on_lost};

struct listener *listener_new(struct bridge *br)
{
    struct listener *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->br = br;
    struct pgconn_options opt = {
        .conninfo = br->cfg.database_url,
        .application = "rt-bridge listen",
        .idle_listener = true,
        .retry_max_ms = br->cfg.db_retry_max_ms,
    };
    l->pc = pgconn_new(&br->loop, &opt, &listener_ops, l);
    if (!l->pc) {
        free(l);
        return NULL;
    }
    return l;
}

void listener_start(struct listener *l) { pgconn_start(l->pc); }

void listener_free(struct listener *l)
{
    if (!l)
        return;
    pgconn_close(l->pc);
    free(l);
}

bool listener_up(const struct listener *l) { return l && pgconn_ready(l->pc); }
unsigned long listener_reconnects(const struct listener *l) { return l ? pgconn_reconnects(l->pc) : 0; }
