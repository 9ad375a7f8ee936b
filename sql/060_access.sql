-- Finding a room on behalf of an actor, checking that actor's right, and appending events.
-- Every room function goes through rt.room_for() so the visibility rule is the same everywhere:
-- with an actor named, a missing room and a room the actor is not in look identical (FORBIDDEN);
-- without one (a trusted backend call), a missing room is NOT_FOUND.

-- These two are PL/pgSQL, not SQL, because every command calls them: see rt.setting() in
-- 020_settings.sql.
CREATE OR REPLACE FUNCTION rt.has_right(role text, right_name text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM rt.role_rights rr
                    WHERE rr.role = has_right.role AND rr.right_name = has_right.right_name);
END
$$;

COMMENT ON FUNCTION rt.has_right(text, text) IS 'Internal: whether a member role holds a right.';

CREATE OR REPLACE FUNCTION rt.member_role(room text, user_id text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT m.role FROM rt.members m WHERE m.room = member_role.room AND m.user_id = member_role.user_id);
END
$$;

COMMENT ON FUNCTION rt.member_role(text, text) IS 'Internal: a member''s role in a room, NULL when not a member.';

-- The visibility and rights rule, as a value (NULL: allowed). role is the actor's role in the room
-- (NULL when the actor is not a member or the room does not exist: the same words either way);
-- holds_right whether that role holds right_name. The set-based write path (sql/215_send.sql) asks
-- this for every command at once; rt.room_for raises it for single calls.
CREATE OR REPLACE FUNCTION rt.access_problem(actor text, room text, role text, holds_right boolean, right_name text)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF role IS NULL THEN
        RETURN rt.problem('FORBIDDEN', format('%s is not a member of room %s', actor, room));
    ELSIF NOT holds_right THEN
        RETURN rt.problem('FORBIDDEN', format('a %s of room %s may not %s', role, room, replace(right_name, '_', ' ')));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.access_problem(text, text, text, boolean, text) IS
    'Internal: FORBIDDEN unless the actor is a member whose role holds the right (as a value).';

-- rt.room_for: the room row, after checking that `actor` (when not NULL) holds `right_name` in it.
-- With lock, the row is locked FOR NO KEY UPDATE first: that lock serializes every write to the room
-- (seq assignment, state moves, presence changes) and the checks below then see the latest state.
-- NO KEY UPDATE rather than UPDATE so that the KEY SHARE locks of foreign keys (events, members,
-- presence referencing the room) never wait on it.
CREATE OR REPLACE FUNCTION rt.room_for(room text, actor text, right_name text, lock boolean)
    RETURNS rt.rooms
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r      rt.rooms;
    v_role text;
BEGIN
    IF lock THEN
        SELECT * INTO r FROM rt.rooms WHERE id = room_for.room FOR NO KEY UPDATE;
    ELSE
        SELECT * INTO r FROM rt.rooms WHERE id = room_for.room;
    END IF;
    IF actor IS NULL THEN
        IF r.id IS NULL THEN
            PERFORM rt.raise('NOT_FOUND', format('room %s does not exist', room));
        END IF;
        RETURN r;
    END IF;
    IF r.id IS NOT NULL THEN
        v_role := rt.member_role(room, actor);
    END IF;
    PERFORM rt.raise_problem(rt.access_problem(actor, room, v_role,
                                               v_role IS NOT NULL AND rt.has_right(v_role, right_name), right_name));
    RETURN r;
END
$$;

COMMENT ON FUNCTION rt.room_for(text, text, text, boolean) IS
    'Internal: the room, checked for the actor''s right (FORBIDDEN / NOT_FOUND), optionally locked.';

-- Writes to an ended room are refused with CONFLICT; reads keep working.
CREATE OR REPLACE FUNCTION rt.open_problem(room text, ended_at timestamptz) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF ended_at IS NOT NULL THEN
        RETURN rt.problem('CONFLICT', format('room %s has ended', room), detail => 'an ended room is read-only');
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.open_problem(text, timestamptz) IS 'Internal: CONFLICT when the room has ended (as a value).';

CREATE OR REPLACE FUNCTION rt.ensure_open(r rt.rooms) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM rt.raise_problem(rt.open_problem(r.id, r.ended_at)); END $$;

COMMENT ON FUNCTION rt.ensure_open(rt.rooms) IS 'Internal: CONFLICT when the room has ended.';

-- The size limit of a stored event, checked on its final wire JSON (max_bytes: max_event_bytes).
CREATE OR REPLACE FUNCTION rt.event_size_problem(event jsonb, max_bytes integer) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bytes integer := octet_length(event::text);
BEGIN
    IF v_bytes > max_bytes THEN
        RETURN rt.problem('TOO_LARGE', format('the event would be %s bytes; the limit is %s', v_bytes, max_bytes),
                          hint => 'the limit is the setting max_event_bytes');
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.event_size_problem(jsonb, integer) IS
    'Internal: TOO_LARGE when an event''s wire JSON exceeds max_bytes (as a value).';

-- rt.append_event: store one event with the room's next seq and NOTIFY it. The caller holds the room
-- lock (rt.room_for(..., lock => true)). The size limit is checked on the final wire JSON, before
-- anything is written. Returns the event in wire shape.
CREATE OR REPLACE FUNCTION rt.append_event(room text, event text, actor text, data jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_seq   bigint;
    -- Taken after the room lock, so `at` follows seq order within a room.
    v_at    timestamptz := clock_timestamp();
    v_event jsonb;
    v_max   integer := rt.setting_int('max_event_bytes');
BEGIN
    SELECT r.last_seq + 1 INTO v_seq FROM rt.rooms r WHERE r.id = append_event.room;
    v_event := rt.event_json(room, v_seq, event, actor, v_at, data);
    PERFORM rt.raise_problem(rt.event_size_problem(v_event, v_max));
    UPDATE rt.rooms r SET last_seq = v_seq WHERE r.id = append_event.room;
    INSERT INTO rt.events (room, seq, event, actor, data, at)
    VALUES (room, v_seq, event, actor, data, v_at);
    PERFORM rt.emit(v_event);
    RETURN v_event;
END
$$;

COMMENT ON FUNCTION rt.append_event(text, text, text, jsonb) IS
    'Internal: append an event with the next seq (room lock held by the caller), NOTIFY it, return its wire JSON.';

-- rt.send_signal: NOTIFY a signal (never stored). Signals over the NOTIFY limit are TOO_LARGE.
CREATE OR REPLACE FUNCTION rt.send_signal(room text, event text, actor text, data jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_event jsonb := rt.event_json(room, NULL, event, actor, clock_timestamp(), data);
BEGIN
    PERFORM rt.emit(v_event);
    RETURN v_event;
END
$$;

COMMENT ON FUNCTION rt.send_signal(text, text, text, jsonb) IS 'Internal: NOTIFY a signal in wire shape and return it.';
