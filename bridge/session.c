/* session: per-connection queueing and reassembly; what a frame means is frames.c's business. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "log.h"
#include "server.h"

#define SESSION_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

struct session *session_new(struct bridge *br, struct lws *wsi, const struct auth_claims *claims)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->queue = calloc(SESSION_QUEUE_MAX_FRAMES, sizeof *s->queue);
    if (!s->queue) {
        free(s);
        return NULL;
    }
    s->br = br;
    s->wsi = wsi;
    s->claims = *claims;
    s->connected_at = time(NULL);
    snprintf(s->conn_id, sizeof s->conn_id, "c%llx", (unsigned long long)++br->next_conn);
    s->next = br->sessions;
    if (br->sessions)
        br->sessions->prev = s;
    br->sessions = s;
    br->n_sessions++;
    return s;
}

void session_free(struct session *s)
{
    if (!s)
        return;
    struct bridge *br = s->br;
    if (s->prev)
        s->prev->next = s->next;
    else
        br->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    br->n_sessions--;
    while (s->q_len) {
        outbuf_unref(s->queue[s->q_head]);
        s->q_head = (s->q_head + 1) % SESSION_QUEUE_MAX_FRAMES;
        s->q_len--;
    }
    free(s->queue);
    free(s->rx);
    free(s);
}

void session_close(struct session *s, int code, const char *reason)
{
    if (s->close_code)
        return;
    s->close_code = code;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", reason);
    lws_callback_on_writable(s->wsi);
}

void session_send(struct session *s, struct outbuf *ob)
{
    if (!ob || s->close_code)
        return;
    if (s->q_len == SESSION_QUEUE_MAX_FRAMES || s->q_bytes + ob->len > SESSION_QUEUE_MAX_BYTES) {
        log_warn("slow_consumer_closed", "conn=%s user=%s queued_frames=%u queued_bytes=%zu", s->conn_id,
                 s->claims.sub, s->q_len, s->q_bytes);
        session_close(s, 4008, "too slow to keep up: resume with since");
        return;
    }
    s->queue[(s->q_head + s->q_len) % SESSION_QUEUE_MAX_FRAMES] = outbuf_ref(ob);
    s->q_len++;
    s->q_bytes += ob->len;
    lws_callback_on_writable(s->wsi);
}

void session_send_json(struct session *s, json_t *obj)
{
    struct outbuf *ob = outbuf_from_json(obj);
    session_send(s, ob);
    outbuf_unref(ob);
}

void session_send_error(struct session *s, json_t *ref, const char *code, const char *message, bool retry)
{
    json_t *err = json_pack("{s:s, s:s, s:b}", "code", code, "message", message, "retry", retry);
    if (ref)
        session_send_json(s, json_pack("{s:s, s:O, s:b, s:o}", "type", "reply", "ref", ref, "ok", 0, "error", err));
    else
        session_send_json(s, json_pack("{s:s, s:s, s:s, s:b}", "type", "error", "code", code, "message", message,
                                       "retry", retry));
    if (!ref)
        json_decref(err);
}

int session_writable(struct session *s)
{
    /* 1001 lets the queue drain (the shutdown frame); any other close is immediate. */
    if (s->close_code && (s->close_code != 1001 || s->q_len == 0)) {
        /* lws 4.1.6 loses the reason set by lws_close_reason() when the close starts from
         * SERVER_WRITEABLE (peers saw 1006), so the close frame is written here, with the
         * opcode value lws uses internally (its header hides LWS_WRITE_CLOSE). */
        unsigned char frame[LWS_PRE + 2 + sizeof s->close_reason];
        size_t n = strlen(s->close_reason);
        frame[LWS_PRE] = (unsigned char)(s->close_code >> 8);
        frame[LWS_PRE + 1] = (unsigned char)(s->close_code & 0xff);
        memcpy(frame + LWS_PRE + 2, s->close_reason, n);
        lws_write(s->wsi, frame + LWS_PRE, 2 + n, SESSION_LWS_WRITE_CLOSE);
        return -1;
    }
    if (s->q_len == 0)
        return 0;
    struct outbuf *ob = s->queue[s->q_head];
    int n = lws_write(s->wsi, outbuf_payload(ob), ob->len, LWS_WRITE_TEXT);
    s->q_head = (s->q_head + 1) % SESSION_QUEUE_MAX_FRAMES;
    s->q_len--;
    s->q_bytes -= ob->len;
    outbuf_unref(ob);
    if (n < 0)
        return -1;
    if (s->q_len || s->close_code)
        lws_callback_on_writable(s->wsi);
    return 0;
}

int session_receive(struct session *s, const void *in, size_t len)
{
    bool first = lws_is_first_fragment(s->wsi), final = lws_is_final_fragment(s->wsi);
    size_t max = (size_t)s->br->cfg.max_frame_bytes;
    if (first) {
        s->rx_len = 0;
        s->rx_too_large = false;
    }
    if (s->close_code)
        return 0;
    if (s->rx_len + len > max) {
        log_warn("frame_too_large", "conn=%s user=%s limit=%zu", s->conn_id, s->claims.sub, max);
        s->close_code = 1009;
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"frame too large", 15);
        return -1;
    }
    if (first && final) { /* the common case: no copy */
        frames_handle(s, in, len);
        return 0;
    }
    if (!s->rx && !(s->rx = malloc(max))) {
        session_close(s, 1011, "out of memory");
        return 0;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (final) {
        frames_handle(s, s->rx, s->rx_len);
        s->rx_len = 0;
        free(s->rx); /* most connections never fragment: do not keep max_frame_bytes per idle client */
        s->rx = NULL;
    }
    return 0;
}
