/* http: the plain HTTP side of the bridge — /health, the static web client, refusals at upgrade. */
#ifndef PGRT_HTTP_H
#define PGRT_HTTP_H

#include <libwebsockets.h>
#include <stddef.h>

struct bridge;

/* LWS_CALLBACK_HTTP: route the request and answer it. Returns what the callback must return. */
int http_request(struct bridge *br, struct lws *wsi, const char *uri);

/* Refuses a WebSocket upgrade with a real status; returns 1 (what CONFIRM_UPGRADE must return). */
int http_refuse(struct lws *wsi, unsigned int status, const char *www_authenticate);

#endif
