/*
 * listener: the dedicated LISTEN connection. It asks the database which channels carry room
 * events and system frames (rt.channels()), LISTENs to all of them, and hands every notification
 * to the router. A server shutdown or a killed backend shows up as EOF at once, so its state
 * doubles as the database health that /health reports. After every (re)connect the router fills
 * each joined room from the event log: notifications sent while it was away are lost.
 */
#include "listener.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "maintenance.h"
#include "pgconn.h"
#include "router.h"
#include "server.h"

enum listen_phase { PHASE_CHANNELS, PHASE_LISTEN, PHASE_LIVE };

struct listener {
    struct bridge *br;
    struct pgconn *pc;
    enum listen_phase phase;
    bool listening;
    char *listen_sql; /* built from rt.channels(), sent once that query's results are done */
};

static const char CHANNELS_SQL[] =
    "SELECT string_agg(format('LISTEN %I', c), '; ') FROM rt.channels() AS c";

static void on_ready(struct pgconn *pc)
{
    struct listener *l = pgconn_user(pc);
    l->phase = PHASE_CHANNELS;
    if (!PQsendQuery(pgconn_pg(pc), CHANNELS_SQL))
        pgconn_fail(pc, PQerrorMessage(pgconn_pg(pc)));
}

/* Keeps the LISTEN statement that rt.channels() produced. */
static void on_result(struct listener *l, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char why[LOG_QUOTED_TEXT];
        log_error("listen_failed", "phase=%d error=%s", (int)l->phase, log_quote(why, sizeof why, PQresultErrorMessage(r)));
        return;
    }
    if (l->phase == PHASE_CHANNELS && st == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        free(l->listen_sql);
        l->listen_sql = strdup(PQgetvalue(r, 0, 0));
    }
}

/* A query finished (PQgetResult returned NULL): CHANNELS -> LISTEN -> LIVE. */
static void on_query_done(struct listener *l)
{
    PGconn *conn = pgconn_pg(l->pc);
    if (l->phase == PHASE_CHANNELS) {
        if (!l->listen_sql) {
            pgconn_fail(l->pc, "rt.channels() returned nothing: is the database migrated?");
            return;
        }
        l->phase = PHASE_LISTEN;
        if (!PQsendQuery(conn, l->listen_sql))
            pgconn_fail(l->pc, PQerrorMessage(conn));
        free(l->listen_sql);
        l->listen_sql = NULL;
    } else if (l->phase == PHASE_LISTEN) {
        l->phase = PHASE_LIVE;
        l->listening = true;
        log_info("db_up", "bridge=%s reconnects=%lu", l->br->id, pgconn_reconnects(l->pc));
        router_resync(l->br->router);
        maintenance_refresh(l->br); /* a switch flipped while we were away sent its frame into the void */
    }
}

static void on_io(struct pgconn *pc, int events)
{
    (void)events;
    struct listener *l = pgconn_user(pc);
    PGconn *conn = pgconn_pg(pc);
    if (!PQconsumeInput(conn)) {
        pgconn_fail(pc, PQerrorMessage(conn));
        return;
    }
    while (l->phase != PHASE_LIVE && !PQisBusy(conn)) {
        PGresult *r = PQgetResult(conn);
        if (!r) {
            on_query_done(l);
            if (!pgconn_pg(pc))
                return; /* failed: already reconnecting */
            if (l->phase != PHASE_LIVE)
                continue;
            break;
        }
        on_result(l, r);
        PQclear(r);
    }
    PGnotify *n;
    while ((n = PQnotifies(conn))) {
        if (l->phase == PHASE_LIVE)
            router_notify(l->br->router, n->extra, strlen(n->extra));
        PQfreemem(n);
    }
    if (PQstatus(conn) == CONNECTION_BAD)
        pgconn_fail(pc, "connection lost");
}

static void on_lost(struct pgconn *pc, const char *why)
{
    struct listener *l = pgconn_user(pc);
    (void)why;
    l->listening = false;
    l->phase = PHASE_CHANNELS;
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
    free(l->listen_sql);
    free(l);
}

bool listener_up(const struct listener *l) { return l && pgconn_ready(l->pc) && l->listening; }
unsigned long listener_reconnects(const struct listener *l) { return l ? pgconn_reconnects(l->pc) : 0; }
