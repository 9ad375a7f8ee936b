/* migrate: applies migrations/ once each, in order, then re-applies sql/, under an advisory lock. */
#ifndef PGRT_MIGRATE_H
#define PGRT_MIGRATE_H

#include "config.h"

/* Blocking by design: it runs as its own command (`rt-bridge migrate`), never inside the event loop.
 * Returns 0 on success; on failure logs what went wrong and returns -1. */
int migrate_run(const struct config *cfg);

#endif
