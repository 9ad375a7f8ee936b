/*
 * router: which local connections are joined to which rooms, and the gap-free delivery of each
 * room's events (docs/protocol.md "Delivery guarantees"). It knows neither sessions nor the pool:
 * it reaches a connection through `struct router_sink` and reads the event log through
 * `struct router_log`, both wired by server.c (and faked by tests/unit/test_router.c).
 */
#ifndef PGRT_ROUTER_H
#define PGRT_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "notify_parse.h"
#include "outbuf.h"

struct router;
struct member;

/* A connection, as the router sees it (`conn` is the sink's own pointer: a session). */
struct router_sink {
    /* Queues a frame the client can do without for now; false (nothing queued) when its queue is full. */
    bool (*offer)(void *conn, struct outbuf *ob);
    size_t (*queued_bytes)(const void *conn);
    /* The connection's user (for a replay's rights and a member_removed event). */
    const char *(*user)(const void *conn);
    /* Ask to be told (router_member_drained) once the queue falls to half of max_queue_bytes. */
    void (*want_drain)(void *conn);
};

/* One page of a room's event log, oldest first. */
enum log_status {
    LOG_OK,
    LOG_FORBIDDEN, /* the user may no longer read the room (RT403): stop delivering it */
    LOG_FAILED,    /* an error, or the database went away: retried by router_tick */
};
struct log_page {
    enum log_status status;
    int rows;
    /* Row i's event JSON (len bytes) and its seq. */
    void (*row)(const struct log_page *page, int i, const char **text, size_t *len, long long *seq);
    const char *error; /* LOG_FAILED: why, when known */
    const void *impl; /* the reader's own (a PGresult for eventlog.c) */
};
typedef void (*log_done_fn)(void *cb_ctx, const struct log_page *page);

struct router_log {
    /*
     * Reads at most `limit` events of `room` with seq > after, as `user` (NULL: as the trusted
     * bridge). Returns false, never calling done, when the read cannot be sent now.
     */
    bool (*read)(void *ctx, const char *room, long long after, int limit, const char *user, log_done_fn done,
                 void *cb_ctx);
    void *ctx;
};

/* max_queue_bytes is --max-queue-bytes: a replay page fits half of it, a gap fill a quarter. */
struct router *router_new(const struct router_sink *sink, const struct router_log *log, size_t max_queue_bytes);
void router_free(struct router *r);

/* ---- a connection's rooms (the router owns them: nothing about rooms is kept in a session) ---- */
struct member *router_member_new(struct router *r, void *conn);
/* The connection closed: leaves every room and frees m. Returns whether it had joined any. */
bool router_member_free(struct router *r, struct member *m);
/* Leaves every room, keeping m (shutdown: the rooms go before the connections). */
void router_leave_all(struct router *r, struct member *m);
unsigned router_member_rooms(const struct member *m);
const char *router_member_room(const struct member *m, unsigned i);
bool router_joined(const struct member *m, const char *room);
/* The connection's send queue drained (after sink.want_drain): resume the replays that waited. */
void router_member_drained(struct member *m);

/* A join was sent for (m, room): until it completes, no live event reaches that pair. false: out of memory. */
bool router_join_begin(struct router *r, struct member *m, const char *room);
/*
 * The join committed with the room's latest seq `head`; since < 0 means "no replay". Replays
 * since+1..head (and whatever followed) from the log, then the connection receives the live stream.
 */
void router_join_done(struct router *r, struct member *m, const char *room, long long head, long long since);
/* The join failed, or the connection left: stop delivering that room to it. */
void router_leave(struct router *r, struct member *m, const char *room);

/* ---- the live stream (fanout.c hands each NOTIFY here) ---- */
/* A persisted event (or a reference to one) of a room: delivered in seq order, a gap filled from the log. */
void router_persisted(struct router *r, const struct notify_facts *f, const char *payload, size_t len);
/* An ephemeral frame (signal, presence) to the room's joined connections, as is; dropped for a full queue. */
void router_offer_joined(struct router *r, const char *room, struct outbuf *ob);
bool router_has_room(const struct router *r, const char *room);
/* Connections of this bridge joined to (or joining) the room. */
unsigned router_room_members(const struct router *r, const char *room);
/* LISTEN was (re)established: notifications of the gap are lost, fill every room from the log. */
void router_resync(struct router *r);
/* Once a second while the database is up: retries reads that failed while it was away. */
void router_tick(struct router *r);

unsigned router_rooms(const struct router *r);

#endif
