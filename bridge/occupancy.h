/*
 * occupancy: `occupancy` signals (docs/protocol.md "Presence and occupancy") coalesced per room over
 * --occupancy-interval-ms: a room above its presence threshold gets one signal per join or leave
 * from the database, and its members get at most one per interval, the latest count. It knows no
 * connection and no room index: what it sends goes to a deliver callback.
 */
#ifndef PGRT_OCCUPANCY_H
#define PGRT_OCCUPANCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "outbuf.h"

struct occupancy;

/* Sends one frame to the joined connections of a room. */
typedef void (*occupancy_deliver_fn)(void *ctx, const char *room, struct outbuf *ob);
/* How many connections are joined to the room here (what one delivery costs, in frames). */
typedef unsigned (*occupancy_members_fn)(void *ctx, const char *room);

/* A room with more members joined here than this gets its count every interval per this many. */
#define OCCUPANCY_MEMBERS_PER_INTERVAL 1000

/* interval_ms <= 0: no coalescing, each signal is delivered at once. NULL when out of memory. */
struct occupancy *occupancy_new(uv_loop_t *loop, int interval_ms, occupancy_deliver_fn deliver, void *ctx);
/* Lengthens a big room's interval (OCCUPANCY_MEMBERS_PER_INTERVAL); without it every room gets
 * interval_ms. */
void occupancy_scale_by(struct occupancy *o, occupancy_members_fn members, void *ctx);
/* The interval of a room with `members` joined here: interval_ms per started 1,000 (at least one). */
uint64_t occupancy_interval_for(int interval_ms, unsigned members);
/* One occupancy signal (the NOTIFY payload as sent) of a room with local subscribers: it replaces
 * any signal of the room still waiting for the next flush. */
void occupancy_queue(struct occupancy *o, const char *room, const char *payload, size_t len);
/* Delivers the room's waiting signal now, if any: a presence change that follows it must not
 * overtake it. */
void occupancy_flush_room(struct occupancy *o, const char *room);
/* Rooms with a signal waiting (for tests and metrics). */
unsigned occupancy_pending(const struct occupancy *o);
/* Flushes what is pending and closes the timer (shutdown, before the loop ends). */
void occupancy_stop(struct occupancy *o);
void occupancy_free(struct occupancy *o);

#endif
