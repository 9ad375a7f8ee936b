-- Rooms: create, change title/meta, end.

-- A random room id: 16 hex digits (64 random bits) taken from a v4 UUID, skipping its fixed
-- version and variant digits.
CREATE OR REPLACE FUNCTION rt.new_room_id() RETURNS text
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT substr(h, 1, 12) || substr(h, 14, 3) || substr(h, 18, 1)
      FROM (SELECT replace(gen_random_uuid()::text, '-', '') AS h) u
$$;

COMMENT ON FUNCTION rt.new_room_id() IS 'Internal: a random 16-hex-digit room id.';

-- rt.create_room: a new room whose owner becomes its member with role owner. Appends room_created
-- (seq 1). An existing id is CONFLICT; an unknown kind BAD_REQUEST.
CREATE OR REPLACE FUNCTION rt.create_room(kind text, owner text, title text DEFAULT NULL,
                                          id text DEFAULT NULL, meta jsonb DEFAULT '{}')
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id    text;
    v_state text;
BEGIN
    IF kind IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"kind" is required');
    END IF;
    SELECT k.initial_state INTO v_state FROM rt.room_kinds k WHERE k.kind = create_room.kind;
    IF NOT FOUND THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown room kind %L', left(kind, 64)),
                         hint => (SELECT 'known kinds: ' || string_agg(k.kind, ', ' ORDER BY k.kind)
                                    FROM rt.room_kinds k));
    END IF;
    PERFORM rt.check_ident(owner, 'owner');
    PERFORM rt.check_title(title);
    IF id IS NOT NULL THEN
        PERFORM rt.check_room_id(id, 'id');
    END IF;
    PERFORM rt.check_object(meta, 'meta', rt.setting_int('max_meta_bytes'));

    LOOP
        INSERT INTO rt.rooms AS r (id, kind, title, owner, state, meta)
        VALUES (coalesce(create_room.id, rt.new_room_id()), kind, title, owner, v_state, meta)
        ON CONFLICT ON CONSTRAINT rooms_pkey DO NOTHING
        RETURNING r.id INTO v_id;
        EXIT WHEN v_id IS NOT NULL;
        IF create_room.id IS NOT NULL THEN
            PERFORM rt.raise('CONFLICT', format('room %s already exists', create_room.id));
        END IF;
        -- a generated id collided (2^-64 odds): draw another
    END LOOP;

    INSERT INTO rt.members (room, user_id, role) VALUES (v_id, owner, 'owner');
    -- The new row is ours until commit, so no other writer can race for seq 1.
    PERFORM rt.append_event(v_id, 'room_created', owner,
                            jsonb_build_object('kind', kind, 'title', title, 'owner', owner, 'state', v_state));
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION rt.create_room(text, text, text, text, jsonb) IS
    'Create a room (random id when id is NULL); the owner becomes a member with role owner. Returns the id.';

-- rt.update_room: change the title and/or replace meta (owner only). NULL leaves a field as it is.
-- Appends room_updated with the changed fields.
CREATE OR REPLACE FUNCTION rt.update_room(room text, actor text, title text DEFAULT NULL,
                                          meta jsonb DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r      rt.rooms;
    v_data jsonb := '{}';
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor');
    PERFORM rt.check_title(title);
    IF meta IS NOT NULL THEN
        PERFORM rt.check_object(meta, 'meta', rt.setting_int('max_meta_bytes'));
    END IF;
    IF title IS NULL AND meta IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', 'nothing to update: give "title" and/or "meta"');
    END IF;
    r := rt.room_for(room, actor, 'manage_room', true);
    PERFORM rt.ensure_open(r);
    IF title IS NOT NULL THEN
        v_data := v_data || jsonb_build_object('title', title);
    END IF;
    IF meta IS NOT NULL THEN
        v_data := v_data || jsonb_build_object('meta', meta);
    END IF;
    UPDATE rt.rooms x SET title = coalesce(update_room.title, x.title), meta = coalesce(update_room.meta, x.meta)
     WHERE x.id = update_room.room;
    RETURN rt.append_event(room, 'room_updated', actor, v_data);
END
$$;

COMMENT ON FUNCTION rt.update_room(text, text, text, jsonb) IS
    'Change a room''s title and/or meta (owner only); returns the room_updated event.';

-- rt.finish_room: end a locked, open room. A room with a state machine moves to its final state
-- (version + 1) and the single room_ended event carries that move as {from, to, version}; there is
-- no separate state event, so "the room ended" is always exactly one event.
CREATE OR REPLACE FUNCTION rt.finish_room(r rt.rooms, actor text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_final text;
    v_data  jsonb := '{}';
BEGIN
    IF r.state IS NOT NULL THEN
        SELECT s.state INTO v_final FROM rt.kind_states s WHERE s.kind = r.kind AND s.final
         ORDER BY s.state LIMIT 1;
        v_data := jsonb_build_object('from', r.state, 'to', v_final, 'version', r.version + 1);
        UPDATE rt.rooms x SET state = v_final, version = x.version + 1, ended_at = clock_timestamp()
         WHERE x.id = r.id;
    ELSE
        UPDATE rt.rooms x SET ended_at = clock_timestamp() WHERE x.id = r.id;
    END IF;
    RETURN rt.append_event(r.id, 'room_ended', actor, v_data);
END
$$;

COMMENT ON FUNCTION rt.finish_room(rt.rooms, text) IS 'Internal: end a locked room and append room_ended.';

-- rt.end_room: end the room (owner or service). Every write afterwards is CONFLICT; reads work.
CREATE OR REPLACE FUNCTION rt.end_room(room text, actor text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r rt.rooms;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor');
    r := rt.room_for(room, actor, 'end_room', true);
    PERFORM rt.ensure_open(r);
    RETURN rt.finish_room(r, actor);
END
$$;

COMMENT ON FUNCTION rt.end_room(text, text) IS
    'End a room (owner or service); returns the room_ended event. Later writes are CONFLICT.';
