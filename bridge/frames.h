/*
 * frames: what a client frame asks for, and the connection's command state (the commands waiting
 * behind the one in the database). The transport (session.c) reaches it through session_ops,
 * which server.c wires to the functions below; `app` is what frames_open returned.
 */
#ifndef PGRT_FRAMES_H
#define PGRT_FRAMES_H

#include <stdbool.h>
#include <stddef.h>

struct session;
struct bridge;
struct member;

/* A connection was accepted: its command state and its router member. NULL when out of memory. */
void *frames_open(struct session *s);
/* Handles one complete client frame (not NUL-terminated). Never closes the connection for bad input. */
void frames_handle(void *app, const char *text, size_t len);
/* A binary frame arrived: pgrt speaks JSON in text frames only. */
void frames_refuse_binary(void *app);
/* The connection's send queue drained: replays waiting for it resume. */
void frames_drained(void *app);
/* The connection closed: leaves its rooms, drops its presence; freed once no command refers to it. */
void frames_gone(void *app);
/* Commands sent and not yet answered (a 1001/4001 close waits for their replies). */
bool frames_owes_replies(void *app);

/* The connection's rooms (admin lists them). */
const struct member *frames_member(const void *app);
/* Shutdown past the grace period: every connection leaves its rooms before anything is freed. */
void frames_leave_all(struct bridge *br);
/* Re-records the presence of every joined connection (after this bridge was reaped). */
void frames_rejoin_all(struct bridge *br);

#endif
