/*
 * statements: every SQL statement the bridge sends, in one place (the functions are specified in
 * docs/sql-api.md). Only rt.* functions are called; no business rule lives in these strings.
 */
#ifndef PGRT_STATEMENTS_H
#define PGRT_STATEMENTS_H

/* Client commands, prepared as "batch" on every pool connection (pool.c). */
#define SQL_BATCH "SELECT i, ok, body FROM rt.batch($1, $2::jsonb)"
#define SQL_BATCH_NAME "batch"

/* The LISTEN connection's first query: one LISTEN statement for every channel (listener.c). */
/* The LISTEN statement for rt.channels(), and (second result) the keys every payload is verified with. */
#define SQL_NOTIFY_KEYS "SELECT id, secret FROM rt.notify_keys_for_bridge()"
#define SQL_LISTEN_CHANNELS "SELECT string_agg(format('LISTEN %I', c), '; ') FROM rt.channels() AS c; " SQL_NOTIFY_KEYS

/* Reading a room's event log (eventlog.c): as the trusted bridge (a gap fill), or as a user (a replay). */
#define SQL_EVENTS_SINCE "SELECT e::text, (e ->> 'seq')::bigint FROM rt.events_since($1, $2::bigint, $3::int) AS e"
#define SQL_EVENTS_SINCE_AS_USER \
    "SELECT e::text, (e ->> 'seq')::bigint FROM rt.events_since($1, $2::bigint, $3::int, $4) AS e"

/* This bridge's row in rt.bridges and the presence of its connections (registry.c). */
#define SQL_BRIDGE_HEARTBEAT "SELECT rt.bridge_heartbeat($1, $2::jsonb)"
#define SQL_REAP_BRIDGES "SELECT rt.reap_bridges($1::interval)"
#define SQL_DISCONNECT "SELECT rt.disconnect($1, $2)"
#define SQL_BRIDGE_STOPPED "SELECT rt.bridge_stopped($1)"

/* The maintenance switch (maintenance.c). */
#define SQL_MAINTENANCE "SELECT rt.maintenance()::text"

/* POST /admin/broadcast (admin.c). */
#define SQL_BROADCAST "SELECT rt.broadcast($1, $2::jsonb)"

#endif
