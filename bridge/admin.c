/*
 * admin: the operator's endpoints. Both need `Authorization: Bearer JWT` with `role: admin`: no or a
 * bad token is 401, a valid token without the role is 403. POST /admin/broadcast calls
 * rt.broadcast, so it is answered only after the database accepted it, exactly like a command.
 */
#include "admin.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "frames.h"
#include "http_input.h"
#include "http_reply.h"
#include "log.h"
#include "statements.h"
#include "pool.h"
#include "router.h"
#include "server.h"
#include "session.h"
#include "ws.h"

/* One POST waiting for its body or its database call. */
struct admin_request {
    struct bridge *br;
    struct lws *wsi; /* NULL once the connection closed */
    char *body;
    size_t len;
    bool too_large;
    bool in_db;
    unsigned status;
    char *response;
};

static struct admin_request **slot(struct lws *wsi)
{
    struct per_connection *pc = lws_wsi_user(wsi);
    return pc ? &pc->admin : NULL;
}

static void request_free(struct admin_request *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->response);
    free(r);
}

/* 0 when the bearer token is an admin's; otherwise the HTTP status to refuse with. */
static unsigned authorize(struct bridge *br, struct lws *wsi)
{
    char buf[AUTH_MAX_TOKEN_BYTES + 16];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    const char *token = NULL;
    if (n > 0 && n < (int)sizeof buf && lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION) >= 0)
        token = http_bearer_token(buf);
    if (!token)
        return HTTP_STATUS_UNAUTHORIZED;
    struct auth_claims claims;
    enum auth_result r = auth_verify(&br->keys, token, time(NULL), &claims);
    if (r != AUTH_OK) {
        log_info("admin_refused", "reason=%s", auth_result_name(r));
        return HTTP_STATUS_UNAUTHORIZED;
    }
    if (!auth_is_admin(&claims)) {
        char user[LOG_QUOTED_ID];
        log_info("admin_refused", "reason=not_admin user=%s", log_quote(user, sizeof user, claims.sub));
        return HTTP_STATUS_FORBIDDEN;
    }
    return 0;
}

static char *iso_time(time_t t, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static int list_connections(struct bridge *br, struct lws *wsi)
{
    json_t *list = json_array();
    for (struct session *s = session_first(br); s; s = session_next(s)) {
        json_t *rooms = json_array();
        const struct member *m = session_app(s) ? frames_member(session_app(s)) : NULL;
        for (unsigned i = 0; m && i < router_member_rooms(m); i++)
            json_array_append_new(rooms, json_string(router_member_room(m, i)));
        char since[32];
        struct session_info info;
        session_info(s, &info);
        const struct auth_claims *claims = session_claims(s);
        json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:b}", "conn", session_conn_id(s),
                                              "user", claims->sub, "rooms", rooms, "connected_at",
                                              iso_time(info.connected_at, since, sizeof since), "queued_frames",
                                              (json_int_t)info.queued_frames, "queued_bytes",
                                              (json_int_t)info.queued_bytes, "token_expires", (json_int_t)claims->exp,
                                              "closing", info.closing));
    }
    return http_respond_json(wsi, HTTP_STATUS_OK,
                             json_pack("{s:s, s:I, s:o}", "bridge", br->id, "count", (json_int_t)json_array_size(list),
                                       "connections", list));
}

int admin_request(struct bridge *br, struct lws *wsi, const char *uri)
{
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    bool connections = strcmp(uri, "/admin/connections") == 0, broadcast = strcmp(uri, "/admin/broadcast") == 0;
    if (!connections && !broadcast)
        return http_respond_error(wsi, HTTP_STATUS_NOT_FOUND, "NOT_FOUND", "no such admin endpoint");
    unsigned refused = authorize(br, wsi);
    if (refused == HTTP_STATUS_UNAUTHORIZED)
        return http_respond_error(wsi, refused, "UNAUTHORIZED", "an admin token is required (Authorization: Bearer)");
    if (refused)
        return http_respond_error(wsi, refused, "FORBIDDEN", "the token has no admin role");
    if (connections)
        return get ? list_connections(br, wsi)
                   : http_respond_error(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "BAD_REQUEST", "use GET");
    if (!post)
        return http_respond_error(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "BAD_REQUEST", "use POST");
    struct admin_request **r = slot(wsi);
    if (!r)
        return -1;
    request_free(*r);
    *r = calloc(1, sizeof **r);
    if (!*r)
        return -1;
    (*r)->br = br;
    (*r)->wsi = wsi;
    return 0; /* the body follows in LWS_CALLBACK_HTTP_BODY */
}

int admin_body(struct lws *wsi, const void *in, size_t len)
{
    struct admin_request **slotp = slot(wsi), *r = slotp ? *slotp : NULL;
    if (!r || r->too_large)
        return 0;
    if (r->len + len > HTTP_ADMIN_MAX_BODY) {
        r->too_large = true;
        return 0;
    }
    char *grown = realloc(r->body, r->len + len + 1);
    if (!grown)
        return -1;
    r->body = grown;
    memcpy(r->body + r->len, in, len);
    r->len += len;
    r->body[r->len] = '\0';
    return 0;
}

static void broadcast_done(void *ctx, PGresult *res)
{
    struct admin_request *r = ctx;
    r->in_db = false;
    if (!r->wsi) { /* the operator hung up meanwhile */
        request_free(r);
        return;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "the database is unreachable";
    json_t *body;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        r->status = HTTP_STATUS_OK;
        body = json_pack("{s:b}", "ok", 1);
    } else if (state && strncmp(state, "RT", 2) == 0) {
        r->status = strcmp(state, "RT413") == 0 ? HTTP_STATUS_REQ_ENTITY_TOO_LARGE : HTTP_STATUS_BAD_REQUEST;
        body = json_pack("{s:{s:s, s:s}}", "error", "code", r->status == HTTP_STATUS_BAD_REQUEST ? "BAD_REQUEST" : "TOO_LARGE",
                         "message", msg ? msg : "refused");
    } else {
        r->status = res ? HTTP_STATUS_INTERNAL_SERVER_ERROR : HTTP_STATUS_SERVICE_UNAVAILABLE;
        body = json_pack("{s:{s:s, s:s}}", "error", "code", res ? "INTERNAL" : "UNAVAILABLE", "message",
                         res ? "the broadcast failed" : "the database is unreachable; retry");
    }
    r->response = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    lws_callback_on_writable(r->wsi);
}

/* Answers at once (no database call): the request is finished and freed first. */
static int answer_now(struct lws *wsi, unsigned status, const char *code, const char *message)
{
    struct admin_request **slotp = slot(wsi);
    if (slotp) {
        request_free(*slotp);
        *slotp = NULL;
    }
    return http_respond_error(wsi, status, code, message);
}

int admin_body_done(struct lws *wsi)
{
    struct admin_request **slotp = slot(wsi), *r = slotp ? *slotp : NULL;
    if (!r)
        return -1;
    if (r->too_large)
        return answer_now(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "TOO_LARGE", "the body is limited to 64 KiB");
    char *event, *data_text;
    if (!http_broadcast_body(r->body, r->len, &event, &data_text))
        return answer_now(wsi, HTTP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                          "the body must be {\"event\": string, \"data\": object}");
    const char *params[] = {event, data_text};
    bool sent = pool_query(r->br->pool, SQL_BROADCAST, 2, params, broadcast_done, r);
    free(event);
    free(data_text);
    if (!sent)
        return answer_now(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "UNAVAILABLE", "the database is unreachable; retry");
    r->in_db = true;
    log_info("admin_broadcast", "bytes=%zu", r->len);
    return 0;
}

int admin_writable(struct lws *wsi)
{
    struct admin_request **slotp = slot(wsi), *r = slotp ? *slotp : NULL;
    if (!r || !r->response)
        return 0;
    *slotp = NULL;
    int rc = http_respond(wsi, r->status, "application/json", r->response, strlen(r->response));
    request_free(r);
    return rc;
}

void admin_forget(struct lws *wsi)
{
    struct admin_request **slotp = slot(wsi), *r = slotp ? *slotp : NULL;
    if (!r)
        return;
    *slotp = NULL;
    if (r->in_db)
        r->wsi = NULL; /* broadcast_done frees it */
    else
        request_free(r);
}
