/* service: the loop an example pgrt service needs, on libpq alone: connect (again, with capped and
 * jittered backoff, after the database goes away), LISTEN to the rt channels, hand each
 * notification to the program, run its timers, and stop cleanly on SIGTERM or SIGINT. */
#ifndef PGRT_EXAMPLE_SERVICE_H
#define PGRT_EXAMPLE_SERVICE_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct service;

/* What a program plugs into the loop. Every callback may be NULL. */
struct service_hooks {
    /* After each (re)connect, once LISTEN is in place: catch up on what happened meanwhile. */
    void (*connected)(struct service *svc, void *ctx);
    /* One NOTIFY payload from a room channel (the wire JSON of docs/protocol.md, "Frames", or a ref). */
    void (*notified)(struct service *svc, const char *payload, void *ctx);
    /* Runs due work; returns the milliseconds until it wants to run again, or -1 for "no timer". */
    int64_t (*tick)(struct service *svc, int64_t now_ms, void *ctx);
};

/* One of these per program. */
struct service {
    const char *name;       /* program name, in every log line */
    const char *conninfo;   /* libpq connection string or URI; NULL: the PG* environment variables */
    bool verbose;
    PGconn *conn;           /* NULL while disconnected */
    volatile sig_atomic_t stop;
    char sqlstate[6];       /* of the last failed service_call, "" if it was not an SQL error */
    char error[256];        /* its message */
};

/* Runs until SIGTERM/SIGINT or service_stop(); returns the process exit status. */
int service_run(struct service *svc, const struct service_hooks *hooks, void *ctx);

/* Asks the loop to end after the current callback. */
void service_stop(struct service *svc);

/*
 * Runs one parameterized statement (text parameters, text results). Returns the result (the caller
 * PQclear()s it) or NULL on failure, with svc->sqlstate / svc->error set. The rt functions raise
 * the error codes of docs/protocol.md ("Errors") as SQLSTATEs: "RT403" FORBIDDEN, "RT409" CONFLICT, "RT422" INVALID_TRANSITION, ...
 * After a lost connection svc->conn is NULL and the loop reconnects.
 */
PGresult *service_call(struct service *svc, const char *sql, int nparams, const char *const *params);

/* True when the last failure was the connection, not the statement: retry the work later. */
bool service_disconnected(const struct service *svc);

int64_t service_now_ms(void);

void service_log(const struct service *svc, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
