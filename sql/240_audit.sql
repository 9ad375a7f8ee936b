-- The audit trail (table rt.audit, migrations/0040_audit_retention.sql): who changed membership,
-- roles, room state, title/meta, retention or legal holds, and who erased a user, and when.
-- docs/sql-api.md "Audit trail".
--
-- Changes that append an event are recorded by the trigger on rt.events (sql/265_event_appended.sql),
-- so no write function needs an extra statement and none can forget one; the functions of
-- 230_retention.sql and 270_erase.sql, which append no event of their own kind, call rt.audit_write().

-- rt.audit_write: one audit row (internal).
CREATE OR REPLACE FUNCTION rt.audit_write(action text, room text, actor text, detail jsonb, seq bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO rt.audit (action, room, actor, seq, detail)
    VALUES (action, room, actor, seq, coalesce(detail, '{}'::jsonb));
END
$$;

COMMENT ON FUNCTION rt.audit_write(text, text, text, jsonb, bigint) IS 'Internal: append one row to the audit trail.';

-- Trigger: the trail is append-only, for the table's owner too (privileges already keep every
-- other role out). Removing this needs DDL, which is itself visible.
CREATE OR REPLACE FUNCTION rt.audit_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'RT403', HINT = 'see docs/sql-api.md "Audit trail"';
END
$$;

COMMENT ON FUNCTION rt.audit_append_only() IS 'Internal trigger: refuse UPDATE, DELETE and TRUNCATE of rt.audit.';

CREATE OR REPLACE TRIGGER audit_no_change
    BEFORE UPDATE OR DELETE ON rt.audit
    FOR EACH ROW EXECUTE FUNCTION rt.audit_append_only();

CREATE OR REPLACE TRIGGER audit_no_truncate
    BEFORE TRUNCATE ON rt.audit
    FOR EACH STATEMENT EXECUTE FUNCTION rt.audit_append_only();

-- rt.audit_log: the trail, oldest first, optionally for one room, after a row id (paging).
CREATE OR REPLACE FUNCTION rt.audit_log(room text DEFAULT NULL, after_id bigint DEFAULT 0, max integer DEFAULT 100)
    RETURNS SETOF rt.audit
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF room IS NOT NULL THEN
        PERFORM rt.check_room_id(room);
    END IF;
    PERFORM rt.check_seq(after_id, 'after_id');
    PERFORM rt.check_limit(max, 'max');
    RETURN QUERY
        SELECT a.* FROM rt.audit a
         WHERE (audit_log.room IS NULL OR a.room = audit_log.room) AND a.id > after_id
         ORDER BY a.id
         LIMIT max;
END
$$;

COMMENT ON FUNCTION rt.audit_log(text, bigint, integer) IS
    'The audit trail (rt_compliance): up to max (1..1000) rows after after_id, oldest first, optionally of one room.';
