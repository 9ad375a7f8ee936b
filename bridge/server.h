/* server: the bridge process — one libuv loop shared by libwebsockets and libpq — and its lifecycle. */
#ifndef PGRT_SERVER_H
#define PGRT_SERVER_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "auth.h"
#include "config.h"

struct session;
struct session_ops;
struct http_ops;
struct metrics_gauges;
struct presence;
struct occupancy;
struct listener;
struct pool;
struct router;
struct registry;
struct acceptor;

/*
 * One per process: the configuration, the loop, and the modules server.c builds and wires. Each
 * field says which file writes it; every other file only reads it.
 */
struct bridge {
    struct config cfg;
    struct auth_keys keys;
    char id[80];
    uv_loop_t loop;
    struct lws_context *lws;
    struct lws_vhost *vhost;
    struct listener *listener;
    struct pool *pool;
    struct router *router;
    struct presence *presence;
    struct occupancy *occupancy;
    struct registry *registry;
    struct rate_table *rates; /* per-user token buckets (--rate-limit, --rate-burst) */
    struct acceptor *acceptor; /* our SO_REUSEPORT listening socket (NULL once we stop accepting) */
    const struct session_ops *session_ops; /* how sessions reach frames.c (server.c wires it) */
    const struct http_ops *http_ops;       /* how ws.c reaches the HTTP routes (server.c) */
    /* The gauges /metrics reports and /health's db state, read from their owners (server.c). */
    void (*gauges)(const struct bridge *br, struct metrics_gauges *g);
    uv_signal_t sigterm, sigint;
    uv_timer_t shutdown_timer;
    uv_timer_t housekeeping; /* once a second: token expiry, fetch retries */
    bool unregistered;       /* server.c */
    bool stopping_registry;  /* server.c */
    bool destroying; /* lws is being torn down: no more writes (server.c) */
    bool maintenance; /* rt.maintenance() is active: new upgrades get 503 (maintenance.c) */
    uint64_t shutdown_started_ms; /* server.c */
    bool shutting_down;           /* server.c */
    struct session *sessions; /* doubly linked, newest first (session.c, like the seven below) */
    struct session *flush_urgent; /* sessions with a reply to write, each referenced */
    struct session *flush_head, *flush_tail; /* sessions with events to write, in turn, referenced */
    uv_check_t flush_check;     /* writes them after the turn's I/O */
    uv_idle_t flush_idle;       /* active while the list is not empty: the loop does not sleep */
    unsigned n_sessions;
    unsigned n_closing; /* sessions being closed (their close frame waits for the socket) */
    struct session *unauthenticated; /* waiting for their auth frame; not in `sessions` (session.c) */
    unsigned n_unauthenticated;
    uint64_t next_conn;
    time_t started_at;
};

/* Runs the bridge until SIGTERM/SIGINT; returns the process exit code. Takes ownership of cfg. */
int server_run(struct config *cfg);


#endif
