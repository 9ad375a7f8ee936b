/*
 * presence: a quiet room sees every change as its own `presence` frame, in order, as
 * docs/protocol.md shapes it; a burst (a room filling up: more than PRESENCE_SINGLE_MAX changes in
 * one interval) goes out as one `presence_batch` event with each user's latest status, instead of
 * one frame per change per member. Only rooms with pending changes have state here, freed at
 * each flush.
 */
#include "presence.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRESENCE_SINGLE_MAX 8 /* up to this many changes per interval go out as plain presence frames */
#define PRESENCE_MAX_PENDING 4096 /* users per room per interval; past it, changes go out at once */
#define PENDING_BUCKETS 256

/* One user's latest presence status within the current interval. */
struct presence_change {
    char user[132];
    bool joined;
};

/* A room with changes waiting for the next flush. */
struct pending_room {
    struct pending_room *next;
    char id[72];
    struct presence_change *changes; /* per user */
    unsigned nchanges_users, cap;
    struct outbuf *recent[PRESENCE_SINGLE_MAX]; /* the first changes of the interval, as sent, in order */
    unsigned nrecent, nchanges;
};

struct presence {
    presence_deliver_fn deliver;
    void *ctx;
    struct pending_room *pending[PENDING_BUCKETS]; /* by a hash of the room id */
    uv_timer_t timer;
    bool timer_ready;
};

static unsigned bucket(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % PENDING_BUCKETS;
}

static struct pending_room *pending_get(struct presence *p, const char *room)
{
    struct pending_room **head = &p->pending[bucket(room)];
    for (struct pending_room *pr = *head; pr; pr = pr->next)
        if (strcmp(pr->id, room) == 0)
            return pr;
    struct pending_room *pr = calloc(1, sizeof *pr);
    if (!pr)
        return NULL;
    snprintf(pr->id, sizeof pr->id, "%s", room);
    pr->next = *head;
    *head = pr;
    return pr;
}

static struct presence_change *change_get(struct pending_room *pr, const char *user)
{
    for (unsigned i = 0; i < pr->nchanges_users; i++)
        if (strcmp(pr->changes[i].user, user) == 0)
            return &pr->changes[i];
    if (pr->nchanges_users == PRESENCE_MAX_PENDING)
        return NULL;
    if (pr->nchanges_users == pr->cap) {
        unsigned cap = pr->cap ? pr->cap * 2 : 8;
        struct presence_change *grown = realloc(pr->changes, cap * sizeof *grown);
        if (!grown)
            return NULL;
        pr->changes = grown;
        pr->cap = cap;
    }
    struct presence_change *c = &pr->changes[pr->nchanges_users++];
    memset(c, 0, sizeof *c);
    snprintf(c->user, sizeof c->user, "%s", user);
    return c;
}

static void deliver_now(struct presence *p, const char *room, const char *payload, size_t len)
{
    struct outbuf *ob = outbuf_new(payload, len);
    if (ob)
        p->deliver(p->ctx, room, ob);
    outbuf_unref(ob);
}

void presence_queue(struct presence *p, const char *room, const char *user, bool joined, const char *payload,
                    size_t len)
{
    struct pending_room *pr = p->timer_ready ? pending_get(p, room) : NULL;
    struct presence_change *c = pr ? change_get(pr, user) : NULL;
    if (!c) { /* no coalescing, or too many users at once: as it came */
        deliver_now(p, room, payload, len);
        return;
    }
    c->joined = joined;
    if (pr->nrecent < PRESENCE_SINGLE_MAX)
        pr->recent[pr->nrecent++] = outbuf_new(payload, len);
    pr->nchanges++;
}

static struct outbuf *batch_frame(const struct pending_room *pr)
{
    json_t *joined = json_array(), *left = json_array();
    for (unsigned i = 0; i < pr->nchanges_users; i++)
        json_array_append_new(pr->changes[i].joined ? joined : left, json_string(pr->changes[i].user));
    char at[40];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(at, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(at + 19, sizeof at - 19, ".%06ldZ", ts.tv_nsec / 1000);
    return outbuf_from_json(json_pack("{s:s, s:s, s:s, s:n, s:s, s:{s:o, s:o}}", "type", "event", "room", pr->id,
                                      "event", "presence_batch", "actor", "at", at, "data", "joined", joined, "left",
                                      left));
}

static void flush_room(struct presence *p, struct pending_room *pr, bool send)
{
    if (!send) {
        /* freeing: the connections are gone */
    } else if (pr->nchanges <= PRESENCE_SINGLE_MAX) {
        for (unsigned i = 0; i < pr->nrecent; i++)
            if (pr->recent[i])
                p->deliver(p->ctx, pr->id, pr->recent[i]);
    } else {
        struct outbuf *ob = batch_frame(pr);
        if (ob)
            p->deliver(p->ctx, pr->id, ob);
        outbuf_unref(ob);
    }
    for (unsigned i = 0; i < pr->nrecent; i++)
        outbuf_unref(pr->recent[i]);
    free(pr->changes);
    free(pr);
}

static void flush_all(struct presence *p, bool send)
{
    for (unsigned b = 0; b < PENDING_BUCKETS; b++) {
        struct pending_room *pr = p->pending[b];
        p->pending[b] = NULL;
        while (pr) {
            struct pending_room *next = pr->next;
            flush_room(p, pr, send);
            pr = next;
        }
    }
}

void presence_flush_room(struct presence *p, const char *room)
{
    for (struct pending_room **slot = &p->pending[bucket(room)]; *slot; slot = &(*slot)->next)
        if (strcmp((*slot)->id, room) == 0) {
            struct pending_room *pr = *slot;
            *slot = pr->next;
            flush_room(p, pr, true);
            return;
        }
}

static void on_timer(uv_timer_t *t) { flush_all(t->data, true); }

struct presence *presence_new(uv_loop_t *loop, int interval_ms, presence_deliver_fn deliver, void *ctx)
{
    struct presence *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->deliver = deliver;
    p->ctx = ctx;
    if (interval_ms > 0) {
        uv_timer_init(loop, &p->timer);
        p->timer.data = p;
        uv_timer_start(&p->timer, on_timer, (uint64_t)interval_ms, (uint64_t)interval_ms);
        p->timer_ready = true;
    }
    return p;
}

void presence_stop(struct presence *p)
{
    if (p && p->timer_ready) {
        p->timer_ready = false;
        flush_all(p, true);
        uv_close((uv_handle_t *)&p->timer, NULL);
    }
}

/* After the loop ran (the timer's close completed); anything still pending is dropped. */
void presence_free(struct presence *p)
{
    if (!p)
        return;
    flush_all(p, false);
    free(p);
}
