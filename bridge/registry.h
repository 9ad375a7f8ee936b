/* registry: this bridge's row in rt.bridges — heartbeat, reaping dead bridges, presence cleanup. */
#ifndef PGRT_REGISTRY_H
#define PGRT_REGISTRY_H

#include <stdbool.h>

struct bridge;
struct registry;

/* reaped(ctx) runs when the database forgot this bridge (reaped during an outage): the caller
 * re-records the presence of every joined connection. */
struct registry *registry_new(struct bridge *br, void (*reaped)(void *ctx), void *ctx);
void registry_start(struct registry *reg);
void registry_free(struct registry *reg);

/* A connection that had joined rooms closed: drop its presence (retried if the database is away). */
void registry_disconnect(struct registry *reg, const char *conn_id);

/* Shutdown: remove this bridge and its presence; done(ctx) runs when it completed or failed. */
void registry_stop(struct registry *reg, void (*done)(void *ctx), void *ctx);

#endif
