/* listener: the dedicated LISTEN connection; whether it is up is the bridge's view of the database. */
#ifndef PGRT_LISTENER_H
#define PGRT_LISTENER_H

#include <stdbool.h>

struct bridge;
struct listener;

struct listener *listener_new(struct bridge *br);
void listener_start(struct listener *l);
/* Once a second: re-reads the NOTIFY keys when due (every 10 s, or after an unknown key). */
void listener_tick(struct listener *l);
void listener_free(struct listener *l);
bool listener_up(const struct listener *l);
unsigned long listener_reconnects(const struct listener *l);

#endif
