/* acceptor: the bridge's own SO_REUSEPORT listening socket; accepted sockets are handed to lws. */
#ifndef PGRT_ACCEPTOR_H
#define PGRT_ACCEPTOR_H

#include <libwebsockets.h>
#include <stdbool.h>

struct bridge;
struct acceptor;

/*
 * An accepted socket counts as a pending handshake (pgrt_handshakes_pending) until its first
 * request is complete or it closes. Ends that for wsi (abandoned: it closed first, counted in
 * pgrt_handshakes_abandoned_total); false if wsi was not pending.
 */
bool acceptor_handshake_end(struct lws *wsi, bool abandoned);

/* Binds host:port with SO_REUSEPORT (several bridges may share one port). NULL on failure, logged. */
struct acceptor *acceptor_open(struct bridge *br);
/* Stops accepting (shutdown: the kernel sends new connections to the other bridges on the port). */
void acceptor_close(struct acceptor *a);

#endif
