/* http: small routes answered from the bridge's own state, and files of the web root. */
#include "http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "http_input.h"
#include "http_reply.h"
#include "metrics.h"
#include "server.h"

static int health(struct bridge *br, struct lws *wsi)
{
    struct metrics_gauges g;
    br->gauges(br, &g);
    bool up = g.db_up;
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
        struct metrics_gauges g;
        br->gauges(br, &g);
        char *text = metrics_render(&g, &len);
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
