/*
 * ws: the libwebsockets protocol callback — a thin switch that hands each reason to a small handler.
 * WebSocket events go to session.c; plain HTTP goes to the routes server.c wires in (http_ops), so
 * this transport file knows no route, room or command.
 */
#ifndef PGRT_WS_H
#define PGRT_WS_H

#include <libwebsockets.h>
#include <stddef.h>

/*
 * The subprotocol a client lists (Sec-WebSocket-Protocol) to authenticate with its first frame
 * instead of a token in the upgrade (docs/protocol.md "Connecting"). server.c registers it.
 */
#define WS_FRAME_AUTH_PROTOCOL "pgrt.auth"

struct bridge;
struct session;
struct admin_request;

/* The HTTP side of the callback (server.c: http.c's routes and admin.c's POST bodies). */
struct http_ops {
    /* LWS_CALLBACK_HTTP: route the request and answer it. Returns what the callback must return. */
    int (*request)(struct bridge *br, struct lws *wsi, const char *uri);
    int (*body)(struct lws *wsi, const void *in, size_t len); /* LWS_CALLBACK_HTTP_BODY */
    int (*body_done)(struct lws *wsi);                        /* LWS_CALLBACK_HTTP_BODY_COMPLETION */
    int (*writable)(struct lws *wsi);                         /* LWS_CALLBACK_HTTP_WRITEABLE */
    void (*forget)(struct lws *wsi); /* the connection closed: pending work must not answer it */
};

/* One of these is created by lws for each connection, HTTP or WebSocket. */
struct per_connection {
    struct session *session;     /* WebSocket connections, once established */
    struct admin_request *admin; /* a POST /admin/... waiting for its body or the database */
};

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

#endif
