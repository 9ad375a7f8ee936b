/*
 * session: per-connection queueing and reassembly, and the list of every connection. What a frame
 * means is for the layer above (frames.c, reached through bridge.session_ops): the transport knows
 * nothing of rooms or commands. The one frame it reads itself is the first frame of a connection
 * that authenticates by frame (`pgrt.auth`, docs/protocol.md "Connecting"): until that token is
 * admitted, the connection has no user, is not in the list of connections, and nothing goes above.
 *
 * Longer than 500 lines on purpose: the send queue, the end-of-turn flusher, the close handshake
 * and reassembly all read and write the same private fields of one connection, and call each other
 * both ways (a full queue closes the connection; a close drops the queue). Split into files, they
 * would need a shared struct and a call cycle, which tests/arch/layers.sh refuses; as one file the
 * struct stays private to it (docs/architecture.md "Layers").
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "admission.h"
#include "frame_parse.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "wsframe.h"
#include "server.h"

/* One of these is created for each WebSocket connection once its upgrade is accepted. */
struct session {
    struct session *prev, *next; /* bridge.sessions */
    struct bridge *br;
    struct lws *wsi;
    void *app; /* the layer above's state for this connection (session_ops.open) */
    char conn_id[32];
    bool authenticated; /* has a user (claims) */
    enum { LISTED_NOWHERE, LISTED_WAITING, LISTED_CONNECTED } listed; /* bridge.unauthenticated, bridge.sessions */
    unsigned long long auth_deadline_ms; /* unauthenticated: its auth frame must come by then */
    struct auth_claims claims; /* all zero until authenticated */
    char *user_json; /* claims.sub as a JSON string, for the commands sent to rt.batch */
    time_t connected_at;
    unsigned refs;   /* the connection itself, plus whoever else holds it (the app) */
    bool gone;       /* the connection closed; only references keep this alive */

    struct rate_bucket *rate; /* the user's bucket, shared with the user's other connections */
    unsigned rate_strikes; /* refusals since the last accepted burst; too many closes with 4029 */
    unsigned long long rate_last_strike_ms;
    unsigned long long progress_ms; /* last write, or when data began to wait: the stall clock */
    unsigned long long heard_ms;    /* the peer's last frame or pong: the heartbeat clock */
    unsigned long long pinged_ms;   /* our last ping */
    bool ping_due;                  /* a ping waits for the next writable callback */
    bool heartbeat_dead;            /* silent too long: being closed */
    bool want_drain; /* ops.drained once the queue falls to half (a paused replay waits) */

    struct outbuf **queue; /* ring of q_cap slots, grown by doubling up to SESSION_QUEUE_MAX_FRAMES */
    unsigned q_head, q_len, q_cap;
    size_t q_bytes;

    char *rx; /* reassembly of a fragmented frame, at most cfg.max_frame_bytes */
    size_t rx_len;
    bool rx_too_large; /* discarding the rest of an oversized message, then closing with 1009 */
    bool rx_binary;
    size_t rx_discarded;
    size_t rx_after_close; /* bytes the peer sent after close_code was set */
    bool rx_stopped;       /* past SESSION_CLOSE_DRAIN_BYTES of them: no longer read */
    bool write_shut;       /* and our side ended after the close frame */

    int close_code; /* 0, or the code to close with once the queue allows */
    bool close_sent; /* our close frame is out; waiting for the peer's answer */
    char close_reason[64];

    /* Listed for a direct write (session_flusher_start): replies first, then events in turn. */
    struct session *urgent_next, *bulk_next;
    bool urgent_listed, bulk_listed;
};

#define SESSION_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

/* The largest first frame of a pgrt.auth connection: a token of the longest length, and room for the rest. */
#define SESSION_AUTH_FRAME_MAX_BYTES (AUTH_MAX_TOKEN_BYTES + 1024)


static void drop_queue(struct session *s);
static void keep_polling(uv_idle_t *idle) { (void)idle; }

/* Closes that are nobody's fault (shutdown, token expiry) still commit and answer the commands the
 * client already sent before the close frame goes; the grace period or the close timeout bounds
 * the wait. A flooder (4029) or a client that does not read (4008) is owed nothing more. */
static bool answers_before_close(const struct session *s) { return s->close_code == 1001 || s->close_code == 4001; }

static bool owes_replies(const struct session *s) { return s->app && s->br->session_ops->owes_replies(s->app); }

/* Moves the connection to the list `where` (bridge.unauthenticated, bridge.sessions or neither). */
static void list_as(struct session *s, int where)
{
    struct bridge *br = s->br;
    if (s->listed != LISTED_NOWHERE) {
        struct session **head = s->listed == LISTED_WAITING ? &br->unauthenticated : &br->sessions;
        if (s->prev)
            s->prev->next = s->next;
        else
            *head = s->next;
        if (s->next)
            s->next->prev = s->prev;
        s->prev = s->next = NULL;
        if (s->listed == LISTED_WAITING)
            br->n_unauthenticated--;
        else
            br->n_sessions--;
    }
    s->listed = where;
    if (where == LISTED_NOWHERE)
        return;
    struct session **head = where == LISTED_WAITING ? &br->unauthenticated : &br->sessions;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
    if (where == LISTED_WAITING)
        br->n_unauthenticated++;
    else
        br->n_sessions++;
}

/* The connection's user is known: it joins the list of connections, the layer above, and gets welcome. */
static bool attach_user(struct session *s, const struct auth_claims *claims)
{
    struct bridge *br = s->br;
    json_t *user = json_string(claims->sub);
    s->user_json = user ? json_dumps(user, JSON_ENCODE_ANY) : NULL;
    json_decref(user);
    s->rate = s->user_json ? rate_attach(br->rates, claims->sub, uv_now(&br->loop)) : NULL;
    if (!s->rate)
        return false;
    s->claims = *claims;
    s->authenticated = true;
    s->connected_at = time(NULL);
    list_as(s, LISTED_CONNECTED);
    s->app = br->session_ops->open(s);
    if (!s->app)
        return false;
    session_send_json(s, json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "welcome", "conn", s->conn_id, "user",
                                   s->claims.sub, "bridge", br->id, "heartbeat", br->cfg.heartbeat_seconds));
    return true;
}
struct session *session_new(struct bridge *br, struct lws *wsi, const struct auth_claims *claims)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* Starts small: a full-size ring is 64 KiB per connection, most of a connection's memory. */
    s->q_cap = SESSION_QUEUE_MIN_FRAMES;
    s->queue = calloc(s->q_cap, sizeof *s->queue);
    if (!s->queue) {
        free(s);
        return NULL;
    }
    s->br = br;
    s->wsi = wsi;
    s->refs = 1;
    s->connected_at = time(NULL);
    s->heard_ms = uv_now(&br->loop);
    snprintf(s->conn_id, sizeof s->conn_id, "c%llx", (unsigned long long)++br->next_conn);
    if (!claims) { /* pgrt.auth: the token comes in the first frame, within --handshake-timeout */
        s->auth_deadline_ms = uv_now(&br->loop) + 1000ull * (unsigned long long)br->cfg.handshake_timeout_seconds;
        list_as(s, LISTED_WAITING);
        return s;
    }
    if (!attach_user(s, claims)) {
        session_gone(s);
        return NULL;
    }
    return s;
}

/* A close we start is "closing" until the connection is gone; only connections with a user count. */
static void set_close_code(struct session *s, int code)
{
    s->close_code = code;
    if (s->authenticated)
        s->br->n_closing++;
}

void session_gone(struct session *s)
{
    if (!s || s->gone)
        return;
    struct bridge *br = s->br;
    s->gone = true;
    s->wsi = NULL;
    if (s->close_code && s->authenticated)
        br->n_closing--;
    list_as(s, LISTED_NOWHERE);
    rate_detach(br->rates, s->rate);
    s->rate = NULL;
    drop_queue(s);
    if (s->app)
        br->session_ops->gone(s->app);
    s->app = NULL;
    session_unref(s);
}

struct session *session_ref(struct session *s)
{
    s->refs++;
    return s;
}

void session_unref(struct session *s)
{
    if (!s || --s->refs > 0)
        return;
    free(s->queue);
    free(s->rx);
    free(s->user_json);
    free(s);
}

struct bridge *session_bridge(const struct session *s) { return s->br; }
const char *session_conn_id(const struct session *s) { return s->conn_id; }
const struct auth_claims *session_claims(const struct session *s) { return &s->claims; }
const char *session_user_json(const struct session *s) { return s->user_json; }
void session_set_claims(struct session *s, const struct auth_claims *claims) { s->claims = *claims; }
void *session_app(const struct session *s) { return s->app; }
size_t session_queued_bytes(const struct session *s) { return s->q_bytes; }
void session_want_drain(struct session *s) { s->want_drain = true; }
struct session *session_first(const struct bridge *br) { return br->sessions; }
struct session *session_next(const struct session *s) { return s->next; }

void session_info(const struct session *s, struct session_info *info)
{
    info->connected_at = s->connected_at;
    info->queued_frames = s->q_len;
    info->queued_bytes = s->q_bytes;
    info->closing = s->close_code != 0;
}

bool session_rate_ok(struct session *s)
{
    const struct config *cfg = &s->br->cfg;
    unsigned long long now = uv_now(&s->br->loop);
    if (s->rate && rate_take(s->br->rates, s->rate, now)) {
        /* A quiet second forgives earlier refusals: only a sustained flood is closed. */
        if (s->rate_strikes && now - s->rate_last_strike_ms > 1000)
            s->rate_strikes = 0;
        return true;
    }
    s->rate_strikes++;
    s->rate_last_strike_ms = now;
    metrics_rate_limited();
    char user[LOG_QUOTED_ID];
    if (s->rate_strikes == 1)
        log_info("rate_limited", "conn=%s user=%s", s->conn_id, log_quote(user, sizeof user, s->claims.sub));
    if (s->rate_strikes >= (unsigned)cfg->rate_limit_close_after) {
        log_warn("rate_limit_closed", "conn=%s user=%s refusals=%u", s->conn_id,
                 log_quote(user, sizeof user, s->claims.sub), s->rate_strikes);
        session_close(s, 4029, "rate limit exceeded repeatedly");
        rate_penalize(s->br->rates, s->rate, now);
    }
    return false;
}

void session_close(struct session *s, int code, const char *reason)
{
    if (s->close_code || s->gone)
        return;
    set_close_code(s, code);
    snprintf(s->close_reason, sizeof s->close_reason, "%s", reason);
    lws_callback_on_writable(s->wsi);
    /* The close frame goes out when the socket takes it; a peer that never reads again (a slow
     * consumer) is cut off after this long. */
    lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, s->br->shutting_down ? 0 : 10);
}

/* Doubles the ring, unrolled so that q_head is 0; false when it is at its bound or memory is short. */
static bool grow_queue(struct session *s)
{
    if (s->q_cap >= SESSION_QUEUE_MAX_FRAMES)
        return false;
    struct outbuf **q = malloc(2 * (size_t)s->q_cap * sizeof *q);
    if (!q)
        return false;
    for (unsigned i = 0; i < s->q_len; i++)
        q[i] = s->queue[(s->q_head + i) % s->q_cap];
    free(s->queue);
    s->queue = q;
    s->q_head = 0;
    s->q_cap *= 2;
    return true;
}

static bool queue_full(struct session *s) { return s->q_len == s->q_cap && !grow_queue(s); }

static void keep_flushing(struct bridge *br)
{
    if (!uv_is_active((uv_handle_t *)&br->flush_idle))
        uv_idle_start(&br->flush_idle, keep_polling); /* the loop must not sleep while frames wait */
}

/* A reply (or another frame a client waits for): written before the events waiting their turn. */
static void list_urgent(struct session *s)
{
    if (s->urgent_listed)
        return;
    s->urgent_listed = true;
    s->urgent_next = s->br->flush_urgent;
    s->br->flush_urgent = session_ref(s);
    keep_flushing(s->br);
}

/* Events: connections are written in the order their queues filled, a slice per loop turn. */
static void list_bulk(struct session *s)
{
    struct bridge *br = s->br;
    if (s->bulk_listed)
        return;
    s->bulk_listed = true;
    s->bulk_next = NULL;
    session_ref(s);
    if (br->flush_tail)
        br->flush_tail->bulk_next = s;
    else
        br->flush_head = s;
    br->flush_tail = s;
    keep_flushing(br);
}

/*
 * Queues a frame. Frames are not written here but at the end of the loop turn (session_flusher_start),
 * directly, so that everything queued in the same turn (a busy room's events, a reply and the event
 * it caused) goes out in one send(). Asking lws for a writable callback per delivery instead cost
 * two epoll_ctl round trips (POLLOUT on, then off): in a 5,000-member room at 10 sends/s that was
 * ~14 µs of bridge CPU per delivery, and every send waited behind it (docs/benchmarks.md "Large
 * rooms"). A closing connection keeps the writable path, where its close frame follows its queue.
 */
static void enqueue(struct session *s, struct outbuf *ob, bool urgent)
{
    bool was_empty = s->q_len == 0;
    if (was_empty)
        s->progress_ms = uv_now(&s->br->loop); /* the stall clock starts when data waits */
    s->queue[(s->q_head + s->q_len) % s->q_cap] = outbuf_ref(ob);
    s->q_len++;
    s->q_bytes += ob->len;
    if (s->close_code) {
        if (was_empty)
            lws_callback_on_writable(s->wsi);
    } else if (urgent) {
        list_urgent(s);
    } else if (was_empty) { /* else a write is already due: listed, or a writable callback pending */
        list_bulk(s);
    }
}

static void drop_queue(struct session *s)
{
    while (s->q_len) {
        outbuf_unref(s->queue[s->q_head]);
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
    }
    s->q_bytes = 0;
}

/* Closes a client that is not reading: what is queued will never be read, so it is freed now. */
static void close_slow_consumer(struct session *s, const char *why)
{
    char user[LOG_QUOTED_ID];
    log_warn("slow_consumer_closed", "conn=%s user=%s reason=%s queued_frames=%u queued_bytes=%zu", s->conn_id,
             log_quote(user, sizeof user, s->claims.sub), why, s->q_len, s->q_bytes);
    metrics_slow_consumer();
    drop_queue(s);
    session_close(s, 4008, "too slow to keep up: resume with since");
}

bool session_offer(struct session *s, struct outbuf *ob)
{
    if (!ob || s->close_code || s->gone || s->br->destroying)
        return true; /* nothing to deliver to: not a reason to fall back to replay */
    if (s->q_bytes + ob->len > (size_t)s->br->cfg.max_queue_bytes || queue_full(s))
        return false;
    enqueue(s, ob, false);
    return true;
}

void session_send(struct session *s, struct outbuf *ob)
{
    if (!ob || s->gone || s->br->destroying || s->close_sent || (s->close_code && !answers_before_close(s)))
        return;
    /* Replies are never dropped (each ref gets exactly one), even one larger than the queue bound
     * (a big history page); the rate limit bounds how many pile up, and a queue already holding
     * twice the bound is the hard stop for a client that reads nothing. */
    if (s->q_bytes > 2 * (size_t)s->br->cfg.max_queue_bytes || queue_full(s)) {
        close_slow_consumer(s, "hard_limit");
        return;
    }
    enqueue(s, ob, true);
}

static void check_slow(struct session *s, unsigned long long now_ms)
{
    /* Stalled: data has been waiting and not one frame could be written for the whole period. */
    if (s->q_len && !s->close_code && now_ms - s->progress_ms >= (unsigned long long)s->br->cfg.slow_consumer_ms)
        close_slow_consumer(s, "not_reading");
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

static void dequeue(struct session *s)
{
    struct outbuf *ob = s->queue[s->q_head];
    metrics_frame_out();
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_len--;
    s->q_bytes -= ob->len;
    outbuf_unref(ob);
}

/*
 * Writes the frame at the head of the queue or, when several small ones wait (a busy room, a
 * replay), frames as many as fit in SESSION_WRITE_BATCH_BYTES here and hands them to lws as raw
 * bytes in one write: one send() and one writable cycle for all of them instead of one each
 * (lws allows one write per writable callback, and its poll toggling costs more than the copy).
 */
static int write_queued(struct session *s)
{
    metrics_socket_write();
    static unsigned char batch[LWS_PRE + SESSION_WRITE_BATCH_BYTES];
    size_t room = SESSION_WRITE_BATCH_BYTES;
    unsigned n = 0; /* how many frames fit, counted before anything is copied */
    while (n < s->q_len && room >= WSFRAME_MAX_HEADER + s->queue[(s->q_head + n) % s->q_cap]->len)
        room -= WSFRAME_MAX_HEADER + s->queue[(s->q_head + n++) % s->q_cap]->len;
    if (n < 2) { /* one frame (the usual case, or one too big to copy): lws frames it in its headroom */
        struct outbuf *ob = s->queue[s->q_head];
        int rc = lws_write(s->wsi, outbuf_payload(ob), ob->len, LWS_WRITE_TEXT);
        dequeue(s);
        return rc < 0 ? -1 : 0;
    }
    unsigned char *p = batch + LWS_PRE;
    for (unsigned i = 0; i < n; i++) {
        struct outbuf *ob = s->queue[s->q_head];
        p += wsframe_text_header(p, ob->len);
        memcpy(p, outbuf_payload(ob), ob->len);
        p += ob->len;
        dequeue(s);
    }
    return lws_write(s->wsi, batch + LWS_PRE, (size_t)(p - (batch + LWS_PRE)), LWS_WRITE_RAW) < 0 ? -1 : 0;
}

/* After a write: the stall clock, a paused replay waiting for room, and the frames left behind. */
static void wrote(struct session *s)
{
    s->progress_ms = uv_now(&s->br->loop);
    if (lws_partial_buffered(s->wsi))
        metrics_socket_write_wait(); /* lws keeps what the socket did not take and sends it when it can */
    if (s->want_drain && s->q_bytes <= (size_t)s->br->cfg.max_queue_bytes / 2) {
        s->want_drain = false;
        if (s->app)
            s->br->session_ops->drained(s->app);
    }
    if (s->q_len || s->close_code)
        lws_callback_on_writable(s->wsi);
}

int session_writable(struct session *s)
{
    if (s->ping_due && !s->close_code) { /* one write per callback: the queue follows in the next */
        /* Not empty: lws 4.1.6 does not report a pong without payload (LWS_CALLBACK_RECEIVE_PONG). */
        unsigned char ping[LWS_PRE + 4] = {[LWS_PRE] = 'p', 'g', 'r', 't'};
        s->ping_due = false;
        if (lws_write(s->wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 0)
            return -1;
        if (s->q_len)
            lws_callback_on_writable(s->wsi);
        return 0;
    }
    /* Frames already queued (the shutdown notice, replies) go out before the close frame; a slow
     * consumer's queue was already dropped. */
    if (s->close_code && s->q_len == 0) {
        if (s->close_sent) {
            /* A peer we no longer read from will not get its answering close through: end our
             * side (FIN after the close frame) so that it sees the close now, not at the timeout. */
            if (s->rx_stopped && !s->write_shut) {
                if (lws_partial_buffered(s->wsi)) {
                    lws_callback_on_writable(s->wsi);
                } else {
                    s->write_shut = true;
                    shutdown(lws_get_socket_fd(s->wsi), SHUT_WR);
                }
            }
            return 0;
        }
        if (answers_before_close(s) && owes_replies(s))
            return 0; /* the last reply's write comes back here */
        /* Two lws 4.1.6 traps: a reason set with lws_close_reason() is lost when the close starts
         * from SERVER_WRITEABLE (peers saw 1006), and closing the socket with unread input makes
         * the kernel reset the connection, destroying the close frame in flight. So the close
         * frame is written here (with the opcode value lws uses internally; its header hides
         * LWS_WRITE_CLOSE), and the connection stays open, discarding input, until the peer's
         * answering close (lws completes the handshake) or the timeout. */
        unsigned char frame[LWS_PRE + 2 + sizeof s->close_reason];
        size_t n = strlen(s->close_reason);
        frame[LWS_PRE] = (unsigned char)(s->close_code >> 8);
        frame[LWS_PRE + 1] = (unsigned char)(s->close_code & 0xff);
        memcpy(frame + LWS_PRE + 2, s->close_reason, n);
        if (lws_write(s->wsi, frame + LWS_PRE, 2 + n, SESSION_LWS_WRITE_CLOSE) < 0)
            return -1;
        s->close_sent = true;
        if (s->rx_stopped)
            lws_callback_on_writable(s->wsi);
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_ACK, 5);
        return 0;
    }
    if (s->q_len == 0)
        return 0;
    if (write_queued(s) < 0)
        return -1;
    wrote(s);
    return 0;
}

/* Refuses a pgrt.auth connection before it has a user: a close code, nothing else sent. */
static void refuse_unauthenticated(struct session *s, enum refusal why, int code, const char *reason)
{
    if (why == REFUSED_FIRST_FRAME || why == REFUSED_AUTH_TIMEOUT) /* admission_check counts the others */
        metrics_upgrade_refused(why);
    log_info("auth_frame_refused", "conn=%s code=%d reason=%s", s->conn_id, code,
             why == REFUSED_FIRST_FRAME    ? "first_frame"
             : why == REFUSED_AUTH_TIMEOUT ? "auth_timeout"
             : why == REFUSED_FULL         ? "full"
                                           : "admission");
    session_close(s, code, reason);
}

/*
 * The first frame of a pgrt.auth connection: {"type":"auth","token":JWT}, checked exactly like the
 * token of an upgrade (admission.c). Only then does the connection get a user and `welcome`; any
 * other frame, or a token refused, closes it with the code docs/protocol.md "Close codes" gives.
 */
static void authenticate(struct session *s, const char *text, size_t len)
{
    struct bridge *br = s->br;
    struct frame_request req;
    const char *token = s->rx_binary ? NULL : frame_parse_first_auth(text, len, &req);
    if (!token) {
        if (!s->rx_binary)
            frame_request_free(&req);
        refuse_unauthenticated(s, REFUSED_FIRST_FRAME, 4000,
                               "the first frame must be {\"type\":\"auth\",\"token\":JWT}");
        return;
    }
    struct admission adm;
    admission_check(br, token, "frame", &adm);
    frame_request_free(&req);
    char reason[64];
    switch (adm.verdict) {
    case ADMIT_BAD_TOKEN:
        snprintf(reason, sizeof reason, "token refused: %s", auth_result_name(adm.auth));
        refuse_unauthenticated(s, REFUSED_AUTH, 4001, reason);
        return;
    case ADMIT_RATE_LIMITED:
        snprintf(reason, sizeof reason, "rate limited: retry after %llu s", adm.retry_after);
        refuse_unauthenticated(s, REFUSED_RATE_LIMIT, 4029, reason);
        return;
    case ADMIT_PER_USER:
        refuse_unauthenticated(s, REFUSED_PER_USER, 4029, "too many connections for this user");
        return;
    case ADMIT_OK:
        break;
    }
    /* A waiting connection holds no slot of --max-connections: the bridge may have filled since the upgrade. */
    if (br->n_sessions >= (unsigned)br->cfg.max_connections) {
        metrics_upgrade_refused(REFUSED_FULL);
        refuse_unauthenticated(s, REFUSED_FULL, 1013, "bridge full: try again later");
        return;
    }
    if (!attach_user(s, &adm.claims)) {
        session_close(s, 1011, "out of memory");
        return;
    }
    char user[LOG_QUOTED_ID];
    log_debug("authenticated", "conn=%s user=%s via=frame", s->conn_id, log_quote(user, sizeof user, s->claims.sub));
}

/* One complete frame: above once the connection has a user, else it is the auth frame. */
static void deliver(struct session *s, const char *text, size_t len)
{
    if (!s->authenticated)
        authenticate(s, text, len);
    else if (s->rx_binary)
        s->br->session_ops->binary(s->app);
    else
        s->br->session_ops->text(s->app, text, len);
}

/* Writes the queue of every session listed this loop turn, outside any lws callback. */
static void flush_one(struct session *s)
{
    if (s->gone || s->close_code || s->q_len == 0)
        return; /* a closing connection's queue goes through session_writable */
    if (lws_partial_buffered(s->wsi)) {
        metrics_socket_write_wait();
        lws_callback_on_writable(s->wsi); /* lws sends its rest first, then calls session_writable */
        return;
    }
    if (write_queued(s) < 0) {
        /* The socket failed: lws closes the connection on its next turn (session_gone follows). */
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        return;
    }
    wrote(s);
}

static struct session *pop_urgent(struct bridge *br)
{
    struct session *s = br->flush_urgent;
    if (s) {
        br->flush_urgent = s->urgent_next;
        s->urgent_listed = false;
    }
    return s;
}

static struct session *pop_bulk(struct bridge *br)
{
    struct session *s = br->flush_head;
    if (s) {
        br->flush_head = s->bulk_next;
        if (!br->flush_head)
            br->flush_tail = NULL;
        s->bulk_listed = false;
    }
    return s;
}

/*
 * The end of a loop turn: every listed reply, then events for SESSION_FLUSH_SLICE_US. A room of
 * thousands takes tens of ms of send()s per event; in slices, the loop reads new frames and
 * results between them, and a reply does not wait for the whole room's writes.
 */
static void flush_all(uv_check_t *check)
{
    struct bridge *br = check->data;
    struct session *s;
    if (!br->flush_urgent && !br->flush_head)
        return; /* most turns of a quiet bridge */
    while ((s = pop_urgent(br))) {
        if (!br->destroying)
            flush_one(s);
        session_unref(s);
    }
    uint64_t until = uv_hrtime() + SESSION_FLUSH_SLICE_US * 1000;
    for (unsigned n = 1; (s = pop_bulk(br)); n++) {
        if (!br->destroying)
            flush_one(s);
        session_unref(s);
        if (n % 32 == 0 && uv_hrtime() >= until)
            break;
    }
    if (!br->flush_head && !br->flush_urgent)
        uv_idle_stop(&br->flush_idle);
}

void session_flusher_start(struct bridge *br)
{
    uv_check_init(&br->loop, &br->flush_check);
    uv_idle_init(&br->loop, &br->flush_idle);
    br->flush_check.data = br->flush_idle.data = br;
    uv_check_start(&br->flush_check, flush_all);
    uv_unref((uv_handle_t *)&br->flush_check); /* it alone does not keep the loop running */
}

void session_flusher_stop(struct bridge *br)
{
    struct session *s;
    while ((s = pop_urgent(br)) || (s = pop_bulk(br)))
        session_unref(s);
    uv_close((uv_handle_t *)&br->flush_check, NULL);
    uv_close((uv_handle_t *)&br->flush_idle, NULL);
}

void session_heard(struct session *s) { s->heard_ms = uv_now(&s->br->loop); }

int session_receive(struct session *s, const void *in, size_t len)
{
    session_heard(s);
    bool first = lws_is_first_fragment(s->wsi), final = lws_is_final_fragment(s->wsi);
    size_t max = s->authenticated ? (size_t)s->br->cfg.max_frame_bytes : SESSION_AUTH_FRAME_MAX_BYTES;
    if (first) {
        s->rx_len = 0;
        s->rx_too_large = false;
        s->rx_discarded = 0;
        s->rx_binary = lws_frame_is_binary(s->wsi);
    }
    if (s->close_code) {
        /* Input after our close is read and dropped, so that our close frame is not lost to a
         * reset; but a peer still pouring data in is not worth a read per packet until the
         * timeout: past a drain allowance its socket is left unread and TCP pushes back. */
        s->rx_after_close += len;
        if (s->rx_after_close > SESSION_CLOSE_DRAIN_BYTES && !s->rx_stopped) {
            s->rx_stopped = true;
            lws_rx_flow_control(s->wsi, 0);
            lws_callback_on_writable(s->wsi); /* to end our side once the close frame is out */
        }
        return 0;
    }
    if (!s->rx_too_large && s->rx_len + len > max) {
        char user[LOG_QUOTED_ID];
        log_warn("frame_too_large", "conn=%s user=%s limit=%zu", s->conn_id, log_quote(user, sizeof user, s->claims.sub),
                 max);
        s->rx_too_large = true;
        free(s->rx);
        s->rx = NULL;
    }
    if (s->rx_too_large) {
        /* Read the rest before closing: closing with unread input makes the kernel send a reset
         * that can destroy our close frame before the client reads it. A sender that never ends
         * its message is cut off after 64 times the limit. */
        s->rx_discarded += len;
        if (final || s->rx_discarded > 64 * max) {
            set_close_code(s, 1009); /* counted like any close, so pgrt_connections stays right */
            lws_close_reason(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"frame too large", 15);
            return -1;
        }
        return 0;
    }
    if (first && final) { /* the common case: no copy */
        deliver(s, in, len);
        return 0;
    }
    if (!s->rx && !(s->rx = malloc(max))) {
        session_close(s, 1011, "out of memory");
        return 0;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (final) {
        deliver(s, s->rx, s->rx_len);
        s->rx_len = 0;
        free(s->rx); /* most connections never fragment: do not keep max_frame_bytes per idle client */
        s->rx = NULL;
    }
    return 0;
}

/* ---- every connection ---------------------------------------------------------------------- */

void session_broadcast(struct bridge *br, const char *user, struct outbuf *ob)
{
    for (struct session *s = br->sessions; ob && s; s = s->next)
        if (!user || strcmp(s->claims.sub, user) == 0)
            session_offer(s, ob);
}

/*
 * The heartbeat (docs/protocol.md "Connection"), one clock for every connection: a peer silent for
 * --heartbeat seconds is pinged, one silent for twice that is dropped. lws can do this itself, but
 * with a timer per connection kept in one sorted list: every connection that opened walked the
 * whole list to insert its own, O(N) per join, most of the bridge's CPU in a storm of 10,000 joins
 * (docs/benchmarks.md "Large rooms"), so its validity timer is off (server.c).
 */
static void check_heartbeat(struct session *s, unsigned long long now_ms)
{
    unsigned long long beat = (unsigned long long)s->br->cfg.heartbeat_seconds * 1000;
    unsigned long long quiet = now_ms > s->heard_ms ? now_ms - s->heard_ms : 0;
    if (s->close_code || s->heartbeat_dead || quiet < beat)
        return;
    if (quiet >= 2 * beat) {
        s->heartbeat_dead = true; /* lws closes it within a second */
        char user[LOG_QUOTED_ID];
        log_info("heartbeat_timeout", "conn=%s user=%s silent_ms=%llu", s->conn_id,
                 log_quote(user, sizeof user, s->claims.sub), quiet);
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_WS_PONG_CHECK_GET_PONG, LWS_TO_KILL_ASYNC);
        return;
    }
    if (s->pinged_ms <= s->heard_ms) { /* once per silence */
        s->pinged_ms = now_ms;
        s->ping_due = true;
        lws_callback_on_writable(s->wsi);
    }
}

void session_housekeeping(struct bridge *br, long long now_s, unsigned long long now_ms)
{
    for (struct session *s = br->unauthenticated; s; s = s->next)
        if (!s->close_code && now_ms >= s->auth_deadline_ms)
            refuse_unauthenticated(s, REFUSED_AUTH_TIMEOUT, 4008, "no auth frame within the handshake timeout");
    for (struct session *s = br->sessions; s; s = s->next) {
        if (!s->close_code && s->claims.exp <= now_s) {
            char user[LOG_QUOTED_ID];
            log_info("token_expired", "conn=%s user=%s", s->conn_id, log_quote(user, sizeof user, s->claims.sub));
            session_close(s, 4001, "token expired");
        }
        check_slow(s, now_ms);
        check_heartbeat(s, now_ms);
    }
}

void session_close_all(struct bridge *br, struct outbuf *notice, int code, const char *reason)
{
    for (struct session *s = br->unauthenticated; s; s = s->next)
        session_close(s, code, reason); /* no notice: a connection without a user has had no welcome */
    for (struct session *s = br->sessions; s; s = s->next) {
        session_send(s, notice);
        /* Replies to commands in flight still reach the client before the close (answers_before_close). */
        session_close(s, code, reason);
    }
}
