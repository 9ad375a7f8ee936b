-- Presence: which users are online in which room, across all bridges, and the bridges themselves.
-- A `presence` signal {user, status} is sent only when a user's first connection in a room joins or
-- the last one leaves. Presence changes in a room take the room lock, which serializes them with
-- each other, so two connections of one user joining at once produce exactly one "joined".

-- recovered: every event after `since` is still in the log. Retention removes a prefix of each
-- room's log, so that holds exactly when `since` is the latest seq or event since + 1 still exists.
CREATE OR REPLACE FUNCTION rt.recoverable(r rt.rooms, since bigint) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT since IS NULL
        OR since = r.last_seq
        OR (since < r.last_seq AND EXISTS (SELECT 1 FROM rt.events e WHERE e.room = r.id AND e.seq = since + 1))
$$;

COMMENT ON FUNCTION rt.recoverable(rt.rooms, bigint) IS
    'Internal: whether every event after since is still in the log (true for NULL since; false beyond the latest seq).';

CREATE OR REPLACE FUNCTION rt.online_users(room text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(u ORDER BY u), '[]'::jsonb)
      FROM (SELECT DISTINCT p.user_id AS u FROM rt.presence p WHERE p.room = online_users.room) d
$$;

COMMENT ON FUNCTION rt.online_users(text) IS 'Internal: distinct user ids online in a room, sorted, as a JSON array.';

-- rt.join_room: record that connection conn_id of bridge_id (user user_id) joined the room and return
-- the join reply data: {room, kind, seq, state, version, presence, recovered, role}.
-- The bridge then replays with rt.events_since(room, since, 1000, user_id) up to `seq`.
CREATE OR REPLACE FUNCTION rt.join_room(bridge_id text, conn_id text, user_id text, room text, since bigint)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       rt.rooms;
    v_first boolean;
BEGIN
    IF since IS NOT NULL THEN
        PERFORM rt.check_seq(since, 'since');
    END IF;
    -- Register the bridge if it never sent a heartbeat (bridges should heartbeat once before their
    -- first join). A plain existence check comes first so that a join never waits on a reaper that is
    -- deleting this bridge's row while holding room locks (that wait could deadlock): if the reaper
    -- wins, this presence row is reaped as an orphan later and the bridge's next heartbeat returns
    -- false, telling it to join its connections again.
    IF NOT EXISTS (SELECT 1 FROM rt.bridges b WHERE b.id = join_room.bridge_id) THEN
        INSERT INTO rt.bridges (id) VALUES (bridge_id) ON CONFLICT ON CONSTRAINT bridges_pkey DO NOTHING;
    END IF;
    r := rt.room_for(room, user_id, 'read', true);
    v_first := NOT EXISTS (SELECT 1 FROM rt.presence p WHERE p.room = join_room.room AND p.user_id = join_room.user_id);
    INSERT INTO rt.presence (bridge_id, conn_id, room, user_id)
    VALUES (bridge_id, conn_id, room, user_id)
    ON CONFLICT ON CONSTRAINT presence_pkey DO NOTHING;
    IF v_first THEN
        PERFORM rt.send_signal(room, 'presence', user_id, jsonb_build_object('user', user_id, 'status', 'joined'));
    END IF;
    RETURN jsonb_build_object(
        'room', r.id,
        'kind', r.kind,
        'seq', r.last_seq,
        'state', r.state,
        'version', CASE WHEN r.state IS NULL THEN NULL ELSE r.version END,
        'presence', rt.online_users(room),
        'recovered', rt.recoverable(r, since),
        'role', rt.member_role(room, user_id));
END
$$;

COMMENT ON FUNCTION rt.join_room(text, text, text, text, bigint) IS
    'Internal (via rt.dispatch join): record presence, return the join reply data.';

-- rt.leave_room: the connection left the room. Leaving a room one has not joined is a no-op.
CREATE OR REPLACE FUNCTION rt.leave_room(bridge_id text, conn_id text, user_id text, room text) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM 1 FROM rt.rooms x WHERE x.id = leave_room.room FOR NO KEY UPDATE;
    DELETE FROM rt.presence p
     WHERE p.bridge_id = leave_room.bridge_id AND p.conn_id = leave_room.conn_id
       AND p.room = leave_room.room AND p.user_id = leave_room.user_id;
    IF FOUND AND NOT EXISTS (SELECT 1 FROM rt.presence p
                              WHERE p.room = leave_room.room AND p.user_id = leave_room.user_id) THEN
        PERFORM rt.send_signal(room, 'presence', user_id, jsonb_build_object('user', user_id, 'status', 'left'));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.leave_room(text, text, text, text) IS 'Internal (via rt.dispatch leave): drop one presence row.';

-- rt.drop_presence: remove the presence of the given bridges (optionally one connection only),
-- room by room in a fixed order (the order rt.batch locks rooms in, so the two cannot deadlock),
-- sending "left" for each user whose last connection in a room went. Returns the rows removed.
CREATE OR REPLACE FUNCTION rt.drop_presence(bridge_ids text[], conn_id text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_room  text;
    v_user  text;
    v_rows  integer;
    v_count integer := 0;
BEGIN
    FOR v_room IN
        SELECT DISTINCT p.room COLLATE "C" FROM rt.presence p
         WHERE p.bridge_id = ANY (bridge_ids)
           AND (drop_presence.conn_id IS NULL OR p.conn_id = drop_presence.conn_id)
         ORDER BY 1
    LOOP
        PERFORM 1 FROM rt.rooms x WHERE x.id = v_room FOR NO KEY UPDATE;
        FOR v_user, v_rows IN
            WITH gone AS (
                DELETE FROM rt.presence p
                 WHERE p.room = v_room AND p.bridge_id = ANY (bridge_ids)
                   AND (drop_presence.conn_id IS NULL OR p.conn_id = drop_presence.conn_id)
                RETURNING p.user_id)
            SELECT g.user_id, count(*)::integer FROM gone g GROUP BY g.user_id ORDER BY g.user_id
        LOOP
            v_count := v_count + v_rows;
            IF NOT EXISTS (SELECT 1 FROM rt.presence p WHERE p.room = v_room AND p.user_id = v_user) THEN
                PERFORM rt.send_signal(v_room, 'presence', v_user, jsonb_build_object('user', v_user, 'status', 'left'));
            END IF;
        END LOOP;
    END LOOP;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION rt.drop_presence(text[], text) IS
    'Internal: remove presence of bridges (or one connection), sending presence left where a user''s last connection went.';

-- rt.disconnect: a connection closed; drop its presence in every room. Returns the rooms it left.
CREATE OR REPLACE FUNCTION rt.disconnect(bridge_id text, conn_id text) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_ident(bridge_id, 'bridge_id');
    PERFORM rt.check_ident(conn_id, 'conn_id');
    RETURN rt.drop_presence(ARRAY[bridge_id], conn_id);
END
$$;

COMMENT ON FUNCTION rt.disconnect(text, text) IS
    'A connection closed: drop its presence in every room (presence left where it was the user''s last). Returns rows removed.';

-- rt.bridge_heartbeat: register a bridge or refresh its last_seen. Returns true when the bridge was
-- already registered, false when the row was new: either the bridge's first heartbeat or the bridge
-- had been reaped as dead (its presence is gone: it should join its connections' rooms again).
CREATE OR REPLACE FUNCTION rt.bridge_heartbeat(bridge_id text, info jsonb DEFAULT '{}') RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_ident(bridge_id, 'bridge_id');
    PERFORM rt.check_object(info, 'info', 8192);
    UPDATE rt.bridges b SET last_seen = now(), info = bridge_heartbeat.info WHERE b.id = bridge_heartbeat.bridge_id;
    IF FOUND THEN
        RETURN true;
    END IF;
    INSERT INTO rt.bridges AS b (id, info) VALUES (bridge_id, info)
    ON CONFLICT ON CONSTRAINT bridges_pkey DO UPDATE SET last_seen = now(), info = excluded.info;
    RETURN false;
END
$$;

COMMENT ON FUNCTION rt.bridge_heartbeat(text, jsonb) IS
    'Register a bridge or refresh last_seen; false when it was not registered (new, or reaped: re-join connections).';

-- rt.bridge_stopped: a bridge shuts down cleanly; its presence goes (with "left" signals) and so does
-- its row. Returns the presence rows removed.
CREATE OR REPLACE FUNCTION rt.bridge_stopped(bridge_id text) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    PERFORM rt.check_ident(bridge_id, 'bridge_id');
    DELETE FROM rt.bridges b WHERE b.id = bridge_stopped.bridge_id;
    v_count := rt.drop_presence(ARRAY[bridge_id]);
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION rt.bridge_stopped(text) IS 'A bridge stopped: remove it and its presence (presence left signals). Returns rows removed.';

-- rt.reap_bridges: remove bridges not seen within stale_after, and their presence (with "left"
-- signals), plus any presence whose bridge row is gone. Safe when several bridges call it at once:
-- deleting the bridge rows first makes each stale bridge belong to exactly one reaper (the others
-- wait on the row, then find it gone). Returns the number of bridges removed.
CREATE OR REPLACE FUNCTION rt.reap_bridges(stale_after interval DEFAULT '30 seconds') RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ids text[];
    v_orphans text[];
BEGIN
    IF stale_after IS NULL OR stale_after < interval '1 second' THEN
        PERFORM rt.raise('BAD_REQUEST', '"stale_after" must be at least 1 second');
    END IF;
    WITH gone AS (
        DELETE FROM rt.bridges b WHERE b.last_seen < now() - stale_after RETURNING b.id)
    SELECT array_agg(g.id) INTO v_ids FROM gone g;
    SELECT array_agg(DISTINCT p.bridge_id) INTO v_orphans
      FROM rt.presence p
     WHERE NOT EXISTS (SELECT 1 FROM rt.bridges b WHERE b.id = p.bridge_id);
    IF v_orphans IS NOT NULL THEN
        PERFORM rt.drop_presence(v_orphans);
    END IF;
    RETURN coalesce(array_length(v_ids, 1), 0);
END
$$;

COMMENT ON FUNCTION rt.reap_bridges(interval) IS
    'Remove bridges not seen within stale_after and their presence (presence left signals); returns bridges removed.';
