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
struct sub;
struct command;

#define SESSION_QUEUE_MAX_FRAMES 8192
#define SESSION_QUEUE_MIN_FRAMES 8 /* an idle connection's ring: most never queue more */
#define SESSION_WRITE_BATCH_BYTES (64 * 1024) /* most bytes of queued frames sent in one write */
#define SESSION_CLOSE_DRAIN_BYTES (64 * 1024) /* read and dropped after our close, then no more */

/* One of these is created for each WebSocket connection once its upgrade is accepted. */
struct session {
    struct session *prev, *next;
    struct bridge *br;
    struct lws *wsi;
    char conn_id[32];
    struct auth_claims claims;
    char *user_json; /* claims.sub as a JSON string, for the commands sent to rt.batch */
    time_t connected_at;
    unsigned refs;   /* the connection itself, plus each command in flight */
    bool gone;       /* the connection closed; only in-flight commands keep this alive */

    struct sub **subs; /* rooms joined (router.c), at most cfg.max_rooms_per_connection */
    unsigned nsubs, subs_cap;

    struct rate_bucket *rate; /* the user's bucket, shared with the user's other connections */
    unsigned rate_strikes; /* refusals since the last accepted burst; too many closes with 4029 */
    unsigned long long rate_last_strike_ms;
    unsigned inflight;
    struct command *waiting_head, *waiting_tail; /* commands behind the one in the database (frames.c) */
    unsigned nwaiting;
    bool db_busy; /* one command of this connection is in the database: its commands commit in order */
    unsigned long long progress_ms; /* last write, or when data began to wait: the stall clock */
    bool drain_waiters; /* a replay waits for the send queue to drain (router.c) */

    struct outbuf **queue; /* ring of q_cap slots, grown by doubling up to SESSION_QUEUE_MAX_FRAMES */
    unsigned q_head, q_len, q_cap;
    size_t q_bytes;

    char *rx; /* reassembly of a fragmented frame, at most cfg.max_frame_bytes */
    size_t rx_len;
    bool rx_too_large; /* discarding the rest of an oversized message, then closing with 1009 */
    bool rx_binary;
    size_t rx_discarded;
    size_t rx_after_close; /* bytes the peer sent after close_code was set */
    bool rx_stopped;       /* past SESSION_CLOSE_DRAIN_BYTES of them: no longer read */
    bool write_shut;       /* and our side ended after the close frame */

    int close_code; /* 0, or the code to close with once the queue allows */
    bool close_sent; /* our close frame is out; waiting for the peer's answer */
    char close_reason[64];
};

struct session *session_new(struct bridge *br, struct lws *wsi, const struct auth_claims *claims);
/* The connection closed: unlinks it, forgets its rooms; frees once no command refers to it. */
void session_gone(struct session *s);
struct session *session_ref(struct session *s);
void session_unref(struct session *s);

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
/* Once a second: a client that took no data for --slow-consumer-ms while some waited: 4008. */
void session_check_slow(struct session *s, unsigned long long now_ms);
/* Encodes obj (stealing the reference) and queues it. */
void session_send_json(struct session *s, json_t *obj);
/* A reply to `ref` when the frame had one, else an `error` frame. ref may be NULL. */
void session_send_error(struct session *s, json_t *ref, const char *code, const char *message, bool retry);

/* Closes with code once what is already queued has been written; nothing more is queued. */
void session_close(struct session *s, int code, const char *reason);

/* LWS_CALLBACK_SERVER_WRITEABLE. Returns -1 when lws must close the connection. */
int session_writable(struct session *s);
/* LWS_CALLBACK_RECEIVE. Returns -1 when lws must close the connection. */
int session_receive(struct session *s, const void *in, size_t len);

#endif
