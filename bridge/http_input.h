/* http_input: what the bridge reads from an HTTP request, as pure functions (lws only hands over bytes). */
#ifndef PGRT_HTTP_INPUT_H
#define PGRT_HTTP_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_ADMIN_MAX_BODY 65536

/* The token of an `Authorization: Bearer TOKEN` value (scheme case-insensitive), or NULL for another scheme. */
const char *http_bearer_token(const char *authorization);

/* True when --allowed-origins admits any Origin: unset, or "*". */
bool http_origins_open(const char *list);
/*
 * Whether a WebSocket upgrade from `origin` may proceed under --allowed-origins `list` (comma- or
 * space-separated exact values). No list or "*" allows any; no Origin (origin NULL: not a browser) too.
 */
bool http_origin_allowed(const char *list, const char *origin);

/*
 * Whether `name` is one of the entries of a Sec-WebSocket-Protocol value `list` (comma-separated,
 * spaces around entries ignored, exact and case-sensitive as RFC 6455 says). NULL list: false.
 */
bool http_protocol_listed(const char *list, const char *name);

/* Only plain relative names under the web root: no "..", no hidden files, no odd bytes. */
bool http_safe_path(const char *uri);
/* The Content-Type served for a file name, or NULL for a type the bridge does not serve. */
const char *http_mime_type(const char *path);

/*
 * POST /admin/broadcast's body, {"event": string, "data": object (optional)}. On success returns
 * true with *event and *data_json (the data re-encoded, "{}" when absent) owned by the caller.
 */
bool http_broadcast_body(const char *body, size_t len, char **event, char **data_json);

#endif
