/* http: small routes answered from the bridge's own state, and files of the web root. */
#include "http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "http_input.h"
#include "metrics.h"
#include "server.h"

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

static int health(struct bridge *br, struct lws *wsi)
{
    bool up = server_db_up(br);
    const char *status = br->shutting_down ? "shutting_down" : !up ? "unavailable" : br->maintenance ? "maintenance" : "ok";
    json_t *obj = json_pack("{s:s, s:s, s:b, s:I, s:s, s:s, s:I}", "status", status, "db", up ? "up" : "down",
                            "maintenance", br->maintenance,
                            "connections", (json_int_t)(br->n_sessions - br->n_closing), "bridge", br->id, "version", PGRT_VERSION,
                            "uptime_seconds", (json_int_t)(time(NULL) - br->started_at));
    return http_respond_json(wsi, up && !br->shutting_down ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE, obj);
}

static int static_file(struct bridge *br, struct lws *wsi, const char *uri)
{
    char path[1024];
    struct stat st;
    const char *mime;
    if (!http_safe_path(uri))
        return http_respond_error(wsi, HTTP_STATUS_NOT_FOUND, "NOT_FOUND", "no such file");
    snprintf(path, sizeof path, "%s%s", br->cfg.web_root, strcmp(uri, "/") == 0 ? "/index.html" : uri);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(mime = http_mime_type(path)))
        return http_respond_error(wsi, HTTP_STATUS_NOT_FOUND, "NOT_FOUND", "no such file");
    int n = lws_serve_http_file(wsi, path, mime, NULL, 0);
    if (n < 0)
        return -1;
    return 0;
}

int http_request(struct bridge *br, struct lws *wsi, const char *uri)
{
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    if (strcmp(uri, "/health") == 0)
        return get ? health(br, wsi)
                   : http_respond_error(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "BAD_REQUEST", "use GET");
    if (strcmp(uri, "/metrics") == 0) {
        if (!get)
            return http_respond_error(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "BAD_REQUEST", "use GET");
        size_t len = 0;
        char *text = metrics_render(br, &len);
        if (!text)
            return -1;
        int rc = http_respond(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
        free(text);
        return rc;
    }
    if (strncmp(uri, "/admin/", 7) == 0)
        return admin_request(br, wsi, uri);
    if (strcmp(uri, "/ws") == 0)
        return http_respond_error(wsi, HTTP_STATUS_BAD_REQUEST, "BAD_REQUEST", "/ws expects a WebSocket upgrade");
    if (!get)
        return http_respond_error(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "BAD_REQUEST", "use GET");
    return static_file(br, wsi, uri);
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
