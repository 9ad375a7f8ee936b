/*
 * http_input: the few things the bridge reads out of an HTTP request. Kept apart from the lws
 * callbacks so each is one pure function that the fuzzers call exactly as the bridge does.
 */
#include "http_input.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_bearer_token(const char *authorization)
{
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *t = authorization + 7;
    while (*t == ' ') /* RFC 6750: one or more spaces after the scheme */
        t++;
    return t;
}

bool http_origins_open(const char *list) { return !list || strcmp(list, "*") == 0; }

bool http_origin_allowed(const char *list, const char *origin)
{
    if (http_origins_open(list) || !origin)
        return true;
    size_t len = strlen(origin);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p) /* a trailing separator is no entry: it must not admit an empty Origin */
            break;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ')
            end++;
        if ((size_t)(end - p) == len && strncmp(p, origin, len) == 0)
            return true;
        p = end;
    }
    return false;
}

bool http_protocol_listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if (last > p && (size_t)(last - p) == len && strncmp(p, name, len) == 0)
            return true;
        p = end;
    }
    return false;
}

bool http_safe_path(const char *uri)
{
    if (uri[0] != '/' || strlen(uri) > 200)
        return false;
    for (const char *c = uri; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '/' || *c == '-' || *c == '_' || *c == '.';
        if (!ok || (c[0] == '/' && c[1] == '.'))
            return false;
    }
    return true;
}

const char *http_mime_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".ts", "text/plain; charset=utf-8"}, {".map", "application/json"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

bool http_broadcast_body(const char *body, size_t len, char **event, char **data_json)
{
    *event = *data_json = NULL;
    json_t *req = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *ev = json_object_get(req, "event"), *data = json_object_get(req, "data");
    if (!json_is_object(req) || !json_is_string(ev) || (data && !json_is_object(data))) {
        json_decref(req);
        return false;
    }
    *event = strdup(json_string_value(ev));
    *data_json = data ? json_dumps(data, JSON_COMPACT) : strdup("{}");
    json_decref(req);
    if (!*event || !*data_json) {
        free(*event);
        free(*data_json);
        *event = *data_json = NULL;
        return false;
    }
    return true;
}
