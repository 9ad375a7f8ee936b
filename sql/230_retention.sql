-- Retention: old events leave the log; seq numbers are never reused (rooms.last_seq never goes
-- down), and a join whose `since` predates what remains reports recovered = false.
-- Policies are data (migrations/0040_audit_retention.sql): per room, per room kind, else the
-- `retention` setting; a legal hold on the room or its kind stops pruning. docs/sql-api.md
-- "Retention and legal holds".

-- rt.retention_of: the policy that applies to room r: {keep_days, keep_events, age, source, hold}.
-- The most specific row wins as a whole (room, then kind, then the setting, which limits age only).
CREATE OR REPLACE FUNCTION rt.retention_of(r rt.rooms) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_days   integer;
    v_events bigint;
    v_source text;
    v_hold   jsonb;
BEGIN
    SELECT x.keep_days, x.keep_events, 'room' INTO v_days, v_events, v_source
      FROM rt.room_retention x WHERE x.room = r.id;
    IF v_source IS NULL THEN
        SELECT x.keep_days, x.keep_events, 'kind' INTO v_days, v_events, v_source
          FROM rt.kind_retention x WHERE x.kind = r.kind;
    END IF;
    SELECT jsonb_build_object('scope', CASE WHEN h.room IS NULL THEN 'kind' ELSE 'room' END,
                              'reason', h.reason, 'held_by', h.held_by, 'held_at', rt.format_at(h.held_at))
      INTO v_hold
      FROM rt.legal_holds h WHERE h.room = r.id OR h.kind = r.kind
     ORDER BY h.room NULLS LAST LIMIT 1;
    RETURN jsonb_build_object(
        'room', r.id,
        'source', coalesce(v_source, 'setting'),
        'keep_days', v_days,
        'keep_events', v_events,
        'age', CASE WHEN v_source IS NULL THEN rt.setting('retention')
                    WHEN v_days IS NULL THEN NULL ELSE v_days || ' days' END,
        'hold', v_hold);
END
$$;

COMMENT ON FUNCTION rt.retention_of(rt.rooms) IS 'Internal: the retention policy and legal hold that apply to a room.';

-- rt.retention_policy: the policy of a room as JSON; actor (optional) needs the read right.
CREATE OR REPLACE FUNCTION rt.retention_policy(room text, actor text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    RETURN rt.retention_of(rt.room_for(room, actor, 'read', false));
END
$$;

COMMENT ON FUNCTION rt.retention_policy(text, text) IS
    'The retention policy and legal hold of a room: {room, source, keep_days, keep_events, age, hold}.';

CREATE OR REPLACE FUNCTION rt.check_keep(keep_days integer, keep_events bigint) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF keep_days IS NOT NULL AND keep_days NOT BETWEEN 1 AND 36500 THEN
        PERFORM rt.raise('BAD_REQUEST', '"keep_days" must be between 1 and 36500 (or NULL: no age limit)');
    END IF;
    IF keep_events IS NOT NULL AND keep_events NOT BETWEEN 1 AND 1000000000000 THEN
        PERFORM rt.raise('BAD_REQUEST', '"keep_events" must be between 1 and 10^12 (or NULL: no count limit)');
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_keep(integer, bigint) IS 'Internal: BAD_REQUEST unless valid keep_days / keep_events.';

-- rt.set_room_retention: the room's own policy (owner: manage_room right; NULL actor: trusted).
-- reset => true removes it (the kind's policy or the setting applies again).
CREATE OR REPLACE FUNCTION rt.set_room_retention(room text, keep_days integer, keep_events bigint,
                                                 actor text DEFAULT NULL, reset boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r rt.rooms;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    PERFORM rt.check_keep(keep_days, keep_events);
    IF reset IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"reset" must be true or false');
    ELSIF reset AND (keep_days IS NOT NULL OR keep_events IS NOT NULL) THEN
        PERFORM rt.raise('BAD_REQUEST', 'reset takes no keep_days or keep_events');
    END IF;
    r := rt.room_for(room, actor, 'manage_room', true);
    IF reset THEN
        DELETE FROM rt.room_retention x WHERE x.room = set_room_retention.room;
    ELSE
        INSERT INTO rt.room_retention AS x (room, keep_days, keep_events)
        VALUES (room, keep_days, keep_events)
        ON CONFLICT ON CONSTRAINT room_retention_pkey
        DO UPDATE SET keep_days = excluded.keep_days, keep_events = excluded.keep_events, updated_at = now();
    END IF;
    PERFORM rt.audit_write(CASE WHEN reset THEN 'retention_reset' ELSE 'retention_set' END, room, actor,
                           jsonb_build_object('scope', 'room', 'keep_days', keep_days, 'keep_events', keep_events));
    RETURN rt.retention_of(r);
END
$$;

COMMENT ON FUNCTION rt.set_room_retention(text, integer, bigint, text, boolean) IS
    'Set (or reset) a room''s retention: keep_days and/or keep_events (NULL: no limit); owner or trusted. Returns the policy.';

-- rt.set_kind_retention: the policy of every room of a kind without its own (rt_compliance).
CREATE OR REPLACE FUNCTION rt.set_kind_retention(kind text, keep_days integer, keep_events bigint,
                                                 reset boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF kind IS NULL OR NOT EXISTS (SELECT 1 FROM rt.room_kinds k WHERE k.kind = set_kind_retention.kind) THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown room kind %L', left(kind, 64)));
    END IF;
    PERFORM rt.check_keep(keep_days, keep_events);
    IF reset IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"reset" must be true or false');
    ELSIF reset AND (keep_days IS NOT NULL OR keep_events IS NOT NULL) THEN
        PERFORM rt.raise('BAD_REQUEST', 'reset takes no keep_days or keep_events');
    END IF;
    IF reset THEN
        DELETE FROM rt.kind_retention x WHERE x.kind = set_kind_retention.kind;
    ELSE
        INSERT INTO rt.kind_retention AS x (kind, keep_days, keep_events)
        VALUES (kind, keep_days, keep_events)
        ON CONFLICT ON CONSTRAINT kind_retention_pkey
        DO UPDATE SET keep_days = excluded.keep_days, keep_events = excluded.keep_events, updated_at = now();
    END IF;
    PERFORM rt.audit_write(CASE WHEN reset THEN 'retention_reset' ELSE 'retention_set' END, NULL, NULL,
                           jsonb_build_object('scope', 'kind', 'kind', kind,
                                              'keep_days', keep_days, 'keep_events', keep_events));
END
$$;

COMMENT ON FUNCTION rt.set_kind_retention(text, integer, bigint, boolean) IS
    'Set (or reset) the retention of a room kind: keep_days and/or keep_events (NULL: no limit). rt_compliance.';

-- rt.check_hold_target: exactly one of room / kind, valid and existing.
CREATE OR REPLACE FUNCTION rt.check_hold_target(room text, kind text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (room IS NULL) = (kind IS NULL) THEN
        PERFORM rt.raise('BAD_REQUEST', 'give exactly one of "room" and "kind"');
    END IF;
    IF room IS NOT NULL THEN
        PERFORM rt.check_room_id(room);
        PERFORM rt.room_for(room, NULL, 'read', false);
    ELSIF NOT EXISTS (SELECT 1 FROM rt.room_kinds k WHERE k.kind = check_hold_target.kind) THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown room kind %L', left(kind, 64)));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_hold_target(text, text) IS 'Internal: BAD_REQUEST / NOT_FOUND unless exactly one existing room or kind.';

-- rt.place_legal_hold: stop pruning a room, or every room of a kind (rt_compliance). A second hold
-- on the same target is CONFLICT.
CREATE OR REPLACE FUNCTION rt.place_legal_hold(room text, kind text, reason text, held_by text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_hold_target(room, kind);
    IF reason IS NULL OR char_length(reason) NOT BETWEEN 1 AND 500 OR reason ~ '[[:cntrl:]]' THEN
        PERFORM rt.raise('BAD_REQUEST', '"reason" must be 1 to 500 characters without control characters');
    END IF;
    PERFORM rt.check_ident(held_by, 'held_by');
    -- Serialize with a concurrent hold on the same target (the UNIQUE constraint decides anyway).
    PERFORM pg_advisory_xact_lock(hashtext('rt.legal_hold:' || coalesce(room, '') || ':' || coalesce(kind, '')));
    IF EXISTS (SELECT 1 FROM rt.legal_holds h
                WHERE h.room = place_legal_hold.room OR h.kind = place_legal_hold.kind) THEN
        PERFORM rt.raise('CONFLICT', format('%s %s is already on legal hold',
                                            CASE WHEN room IS NULL THEN 'kind' ELSE 'room' END, coalesce(room, kind)));
    END IF;
    INSERT INTO rt.legal_holds (room, kind, reason, held_by) VALUES (room, kind, reason, held_by);
    PERFORM rt.audit_write('legal_hold_placed', room, held_by,
                           jsonb_build_object('kind', kind, 'reason', reason));
END
$$;

COMMENT ON FUNCTION rt.place_legal_hold(text, text, text, text) IS
    'Place a legal hold on a room or a room kind (rt_compliance): pruning stops there. CONFLICT when already held.';

-- rt.release_legal_hold: lift it (rt_compliance). NOT_FOUND when there is none.
CREATE OR REPLACE FUNCTION rt.release_legal_hold(room text, kind text, released_by text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_hold_target(room, kind);
    PERFORM rt.check_ident(released_by, 'released_by');
    DELETE FROM rt.legal_holds h WHERE h.room = release_legal_hold.room OR h.kind = release_legal_hold.kind;
    IF NOT FOUND THEN
        PERFORM rt.raise('NOT_FOUND', format('%s %s is not on legal hold',
                                             CASE WHEN room IS NULL THEN 'kind' ELSE 'room' END, coalesce(room, kind)));
    END IF;
    PERFORM rt.audit_write('legal_hold_released', room, released_by, jsonb_build_object('kind', kind));
END
$$;

COMMENT ON FUNCTION rt.release_legal_hold(text, text, text) IS
    'Lift the legal hold of a room or a room kind (rt_compliance); NOT_FOUND when there is none.';

-- rt.prune_events: remove, from every room without a legal hold, the events its policy no longer
-- keeps, and return how many went. Each room loses a prefix of its log: everything up to the later
-- of (its newest event older than the age limit) and (last_seq - keep_events), so the remaining log
-- never has holes (`at` follows seq within a room, but not strictly across clock adjustments).
-- Messages of removed events go with them. Takes no room locks: appends never touch rows this
-- removes.
CREATE OR REPLACE FUNCTION rt.prune_events() RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now     timestamptz := now();
    v_default interval := rt.setting('retention')::interval;
    v_count   bigint;
BEGIN
    WITH pol AS (
        SELECT r.id AS room, r.last_seq,
               CASE WHEN rr.room IS NOT NULL THEN make_interval(days => rr.keep_days)
                    WHEN kr.kind IS NOT NULL THEN make_interval(days => kr.keep_days)
                    ELSE v_default END AS max_age,
               CASE WHEN rr.room IS NOT NULL THEN rr.keep_events
                    WHEN kr.kind IS NOT NULL THEN kr.keep_events END AS keep_events
          FROM rt.rooms r
          LEFT JOIN rt.room_retention rr ON rr.room = r.id
          LEFT JOIN rt.kind_retention kr ON kr.kind = r.kind
         WHERE NOT EXISTS (SELECT 1 FROM rt.legal_holds h WHERE h.room = r.id OR h.kind = r.kind)),
    -- The shortest age limit bounds which events any room may lose: one range scan of events_at_idx.
    by_age AS (
        SELECT e.room, max(e.seq) AS upto
          FROM rt.events e JOIN pol p ON p.room = e.room
         WHERE e.at < v_now - (SELECT min(x.max_age) FROM pol x) AND e.at < v_now - p.max_age
         GROUP BY e.room),
    cut AS (
        SELECT p.room, greatest(a.upto, p.last_seq - p.keep_events) AS upto
          FROM pol p LEFT JOIN by_age a ON a.room = p.room
         WHERE a.upto IS NOT NULL OR p.last_seq - p.keep_events > 0),
    -- Messages first, explicitly: rt.messages has no foreign key to rt.events (migration 0012).
    gone_messages AS (
        DELETE FROM rt.messages m USING cut WHERE m.room = cut.room AND m.seq <= cut.upto),
    gone AS (
        DELETE FROM rt.events e USING cut WHERE e.room = cut.room AND e.seq <= cut.upto RETURNING 1)
    SELECT count(*) INTO v_count FROM gone;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION rt.prune_events() IS
    'Remove events the retention policies no longer keep (a prefix of each room''s log; rooms on legal hold keep all); returns the count.';
