/*
 * The router's delivery state machine (bridge/router.c) against a fake connection sink and a fake
 * event log: every (connection, room) sees each persisted event exactly once, in seq order, with no
 * gap (docs/protocol.md "Delivery guarantees") — through replay, gap fill, a full send queue, a
 * removal while a read is in flight, and a lost LISTEN connection (a reaped bridge's outage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "notify_parse.h"
#include "outbuf.h"
#include "router.h"

/* ---- a fake connection: records the seqs it was offered; its queue holds `cap` frames ---- */

struct conn {
    const char *user;
    long long got[256];
    int ngot;
    int queued, cap; /* frames waiting; offer fails when queued == cap */
    bool want_drain;
};

/* The "seq" of a frame (the payload is not NUL-terminated); -1 when it has none. */
static long long seq_of(struct outbuf *ob)
{
    char text[512];
    size_t n = ob->len < sizeof text - 1 ? ob->len : sizeof text - 1;
    memcpy(text, outbuf_payload(ob), n);
    text[n] = '\0';
    const char *p = strstr(text, "\"seq\":");
    return p ? atoll(p + 6) : -1;
}

static bool offer(void *c, struct outbuf *ob)
{
    struct conn *conn = c;
    if (conn->queued >= conn->cap)
        return false;
    conn->queued++;
    conn->got[conn->ngot++] = seq_of(ob);
    return true;
}
static size_t queued_bytes(const void *c) { return (size_t)((const struct conn *)c)->queued * 100; }
static const char *user(const void *c) { return ((const struct conn *)c)->user; }
static void want_drain(void *c) { ((struct conn *)c)->want_drain = true; }

/* The client read everything it had queued. */
static void drain(struct member *m, struct conn *c)
{
    c->queued = 0;
    if (c->want_drain) {
        c->want_drain = false;
        router_member_drained(m);
    }
}

static bool got(const struct conn *c, const long long *want, int n)
{
    if (c->ngot != n)
        return false;
    for (int i = 0; i < n; i++)
        if (c->got[i] != want[i])
            return false;
    return true;
}

/* ---- a fake event log: one room's events, reads answered when the test says so ---- */

#define MAX_EVENTS 64
static char events[MAX_EVENTS + 1][160]; /* events[seq] */
static long long head;                   /* the newest committed seq */

struct read {
    char room[72];
    long long after;
    int limit;
    const char *user;
    log_done_fn done;
    void *cb;
};
static struct read reads[32];
static int nreads;
static bool log_down; /* reads cannot be sent (the pool is down) */

static void commit(const char *event, const char *data_user)
{
    head++;
    snprintf(events[head], sizeof events[head],
             "{\"type\":\"event\",\"room\":\"r\",\"seq\":%lld,\"event\":\"%s\",\"data\":{\"user\":\"%s\"}}", head, event,
             data_user ? data_user : "");
}

static bool read_log(void *ctx, const char *room, long long after, int limit, const char *u, log_done_fn done,
                     void *cb)
{
    (void)ctx;
    if (log_down || nreads == 32)
        return false;
    struct read *r = &reads[nreads++];
    snprintf(r->room, sizeof r->room, "%s", room);
    r->after = after;
    r->limit = limit;
    r->user = u;
    r->done = done;
    r->cb = cb;
    return true;
}

struct fake_page {
    long long first;
};
static void row(const struct log_page *page, int i, const char **text, size_t *len, long long *seq)
{
    const struct fake_page *fp = page->impl;
    *seq = fp->first + i;
    *text = events[*seq];
    *len = strlen(*text);
}

/* Answers the oldest pending read with `status`; returns false when none is pending. */
static bool answer(enum log_status status)
{
    if (nreads == 0)
        return false;
    struct read r = reads[0];
    memmove(reads, reads + 1, (size_t)--nreads * sizeof reads[0]);
    struct fake_page fp = {r.after + 1};
    long long last = r.after + r.limit < head ? r.after + r.limit : head;
    struct log_page page = {.status = status, .rows = status == LOG_OK && last > r.after ? (int)(last - r.after) : 0,
                            .row = row, .impl = &fp, .error = status == LOG_FAILED ? "test: failed" : NULL};
    r.done(r.cb, &page);
    return true;
}

static void answer_all(void)
{
    while (answer(LOG_OK))
        ;
}

/* A NOTIFY of event `seq` as the database sends it (the whole event, or a reference to it). */
static void notify(struct router *r, long long seq, bool as_ref)
{
    char ref[96];
    const char *payload = events[seq];
    if (as_ref) {
        snprintf(ref, sizeof ref, "{\"type\":\"ref\",\"room\":\"r\",\"seq\":%lld}", seq);
        payload = ref;
    }
    struct notify_facts f;
    notify_parse(payload, strlen(payload), &f);
    router_persisted(r, &f, payload, strlen(payload));
    notify_facts_free(&f);
}

static struct router *fresh_router(void)
{
    memset(events, 0, sizeof events);
    head = 0;
    nreads = 0;
    log_down = false;
    struct router_sink sink = {offer, queued_bytes, user, want_drain};
    struct router_log log = {read_log, NULL};
    return router_new(&sink, &log, 1000 /* max queue bytes: replay pauses past 500, i.e. 5 queued frames */);
}

static void join(struct router *r, struct member *m, long long since)
{
    router_join_begin(r, m, "r");
    router_join_done(r, m, "r", head, since);
}

static void test_replay_then_live(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100};
    struct member *m = router_member_new(r, &a);
    for (int i = 0; i < 5; i++)
        commit("message", NULL);
    join(r, m, 2);
    CHECK(nreads == 1 && reads[0].after == 2 && reads[0].user && strcmp(reads[0].user, "alice") == 0,
          "replay: one read of the log after since, as the connection's user");
    commit("message", NULL);
    notify(r, 6, false); /* arrives while the replay read is in flight */
    CHECK(a.ngot == 0, "replay: a live event does not overtake the replay");
    answer_all();
    CHECK(got(&a, (long long[]){3, 4, 5, 6}, 4), "replay: since+1..head, then what arrived meanwhile, once each");
    commit("message", NULL);
    notify(r, 7, false);
    CHECK(got(&a, (long long[]){3, 4, 5, 6, 7}, 5) && nreads == 0, "live: the next event straight from NOTIFY");
    router_member_free(r, m);
    CHECK(router_rooms(r) == 0, "the room is forgotten with its last member");
    router_free(r);
}

static void test_join_without_since(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100};
    struct member *m = router_member_new(r, &a);
    commit("message", NULL);
    commit("message", NULL);
    router_join_begin(r, m, "r");
    commit("message", NULL);
    notify(r, 3, false); /* committed after the join's snapshot: not delivered before the join completes */
    CHECK(a.ngot == 0, "joining: no live event before the join committed");
    router_join_done(r, m, "r", 2, -1);
    answer_all();
    CHECK(got(&a, (long long[]){3}, 1),
          "no since: nothing before the join's head; an event notified before the join's reply is read from the log");
    router_member_free(r, m);
    router_free(r);
}

static void test_gap_fill(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100}, b = {.user = "bob", .cap = 100};
    struct member *ma = router_member_new(r, &a), *mb = router_member_new(r, &b);
    commit("message", NULL);
    join(r, ma, -1);
    join(r, mb, -1);
    answer_all();
    commit("message", NULL);
    commit("message", NULL);
    notify(r, 3, false); /* 2's notification was lost */
    CHECK(a.ngot == 0 && nreads == 1 && reads[0].user == NULL && reads[0].after == 1,
          "gap: nothing delivered out of order; one read of the log as the bridge");
    notify(r, 2, false); /* late: the fill covers it */
    answer_all();
    CHECK(got(&a, (long long[]){2, 3}, 2) && got(&b, (long long[]){2, 3}, 2), "gap: filled in order for every member");
    notify(r, 3, false);
    CHECK(a.ngot == 2, "a duplicate notification is not delivered again");
    commit("message", NULL);
    notify(r, 4, true); /* too large for NOTIFY: a reference */
    answer_all();
    CHECK(got(&a, (long long[]){2, 3, 4}, 3) && got(&b, (long long[]){2, 3, 4}, 3),
          "a reference is read from the log and delivered in order");
    router_member_free(r, ma);
    router_member_free(r, mb);
    router_free(r);
}

static void test_slow_consumer(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 2}, b = {.user = "bob", .cap = 100};
    struct member *ma = router_member_new(r, &a), *mb = router_member_new(r, &b);
    join(r, ma, -1);
    join(r, mb, -1);
    answer_all();
    for (long long s = 1; s <= 5; s++) {
        commit("message", NULL);
        notify(r, s, false);
    }
    CHECK(got(&a, (long long[]){1, 2}, 2) && a.want_drain, "full queue: the rest waits, the connection is asked to drain");
    CHECK(b.ngot == 5, "a slow member does not hold back the others");
    CHECK(nreads == 0, "nothing is read while the slow connection's queue is full");
    a.cap = 100;
    drain(ma, &a);
    answer_all();
    CHECK(got(&a, (long long[]){1, 2, 3, 4, 5}, 5), "drained: it continues from the log at its own pace, in order");
    commit("message", NULL);
    notify(r, 6, false);
    CHECK(a.ngot == 6 && a.got[5] == 6 && b.ngot == 6, "caught up: live again");
    router_member_free(r, ma);
    router_member_free(r, mb);
    router_free(r);
}

static void test_replay_paced_by_queue(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100};
    struct member *m = router_member_new(r, &a);
    for (int i = 0; i < 30; i++)
        commit("message", NULL);
    join(r, m, 0);
    answer(LOG_OK); /* a first page of 16 */
    CHECK(a.ngot == 16 && nreads == 0 && a.want_drain, "replay: the next page waits for half the queue to be free");
    for (int i = 0; i < 30 && (nreads || a.want_drain); i++) {
        drain(m, &a);
        answer_all();
    }
    bool in_order = a.ngot == 30;
    for (int i = 0; in_order && i < 30; i++)
        in_order = a.got[i] == i + 1;
    CHECK(in_order, "replay: resumed after each drain, up to the head, in order");
    router_member_free(r, m);
    router_free(r);
}

static void test_removed_mid_replay(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100}, b = {.user = "bob", .cap = 100};
    struct member *ma = router_member_new(r, &a), *mb = router_member_new(r, &b);
    for (int i = 0; i < 3; i++)
        commit("message", NULL);
    join(r, ma, 0);
    CHECK(nreads == 1, "a replay read is in flight");
    router_member_free(r, ma); /* the connection closed meanwhile */
    CHECK(router_rooms(r) == 0, "the room goes with its last member, even with a read in flight");
    answer_all(); /* the late page finds nothing to deliver to (ASan: no use after free) */
    CHECK(a.ngot == 0, "removed mid-replay: the late page is dropped");

    struct member *ma2 = router_member_new(r, &a);
    join(r, ma2, -1);
    join(r, mb, -1);
    answer_all();
    commit("member_removed", "alice");
    notify(r, 4, false);
    CHECK(!router_joined(ma2, "r") && router_joined(mb, "r"),
          "member_removed: the removed user stops receiving the room at once, the others do not");
    CHECK(a.ngot == 1 && b.ngot == 1, "the removal event itself reaches everyone who was a member");
    commit("message", NULL);
    notify(r, 5, false);
    CHECK(a.ngot == 1 && b.ngot == 2, "after the removal, only the remaining members receive the room");

    join(r, ma2, 0);
    answer(LOG_FORBIDDEN); /* no longer a member: the replay is refused */
    CHECK(!router_joined(ma2, "r"), "a replay refused (RT403) stops delivery of the room");
    router_member_free(r, ma2);
    router_member_free(r, mb);
    router_free(r);
}

static void test_listen_lost(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100};
    struct member *m = router_member_new(r, &a);
    commit("message", NULL);
    join(r, m, -1);
    answer_all();
    /* The database went away (this bridge may be reaped meanwhile); events commit unnotified. */
    commit("message", NULL);
    commit("message", NULL);
    log_down = true;
    router_resync(r); /* LISTEN is back, but the pool is not yet */
    CHECK(nreads == 0 && a.ngot == 0, "resync with the pool down: nothing read yet");
    log_down = false;
    router_tick(r);
    CHECK(nreads == 1 && reads[0].user == NULL, "the tick retries the fill");
    answer(LOG_FAILED);
    CHECK(a.ngot == 0, "a failed read delivers nothing");
    router_tick(r);
    answer_all();
    CHECK(got(&a, (long long[]){2, 3}, 2), "after the outage: every unnotified event, once, in order");
    commit("message", NULL);
    notify(r, 4, false);
    CHECK(a.ngot == 3 && a.got[2] == 4, "and live again");
    router_member_free(r, m);
    router_free(r);
}

static void test_signals(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 1}, b = {.user = "bob", .cap = 100};
    struct member *ma = router_member_new(r, &a), *mb = router_member_new(r, &b);
    join(r, ma, -1);
    router_join_begin(r, mb, "r"); /* bob's join has not committed */
    const char *signal = "{\"type\":\"signal\",\"room\":\"r\",\"seq\":-1}";
    struct outbuf *ob = outbuf_new(signal, strlen(signal));
    router_offer_joined(r, "r", ob);
    router_offer_joined(r, "r", ob); /* alice's queue is full now: dropped, no replay for ephemera */
    outbuf_unref(ob);
    CHECK(a.ngot == 1 && b.ngot == 0 && !a.want_drain, "signals: to joined members, dropped when the queue is full");
    CHECK(router_member_rooms(ma) == 1 && strcmp(router_member_room(ma, 0), "r") == 0, "a member lists its rooms");
    router_member_free(r, ma);
    router_member_free(r, mb);
    router_free(r);
}

/* A payload announcing a seq far beyond the log (the forged `seq`): a bounded number of
 * reads, no loop; the next real event is delivered as usual. */
static void notify_text(struct router *r, const char *payload)
{
    struct notify_facts f;
    notify_parse(payload, strlen(payload), &f);
    router_persisted(r, &f, payload, strlen(payload));
    notify_facts_free(&f);
}

static void test_seq_beyond_the_log(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100};
    struct member *m = router_member_new(r, &a);
    commit("message", NULL);
    join(r, m, -1);
    answer_all();
    notify_text(r, "{\"type\":\"event\",\"room\":\"r\",\"seq\":9007199254740000,\"event\":\"message\",\"data\":{}}");
    int answered = 0;
    while (answer(LOG_OK) && answered < 1000)
        answered++;
    CHECK(answered == 1, "a seq the log does not hold: one read, then the room stops filling");
    CHECK(a.ngot == 0, "nothing is delivered for it");
    commit("message", NULL);
    notify(r, 2, false);
    CHECK(got(&a, (long long[]){2}, 1) && nreads == 0, "the next real event is delivered live, without a read");

    /* A flood of announcements beyond the log, each answered: at most ROOM_FILLS_PER_TICK (200)
     * reads until router_tick, however many arrive. */
    int sent = 0;
    for (int i = 0; i < 1000; i++) {
        char p[160];
        snprintf(p, sizeof p, "{\"type\":\"ref\",\"room\":\"r\",\"seq\":%d}", 1000 + i);
        notify_text(r, p);
        while (answer(LOG_OK))
            sent++;
    }
    CHECK(sent <= 200, "at most 200 reads of a room's log per second, whatever the flood");
    router_tick(r);
    commit("message", NULL);
    notify(r, 3, false);
    answer_all();
    CHECK(got(&a, (long long[]){2, 3}, 2), "after the tick, real events flow again");
    router_member_free(r, m);
    router_free(r);
}

/* The race the loop existed for: an event announced while the fill's read is in flight is read again. */
static void test_announced_during_fill(void)
{
    struct router *r = fresh_router();
    struct conn a = {.user = "alice", .cap = 100};
    struct member *m = router_member_new(r, &a);
    commit("message", NULL);
    join(r, m, -1);
    answer_all();
    commit("message", NULL);
    commit("message", NULL);
    notify(r, 3, false); /* 2 was lost: a fill reads after 1 */
    commit("message", NULL);
    notify(r, 4, false); /* committed after the read's snapshot, announced while it is in flight */
    head = 3;
    answer(LOG_OK);
    head = 4;
    CHECK(got(&a, (long long[]){2, 3}, 2) && nreads == 1, "the read missed 4, announced while it was in flight: read again");
    answer_all();
    CHECK(got(&a, (long long[]){2, 3, 4}, 3), "and 4 is delivered");
    router_member_free(r, m);
    router_free(r);
}

int main(void)
{
    log_set_level(LOG_ERROR); /* the failed read's warning is expected */
    test_replay_then_live();
    test_join_without_since();
    test_gap_fill();
    test_slow_consumer();
    test_replay_paced_by_queue();
    test_removed_mid_replay();
    test_listen_lost();
    test_signals();
    test_seq_beyond_the_log();
    test_announced_during_fill();
    return check_done();
}
