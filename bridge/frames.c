/*
 * frames: one client frame in, at most one reply out. The bridge answers ping and auth itself;
 * every other frame goes verbatim to rt.batch with the connection's verified user, and its reply
 * is built from what PostgreSQL returned, after the transaction committed. What a frame asks for is
 * read by frame_parse.c (only what routing needs); every rule is SQL's.
 */
#include "frames.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame_parse.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "registry.h"
#include "router.h"
#include "server.h"
#include "session.h"

/*
 * One connection's command state. Its commands go to the database one at a time, in the order
 * sent (docs/protocol.md "Ordering"): the next waits here until the previous one committed.
 */
struct client {
    struct session *s;      /* referenced until the client is freed */
    struct member *member;  /* the router's record of the connection's rooms */
    unsigned refs;          /* the connection itself, plus each command in flight */
    bool gone;              /* the connection closed: no reply is sent any more */
    unsigned inflight;      /* commands sent and not yet answered */
    struct command *waiting_head, *waiting_tail; /* behind the one in the database */
    unsigned nwaiting;
    bool db_busy;           /* one command of this connection is in the database */
};

/* A client command plus what the bridge must remember to route its reply. */
struct frame_cmd {
    struct command cmd; /* first: pool.c hands back a struct command * */
    struct client *client;
    const char *label;  /* its type (protocol.c's string), for metrics when the pool refuses it */
    char *ref_json;     /* the ref re-encoded as JSON, or NULL */
    bool is_join;
    bool internal;      /* sent by the bridge itself (presence re-registration): no reply, no routing */
    char room[72];      /* "" unless a valid room string */
    long long since;    /* -1: no replay */
};

static struct client *client_ref(struct client *c)
{
    c->refs++;
    return c;
}

static void client_unref(struct client *c)
{
    if (--c->refs > 0)
        return;
    session_unref(c->s);
    free(c);
}

static void send_text(struct session *s, const char *text, size_t len)
{
    struct outbuf *ob = outbuf_new(text, len);
    session_send(s, ob);
    outbuf_unref(ob);
}

/* {"type":"reply","ref":R,"ok":B,"data|error":BODY}, or {"type":"error",...BODY} without a ref. */
static void send_reply(struct session *s, const char *ref_json, bool ok, const char *body, size_t len)
{
    if (!ref_json) {
        if (ok || len < 2 || body[0] != '{')
            return;
        size_t n = len + 16;
        char *text = malloc(n);
        if (!text)
            return;
        int m = snprintf(text, n, "{\"type\":\"error\",%.*s", (int)(len - 1), body + 1);
        send_text(s, text, (size_t)m);
        free(text);
        return;
    }
    size_t n = strlen(ref_json) + len + 64;
    char *text = malloc(n);
    if (!text)
        return;
    int m = snprintf(text, n, "{\"type\":\"reply\",\"ref\":%s,\"ok\":%s,\"%s\":%.*s}", ref_json, ok ? "true" : "false",
                     ok ? "data" : "error", (int)len, body);
    send_text(s, text, (size_t)m);
    free(text);
}

static void send_local_error(struct session *s, json_t *ref, const char *type, const char *code, const char *msg,
                             bool retry)
{
    metrics_command_local(type, code);
    session_send_error(s, ref, code, msg, retry);
}

static long long join_head(const char *body, size_t len)
{
    json_t *data = json_loadb(body, len, 0, NULL);
    json_t *seq = json_object_get(data, "seq");
    long long head = json_is_integer(seq) ? json_integer_value(seq) : 0;
    json_decref(data);
    return head;
}

#define MAX_WAITING_COMMANDS 256

static void dispatch(struct client *c, struct frame_cmd *fc);

static void discard(struct frame_cmd *fc)
{
    struct client *c = fc->client;
    c->inflight--;
    free(fc->ref_json);
    command_free(&fc->cmd);
    client_unref(c);
}

/* The connection's previous command finished: send the next one it is holding, if any. */
static void next_command(struct client *c)
{
    c->db_busy = false;
    while (c->waiting_head && !c->db_busy) {
        struct command *cmd = c->waiting_head;
        c->waiting_head = cmd->next;
        if (!c->waiting_head)
            c->waiting_tail = NULL;
        c->nwaiting--;
        cmd->next = NULL;
        if (c->gone) /* nobody to answer: a client retries what it did not see acknowledged */
            discard((struct frame_cmd *)cmd);
        else
            dispatch(c, (struct frame_cmd *)cmd);
    }
}

static void command_done(struct command *cmd, bool ok, const char *body, size_t len)
{
    struct frame_cmd *fc = (struct frame_cmd *)cmd;
    struct client *c = fc->client;
    struct router *router = session_bridge(c->s)->router;
    c->inflight--;
    if (!c->gone && !fc->internal) {
        send_reply(c->s, fc->ref_json, ok, body, len);
        if (fc->is_join && fc->room[0]) {
            if (ok)
                router_join_done(router, c->member, fc->room, join_head(body, len), fc->since);
            else
                router_leave(router, c->member, fc->room);
        }
    }
    free(fc->ref_json);
    if (!fc->internal)
        next_command(c);
    client_unref(c);
}

/* Hands a command to the pool; a refusal (database down, queue full) is its reply at once. */
static void dispatch(struct client *c, struct frame_cmd *fc)
{
    struct bridge *br = session_bridge(c->s);
    c->db_busy = true;
    if (!pool_submit(br->pool, &fc->cmd)) {
        const char *body = pool_up(br->pool)
                               ? "{\"code\":\"UNAVAILABLE\",\"message\":\"the bridge is overloaded; retry\",\"retry\":true}"
                               : "{\"code\":\"UNAVAILABLE\",\"message\":\"the database is unreachable; retry\",\"retry\":true}";
        metrics_command_local(fc->label, "UNAVAILABLE");
        command_done(&fc->cmd, false, body, strlen(body));
        command_free(&fc->cmd);
    }
}

/* Sends a database-bound frame to the pool. */
static void submit(struct client *c, const struct frame_request *req, const char *text, size_t len)
{
    struct session *s = c->s;
    struct bridge *br = session_bridge(s);
    const char *type = req->label;
    bool is_join = strcmp(type, "join") == 0;
    if (c->nwaiting >= MAX_WAITING_COMMANDS) {
        send_local_error(s, req->ref, type, "RATE_LIMITED", "too many commands waiting; slow down", true);
        return;
    }
    if (is_join && req->room[0] && !router_joined(c->member, req->room) &&
        router_member_rooms(c->member) >= (unsigned)br->cfg.max_rooms_per_connection) {
        char msg[96];
        snprintf(msg, sizeof msg, "a connection may join at most %d rooms", br->cfg.max_rooms_per_connection);
        send_local_error(s, req->ref, type, "TOO_LARGE", msg, false);
        return;
    }
    struct frame_cmd *fc = calloc(1, sizeof *fc);
    char *copy = malloc(len + 1);
    if (!fc || !copy) {
        free(fc);
        free(copy);
        send_local_error(s, req->ref, type, "INTERNAL", "out of memory", true);
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    fc->cmd.done = command_done;
    fc->client = client_ref(c);
    fc->label = type;
    fc->cmd.user_json = session_user_json(s);
    fc->cmd.conn_id = session_conn_id(s);
    fc->cmd.frame = copy;
    fc->cmd.frame_len = len;
    fc->cmd.started_us = metrics_now_us();
    fc->ref_json = req->ref ? json_dumps(req->ref, JSON_ENCODE_ANY) : NULL;
    fc->is_join = is_join;
    fc->since = req->since;
    snprintf(fc->room, sizeof fc->room, "%s", req->room);

    if (fc->room[0] && is_join && !router_join_begin(br->router, c->member, fc->room))
        fc->room[0] = '\0';
    if (fc->room[0] && strcmp(type, "leave") == 0)
        router_leave(br->router, c->member, fc->room); /* stop delivery now; presence goes when the leave commits */

    c->inflight++;
    if (!c->db_busy) {
        dispatch(c, fc);
        return;
    }
    /* One command of a connection at a time in the database: they commit, and are answered, in
     * the order sent (docs/protocol.md "Ordering"). */
    if (c->waiting_tail)
        c->waiting_tail->next = &fc->cmd;
    else
        c->waiting_head = &fc->cmd;
    c->waiting_tail = &fc->cmd;
    c->nwaiting++;
}

/*
 * The database forgot this bridge (it was presumed dead during an outage and reaped): record the
 * presence of every joined connection again. Delivery never stopped, so nothing is replayed.
 */
void frames_rejoin_all(struct bridge *br)
{
    for (struct session *s = session_first(br); s; s = session_next(s)) {
        struct client *c = session_app(s);
        for (unsigned i = 0; c && i < router_member_rooms(c->member); i++) {
            struct frame_cmd *fc = calloc(1, sizeof *fc);
            json_t *frame = json_pack("{s:s, s:s}", "type", "join", "room", router_member_room(c->member, i));
            char *text = frame ? json_dumps(frame, JSON_COMPACT) : NULL;
            json_decref(frame);
            if (!fc || !text) {
                free(fc);
                free(text);
                return;
            }
            fc->internal = true;
            fc->label = "join";
            fc->cmd.done = command_done;
            fc->client = client_ref(c);
            fc->cmd.user_json = session_user_json(s);
            fc->cmd.conn_id = session_conn_id(s);
            fc->cmd.frame = text;
            fc->cmd.frame_len = strlen(text);
            fc->since = -1;
            c->inflight++;
            if (!pool_submit(br->pool, &fc->cmd)) {
                command_done(&fc->cmd, false, "{}", 2);
                command_free(&fc->cmd);
                return;
            }
        }
    }
}

void frames_leave_all(struct bridge *br)
{
    for (struct session *s = session_first(br); s; s = session_next(s)) {
        struct client *c = session_app(s);
        if (c)
            router_leave_all(br->router, c->member);
    }
}

void *frames_open(struct session *s)
{
    struct client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->member = router_member_new(session_bridge(s)->router, s);
    if (!c->member) {
        free(c);
        return NULL;
    }
    c->s = session_ref(s);
    c->refs = 1;
    return c;
}

void frames_gone(void *app)
{
    struct client *c = app;
    struct bridge *br = session_bridge(c->s);
    c->gone = true;
    bool had_rooms = router_member_free(br->router, c->member);
    c->member = NULL;
    if (had_rooms && !br->shutting_down) /* at shutdown rt.bridge_stopped removes all presence at once */
        registry_disconnect(br->registry, session_conn_id(c->s));
    client_unref(c);
}

void frames_drained(void *app)
{
    struct client *c = app;
    if (c->member)
        router_member_drained(c->member);
}

bool frames_owes_replies(void *app) { return ((struct client *)app)->inflight > 0; }

const struct member *frames_member(const void *app) { return ((const struct client *)app)->member; }

static void handle_ping(struct session *s, json_t *ref)
{
    metrics_command_local("ping", "ok");
    if (ref)
        session_send_json(s, json_pack("{s:s, s:O}", "type", "pong", "ref", ref));
    else
        session_send_json(s, json_pack("{s:s}", "type", "pong"));
}

/* Refreshes the connection's token before it expires; the user must stay the same. */
static void handle_auth(struct session *s, const char *token, json_t *ref)
{
    struct auth_claims claims;
    const char *user = session_claims(s)->sub;
    enum auth_result r = auth_verify(&session_bridge(s)->keys, token, time(NULL), &claims);
    if (r != AUTH_OK) {
        char msg[64];
        snprintf(msg, sizeof msg, "token refused: %s", auth_result_name(r));
        char quoted[LOG_QUOTED_ID];
        log_info("auth_refused", "conn=%s user=%s reason=%s", session_conn_id(s), log_quote(quoted, sizeof quoted, user),
                 auth_result_name(r));
        send_local_error(s, ref, "auth", "UNAUTHORIZED", msg, false);
        return;
    }
    if (strcmp(claims.sub, user) != 0) {
        send_local_error(s, ref, "auth", "UNAUTHORIZED", "the token is for another user", false);
        return;
    }
    session_set_claims(s, &claims);
    metrics_command_local("auth", "ok");
    if (ref)
        session_send_json(s, json_pack("{s:s, s:O, s:b, s:{s:I}}", "type", "reply", "ref", ref, "ok", 1, "data", "exp",
                                       (json_int_t)claims.exp));
}

void frames_handle(void *app, const char *text, size_t len)
{
    struct client *c = app;
    struct session *s = c->s;
    metrics_frame_in();
    /* Every frame spends a token before anything else, so that a flood of malformed frames is
     * throttled and closed (4029) like a flood of valid ones. */
    bool within_rate = session_rate_ok(s);
    struct frame_request req;
    frame_parse(text, len, &req);
    if (!within_rate)
        send_local_error(s, req.ref, req.type ? req.type : "other", "RATE_LIMITED", "too many frames; slow down", true);
    else if (req.kind == FRAME_MALFORMED || req.kind == FRAME_INVALID)
        send_local_error(s, req.ref, req.label, "BAD_REQUEST", req.error, false);
    else if (req.kind == FRAME_PING)
        handle_ping(s, req.ref);
    else if (req.kind == FRAME_AUTH)
        handle_auth(s, req.token, req.ref);
    else
        submit(c, &req, text, len);
    frame_request_free(&req);
}

void frames_refuse_binary(void *app)
{
    struct session *s = ((struct client *)app)->s;
    metrics_frame_in();
    if (!session_rate_ok(s))
        send_local_error(s, NULL, "other", "RATE_LIMITED", "too many frames; slow down", true);
    else
        send_local_error(s, NULL, "other", "BAD_REQUEST", "frames must be JSON text, not binary", false);
}
