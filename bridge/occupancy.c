/*
 * occupancy: the latest `occupancy` signal of each room, held until the next tick of one timer.
 * A room filling up sends one signal per join; what its members need is the count, a few times a
 * second, so the newest payload replaces the waiting one and the tick delivers it. Pending rooms
 * are few (those that changed within one interval): a small chained hash finds them.
 *
 * Each delivery is one frame per member joined here, so a room of thousands gets its count less
 * often: every interval per OCCUPANCY_MEMBERS_PER_INTERVAL members (docs/protocol.md "Presence and
 * occupancy"). A room is remembered after a delivery until its interval has passed, so that the
 * next signal waits for the rest of it.
 */
#include "occupancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_BUCKETS 1024

struct pending {
    struct pending *next;
    struct outbuf *ob;  /* the latest signal, or NULL: delivered, remembered until its interval ends */
    uint64_t sent_ms;   /* the last delivery (loop time), 0: none yet */
    char room[72];
};

struct occupancy {
    uv_timer_t timer;
    bool timer_ready;
    int interval_ms;
    occupancy_deliver_fn deliver;
    void *ctx;
    occupancy_members_fn members; /* NULL: every room gets the plain interval */
    void *members_ctx;
    struct pending *buckets[PENDING_BUCKETS];
    unsigned npending; /* entries with a signal waiting */
    unsigned nentries; /* and those only remembered */
};

static unsigned bucket_of(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % PENDING_BUCKETS;
}

struct occupancy *occupancy_new(uv_loop_t *loop, int interval_ms, occupancy_deliver_fn deliver, void *ctx)
{
    struct occupancy *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->interval_ms = interval_ms;
    o->deliver = deliver;
    o->ctx = ctx;
    if (interval_ms > 0 && loop && uv_timer_init(loop, &o->timer) == 0) {
        o->timer.data = o;
        o->timer_ready = true;
    }
    return o;
}

static void deliver_now(struct occupancy *o, const char *room, const char *payload, size_t len)
{
    struct outbuf *ob = outbuf_new(payload, len);
    if (ob)
        o->deliver(o->ctx, room, ob);
    outbuf_unref(ob);
}

void occupancy_scale_by(struct occupancy *o, occupancy_members_fn members, void *ctx)
{
    o->members = members;
    o->members_ctx = ctx;
}

uint64_t occupancy_interval_for(int interval_ms, unsigned members)
{
    unsigned steps = (members + OCCUPANCY_MEMBERS_PER_INTERVAL - 1) / OCCUPANCY_MEMBERS_PER_INTERVAL;
    return (uint64_t)interval_ms * (steps > 1 ? steps : 1);
}

/* Delivers the entry's signal (if any) and leaves it remembered. */
static void deliver_entry(struct occupancy *o, struct pending *p, uint64_t now)
{
    if (!p->ob)
        return;
    struct outbuf *ob = p->ob;
    p->ob = NULL;
    p->sent_ms = now;
    o->npending--;
    o->deliver(o->ctx, p->room, ob);
    outbuf_unref(ob);
}

/* Delivers what is due (all of it with `all`); forgets rooms whose interval has passed quietly. */
static void flush(struct occupancy *o, bool all)
{
    uint64_t now = o->timer_ready ? uv_now(o->timer.loop) : 0;
    for (unsigned b = 0; b < PENDING_BUCKETS && o->nentries; b++) {
        for (struct pending **slot = &o->buckets[b]; *slot;) {
            struct pending *p = *slot;
            unsigned members = o->members ? o->members(o->members_ctx, p->room) : 0;
            bool due = all || !p->sent_ms || now - p->sent_ms >= occupancy_interval_for(o->interval_ms, members);
            if (p->ob && due) {
                deliver_entry(o, p, now);
            } else if (!p->ob && due) {
                *slot = p->next;
                o->nentries--;
                free(p);
                continue;
            }
            slot = &p->next;
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    struct occupancy *o = t->data;
    flush(o, false);
    if (!o->nentries)
        uv_timer_stop(&o->timer); /* idle rooms cost no wake-up; the next signal starts it again */
}

void occupancy_queue(struct occupancy *o, const char *room, const char *payload, size_t len)
{
    if (!o->timer_ready) {
        deliver_now(o, room, payload, len);
        return;
    }
    struct outbuf *ob = outbuf_new(payload, len);
    if (!ob)
        return; /* out of memory: this count is skipped, the next one says more */
    struct pending **slot = &o->buckets[bucket_of(room)];
    for (struct pending *p = *slot; p; p = p->next)
        if (strcmp(p->room, room) == 0) {
            if (p->ob)
                outbuf_unref(p->ob);
            else
                o->npending++;
            p->ob = ob;
            return;
        }
    struct pending *p = calloc(1, sizeof *p);
    if (!p) {
        o->deliver(o->ctx, room, ob);
        outbuf_unref(ob);
        return;
    }
    snprintf(p->room, sizeof p->room, "%s", room);
    p->ob = ob;
    p->next = *slot;
    *slot = p;
    o->npending++;
    if (o->nentries++ == 0 && !uv_is_active((uv_handle_t *)&o->timer))
        uv_timer_start(&o->timer, on_tick, (uint64_t)o->interval_ms, (uint64_t)o->interval_ms);
}

void occupancy_flush_room(struct occupancy *o, const char *room)
{
    if (!o->npending)
        return;
    for (struct pending *p = o->buckets[bucket_of(room)]; p; p = p->next)
        if (strcmp(p->room, room) == 0) {
            deliver_entry(o, p, o->timer_ready ? uv_now(o->timer.loop) : 0);
            return;
        }
}

unsigned occupancy_pending(const struct occupancy *o) { return o->npending; }

void occupancy_stop(struct occupancy *o)
{
    if (!o)
        return;
    flush(o, true);
    if (o->timer_ready) {
        o->timer_ready = false;
        uv_close((uv_handle_t *)&o->timer, NULL);
    }
}

void occupancy_free(struct occupancy *o)
{
    if (!o)
        return;
    for (unsigned b = 0; b < PENDING_BUCKETS; b++)
        for (struct pending *p = o->buckets[b], *next; p; p = next) {
            next = p->next;
            if (p->ob)
                outbuf_unref(p->ob);
            free(p);
        }
    free(o);
}
