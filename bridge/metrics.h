/* metrics: process-wide counters and the command latency histogram, rendered for Prometheus. */
#ifndef PGRT_METRICS_H
#define PGRT_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What metrics_render reports as gauges: read from the modules that own them (server.c gathers them). */
struct metrics_gauges {
    unsigned connections;      /* open, not being closed */
    unsigned rooms;            /* rooms with a local subscriber */
    bool db_up;
    unsigned commands_pending; /* queued or in flight to the database */
    unsigned unauthenticated;  /* pgrt.auth connections waiting for their auth frame */
    unsigned long listen_reconnects; /* the LISTEN connection's (the pool counts its own) */
};

void metrics_frame_in(void);
void metrics_frame_out(void);
void metrics_socket_write(void);
void metrics_socket_write_wait(void);
/* A command finished: frame is the client's frame (its type is read from it), ok/body from rt.batch. */
void metrics_command_done(const char *frame, size_t frame_len, bool ok, const char *body,
                          unsigned long long started_us);
/* A command answered by the bridge itself (ping, auth, refused before the database). */
void metrics_command_local(const char *type, const char *outcome);
/* One rt.batch call carrying `commands` client commands. */
void metrics_batch(unsigned commands);
void metrics_db_reconnect(void);
void metrics_slow_consumer(void);
void metrics_rate_limited(void);
/* An rt.batch call failed as a whole; its `commands` are sent again one by one. */
void metrics_batch_split(unsigned commands);
void metrics_gap_fill(void);
/* A gap fill found nothing of what was announced (a seq the log does not hold): it stopped. */
void metrics_gap_fill_unresolved(void);
/* A room used its fills of this second: the next one waits for router_tick. */
void metrics_gap_fill_deferred(void);

/*
 * Why an upgrade, or a pgrt.auth connection at its auth frame, was refused
 * (pgrt_upgrades_refused_total{reason}). The last three happen only to pgrt.auth connections.
 */
enum refusal {
    REFUSED_FULL,
    REFUSED_PER_USER,
    REFUSED_AUTH,
    REFUSED_ORIGIN,
    REFUSED_MAINTENANCE,
    REFUSED_RATE_LIMIT,
    REFUSED_UNAUTHENTICATED, /* --max-unauthenticated-connections: 503 */
    REFUSED_FIRST_FRAME,     /* the first frame was not an auth frame: 4000 */
    REFUSED_AUTH_TIMEOUT,    /* no auth frame within --handshake-timeout: 4008 */
};
void metrics_upgrade_refused(enum refusal why);
/* A connection was accepted / sent its first whole request or closed before it (abandoned: true). */
void metrics_handshake_begin(void);
void metrics_handshake_end(bool abandoned);
/* A NOTIFY payload's tag was checked (notify_auth.h): ok, or why it was dropped. */
void metrics_notify_auth(int result);
/* A NOTIFY arrived: its `at` gives the lag from commit to here. */
void metrics_notify(json_t *frame);

unsigned long long metrics_now_us(void);

/* The exposition text (caller frees). */
char *metrics_render(const struct metrics_gauges *g, size_t *len);

#endif
