/* maintenance: follows the database's maintenance switch (rt.maintenance()); upgrades get 503 while on. */
#ifndef PGRT_MAINTENANCE_H
#define PGRT_MAINTENANCE_H

struct bridge;

/* Re-reads the switch from the database (at LISTEN time, on a `maintenance` frame, every few seconds). */
void maintenance_refresh(struct bridge *br);

#endif
