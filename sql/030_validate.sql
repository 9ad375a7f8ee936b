-- Argument validation shared by every function. Each check raises BAD_REQUEST (or TOO_LARGE)
-- naming the field, and never echoes an invalid value back (it may be huge or hostile).

CREATE OR REPLACE FUNCTION rt.check_room_id(room text, field text DEFAULT 'room') RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF room IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
    ELSIF room !~ '^[A-Za-z0-9_-]{1,64}$' THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be 1 to 64 characters of A-Z a-z 0-9 _ -', field));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_room_id(text, text) IS 'Internal: BAD_REQUEST unless a valid room id.';

-- Short identifiers chosen by someone else (user ids, connection ids, client_msg_id): 1..128
-- characters, no control characters.
CREATE OR REPLACE FUNCTION rt.check_ident(value text, field text, required boolean DEFAULT true) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        IF required THEN
            PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
        END IF;
    ELSIF char_length(value) NOT BETWEEN 1 AND 128 THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be 1 to 128 characters', field));
    ELSIF value ~ '[[:cntrl:]]' THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must not contain control characters', field));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_ident(text, text, boolean) IS
    'Internal: BAD_REQUEST unless 1..128 characters without control characters.';

CREATE OR REPLACE FUNCTION rt.check_event_name(event text, field text DEFAULT 'event') RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF event IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
    ELSIF event !~ '^[a-z][a-z0-9_]{0,63}$' THEN
        PERFORM rt.raise('BAD_REQUEST',
                         format('"%s" must be a lower-case name: a letter, then up to 63 of a-z 0-9 _', field));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_event_name(text, text) IS 'Internal: BAD_REQUEST unless a valid event name.';

-- A JSON object argument (meta, data, prefs) of at most max_bytes bytes of JSON text, nested at
-- most 64 levels below the object. Why a depth limit: bridges parse every NOTIFY payload with jansson,
-- which refuses JSON nested deeper than 2048 levels; an event stored deeper than that from SQL was
-- dropped by every bridge ("notify_ignored") and reached clients only once a later event revealed the
-- gap. 64 is far beyond real data and keeps WebSocket and SQL callers under the same rule.
-- (`strict $.**{65}`: some value sits 65 levels below the top; the path engine stops descending
-- at that level, so even a hostile document costs a bounded walk.)
CREATE OR REPLACE FUNCTION rt.check_object(doc jsonb, field text, max_bytes integer DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bytes integer;
BEGIN
    IF doc IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
    ELSIF jsonb_typeof(doc) <> 'object' THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be a JSON object', field));
    END IF;
    v_bytes := octet_length(doc::text);
    IF max_bytes IS NOT NULL AND v_bytes > max_bytes THEN
        PERFORM rt.raise('TOO_LARGE', format('"%s" is larger than %s bytes', field, max_bytes));
    ELSIF v_bytes > 130 AND jsonb_path_exists(doc, 'strict $.**{65}') THEN -- 65 levels need 130+ bytes
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be nested at most 64 levels deep', field));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_object(jsonb, text, integer) IS
    'Internal: BAD_REQUEST unless a JSON object nested at most 64 levels deep; TOO_LARGE beyond max_bytes.';

-- A message body: non-empty text within the event size limit.
CREATE OR REPLACE FUNCTION rt.check_body(body text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_max integer := rt.setting_int('max_event_bytes');
BEGIN
    IF body IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"body" is required');
    ELSIF body = '' THEN
        PERFORM rt.raise('BAD_REQUEST', '"body" must not be empty');
    ELSIF octet_length(body) > v_max THEN
        PERFORM rt.raise('TOO_LARGE', format('"body" is larger than %s bytes', v_max),
                         hint => 'the limit is the setting max_event_bytes');
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_body(text) IS 'Internal: BAD_REQUEST unless a non-empty body; TOO_LARGE beyond max_event_bytes.';

CREATE OR REPLACE FUNCTION rt.check_media_url(url text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF url IS NOT NULL AND (char_length(url) > 2048 OR url !~* '^https?://[^[:space:][:cntrl:]/?#]+[^[:space:][:cntrl:]]*$') THEN
        PERFORM rt.raise('BAD_REQUEST', '"media_url" must be an http:// or https:// URL of at most 2048 characters');
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_media_url(text) IS 'Internal: BAD_REQUEST unless NULL or an http(s) URL of at most 2048 characters.';

-- Optional titles: 1..200 characters, no control characters.
CREATE OR REPLACE FUNCTION rt.check_title(title text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF title IS NOT NULL AND (char_length(title) NOT BETWEEN 1 AND 200 OR title ~ '[[:cntrl:]]') THEN
        PERFORM rt.raise('BAD_REQUEST', '"title" must be 1 to 200 characters without control characters');
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_title(text) IS 'Internal: BAD_REQUEST unless NULL or 1..200 characters.';

-- Sequence numbers given by callers (seq, before, since): required non-negative integers.
CREATE OR REPLACE FUNCTION rt.check_seq(seq bigint, field text, minimum bigint DEFAULT 0) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF seq IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
    ELSIF seq < minimum THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be at least %s', field, minimum));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_seq(bigint, text, bigint) IS 'Internal: BAD_REQUEST unless an integer >= minimum.';

-- Page sizes (history, events_since).
CREATE OR REPLACE FUNCTION rt.check_limit(n integer, field text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF n IS NULL OR n NOT BETWEEN 1 AND 1000 THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be between 1 and 1000', field));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.check_limit(integer, text) IS 'Internal: BAD_REQUEST unless 1..1000.';
