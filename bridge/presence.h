/*
 * presence: presence changes coalesced per room over --presence-interval-ms (docs/protocol.md
 * "presence" and "presence_batch"). It knows no connection and no room index: what it sends goes
 * to a deliver callback (server.c wires it to router_offer_joined).
 */
#ifndef PGRT_PRESENCE_H
#define PGRT_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "outbuf.h"

struct presence;

/* Sends one frame to the joined connections of a room. */
typedef void (*presence_deliver_fn)(void *ctx, const char *room, struct outbuf *ob);

/* interval_ms <= 0: no coalescing, each change is delivered at once. */
struct presence *presence_new(uv_loop_t *loop, int interval_ms, presence_deliver_fn deliver, void *ctx);
/* One change (the NOTIFY payload as sent, and what it says) of a room with local subscribers. */
void presence_queue(struct presence *p, const char *room, const char *user, bool joined, const char *payload,
                    size_t len);
/* Delivers the room's pending changes now, if any (an occupancy signal that follows them must not
 * overtake them: docs/protocol.md "Presence and occupancy"). */
void presence_flush_room(struct presence *p, const char *room);
/* Flushes what is pending and closes the timer (shutdown, before the loop ends). */
void presence_stop(struct presence *p);
void presence_free(struct presence *p);

#endif
