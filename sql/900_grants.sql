-- Privileges, re-applied on every deploy (after every CREATE OR REPLACE above).
-- Tables are private: nobody but their owner reads or writes them directly. Roles get EXECUTE on
-- the API functions only; those run SECURITY DEFINER with a pinned search_path and do their own
-- permission checks on the acting user. Internal helpers are executable by nobody else.

REVOKE ALL ON SCHEMA rt FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA rt FROM PUBLIC, rt_bridge, rt_service, rt_compliance;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA rt FROM PUBLIC, rt_bridge, rt_service, rt_compliance;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA rt FROM PUBLIC, rt_bridge, rt_service, rt_compliance;

GRANT USAGE ON SCHEMA rt TO rt_bridge, rt_service, rt_compliance;

-- The SQL API of docs/sql-api.md ("Functions") and its companions: services, bots and people.
GRANT EXECUTE ON FUNCTION
    rt.create_room(text, text, text, text, jsonb),
    rt.update_room(text, text, text, jsonb),
    rt.end_room(text, text),
    rt.add_member(text, text, text, text),
    rt.remove_member(text, text, text),
    rt.post_message(text, text, text, text, jsonb, text),
    rt.edit_message(text, text, bigint, text),
    rt.delete_message(text, text, bigint),
    rt.publish(text, text, text, jsonb),
    rt.signal(text, text, text, jsonb),
    rt.transition(text, text, text, integer),
    rt.mark_read(text, text, bigint),
    rt.history(text, bigint, integer, text),
    rt.events_since(text, bigint, integer, text),
    rt.notify_user(text, text, jsonb),
    rt.broadcast(text, jsonb),
    rt.get_prefs(text),
    rt.set_prefs(text, jsonb),
    rt.occupancy(text, text),
    rt.roster(text, text, text, integer),
    rt.set_presence_threshold(text, text, integer),
    rt.room_channel(text),
    rt.system_channel(),
    rt.channels(),
    rt.error_code_map(),
    rt.error_body(text, text),
    rt.schema_version()
TO rt_service;

-- What a bridge calls: client frames, presence and bridge registration, replay and reference
-- resolution, admin broadcasts, retention, and the channel / error tables.
GRANT EXECUTE ON FUNCTION
    rt.dispatch(text, text, text, jsonb),
    rt.batch(text, jsonb),
    rt.disconnect(text, text),
    rt.bridge_heartbeat(text, jsonb),
    rt.bridge_stopped(text),
    rt.reap_bridges(interval),
    rt.prune_events(),
    rt.events_since(text, bigint, integer, text),
    rt.history(text, bigint, integer, text),
    rt.occupancy(text, text),
    rt.roster(text, text, text, integer),
    rt.notify_user(text, text, jsonb),
    rt.broadcast(text, jsonb),
    rt.room_channel(text),
    rt.system_channel(),
    rt.channels(),
    rt.error_code_map(),
    rt.error_body(text, text),
    rt.schema_version(),
    rt.maintenance(),
    rt.notify_keys_for_bridge()
TO rt_bridge;

-- CONNECT was taken from PUBLIC (migrations/0020_notify_auth.sql): only pgrt's roles, and roles the
-- operator grants it to, may connect, and so LISTEN to room channels or NOTIFY (docs/operations.md
-- "Trust model"). Every rt_* role that exists gets it.
DO $connect$
DECLARE
    r text;
BEGIN
    FOR r IN SELECT rolname FROM pg_catalog.pg_roles
              WHERE rolname IN ('rt_bridge', 'rt_service', 'rt_compliance') ORDER BY rolname LOOP
        EXECUTE pg_catalog.format('GRANT CONNECT ON DATABASE %I TO %I', pg_catalog.current_database(), r);
    END LOOP;
END
$connect$;

-- Maintenance mode: read by services too; switched by the operator (the owner) or rt_service.
GRANT EXECUTE ON FUNCTION rt.maintenance(), rt.set_maintenance(boolean, text) TO rt_service;

-- Retention, export and search (docs/sql-api.md "Retention and legal holds", "Export", "Search"):
-- the same rights as history, checked on the named actor.
GRANT EXECUTE ON FUNCTION
    rt.retention_policy(text, text),
    rt.set_room_retention(text, integer, bigint, text, boolean),
    rt.export_room(text, bigint, text),
    rt.search(text, text, text, timestamptz, integer),
    rt.set_room_search(text, text, text, boolean)
TO rt_service;

-- Compliance (docs/sql-api.md "Audit trail"): operators and compliance services, never room owners.
-- The audit trail is readable with plain SELECT too; nobody holds UPDATE, DELETE or TRUNCATE on it.
GRANT EXECUTE ON FUNCTION
    rt.audit_log(text, bigint, integer),
    rt.set_kind_retention(text, integer, bigint, boolean),
    rt.place_legal_hold(text, text, text, text),
    rt.release_legal_hold(text, text, text),
    rt.erase_user(text, text),
    rt.retention_policy(text, text),
    rt.export_room(text, bigint, text)
TO rt_compliance;
GRANT SELECT ON rt.audit TO rt_compliance;
