/* http_reply: whole HTTP responses (headers and a small body in one write) and upgrade refusals. */
#ifndef PGRT_HTTP_REPLY_H
#define PGRT_HTTP_REPLY_H

#include <libwebsockets.h>
#include <stddef.h>

/* Writes a whole response (headers and a small body) and completes the transaction. */
int http_respond(struct lws *wsi, unsigned int status, const char *content_type, const char *body, size_t len);
/* Encodes obj (stealing the reference) as the body. */
int http_respond_json(struct lws *wsi, unsigned int status, void *json_obj);
/* {"error":{"code":C,"message":M}} */
int http_respond_error(struct lws *wsi, unsigned int status, const char *code, const char *message);

/* Refuses a WebSocket upgrade with a real status and, when header is not NULL, one extra header
 * ("name:" and its value); returns 1 (what CONFIRM_UPGRADE must return). */
int http_refuse(struct lws *wsi, unsigned int status, const char *header, const char *value);

#endif
