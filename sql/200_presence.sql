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

-- ---- Presence modes and occupancy (docs/protocol.md "Presence and occupancy") ----------------------
-- A room with at most presence_threshold users online works in "list" mode: the join reply lists
-- everyone online and each user's first join / last leave is a `presence` signal {user, status}.
-- Above the threshold it works in "count" mode: the join reply carries `occupancy` and the first
-- page of the roster, and changes go out as `occupancy` signals {occupancy} (bridges pass on at most
-- a few per second per room). The roster is paged with rt.roster. The mode follows the occupancy
-- before and after each change (rt.announce_presence), so it is never stored.

-- The most user ids a count-mode join reply carries (the first page of rt.roster). Small, so that the
-- replies of N joins cost O(N) bytes, not O(N^2).
CREATE OR REPLACE FUNCTION rt.join_page_size() RETURNS integer
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN 20; END $$;

COMMENT ON FUNCTION rt.join_page_size() IS 'Internal: user ids in a count-mode join reply (20).';

-- The room's threshold: its own when set, else its kind's.
CREATE OR REPLACE FUNCTION rt.presence_threshold(room text) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_threshold integer;
BEGIN
    -- Two primary-key lookups rather than one three-table join: this runs twice per join.
    SELECT rp.presence_threshold INTO v_threshold FROM rt.room_presence rp WHERE rp.room = presence_threshold.room;
    IF v_threshold IS NULL THEN
        SELECT k.presence_threshold INTO v_threshold
          FROM rt.room_kinds k
         WHERE k.kind = (SELECT r.kind FROM rt.rooms r WHERE r.id = presence_threshold.room);
    END IF;
    RETURN v_threshold;
END
$$;

COMMENT ON FUNCTION rt.presence_threshold(text) IS
    'Internal: the room''s presence threshold (its own, else its kind''s); NULL for a missing room.';

-- Users online now (0 for a room nobody joined yet).
CREATE OR REPLACE FUNCTION rt.online_count(room text) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN coalesce((SELECT rp.online FROM rt.room_presence rp WHERE rp.room = online_count.room), 0);
END
$$;

COMMENT ON FUNCTION rt.online_count(text) IS 'Internal: how many distinct users are online in the room.';

-- Adds delta to the room's online counter and returns the new value. The caller holds the room lock.
CREATE OR REPLACE FUNCTION rt.add_online(room text, delta integer) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_online integer;
BEGIN
    INSERT INTO rt.room_presence AS rp (room, online) VALUES (add_online.room, greatest(delta, 0))
    ON CONFLICT ON CONSTRAINT room_presence_pkey DO UPDATE SET online = rp.online + delta
    RETURNING rp.online INTO v_online;
    RETURN v_online;
END
$$;

COMMENT ON FUNCTION rt.add_online(text, integer) IS 'Internal: change a room''s online counter (room lock held); returns it.';

-- Announces that `users` went to `status` (joined | left) in a room that now has `online` users
-- online. The room is in count mode when it is above its threshold before or after the change, so a
-- room falling back below it says so with one last `occupancy` signal (clients then know their
-- roster page is stale) rather than a `presence` left for each user who went, and a bridge reaped
-- with thousands of users costs one signal per room.
CREATE OR REPLACE FUNCTION rt.announce_presence(room text, users text[], status text, online integer) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user   text;
    v_before integer;
BEGIN
    IF coalesce(cardinality(users), 0) = 0 THEN
        RETURN;
    END IF;
    v_before := online + CASE WHEN status = 'joined' THEN -cardinality(users) ELSE cardinality(users) END;
    IF greatest(v_before, online) > rt.presence_threshold(room) THEN
        PERFORM rt.send_signal(room, 'occupancy', NULL, jsonb_build_object('occupancy', online));
    ELSE
        FOREACH v_user IN ARRAY users LOOP
            PERFORM rt.send_signal(room, 'presence', v_user, jsonb_build_object('user', v_user, 'status', status));
        END LOOP;
    END IF;
END
$$;

COMMENT ON FUNCTION rt.announce_presence(text, text[], text, integer) IS
    'Internal: presence signals per user (list mode) or one occupancy signal (above the threshold before or after).';

-- Up to max distinct user ids online in the room after `after` (all of them from the start when
-- after is NULL), in the order of the presence index, as a JSON array.
CREATE OR REPLACE FUNCTION rt.online_page(room text, after text, max integer) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(d.u ORDER BY d.u), '[]'::jsonb)
              FROM (SELECT DISTINCT p.user_id AS u FROM rt.presence p
                     WHERE p.room = online_page.room AND (after IS NULL OR p.user_id > after)
                     ORDER BY p.user_id
                     LIMIT max) d);
END
$$;

COMMENT ON FUNCTION rt.online_page(text, text, integer) IS
    'Internal: up to max distinct user ids online in a room after a given one, sorted, as a JSON array.';

-- rt.join_room: record that connection conn_id of bridge_id (user user_id) joined the room and return
-- the join reply data: {room, kind, seq, state, version, presence, recovered, role}, plus
-- `occupancy` in count mode, where `presence` is then only the first rt.join_page_size() users.
-- The bridge then replays with rt.events_since(room, since, 1000, user_id) up to `seq`.
-- enable_seqscan off: the statements below are planned once per backend and cached, and a join storm
-- starts with rt.presence nearly empty, where a sequential scan is the cheaper plan; kept while the
-- room fills, it read every presence row of the room for every join (O(N^2) for N joins: 25 million
-- rows read for 5,000; docs/benchmarks.md "Large rooms"). Every lookup here has its index.
CREATE OR REPLACE FUNCTION rt.join_room(bridge_id text, conn_id text, user_id text, room text, since bigint)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    SET enable_seqscan = off
AS $$
DECLARE
    r        rt.rooms;
    v_first  boolean;
    v_online integer;
    v_reply  jsonb;
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
        v_online := rt.add_online(room, 1);
        PERFORM rt.announce_presence(room, ARRAY[user_id], 'joined', v_online);
    ELSE
        v_online := rt.online_count(room);
    END IF;
    v_reply := jsonb_build_object(
        'room', r.id,
        'kind', r.kind,
        'seq', r.last_seq,
        'state', r.state,
        'version', CASE WHEN r.state IS NULL THEN NULL ELSE r.version END,
        'presence', NULL,
        'recovered', rt.recoverable(r, since),
        'role', rt.member_role(room, user_id));
    IF v_online > rt.presence_threshold(room) THEN
        RETURN v_reply || jsonb_build_object('presence', rt.online_page(room, NULL, rt.join_page_size()),
                                             'occupancy', v_online);
    END IF;
    RETURN v_reply || jsonb_build_object('presence', rt.online_users(room));
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
        PERFORM rt.announce_presence(room, ARRAY[user_id], 'left', rt.add_online(room, -1));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.leave_room(text, text, text, text) IS 'Internal (via rt.dispatch leave): drop one presence row.';

-- rt.drop_presence: remove the presence of the given bridges (optionally one connection only),
-- room by room in a fixed order (the order rt.batch locks rooms in, so the two cannot deadlock),
-- announcing the users whose last connection in a room went (presence left each, or one occupancy
-- signal per room in count mode). Returns the rows removed.
CREATE OR REPLACE FUNCTION rt.drop_presence(bridge_ids text[], conn_id text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_room  text;
    v_rows  integer;
    v_users text[];
    v_gone  text[];
    v_count integer := 0;
BEGIN
    FOR v_room IN
        SELECT DISTINCT p.room COLLATE "C" FROM rt.presence p
         WHERE p.bridge_id = ANY (bridge_ids)
           AND (drop_presence.conn_id IS NULL OR p.conn_id = drop_presence.conn_id)
         ORDER BY 1
    LOOP
        PERFORM 1 FROM rt.rooms x WHERE x.id = v_room FOR NO KEY UPDATE;
        WITH gone AS (
            DELETE FROM rt.presence p
             WHERE p.room = v_room AND p.bridge_id = ANY (bridge_ids)
               AND (drop_presence.conn_id IS NULL OR p.conn_id = drop_presence.conn_id)
            RETURNING p.user_id)
        SELECT count(*)::integer, array_agg(DISTINCT g.user_id) INTO v_rows, v_users FROM gone g;
        -- A separate statement: the DELETE's own query could not see the rows it removes as gone.
        SELECT array_agg(u.u ORDER BY u.u) INTO v_gone
          FROM unnest(v_users) AS u (u)
         WHERE NOT EXISTS (SELECT 1 FROM rt.presence p WHERE p.room = v_room AND p.user_id = u.u);
        v_count := v_count + v_rows;
        IF v_gone IS NOT NULL THEN
            PERFORM rt.announce_presence(v_room, v_gone, 'left', rt.add_online(v_room, -cardinality(v_gone)));
        END IF;
    END LOOP;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION rt.drop_presence(text[], text) IS
    'Internal: remove presence of bridges (or one connection), announcing users whose last connection in a room went.';

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

-- ---- Reading presence: occupancy and the roster ---------------------------------------------------

-- rt.occupancy: how many distinct users are online in the room, across all bridges. actor, when
-- given, must have the read right; when NULL the call is trusted.
CREATE OR REPLACE FUNCTION rt.occupancy(room text, actor text DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    PERFORM rt.room_for(room, actor, 'read', false);
    RETURN rt.online_count(room);
END
$$;

COMMENT ON FUNCTION rt.occupancy(text, text) IS
    'How many distinct users are online in a room across all bridges (actor, when given, needs the read right).';

-- rt.roster: one page of who is online in the room: {room, occupancy, users, next}. `users` are the
-- distinct user ids after `after` (from the start when NULL), sorted, at most `max` (1..1000);
-- `next` is the `after` of the next page, NULL on the last one. actor as in rt.occupancy.
CREATE OR REPLACE FUNCTION rt.roster(room text, actor text DEFAULT NULL, after text DEFAULT NULL,
                                     max integer DEFAULT 100) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_users jsonb;
    v_next  text;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    PERFORM rt.check_ident(after, 'after', required => false);
    IF max IS NULL OR max NOT BETWEEN 1 AND 1000 THEN
        PERFORM rt.raise('BAD_REQUEST', '"max" must be between 1 and 1000');
    END IF;
    PERFORM rt.room_for(room, actor, 'read', false);
    -- One more than asked tells whether another page follows.
    v_users := rt.online_page(room, after, max + 1);
    IF jsonb_array_length(v_users) > max THEN
        v_users := v_users - max;
        v_next := v_users ->> (max - 1);
    END IF;
    RETURN jsonb_build_object('room', room, 'occupancy', rt.online_count(room), 'users', v_users, 'next', v_next);
END
$$;

COMMENT ON FUNCTION rt.roster(text, text, text, integer) IS
    'One page of the users online in a room: {room, occupancy, users (sorted, after `after`, at most max), next}.';

-- rt.set_presence_threshold: this room's presence threshold (0..1000), or NULL to follow its kind's
-- (rt.room_kinds.presence_threshold). Owners (manage_room) or a trusted call (actor NULL). Takes
-- effect at the room's next presence change. Returns the threshold now in force.
CREATE OR REPLACE FUNCTION rt.set_presence_threshold(room text, actor text, threshold integer) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    IF threshold NOT BETWEEN 0 AND 1000 THEN
        PERFORM rt.raise('BAD_REQUEST', '"threshold" must be between 0 and 1000 (or null: the room kind''s)');
    END IF;
    PERFORM rt.room_for(room, actor, 'manage_room', true);
    INSERT INTO rt.room_presence AS rp (room, presence_threshold) VALUES (set_presence_threshold.room, threshold)
    ON CONFLICT ON CONSTRAINT room_presence_pkey DO UPDATE SET presence_threshold = excluded.presence_threshold;
    RETURN rt.presence_threshold(room);
END
$$;

COMMENT ON FUNCTION rt.set_presence_threshold(text, text, integer) IS
    'Set a room''s presence threshold (0..1000; NULL: its kind''s); owner or trusted call. Returns the threshold in force.';
