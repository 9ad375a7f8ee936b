/* frames: what a client frame asks for, validated only as far as routing needs; the rest is SQL's. */
#ifndef PGRT_FRAMES_H
#define PGRT_FRAMES_H

#include <stddef.h>

struct session;
struct bridge;

/* Handles one complete client frame (not NUL-terminated). Never closes the connection for bad input. */
void frames_handle(struct session *s, const char *text, size_t len);

/* A binary frame arrived: pgrt speaks JSON in text frames only. */
void frames_refuse_binary(struct session *s);

/* Re-records the presence of every joined connection (after this bridge was reaped). */
void frames_rejoin_all(struct bridge *br);

#endif
