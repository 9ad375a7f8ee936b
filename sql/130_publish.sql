-- Application events: publish (persisted) and signal (ephemeral). Which names each accepts, and
-- which roles may use each name, is data: rt.event_types and rt.event_type_roles.

-- rt.check_usable_event: BAD_REQUEST unless `event` is a non-system name of the wanted kind
-- (persisted for publish, signal for signal); FORBIDDEN unless the actor's role may use it.
CREATE OR REPLACE FUNCTION rt.check_usable_event(room text, actor text, event text, persisted boolean)
    RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t rt.event_types;
BEGIN
    SELECT * INTO t FROM rt.event_types x WHERE x.event = check_usable_event.event;
    IF NOT FOUND THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown event %L', event),
                         hint => 'event names are listed in rt.event_types');
    ELSIF t.system THEN
        PERFORM rt.raise('BAD_REQUEST', format('%s events are emitted by pgrt itself and cannot be sent', event));
    ELSIF t.persisted <> persisted THEN
        PERFORM rt.raise('BAD_REQUEST',
                         CASE WHEN t.persisted THEN format('%s is a persisted event: use publish, not signal', event)
                              ELSE format('%s is a signal: use signal, not publish', event) END);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM rt.event_type_roles x
                    WHERE x.event = check_usable_event.event AND x.role = rt.member_role(room, actor)) THEN
        PERFORM rt.raise('FORBIDDEN', format('a %s of room %s may not send %s events',
                                              rt.member_role(room, actor), room, event));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_usable_event(text, text, text, boolean) IS
    'Internal: the event name is usable via publish (persisted) or signal by the actor''s role.';

-- rt.publish: append an application event (owners and services, per rt.event_type_roles).
CREATE OR REPLACE FUNCTION rt.publish(room text, actor text, event text, data jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r rt.rooms;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor');
    PERFORM rt.check_event_name(event);
    PERFORM rt.check_object(data, 'data', rt.setting_int('max_event_bytes'));
    r := rt.room_for(room, actor, 'publish', true);
    PERFORM rt.check_usable_event(room, actor, event, true);
    PERFORM rt.ensure_open(r);
    RETURN rt.append_event(room, event, actor, data);
END
$$;

COMMENT ON FUNCTION rt.publish(text, text, text, jsonb) IS 'Append a persisted application event; returns it.';

-- rt.signal: NOTIFY an ephemeral event; nothing is stored. A signal must fit one NOTIFY payload
-- (7999 bytes of wire JSON), otherwise TOO_LARGE.
CREATE OR REPLACE FUNCTION rt.signal(room text, actor text, event text, data jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r rt.rooms;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor');
    PERFORM rt.check_event_name(event);
    PERFORM rt.check_object(data, 'data', rt.notify_max_bytes());
    r := rt.room_for(room, actor, 'signal', false);
    PERFORM rt.check_usable_event(room, actor, event, false);
    PERFORM rt.ensure_open(r);
    PERFORM rt.send_signal(room, event, actor, data);
END
$$;

COMMENT ON FUNCTION rt.signal(text, text, text, jsonb) IS 'Send an ephemeral event to the room''s listeners (not stored).';
