/* listener: the dedicated LISTEN connection; whether it is up is the bridge's view of the database. */
#ifndef PGRT_LISTENER_H
#define PGRT_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

struct bridge;
struct listener;

/* What the listener reports (server.c wires them); it knows no module above the database layer. */
struct listener_events {
    /* One NOTIFY payload (NUL-terminated, len bytes), in the order the database sent them. */
    void (*notify)(void *ctx, const char *payload, size_t len);
    /* LISTEN is (re)established: whatever was sent while it was down is lost. */
    void (*up)(void *ctx);
    void *ctx;
};

struct listener *listener_new(struct bridge *br, const struct listener_events *events);
void listener_start(struct listener *l);
/* Once a second: re-reads the NOTIFY keys when due (every 10 s, or after an unknown key). */
void listener_tick(struct listener *l);
void listener_free(struct listener *l);
bool listener_up(const struct listener *l);
unsigned long listener_reconnects(const struct listener *l);

#endif
