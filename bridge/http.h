/* http: the plain HTTP routes of the bridge — /health, /metrics, /admin/ (admin.c), the static web client. */
#ifndef PGRT_HTTP_H
#define PGRT_HTTP_H

#include <libwebsockets.h>
#include <stddef.h>

struct bridge;

/* LWS_CALLBACK_HTTP: route the request and answer it. Returns what the callback must return. */
int http_request(struct bridge *br, struct lws *wsi, const char *uri);

#endif
