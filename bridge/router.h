/* router: which local sessions are joined to which rooms, and the gap-free delivery of each room's events. */
#ifndef PGRT_ROUTER_H
#define PGRT_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct bridge;
struct router;
struct session;
struct sub;

struct router *router_new(struct bridge *br);
/* Flushes pending presence and closes the router's timer (shutdown, before the loop ends). */
void router_stop(struct router *r);
void router_free(struct router *r);

/* A join was sent for (session, room): until it completes, no live event reaches that pair. */
struct sub *router_join_begin(struct router *r, struct session *s, const char *room);
/*
 * The join committed with the room's latest seq `head`; since < 0 means "no replay". Replays
 * since+1..head (and whatever followed) from the log, then the session receives the live stream.
 */
void router_join_done(struct router *r, struct session *s, const char *room, long long head, long long since);
/* The join failed, or the session left: stop delivering that room to the session. */
void router_leave(struct router *r, struct session *s, const char *room);
/* The session closed: forget all of its rooms. */
void router_session_gone(struct router *r, struct session *s);
bool router_joined(const struct session *s, const char *room);
const char *router_sub_room(const struct sub *sub);

/* A NOTIFY payload from the LISTEN connection. */
void router_notify(struct router *r, const char *payload, size_t len);
/* LISTEN was (re)established: notifications of the gap are lost, fill every room from the log. */
void router_resync(struct router *r);
/* Once a second: retries fetches that failed while the database was away. */
void router_tick(struct router *r);

unsigned router_rooms(const struct router *r);

/* The session's send queue drained below half: resume the replays that were waiting for it. */
void router_session_drained(struct session *s);

#endif
