/*
 * occupancy: the latest `occupancy` signal of each room, held until the next tick of one timer.
 * A room filling up sends one signal per join; what its members need is the count, a few times a
 * second, so the newest payload replaces the waiting one and the tick delivers it. Pending rooms
 * are few (those that changed within one interval): a small chained hash finds them.
 */
#include "occupancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_BUCKETS 1024

struct pending {
    struct pending *next;
    struct outbuf *ob;
    char room[72];
};

struct occupancy {
    uv_timer_t timer;
    bool timer_ready;
    int interval_ms;
    occupancy_deliver_fn deliver;
    void *ctx;
    struct pending *buckets[PENDING_BUCKETS];
    unsigned npending;
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

/* Delivers and frees every waiting signal. */
static void flush_all(struct occupancy *o)
{
    for (unsigned b = 0; b < PENDING_BUCKETS && o->npending; b++) {
        struct pending *p = o->buckets[b];
        o->buckets[b] = NULL;
        while (p) {
            struct pending *next = p->next;
            o->deliver(o->ctx, p->room, p->ob);
            outbuf_unref(p->ob);
            free(p);
            o->npending--;
            p = next;
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    struct occupancy *o = t->data;
    flush_all(o);
    if (!o->npending)
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
            outbuf_unref(p->ob);
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
    if (o->npending++ == 0 && !uv_is_active((uv_handle_t *)&o->timer))
        uv_timer_start(&o->timer, on_tick, (uint64_t)o->interval_ms, (uint64_t)o->interval_ms);
}

void occupancy_flush_room(struct occupancy *o, const char *room)
{
    if (!o->npending)
        return;
    for (struct pending **slot = &o->buckets[bucket_of(room)]; *slot; slot = &(*slot)->next)
        if (strcmp((*slot)->room, room) == 0) {
            struct pending *p = *slot;
            *slot = p->next;
            o->npending--;
            o->deliver(o->ctx, p->room, p->ob);
            outbuf_unref(p->ob);
            free(p);
            return;
        }
}

unsigned occupancy_pending(const struct occupancy *o) { return o->npending; }

void occupancy_stop(struct occupancy *o)
{
    if (!o)
        return;
    flush_all(o);
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
            outbuf_unref(p->ob);
            free(p);
        }
    free(o);
}
