/* eventlog: the router's reader of a room's event log (rt.events_since), over the pool. */
#ifndef PGRT_EVENTLOG_H
#define PGRT_EVENTLOG_H

#include "router.h"

struct pool;

/* struct router_log's read, with ctx the pool. */
bool eventlog_read(void *pool, const char *room, long long after, int limit, const char *user, log_done_fn done,
                   void *cb_ctx);

#endif
