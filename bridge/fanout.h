/* fanout: where a NOTIFY payload goes — a room's subscribers, presence coalescing, or every connection. */
#ifndef PGRT_FANOUT_H
#define PGRT_FANOUT_H

#include <stddef.h>

struct bridge;

/* One payload from the LISTEN connection (listener.c hands them here through server.c). */
void fanout_notify(struct bridge *br, const char *payload, size_t len);

#endif
