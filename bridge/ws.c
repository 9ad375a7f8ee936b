/*
 * ws: upgrade admission (path, shutdown, capacity, the token or a pgrt.auth request to send it in
 * the first frame), then per-connection events to session.c.
 */
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acceptor.h"
#include "admission.h"
#include "http_input.h"
#include "http_reply.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "session.h"

static struct bridge *bridge_of(struct lws *wsi) { return lws_context_user(lws_get_context(wsi)); }

/*
 * The token from `Authorization: Bearer` or `?token=`; buf must hold AUTH_MAX_TOKEN_BYTES + 2.
 * NULL when the upgrade carries neither. Never from Sec-WebSocket-Protocol: lws 4.1.6 drops any
 * upgrade whose protocol list exceeds 127 bytes before a callback sees it, and a JWT is longer; a
 * browser asks for `pgrt.auth` there instead and sends the token in its first frame.
 */
static const char *find_token(struct lws *wsi, char *buf, int size)
{
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 0) {
        if (n >= size || lws_hdr_copy(wsi, buf, size, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
            return "";
        const char *t = http_bearer_token(buf);
        return t ? t : "";
    }
    const char *t = lws_get_urlarg_by_name(wsi, "token=", buf, size);
    return t ? t : NULL;
}

/* The upgrade lists WS_FRAME_AUTH_PROTOCOL among its subprotocols (docs/protocol.md "Connecting"). */
static bool wants_frame_auth(struct lws *wsi)
{
    char list[128]; /* lws drops longer protocol lists before any callback */
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (n <= 0 || n >= (int)sizeof list || lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL) < 0)
        return false;
    return http_protocol_listed(list, WS_FRAME_AUTH_PROTOCOL);
}

/*
 * What an accepted upgrade hands to ESTABLISHED as its opaque user data: its verified claims
 * (malloc'd), or the address of this marker when the token is to come in the first frame.
 */
static char by_frame_marker;

/* An upgrade accepted but never established: frees what it carried. */
static void forget_carried(struct lws *wsi)
{
    void *carried = lws_get_opaque_user_data(wsi);
    if (carried != &by_frame_marker)
        free(carried);
    lws_set_opaque_user_data(wsi, NULL);
}

/* True when no allowlist is set, the client sent no Origin (not a browser), or it is listed. */
static bool origin_allowed(const struct bridge *br, struct lws *wsi)
{
    const char *list = br->cfg.allowed_origins;
    char origin[256];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (n <= 0 || http_origins_open(list))
        return true;
    if (n >= (int)sizeof origin || lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        return false;
    return http_origin_allowed(list, origin);
}

/* The first request of a connection arrived whole: it no longer counts as a pending handshake. */
static void handshake_done(struct lws *wsi) { acceptor_handshake_end(wsi, false); }

/* Decides before the upgrade; a refusal carries a real HTTP status. */
static int confirm_upgrade(struct bridge *br, struct lws *wsi)
{
    handshake_done(wsi);
    char uri[256];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, "/ws") != 0)
        return http_refuse(wsi, HTTP_STATUS_NOT_FOUND, NULL, NULL);
    if (br->shutting_down)
        return http_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL, NULL);
    if (br->maintenance) {
        log_info("upgrade_refused", "reason=maintenance");
        metrics_upgrade_refused(REFUSED_MAINTENANCE);
        return http_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL, NULL);
    }
    if (!origin_allowed(br, wsi)) {
        log_info("upgrade_refused", "reason=origin");
        metrics_upgrade_refused(REFUSED_ORIGIN);
        return http_refuse(wsi, HTTP_STATUS_FORBIDDEN, NULL, NULL);
    }
    if (br->n_sessions >= (unsigned)br->cfg.max_connections) {
        log_warn("upgrade_refused", "reason=full connections=%u", br->n_sessions);
        metrics_upgrade_refused(REFUSED_FULL);
        return http_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL, NULL);
    }
    char *buf = malloc(AUTH_MAX_TOKEN_BYTES + 2);
    if (!buf)
        return http_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL, NULL);
    const char *token = find_token(wsi, buf, AUTH_MAX_TOKEN_BYTES + 2);
    if (!token && wants_frame_auth(wsi)) {
        free(buf);
        /* No user yet, so no per-user check: those come with the auth frame (session.c). */
        if (br->n_unauthenticated >= (unsigned)br->cfg.max_unauthenticated_connections) {
            log_warn("upgrade_refused", "reason=unauthenticated connections=%u", br->n_unauthenticated);
            metrics_upgrade_refused(REFUSED_UNAUTHENTICATED);
            return http_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL, NULL);
        }
        lws_set_opaque_user_data(wsi, &by_frame_marker);
        return 0;
    }
    struct admission adm;
    admission_check(br, token, "upgrade", &adm);
    free(buf);
    if (adm.verdict == ADMIT_BAD_TOKEN)
        return http_refuse(wsi, HTTP_STATUS_UNAUTHORIZED, "www-authenticate:", "Bearer error=\"invalid_token\"");
    if (adm.verdict == ADMIT_RATE_LIMITED) {
        char seconds[24];
        snprintf(seconds, sizeof seconds, "%llu", adm.retry_after);
        return http_refuse(wsi, 429 /* Too Many Requests */, "retry-after:", seconds);
    }
    if (adm.verdict == ADMIT_PER_USER)
        return http_refuse(wsi, 429 /* Too Many Requests */, NULL, NULL);
    struct auth_claims *carried = malloc(sizeof *carried);
    if (!carried)
        return http_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL, NULL);
    *carried = adm.claims;
    lws_set_opaque_user_data(wsi, carried);
    return 0;
}

/* A new WebSocket: a session with the upgrade's user, or one that waits for its auth frame. */
static int established(struct bridge *br, struct lws *wsi, struct per_connection *pc)
{
    void *carried = lws_get_opaque_user_data(wsi);
    if (!carried)
        return -1;
    lws_set_opaque_user_data(wsi, NULL);
    pc->session = session_new(br, wsi, carried == &by_frame_marker ? NULL : carried);
    if (carried != &by_frame_marker)
        free(carried);
    if (!pc->session)
        return -1;
    char quoted[LOG_QUOTED_ID];
    log_debug("connected", "conn=%s user=%s auth=%s", session_conn_id(pc->session),
              log_quote(quoted, sizeof quoted, session_claims(pc->session)->sub),
              carried == &by_frame_marker ? "frame" : "upgrade");
    return 0;
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct per_connection *pc = user;
    struct bridge *br = bridge_of(wsi);

    /* lws reports some events (e.g. a request whose headers overflowed) before it allocated
     * the per-connection struct; only the default handling applies to those. */
    if (!pc && reason != LWS_CALLBACK_HTTP_CONFIRM_UPGRADE && reason != LWS_CALLBACK_WSI_DESTROY)
        return lws_callback_http_dummy(wsi, reason, user, in, len);

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        handshake_done(wsi);
        return br->http_ops->request(br, wsi, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_BODY:
        return br->http_ops->body(wsi, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return br->http_ops->body_done(wsi);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return br->http_ops->writable(wsi);
    case LWS_CALLBACK_CLOSED_HTTP:
        br->http_ops->forget(wsi);
        break;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(br, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return established(br, wsi, pc);
    case LWS_CALLBACK_RECEIVE:
        return pc->session ? session_receive(pc->session, in, len) : -1;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (pc->session)
            session_heard(pc->session);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pc->session ? session_writable(pc->session) : 0;
    case LWS_CALLBACK_CLOSED:
        if (pc->session) {
            char who[LOG_QUOTED_ID];
            log_debug("disconnected", "conn=%s user=%s", session_conn_id(pc->session),
                      log_quote(who, sizeof who, session_claims(pc->session)->sub));
            session_gone(pc->session);
            pc->session = NULL;
        }
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (pc)
            br->http_ops->forget(wsi);
        if (!acceptor_handshake_end(wsi, true)) /* else it never sent a whole request */
            forget_carried(wsi);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
