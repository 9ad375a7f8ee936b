-- Members: add (or change role), remove.

-- rt.add_member: make user_id a member with `role`, or change an existing member's role.
-- A room has exactly one owner (set by create_room), so role 'owner' cannot be given here.
-- Adding a member with the role it already has changes nothing and appends nothing (safe retries).
-- actor, when given, must be the owner (manage_members right); when NULL the call is trusted.
CREATE OR REPLACE FUNCTION rt.add_member(room text, user_id text, role text DEFAULT 'member',
                                         actor text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r      rt.rooms;
    v_prev text;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(user_id, 'user_id');
    PERFORM rt.check_ident(actor, 'actor', required => false);
    IF role IS NULL OR NOT EXISTS (SELECT 1 FROM rt.roles x WHERE x.role = add_member.role) THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown role %L', left(role, 64)),
                         hint => (SELECT 'roles: ' || string_agg(x.role, ', ' ORDER BY x.role) FROM rt.roles x));
    END IF;
    IF role = 'owner' THEN
        PERFORM rt.raise('BAD_REQUEST', 'a room has one owner, set by create_room');
    END IF;
    r := rt.room_for(room, actor, 'manage_members', true);
    PERFORM rt.ensure_open(r);
    v_prev := rt.member_role(room, user_id);
    IF v_prev = 'owner' THEN
        PERFORM rt.raise('CONFLICT', format('%s owns room %s; the owner''s role cannot change', user_id, room));
    ELSIF v_prev = role THEN
        RETURN;
    ELSIF v_prev IS NULL THEN
        INSERT INTO rt.members (room, user_id, role) VALUES (room, user_id, role);
        PERFORM rt.append_event(room, 'member_added', actor,
                                jsonb_build_object('user', user_id, 'role', role));
    ELSE
        UPDATE rt.members m SET role = add_member.role
         WHERE m.room = add_member.room AND m.user_id = add_member.user_id;
        PERFORM rt.append_event(room, 'member_added', actor,
                                jsonb_build_object('user', user_id, 'role', role, 'previous_role', v_prev));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.add_member(text, text, text, text) IS
    'Add a member or change its role (appends member_added); actor, when given, must be the owner.';

-- rt.remove_member: remove a member (appends member_removed). Its connections' presence in the room
-- ends too (presence left), and bridges stop delivering the room to that user on member_removed.
CREATE OR REPLACE FUNCTION rt.remove_member(room text, user_id text, actor text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r      rt.rooms;
    v_role text;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(user_id, 'user_id');
    PERFORM rt.check_ident(actor, 'actor', required => false);
    r := rt.room_for(room, actor, 'manage_members', true);
    PERFORM rt.ensure_open(r);
    v_role := rt.member_role(room, user_id);
    IF v_role IS NULL THEN
        PERFORM rt.raise('NOT_FOUND', format('%s is not a member of room %s', user_id, room));
    ELSIF v_role = 'owner' THEN
        PERFORM rt.raise('CONFLICT', format('%s owns room %s and cannot be removed', user_id, room));
    END IF;
    DELETE FROM rt.members m WHERE m.room = remove_member.room AND m.user_id = remove_member.user_id;
    PERFORM rt.append_event(room, 'member_removed', actor,
                            jsonb_build_object('user', user_id));
    IF EXISTS (SELECT 1 FROM rt.presence p WHERE p.room = remove_member.room AND p.user_id = remove_member.user_id) THEN
        DELETE FROM rt.presence p WHERE p.room = remove_member.room AND p.user_id = remove_member.user_id;
        PERFORM rt.announce_presence(room, ARRAY[user_id], 'left', rt.add_online(room, -1));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.remove_member(text, text, text) IS
    'Remove a member (appends member_removed; ends its presence); actor, when given, must be the owner.';
