/* acceptor: the bridge's own SO_REUSEPORT listening socket; accepted sockets are handed to lws. */
#ifndef PGRT_ACCEPTOR_H
#define PGRT_ACCEPTOR_H

struct bridge;
struct acceptor;

/* Binds host:port with SO_REUSEPORT (several bridges may share one port). NULL on failure, logged. */
struct acceptor *acceptor_open(struct bridge *br);
/* Stops accepting (shutdown: the kernel sends new connections to the other bridges on the port). */
void acceptor_close(struct acceptor *a);

#endif
