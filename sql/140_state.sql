-- The state machine of rooms whose kind has one (conversation rooms).

-- rt.transition: move the room to to_state. Order of checks: the state must exist for the kind
-- (BAD_REQUEST), expected_version must match (CONFLICT: the caller's view is stale), the move must be
-- in rt.transitions (INVALID_TRANSITION; a move to the current state never is). A move to a final
-- state ends the room: it needs the end_room right and appends room_ended exactly like rt.end_room.
-- Otherwise appends state {from, to, version} with version + 1.
CREATE OR REPLACE FUNCTION rt.transition(room text, actor text, to_state text,
                                         expected_version integer DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       rt.rooms;
    v_final boolean;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor');
    IF to_state IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"to" state is required');
    END IF;
    IF expected_version IS NOT NULL AND expected_version < 0 THEN
        PERFORM rt.raise('BAD_REQUEST', '"expected_version" must be at least 0');
    END IF;
    r := rt.room_for(room, actor, 'transition', true);
    PERFORM rt.ensure_open(r);
    IF r.state IS NULL THEN
        PERFORM rt.raise('INVALID_TRANSITION', format('rooms of kind %s have no state machine', r.kind));
    END IF;
    SELECT s.final INTO v_final FROM rt.kind_states s WHERE s.kind = r.kind AND s.state = to_state;
    IF NOT FOUND THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown state %L for a %s room', left(to_state, 64), r.kind),
                         hint => (SELECT 'states: ' || string_agg(s.state, ', ' ORDER BY s.state)
                                    FROM rt.kind_states s WHERE s.kind = r.kind));
    END IF;
    IF expected_version IS NOT NULL AND expected_version <> r.version THEN
        PERFORM rt.raise('CONFLICT', format('room %s is at version %s, not %s', room, r.version, expected_version),
                         detail => format('current state %s', r.state));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM rt.transitions t
                    WHERE t.kind = r.kind AND t.from_state = r.state AND t.to_state = transition.to_state) THEN
        PERFORM rt.raise('INVALID_TRANSITION', format('a %s room cannot move from %s to %s', r.kind, r.state, to_state));
    END IF;
    IF v_final THEN
        IF NOT rt.has_right(rt.member_role(room, actor), 'end_room') THEN
            PERFORM rt.raise('FORBIDDEN', format('moving to %s ends the room, which only the owner or a service may do',
                                                 to_state));
        END IF;
        RETURN rt.finish_room(r, actor);
    END IF;
    UPDATE rt.rooms x SET state = to_state, version = x.version + 1 WHERE x.id = r.id;
    RETURN rt.append_event(room, 'state', actor,
                           jsonb_build_object('from', r.state, 'to', to_state, 'version', r.version + 1));
END
$$;

COMMENT ON FUNCTION rt.transition(text, text, text, integer) IS
    'Move a room''s state machine (CONFLICT on a stale expected_version, INVALID_TRANSITION on a forbidden move).';
