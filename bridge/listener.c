/*
 * listener: the dedicated LISTEN connection. It asks the database which channels carry room
 * events and system frames (rt.channels()), LISTENs to all of them, and hands every notification
 * to its `notify` callback (server.c: fanout.c). A server shutdown or a killed backend shows up as EOF at once, so its state
 * doubles as the database health that /health reports. After every (re)connect its `up` callback
 * has the router fill each joined room from the log: notifications sent while it was away are lost.
 *
 * Every payload must carry a tag that verifies under one of the database's NOTIFY keys
 * (notify_auth.c): anything else was sent by some other role and is dropped, counted and logged.
 * The keys are read on this connection before it LISTENs, and again every KEYS_REFRESH_S seconds
 * (a rotation's grace period is longer) or soon after a payload names a key not held yet.
 */
#include "listener.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "notify_auth.h"
#include "pgconn.h"
#include "server.h"
#include "statements.h"

enum listen_phase { PHASE_CHANNELS, PHASE_LISTEN, PHASE_LIVE };

struct listener {
    struct bridge *br;
    struct listener_events events;
    struct pgconn *pc;
    enum listen_phase phase;
    bool listening;
    char *listen_sql; /* built from rt.channels(), sent once that query's results are done */
    struct notify_keyring keys, loading; /* in use; being read */
    bool refreshing;       /* a keys query is in flight on this connection */
    bool refresh_soon;     /* a payload named an unknown key: read the keys at the next tick */
    long missed_ids[4];    /* unknown key ids of dropped payloads: if the database has them, fill the rooms */
    unsigned n_missed;
    unsigned since_refresh_s;
    unsigned long long rejected_logged_ms; /* rejections are logged at most once a second */
    unsigned long rejected_quiet;          /* rejections not logged since */
};

#define KEYS_REFRESH_S 10 /* rt.rotate_notify_key's default grace is 60 s */

/* A result of SQL_NOTIFY_KEYS: replaces the key ring once the whole result was read. */
static void load_keys(struct listener *l, PGresult *r)
{
    memset(&l->loading, 0, sizeof l->loading);
    for (int i = 0; i < PQntuples(r); i++)
        if (!notify_keyring_add(&l->loading, atol(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1)))
            log_warn("notify_key_ignored", "id=%s", PQgetvalue(r, i, 0));
    l->keys = l->loading;
    if (l->keys.n == 0)
        log_error("notify_keys_missing", "hint=\"every notification is dropped until rt.notify_keys has a key: run rt-bridge migrate\"");
}

static void on_ready(struct pgconn *pc)
{
    struct listener *l = pgconn_user(pc);
    l->phase = PHASE_CHANNELS;
    if (!PQsendQuery(pgconn_pg(pc), SQL_LISTEN_CHANNELS))
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
    if (st == PGRES_TUPLES_OK && PQnfields(r) == 2) {
        load_keys(l, r);
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
        l->events.up(l->events.ctx);
    }
}

static void log_rejection(struct listener *l, enum notify_auth_result why, const char *channel, size_t len)
{
    unsigned long long now = uv_now(&l->br->loop);
    if (l->rejected_logged_ms && now - l->rejected_logged_ms < 1000) {
        l->rejected_quiet++;
        return;
    }
    char quoted[LOG_QUOTED_ID];
    log_warn("notify_rejected", "reason=%s channel=%s bytes=%zu not_logged_since=%lu hint=\"a role other than pgrt's functions sent it\"",
             notify_auth_result_name(why), log_quote(quoted, sizeof quoted, channel), len, l->rejected_quiet);
    l->rejected_logged_ms = now;
    l->rejected_quiet = 0;
}

/* Whether a key that dropped payloads named is now known: a rotation this bridge read late, not a forgery. */
static bool held_missed_key(const struct listener *l)
{
    for (unsigned i = 0; i < l->n_missed; i++)
        for (unsigned k = 0; k < l->keys.n; k++)
            if (l->keys.keys[k].id == l->missed_ids[i])
                return true;
    return false;
}

/* Only a payload that rt signed reaches the router, with its tag cut off. */
static void deliver_checked(struct listener *l, const char *channel, char *payload)
{
    size_t len = strlen(payload);
    enum notify_auth_result r = notify_auth_check(&l->keys, payload, &len);
    metrics_notify_auth(r);
    if (r == NOTIFY_AUTH_OK) {
        l->events.notify(l->events.ctx, payload, len);
        return;
    }
    if (r == NOTIFY_AUTH_UNKNOWN_KEY) {
        l->refresh_soon = true;
        if (l->n_missed < sizeof l->missed_ids / sizeof l->missed_ids[0])
            l->missed_ids[l->n_missed++] = notify_auth_key_id(payload, len);
    }
    log_rejection(l, r, channel, len);
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
    while (l->phase == PHASE_LIVE && l->refreshing && !PQisBusy(conn)) {
        PGresult *r = PQgetResult(conn);
        if (!r) {
            l->refreshing = false;
            l->since_refresh_s = 0;
            if (held_missed_key(l)) /* what was dropped under a key read too late is in the log */
                l->events.up(l->events.ctx);
            l->n_missed = 0;
            break;
        }
        on_result(l, r);
        PQclear(r);
    }
    PGnotify *n;
    while ((n = PQnotifies(conn))) {
        if (l->phase == PHASE_LIVE)
            deliver_checked(l, n->relname, n->extra);
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
    l->refreshing = false;
    l->phase = PHASE_CHANNELS;
    log_warn("db_down", "bridge=%s", l->br->id);
}

static const struct pgconn_ops listener_ops = {on_ready, on_io, on_lost};

struct listener *listener_new(struct bridge *br, const struct listener_events *events)
{
    struct listener *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->br = br;
    l->events = *events;
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

void listener_tick(struct listener *l)
{
    if (!l || l->phase != PHASE_LIVE || l->refreshing)
        return;
    if (++l->since_refresh_s < KEYS_REFRESH_S && !l->refresh_soon)
        return;
    l->refresh_soon = false;
    if (PQsendQuery(pgconn_pg(l->pc), SQL_NOTIFY_KEYS))
        l->refreshing = true;
    else
        pgconn_fail(l->pc, PQerrorMessage(pgconn_pg(l->pc)));
}

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
