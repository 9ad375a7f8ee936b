/*
 * pool: a few libpq connections in pipeline mode; client commands go through rt.batch, in batches
 * under load. It knows no session: a command's completion is its `done` callback, and a callback
 * that submits more work is queued, never run inside the pool's own loop.
 */
#ifndef PGRT_POOL_H
#define PGRT_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct bridge;
struct pool;
struct command;

/*
 * Called once the command's transaction has committed (or failed): ok and body are rt.batch's
 * columns (body is the reply data, or the error object). On a lost connection ok is false and
 * body is an UNAVAILABLE error. The pool frees the command afterwards.
 */
typedef void (*command_done_fn)(struct command *cmd, bool ok, const char *body, size_t body_len);

/* One client frame on its way to the database; callers embed it first in their own record. */
struct command {
    struct command *next;
    command_done_fn done;
    const char *user_json; /* the acting user as a JSON string, kept alive by the caller until done */
    const char *conn_id;   /* likewise */
    char *frame;         /* the client's frame text, verbatim: it is valid JSON */
    size_t frame_len;
    unsigned long long started_us;
    bool alone; /* set by the pool: retried on its own after its batch failed as a whole */
};

/* A generic query's completion: res is NULL when the connection was lost before it completed. */
typedef void (*query_done_fn)(void *ctx, PGresult *res);

struct pool *pool_new(struct bridge *br);
void pool_start(struct pool *p);
void pool_free(struct pool *p);

/* True when at least one connection is ready: otherwise commands fail at once with UNAVAILABLE. */
bool pool_up(const struct pool *p);

/* Queues a client command (taking ownership). Returns false when the pool is down or full. */
bool pool_submit(struct pool *p, struct command *cmd);

/*
 * Runs one statement outside any client command: `stmt` names a prepared statement (see
 * pool.c) or is SQL text. params are copied. Returns false (and never calls done) when the
 * pool is down or full.
 */
bool pool_query(struct pool *p, const char *stmt, int nparams, const char *const *params, query_done_fn done,
                void *ctx);

/* Commands queued plus in flight. */
unsigned pool_pending(const struct pool *p);

void command_free(struct command *cmd);

#endif
