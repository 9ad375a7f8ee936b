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

#define SESSION_QUEUE_MAX_FRAMES 4096
#define SESSION_QUEUE_MAX_BYTES (1024 * 1024)

/* One of these is created for each WebSocket connection once its upgrade is accepted. */
struct session {
    struct session *prev, *next;
    struct bridge *br;
    struct lws *wsi;
    char conn_id[32];
    struct auth_claims claims;
    time_t connected_at;

    struct outbuf **queue; /* ring of SESSION_QUEUE_MAX_FRAMES */
    unsigned q_head, q_len;
    size_t q_bytes;

    char *rx; /* reassembly of a fragmented frame, at most cfg.max_frame_bytes */
    size_t rx_len;
    bool rx_too_large;

    int close_code; /* 0, or the code to close with once the queue allows */
    char close_reason[64];
};

struct session *session_new(struct bridge *br, struct lws *wsi, const struct auth_claims *claims);
/* Unlinks and frees; the wsi is already closing. */
void session_free(struct session *s);

/* Queues a frame (taking a reference). A full queue closes the connection with 4008. */
void session_send(struct session *s, struct outbuf *ob);
/* Encodes obj (stealing the reference) and queues it. */
void session_send_json(struct session *s, json_t *obj);
/* A reply to `ref` when the frame had one, else an `error` frame. ref may be NULL. */
void session_send_error(struct session *s, json_t *ref, const char *code, const char *message, bool retry);

/* Closes with code: 1001 after flushing what is queued, anything else at once. */
void session_close(struct session *s, int code, const char *reason);

/* LWS_CALLBACK_SERVER_WRITEABLE. Returns -1 when lws must close the connection. */
int session_writable(struct session *s);
/* LWS_CALLBACK_RECEIVE. Returns -1 when lws must close the connection. */
int session_receive(struct session *s, const void *in, size_t len);

#endif
