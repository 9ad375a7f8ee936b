/* http_reply: writing whole HTTP responses and upgrade refusals with libwebsockets (no routing). */
#include "http_reply.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/*
 * Headers and body go out in one write (bodies here are small), so nothing waits for
 * HTTP_WRITEABLE and nothing can outlive a connection that lws closes early.
 */
int http_respond(struct lws *wsi, unsigned int status, const char *content_type, const char *body, size_t len)
{
    size_t size = LWS_PRE + 1024 + len;
    unsigned char *buf = malloc(size);
    if (!buf)
        return -1;
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + size - len - 1;
    if (lws_add_http_common_headers(wsi, status, content_type, len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:", (const unsigned char *)"no-store",
                                    8, &p, end) ||
        lws_finalize_http_header(wsi, &p, end)) {
        free(buf);
        return -1;
    }
    memcpy(p, body, len);
    p += len;
    int n = lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
    free(buf);
    if (n < 0)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int http_respond_json(struct lws *wsi, unsigned int status, void *json_obj)
{
    json_t *obj = json_obj;
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text)
        return -1;
    int rc = http_respond(wsi, status, "application/json", text, strlen(text));
    free(text);
    return rc;
}

int http_respond_error(struct lws *wsi, unsigned int status, const char *code,
                         const char *message)
{
    return http_respond_json(wsi, status,
                        json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message));
}

int http_refuse(struct lws *wsi, unsigned int status, const char *header, const char *value)
{
    unsigned char headers[LWS_PRE + 512], *start = headers + LWS_PRE, *p = start, *end = headers + sizeof headers - 1;
    if (lws_add_http_common_headers(wsi, status, "text/plain", 0, &p, end))
        return 1;
    if (header && lws_add_http_header_by_name(wsi, (const unsigned char *)header, (const unsigned char *)value,
                                              (int)strlen(value), &p, end))
        return 1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return 1;
    return 1; /* the status is on its way; returning non-zero tells lws not to upgrade */
}
