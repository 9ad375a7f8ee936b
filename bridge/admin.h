/* admin: /admin/connections and POST /admin/broadcast, for holders of an admin JWT. */
#ifndef PGRT_ADMIN_H
#define PGRT_ADMIN_H

#include <libwebsockets.h>
#include <stddef.h>

struct bridge;
struct admin_request;

/* LWS_CALLBACK_HTTP for /admin/...: checks the token and answers, or waits for the body. */
int admin_request(struct bridge *br, struct lws *wsi, const char *uri);
/* LWS_CALLBACK_HTTP_BODY / _BODY_COMPLETION / HTTP_WRITEABLE for a pending admin request. */
int admin_body(struct lws *wsi, const void *in, size_t len);
int admin_body_done(struct lws *wsi);
int admin_writable(struct lws *wsi);
/* The connection closed: a database call still in flight must not answer it. */
void admin_forget(struct lws *wsi);

#endif
