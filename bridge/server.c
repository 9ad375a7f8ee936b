/*
 * server: builds the bridge — one libuv loop that libwebsockets joins as a foreign loop and that
 * drives libpq sockets and timers too — runs it, and shuts it down in order on SIGTERM/SIGINT:
 * refuse new upgrades, tell every client, close them with 1001, give them the grace period, exit 0.
 */
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "acceptor.h"
#include "admin.h"
#include "eventlog.h"
#include "fanout.h"
#include "frames.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "maintenance.h"
#include "metrics.h"
#include "outbuf.h"
#include "presence.h"
#include "occupancy.h"
#include "ratelimit.h"
#include "pool.h"
#include "registry.h"
#include "router.h"
#include "session.h"
#include "ws.h"

static const struct lws_protocols protocols[] = {
    {"pgrt", ws_callback, sizeof(struct per_connection), 4096, 0, NULL, 0},
    /* Listed by a client that authenticates with its first frame; lws drops an upgrade that asks
     * for a subprotocol it does not know, and echoes the one it picked (browsers require that). */
    {WS_FRAME_AUTH_PROTOCOL, ws_callback, sizeof(struct per_connection), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- wiring: how the modules reach each other without knowing each other (docs/architecture.md) ---- */

/* session.c -> frames.c */
static const struct session_ops session_ops = {
    .open = frames_open,
    .text = frames_handle,
    .binary = frames_refuse_binary,
    .drained = frames_drained,
    .gone = frames_gone,
    .owes_replies = frames_owes_replies,
};

/* ws.c -> http.c, admin.c */
static const struct http_ops http_ops = {
    .request = http_request,
    .body = admin_body,
    .body_done = admin_body_done,
    .writable = admin_writable,
    .forget = admin_forget,
};

/* router.c -> session.c */
static bool sink_offer(void *conn, struct outbuf *ob) { return session_offer(conn, ob); }
static size_t sink_queued_bytes(const void *conn) { return session_queued_bytes(conn); }
static const char *sink_user(const void *conn) { return session_claims(conn)->sub; }
static void sink_want_drain(void *conn) { session_want_drain(conn); }
static const struct router_sink router_sink = {sink_offer, sink_queued_bytes, sink_user, sink_want_drain};

/* presence.c and occupancy.c -> router.c */
static void presence_deliver(void *ctx, const char *room, struct outbuf *ob)
{
    struct bridge *br = ctx;
    router_offer_joined(br->router, room, ob);
}

/* occupancy.c -> router.c: a big room's count goes out less often */
static unsigned room_members(void *ctx, const char *room)
{
    struct bridge *br = ctx;
    return router_room_members(br->router, room);
}

/* listener.c -> fanout.c, router.c, maintenance.c */
static void on_notify(void *ctx, const char *payload, size_t len) { fanout_notify(ctx, payload, len); }
static void on_listening(void *ctx)
{
    struct bridge *br = ctx;
    router_resync(br->router);
    maintenance_refresh(br); /* a switch flipped while we were away sent its frame into the void */
}

/* registry.c -> frames.c */
static void on_reaped(void *ctx) { frames_rejoin_all(ctx); }

/* http.c (/metrics, /health) <- every module that owns a gauge */
static void read_gauges(const struct bridge *br, struct metrics_gauges *g)
{
    g->connections = br->n_sessions - br->n_closing;
    g->unauthenticated = br->n_unauthenticated;
    g->rooms = router_rooms(br->router);
    g->db_up = listener_up(br->listener) && pool_up(br->pool);
    g->commands_pending = pool_pending(br->pool);
    g->listen_reconnects = listener_reconnects(br->listener);
}

static void make_bridge_id(struct bridge *br)
{
    if (br->cfg.bridge_id) {
        snprintf(br->id, sizeof br->id, "%s", br->cfg.bridge_id);
        return;
    }
    char host[64] = "bridge";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++) /* the id appears in presence rows and logs: keep it tame */
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-'))
            *c = '-';
    snprintf(br->id, sizeof br->id, "%.40s-%d-%04x", host, (int)getpid(), (unsigned)(rand() & 0xffff));
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Last step: everything the loop still holds is closed, so uv_run() returns. */
static void finish_shutdown(struct bridge *br)
{
    uv_timer_stop(&br->shutdown_timer);
    close_handle((uv_handle_t *)&br->shutdown_timer);
    close_handle((uv_handle_t *)&br->housekeeping);
    close_handle((uv_handle_t *)&br->sigterm);
    close_handle((uv_handle_t *)&br->sigint);
    presence_stop(br->presence);
    occupancy_stop(br->occupancy);
    /* Connections still open past the grace period lose their rooms before anything is freed. */
    frames_leave_all(br);
    /* With a foreign loop this only starts the teardown; info.pcontext NULLs br->lws once it is done. */
    br->destroying = true;
    session_flusher_stop(br);
    lws_context_destroy(br->lws);
    pool_free(br->pool);
    br->pool = NULL;
    registry_free(br->registry);
    br->registry = NULL;
    listener_free(br->listener);
    br->listener = NULL;
    log_info("stopped", "bridge=%s", br->id);
}

static void unregistered(void *ctx)
{
    struct bridge *br = ctx;
    br->unregistered = true;
}

/* Waits for clients to go (or the grace period), then for the bridge's presence to be removed. */
static void shutdown_tick(uv_timer_t *t)
{
    struct bridge *br = t->data;
    uint64_t elapsed = uv_now(&br->loop) - br->shutdown_started_ms, grace = (uint64_t)br->cfg.shutdown_grace_ms;
    bool drained = (br->n_sessions == 0 && pool_pending(br->pool) == 0) || elapsed >= grace;
    if (drained && !br->stopping_registry) {
        br->stopping_registry = true;
        registry_stop(br->registry, unregistered, br);
    }
    if (drained && (br->unregistered || elapsed >= grace + 2000))
        finish_shutdown(br);
}

static void begin_shutdown(struct bridge *br, int signum)
{
    if (br->shutting_down)
        return;
    br->shutting_down = true;
    br->shutdown_started_ms = uv_now(&br->loop);
    acceptor_close(br->acceptor); /* new connections go to the other bridges sharing the port */
    br->acceptor = NULL;
    log_info("stopping", "bridge=%s signal=%d connections=%u grace_ms=%d", br->id, signum, br->n_sessions,
             br->cfg.shutdown_grace_ms);
    const char frame[] = "{\"type\":\"system\",\"event\":\"shutdown\",\"data\":{}}";
    struct outbuf *ob = outbuf_new(frame, sizeof frame - 1);
    session_close_all(br, ob, 1001, "bridge shutting down");
    outbuf_unref(ob);
    uv_timer_start(&br->shutdown_timer, shutdown_tick, 20, 20);
}

/* Once a second: close connections whose token expired, retry fetches that failed. */
static void housekeeping(uv_timer_t *t)
{
    struct bridge *br = t->data;
    unsigned long long now_ms = uv_now(&br->loop);
    session_housekeeping(br, (long long)time(NULL), now_ms);
    if (pool_up(br->pool))
        router_tick(br->router);
    listener_tick(br->listener);
    rate_sweep(br->rates, now_ms);
}

static void on_signal(uv_signal_t *h, int signum) { begin_shutdown(h->data, signum); }

/*
 * lws also watches signals on the loop it joins, and by default it tears the context down at
 * once (clients see 1006). Routing its watcher here keeps the orderly 1001 shutdown.
 */
static void on_lws_signal(void *handle, int signum)
{
    uv_signal_t *h = handle;
    if (signum == SIGTERM || signum == SIGINT)
        begin_shutdown(h->loop->data, signum);
}

static int create_lws(struct bridge *br)
{
    /* All zero: lws's per-connection validity timer (ping, hang-up) is off; session.c keeps the
     * heartbeat with one clock for all connections (check_heartbeat). */
    static const lws_retry_bo_t idle_policy;

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    void *loops[] = {&br->loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
    info.signal_cb = on_lws_signal;
    if (br->cfg.tls_cert_file)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.user = br;
    info.pcontext = &br->lws;
    /* Room for an over-long token plus other headers, so it earns a 401 rather than a dropped socket. */
    info.max_http_header_data = 3 * AUTH_MAX_TOKEN_BYTES;
    info.retry_and_idle_policy = &idle_policy;
    /* an HTTP request or upgrade must complete within this (both: lws times out idle headers separately) */
    info.timeout_secs = (unsigned)br->cfg.handshake_timeout_seconds;
    info.timeout_secs_ah_idle = (unsigned)br->cfg.handshake_timeout_seconds;
    br->lws = lws_create_context(&info);
    if (!br->lws)
        return -1;
    if (br->cfg.tls_cert_file) {
        info.ssl_cert_filepath = br->cfg.tls_cert_file;
        info.ssl_private_key_filepath = br->cfg.tls_key_file;
        /* HTTP/1.1 only: WebSocket upgrades and our one-write responses are HTTP/1.1 shapes. */
        info.alpn = "http/1.1";
    }
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* acceptor.c listens, with SO_REUSEPORT */
    info.protocols = protocols;
    info.vhost_name = "pgrt";
    br->vhost = lws_create_vhost(br->lws, &info);
    if (!br->vhost) {
        log_error("start_failed", "reason=\"cannot create the vhost (TLS files?)\"");
        return -1;
    }
    br->acceptor = acceptor_open(br);
    return br->acceptor ? 0 : -1;
}

/* libwebsockets' own messages become logfmt lines too, so one parser reads the whole stream. */
static void lws_log(int level, const char *line)
{
    char quoted[512], text[400];
    size_t n = strnlen(line, sizeof text - 1);
    memcpy(text, line, n);
    text[n] = '\0';
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    const char *msg = strstr(text, "] ") ? strstr(text, "] ") + 2 : text; /* drop lws' own timestamp */
    log_event(level & LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "message=%s", log_quote(quoted, sizeof quoted, msg));
}

/* Each connection is a descriptor, and lws sizes its descriptor table from the soft limit when the
 * context is created: lift it to the hard limit first, or a default 1024 would cap connections
 * long before --max-connections. */
static rlim_t raise_fd_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        rlim_t was = lim.rlim_cur;
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
            lim.rlim_cur = was;
    }
    return lim.rlim_cur;
}

static int route_lws_logs(void)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    return 0;
}

int server_run(struct config *cfg)
{
    struct bridge *br = calloc(1, sizeof *br);
    if (!br)
        return 1;
    br->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    br->started_at = time(NULL);
    srand((unsigned)(getpid() ^ time(NULL)));
    make_bridge_id(br);
    signal(SIGPIPE, SIG_IGN);

    char err[256];
    int rc = 1;
    if (auth_keys_load(&br->keys, &br->cfg, err, sizeof err) != 0) {
        log_error("config_invalid", "reason=\"%s\"", err);
        goto out;
    }
    rlim_t fd_limit = raise_fd_limit();
    if (fd_limit != RLIM_INFINITY && fd_limit < (rlim_t)br->cfg.max_connections + 64)
        log_warn("fd_limit_low", "fd_limit=%llu max_connections=%d hint=\"raise ulimit -n\"",
                 (unsigned long long)fd_limit, br->cfg.max_connections);
    uv_loop_init(&br->loop);
    br->loop.data = br;
    route_lws_logs();
    /* Handled before the port opens: once it does, another bridge sharing the port may already
     * have answered a health check for us, and a SIGTERM must mean an orderly stop, not death. */
    uv_signal_init(&br->loop, &br->sigterm);
    uv_signal_init(&br->loop, &br->sigint);
    br->sigterm.data = br->sigint.data = br;
    uv_signal_start(&br->sigterm, on_signal, SIGTERM);
    uv_signal_start(&br->sigint, on_signal, SIGINT);
    if (create_lws(br) != 0) {
        close_handle((uv_handle_t *)&br->sigterm);
        close_handle((uv_handle_t *)&br->sigint);
        for (int pass = 0; pass < 2 && br->lws; pass++) { /* see the end of server_run */
            lws_context_destroy(br->lws);
            uv_run(&br->loop, UV_RUN_DEFAULT);
        }
        uv_run(&br->loop, UV_RUN_DEFAULT);
        uv_loop_close(&br->loop);
        goto out;
    }
    uv_timer_init(&br->loop, &br->shutdown_timer);
    br->shutdown_timer.data = br;
    session_flusher_start(br);

    uv_timer_init(&br->loop, &br->housekeeping);
    br->housekeeping.data = br;
    uv_timer_start(&br->housekeeping, housekeeping, 1000, 1000);

    /* Room for every connection's user plus as many recently closed ones (see ratelimit.h). */
    br->rates = rate_table_new(br->cfg.rate_limit, br->cfg.rate_burst, 2 * (size_t)br->cfg.max_connections);
    br->session_ops = &session_ops;
    br->http_ops = &http_ops;
    br->gauges = read_gauges;
    br->pool = pool_new(br);
    struct router_log log = {eventlog_read, br->pool};
    br->router = br->pool ? router_new(&router_sink, &log, (size_t)br->cfg.max_queue_bytes) : NULL;
    br->presence = presence_new(&br->loop, br->cfg.presence_interval_ms, presence_deliver, br);
    br->occupancy = occupancy_new(&br->loop, br->cfg.occupancy_interval_ms, presence_deliver, br);
    if (br->occupancy)
        occupancy_scale_by(br->occupancy, room_members, br);
    br->registry = br->pool ? registry_new(br, on_reaped, br) : NULL;
    struct listener_events events = {on_notify, on_listening, br};
    br->listener = listener_new(br, &events);
    if (!br->rates || !br->router || !br->presence || !br->occupancy || !br->pool || !br->registry || !br->listener) {
        log_error("start_failed", "reason=\"out of memory\"");
        exit(1);
    }
    pool_start(br->pool);
    listener_start(br->listener);
    registry_start(br->registry);
    log_info("started", "bridge=%s host=%s port=%d tls=%s jwt_alg=%s fd_limit=%llu version=%s", br->id, br->cfg.host,
             br->cfg.port, br->cfg.tls_cert_file ? "on" : "off", br->keys.alg_name, (unsigned long long)fd_limit,
             PGRT_VERSION);

    uv_run(&br->loop, UV_RUN_DEFAULT);
    /* The loop ran dry with lws half torn down: the second destroy frees what is left. */
    if (br->lws)
        lws_context_destroy(br->lws);
    uv_run(&br->loop, UV_RUN_DEFAULT);
    presence_free(br->presence);
    occupancy_free(br->occupancy);
    router_free(br->router);
    rate_table_free(br->rates);
    uv_loop_close(&br->loop);
    rc = 0;
out:
    auth_keys_free(&br->keys);
    config_free(&br->cfg);
    free(br);
    return rc;
}
