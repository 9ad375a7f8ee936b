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
struct listener;
struct pool;
struct router;
struct registry;
struct acceptor;

/* One per process. */
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
    struct registry *registry;
    struct rate_table *rates; /* per-user token buckets (--rate-limit, --rate-burst) */
    struct acceptor *acceptor; /* our SO_REUSEPORT listening socket (NULL once we stop accepting) */
    uv_signal_t sigterm, sigint;
    uv_timer_t shutdown_timer;
    uv_timer_t housekeeping; /* once a second: token expiry, fetch retries */
    bool unregistered;
    bool stopping_registry;
    bool destroying; /* lws is being torn down: no more writes */
    bool maintenance; /* rt.maintenance() is active: new upgrades get 503 */
    char maintenance_message[512];
    uint64_t shutdown_started_ms;
    bool shutting_down;
    struct session *sessions; /* doubly linked, newest first */
    unsigned n_sessions;
    unsigned n_closing; /* sessions being closed (their close frame waits for the socket) */
    uint64_t next_conn;
    time_t started_at;
};

/* Runs the bridge until SIGTERM/SIGINT; returns the process exit code. Takes ownership of cfg. */
int server_run(struct config *cfg);

/* True while the database is reachable (the LISTEN connection is up). */
bool server_db_up(const struct bridge *br);

#endif
