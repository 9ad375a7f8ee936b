/* ws: the libwebsockets protocol callback — a thin switch that hands each reason to a small handler. */
#ifndef PGRT_WS_H
#define PGRT_WS_H

#include <libwebsockets.h>

#include "http.h"

struct session;

/* One of these is created by lws for each connection, HTTP or WebSocket. */
struct per_connection {
    struct session *session;     /* WebSocket connections, once established */
    struct admin_request *admin; /* a POST /admin/... waiting for its body or the database */
};

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

#endif
