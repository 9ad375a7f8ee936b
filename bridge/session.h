/* session: one WebSocket client — its identity, its bounded send queue, its frame reassembly. */
#ifndef PGRT_SESSION_H
#define PGRT_SESSION_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "auth.h"
#include "outbuf.h"

struct bridge;
struct session;

#define SESSION_QUEUE_MAX_FRAMES 8192
#define SESSION_QUEUE_MIN_FRAMES 8 /* an idle connection's ring: most never queue more */
#define SESSION_WRITE_BATCH_BYTES (64 * 1024) /* most bytes of queued frames sent in one write */
#define SESSION_FLUSH_SLICE_US 2000 /* events written per loop turn before the loop reads again */
#define SESSION_CLOSE_DRAIN_BYTES (64 * 1024) /* read and dropped after our close, then no more */

/*
 * What a session tells the layer above it (frames.c, wired by server.c into bridge.session_ops).
 * `app` is what open() returned for the connection; the session never looks inside it.
 */
struct session_ops {
    /* A connection was accepted: returns its per-connection state above (NULL refuses it). */
    void *(*open)(struct session *s);
    /* One complete text frame (not NUL-terminated), or a binary frame (refused above). */
    void (*text)(void *app, const char *text, size_t len);
    void (*binary)(void *app);
    /* The send queue fell to half of --max-queue-bytes after session_want_drain() asked. */
    void (*drained)(void *app);
    /* The connection closed; no callback follows. The app lets go with session_unref. */
    void (*gone)(void *app);
    /* True while commands the client sent are still owed a reply (a 1001/4001 close waits). */
    bool (*owes_replies)(void *app);
};

/* The connection's fields are session.c's alone; others read them through these. */
struct session *session_new(struct bridge *br, struct lws *wsi, const struct auth_claims *claims);
/* The connection closed: unlinks it and tells the layer above; freed once no one refers to it. */
void session_gone(struct session *s);
struct session *session_ref(struct session *s);
void session_unref(struct session *s);

struct bridge *session_bridge(const struct session *s);
const char *session_conn_id(const struct session *s);
const struct auth_claims *session_claims(const struct session *s);
/* The user as a JSON string, for the commands sent to rt.batch. */
const char *session_user_json(const struct session *s);
/* A token refresh for the same user: the new claims (and expiry) apply from now. */
void session_set_claims(struct session *s, const struct auth_claims *claims);
void *session_app(const struct session *s);
size_t session_queued_bytes(const struct session *s);
/* Asks for ops.drained once the send queue falls to half of --max-queue-bytes. */
void session_want_drain(struct session *s);
/* What /admin/connections shows of a connection. */
struct session_info {
    time_t connected_at;
    unsigned queued_frames;
    size_t queued_bytes;
    bool closing;
};
void session_info(const struct session *s, struct session_info *info);

/* ---- every connection of the bridge (the list is session.c's) ---- */
struct session *session_first(const struct bridge *br);
struct session *session_next(const struct session *s);
/* A system frame: to every connection (user NULL), or to every connection of one user. */
void session_broadcast(struct bridge *br, const char *user, struct outbuf *ob);
/* Once a second: closes expired tokens (4001) and stalled readers (4008); pings silent peers and
 * drops those silent for twice --heartbeat. */
void session_housekeeping(struct bridge *br, long long now_s, unsigned long long now_ms);
/* Shutdown: queues `notice` to every connection, then closes each with code once it is written. */
void session_close_all(struct bridge *br, struct outbuf *notice, int code, const char *reason);

/* Takes one token from the rate limiter; false means refuse the frame (and maybe close 4029). */
bool session_rate_ok(struct session *s);

/*
 * Queues a frame that must not be lost (a reply). Past twice --max-queue-bytes the client is
 * not reading at all and is closed with 4008.
 */
void session_send(struct session *s, struct outbuf *ob);
/*
 * Queues a frame the client can do without for now (a live event, which replay will bring back;
 * a signal, which is ephemeral). Returns false, queueing nothing, when the queue is full.
 */
bool session_offer(struct session *s, struct outbuf *ob);
/* Encodes obj (stealing the reference) and queues it. */
void session_send_json(struct session *s, json_t *obj);
/* A reply to `ref` when the frame had one, else an `error` frame. ref may be NULL. */
void session_send_error(struct session *s, json_t *ref, const char *code, const char *message, bool retry);

/* Closes with code once what is already queued has been written; nothing more is queued. */
void session_close(struct session *s, int code, const char *reason);

/* The end-of-turn writer of queued frames (enqueue's direct path): started with the loop, stopped
 * at shutdown before lws is torn down. */
void session_flusher_start(struct bridge *br);
void session_flusher_stop(struct bridge *br);

/* LWS_CALLBACK_SERVER_WRITEABLE. Returns -1 when lws must close the connection. */
int session_writable(struct session *s);
/* The peer answered a ping (LWS_CALLBACK_RECEIVE_PONG); any frame it sends counts too. */
void session_heard(struct session *s);
/* LWS_CALLBACK_RECEIVE. Returns -1 when lws must close the connection. */
int session_receive(struct session *s, const void *in, size_t len);

#endif
