/* pgconn: one non-blocking libpq connection driven by the libuv loop, reconnecting with backoff. */
#ifndef PGRT_PGCONN_H
#define PGRT_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <uv.h>

struct pgconn;

struct pgconn_ops {
    /* The connection is established and non-blocking; send what you need. */
    void (*ready)(struct pgconn *pc);
    /* The socket is readable and/or writable (UV_READABLE | UV_WRITABLE) while ready. */
    void (*io)(struct pgconn *pc, int events);
    /* A ready connection was lost; a reconnect is already scheduled. PGconn is gone. */
    void (*lost)(struct pgconn *pc, const char *why);
};

struct pgconn_options {
    const char *conninfo;    /* connection string/URI, or NULL/"" for PG* variables */
    const char *application; /* application_name */
    bool idle_listener;      /* LISTEN connection: never let idle_session_timeout kill it */
    int retry_max_ms;        /* backoff cap */
    int connect_timeout_ms;  /* libpq does not apply connect_timeout to async connects */
};

struct pgconn *pgconn_new(uv_loop_t *loop, const struct pgconn_options *opt, const struct pgconn_ops *ops,
                          void *user);
/* Starts connecting now. */
void pgconn_start(struct pgconn *pc);
/* Drops the connection after an error seen by the user and schedules a reconnect. */
void pgconn_fail(struct pgconn *pc, const char *why);
/* Watch for writability too (after PQflush returned 1), or stop watching it. */
void pgconn_want_write(struct pgconn *pc, bool on);
/* Closes and frees asynchronously; no callback runs after this call. */
void pgconn_close(struct pgconn *pc);

bool pgconn_ready(const struct pgconn *pc);
PGconn *pgconn_pg(struct pgconn *pc);
void *pgconn_user(struct pgconn *pc);
/* Number of reconnects after the first successful connection. */
unsigned long pgconn_reconnects(const struct pgconn *pc);

#endif
