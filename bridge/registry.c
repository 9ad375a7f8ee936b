/*
 * registry: keeps this bridge alive in rt.bridges (heartbeat), removes bridges that stopped
 * heartbeating (rt.reap_bridges, which also announces their users' presence leaves), and removes
 * the presence of connections that close. Every bridge reaps, so a SIGKILLed bridge's presence
 * goes away within `--bridge-stale-seconds` plus one reap interval, as long as one bridge runs.
 */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "log.h"
#include "statements.h"
#include "maintenance.h"
#include "pool.h"
#include "server.h"

#define TICK_MS 1000
#define HEARTBEAT_TICKS 5 /* heartbeat and reap every 5 s once registered; every second until then */
#define MAX_PENDING_DISCONNECTS 65536

struct registry {
    struct bridge *br;
    uv_timer_t timer;
    char **pending; /* disconnects that could not be sent while the database was away */
    unsigned npending;
    void (*reaped)(void *ctx); /* we were reaped: re-record every joined connection's presence */
    void *reaped_ctx;
    void (*stop_done)(void *);
    void *stop_ctx;
    unsigned ticks;
    bool registered;
};

static void on_result(void *ctx, PGresult *res)
{
    const char *what = ctx;
    char why[LOG_QUOTED_TEXT];
    if (res && PQresultStatus(res) != PGRES_TUPLES_OK)
        log_warn("registry_failed", "call=%s error=%s", what, log_quote(why, sizeof why, PQresultErrorMessage(res)));
}

/* false from rt.bridge_heartbeat after we were registered: we were reaped, so re-record presence. */
static void on_heartbeat(void *ctx, PGresult *res)
{
    struct registry *reg = ctx;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char why[LOG_QUOTED_TEXT];
        if (res)
            log_warn("registry_failed", "call=bridge_heartbeat error=%s",
                     log_quote(why, sizeof why, PQresultErrorMessage(res)));
        return;
    }
    bool known = PQgetvalue(res, 0, 0)[0] == 't';
    if (!known && reg->registered) {
        log_warn("bridge_reaped", "bridge=%s action=rejoin connections=%u", reg->br->id, reg->br->n_sessions);
        reg->reaped(reg->reaped_ctx);
    }
    reg->registered = true;
}

static void remember(struct registry *reg, const char *conn_id)
{
    if (reg->npending == MAX_PENDING_DISCONNECTS)
        return; /* the bridge's own stale timeout cleans up after a very long outage */
    char **grown = realloc(reg->pending, (reg->npending + 1) * sizeof *grown);
    if (!grown)
        return;
    reg->pending = grown;
    reg->pending[reg->npending] = strdup(conn_id);
    if (reg->pending[reg->npending])
        reg->npending++;
}

static bool send_disconnect(struct registry *reg, const char *conn_id)
{
    const char *params[] = {reg->br->id, conn_id};
    return pool_query(reg->br->pool, SQL_DISCONNECT, 2, params, on_result, "disconnect");
}

void registry_disconnect(struct registry *reg, const char *conn_id)
{
    if (!send_disconnect(reg, conn_id))
        remember(reg, conn_id);
}

static void tick(uv_timer_t *t)
{
    struct registry *reg = t->data;
    struct bridge *br = reg->br;
    if (!pool_up(br->pool) || (reg->registered && ++reg->ticks % HEARTBEAT_TICKS != 0))
        return;
    char info[256], stale[32];
    snprintf(info, sizeof info, "{\"version\":\"%s\",\"port\":%d,\"connections\":%u}", PGRT_VERSION, br->cfg.port,
             br->n_sessions);
    snprintf(stale, sizeof stale, "%d seconds", br->cfg.bridge_stale_seconds);
    const char *hb[] = {br->id, info};
    pool_query(br->pool, SQL_BRIDGE_HEARTBEAT, 2, hb, on_heartbeat, reg);
    maintenance_refresh(br);
    const char *reap[] = {stale};
    pool_query(br->pool, SQL_REAP_BRIDGES, 1, reap, on_result, "reap_bridges");
    while (reg->npending) {
        char *conn = reg->pending[reg->npending - 1];
        if (!send_disconnect(reg, conn))
            break;
        free(conn);
        reg->npending--;
    }
}

struct registry *registry_new(struct bridge *br, void (*reaped)(void *ctx), void *ctx)
{
    struct registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return NULL;
    reg->br = br;
    reg->reaped = reaped;
    reg->reaped_ctx = ctx;
    uv_timer_init(&br->loop, &reg->timer);
    reg->timer.data = reg;
    return reg;
}

void registry_start(struct registry *reg) { uv_timer_start(&reg->timer, tick, 50, TICK_MS); }

static void stopped(void *ctx, PGresult *res)
{
    struct registry *reg = ctx;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
        log_info("bridge_unregistered", "bridge=%s presence_removed=%s", reg->br->id, PQgetvalue(res, 0, 0));
    if (reg->stop_done)
        reg->stop_done(reg->stop_ctx);
    reg->stop_done = NULL;
}

void registry_stop(struct registry *reg, void (*done)(void *), void *ctx)
{
    uv_timer_stop(&reg->timer);
    reg->stop_done = done;
    reg->stop_ctx = ctx;
    const char *params[] = {reg->br->id};
    if (!pool_query(reg->br->pool, SQL_BRIDGE_STOPPED, 1, params, stopped, reg)) {
        reg->stop_done = NULL;
        done(ctx);
    }
}

static void timer_closed(uv_handle_t *h)
{
    struct registry *reg = h->data;
    for (unsigned i = 0; i < reg->npending; i++)
        free(reg->pending[i]);
    free(reg->pending);
    free(reg);
}

void registry_free(struct registry *reg)
{
    if (reg)
        uv_close((uv_handle_t *)&reg->timer, timer_closed);
}
