-- Argument validation shared by every function. Each rule is written once, as a *_problem function
-- that returns the error it finds as {"code","message"[,"detail"][,"hint"]} (NULL when the value is
-- fine); the check_* functions raise that error. The set-based write path (sql/215_send.sql) asks the
-- *_problem functions for every command of a batch at once and turns their answers into per-command
-- replies, so a single call and a batch always give the same answer. Errors name the field and never
-- echo an invalid value back (it may be huge or hostile).

-- A contract error as a value: what rt.raise would raise.
CREATE OR REPLACE FUNCTION rt.problem(code text, message text, detail text DEFAULT NULL, hint text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN jsonb_strip_nulls(jsonb_build_object('code', code, 'message', message, 'detail', detail, 'hint', hint));
END
$$;

COMMENT ON FUNCTION rt.problem(text, text, text, text) IS
    'Internal: a contract error as a value {code, message, detail?, hint?} (see rt.raise_problem).';

-- Raise a problem found by a *_problem function; nothing happens for NULL.
CREATE OR REPLACE FUNCTION rt.raise_problem(p jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p IS NOT NULL THEN
        PERFORM rt.raise(p ->> 'code', p ->> 'message', p ->> 'detail', p ->> 'hint');
    END IF;
END
$$;

COMMENT ON FUNCTION rt.raise_problem(jsonb) IS 'Internal: raise the contract error described by a problem value (no-op for NULL).';

CREATE OR REPLACE FUNCTION rt.room_id_problem(room text, field text DEFAULT 'room') RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF room IS NULL THEN
        RETURN rt.problem('BAD_REQUEST', format('"%s" is required', field));
    -- The length apart from the pattern: a bounded repetition ({1,64}) costs PostgreSQL's regex
    -- engine ~8 times the work of `+` in every match (migrations/0048_cheaper_patterns.sql).
    ELSIF char_length(room) NOT BETWEEN 1 AND 64 OR room !~ '^[A-Za-z0-9_-]+$' THEN
        RETURN rt.problem('BAD_REQUEST', format('"%s" must be 1 to 64 characters of A-Z a-z 0-9 _ -', field));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.room_id_problem(text, text) IS 'Internal: BAD_REQUEST unless a valid room id (as a value).';

CREATE OR REPLACE FUNCTION rt.check_room_id(room text, field text DEFAULT 'room') RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM rt.raise_problem(rt.room_id_problem(room, field)); END $$;

COMMENT ON FUNCTION rt.check_room_id(text, text) IS 'Internal: BAD_REQUEST unless a valid room id.';

-- Short identifiers chosen by someone else (user ids, connection ids, client_msg_id): 1..128
-- characters, no control characters.
CREATE OR REPLACE FUNCTION rt.ident_problem(value text, field text, required boolean DEFAULT true) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        IF required THEN
            RETURN rt.problem('BAD_REQUEST', format('"%s" is required', field));
        END IF;
    ELSIF char_length(value) NOT BETWEEN 1 AND 128 THEN
        RETURN rt.problem('BAD_REQUEST', format('"%s" must be 1 to 128 characters', field));
    ELSIF value ~ '[[:cntrl:]]' THEN
        RETURN rt.problem('BAD_REQUEST', format('"%s" must not contain control characters', field));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.ident_problem(text, text, boolean) IS
    'Internal: BAD_REQUEST unless 1..128 characters without control characters (as a value).';

CREATE OR REPLACE FUNCTION rt.check_ident(value text, field text, required boolean DEFAULT true) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM rt.raise_problem(rt.ident_problem(value, field, required)); END $$;

COMMENT ON FUNCTION rt.check_ident(text, text, boolean) IS
    'Internal: BAD_REQUEST unless 1..128 characters without control characters.';

CREATE OR REPLACE FUNCTION rt.check_event_name(event text, field text DEFAULT 'event') RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF event IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
    ELSIF char_length(event) > 64 OR event !~ '^[a-z][a-z0-9_]*$' THEN  -- as room ids: no {0,63}
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
CREATE OR REPLACE FUNCTION rt.object_problem(doc jsonb, field text, max_bytes integer DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bytes integer;
BEGIN
    IF doc IS NULL THEN
        RETURN rt.problem('BAD_REQUEST', format('"%s" is required', field));
    ELSIF jsonb_typeof(doc) <> 'object' THEN
        RETURN rt.problem('BAD_REQUEST', format('"%s" must be a JSON object', field));
    END IF;
    v_bytes := octet_length(doc::text);
    IF max_bytes IS NOT NULL AND v_bytes > max_bytes THEN
        RETURN rt.problem('TOO_LARGE', format('"%s" is larger than %s bytes', field, max_bytes));
    ELSIF v_bytes > 130 AND jsonb_path_exists(doc, 'strict $.**{65}') THEN -- 65 levels need 130+ bytes
        RETURN rt.problem('BAD_REQUEST', format('"%s" must be nested at most 64 levels deep', field));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.object_problem(jsonb, text, integer) IS
    'Internal: BAD_REQUEST unless a JSON object nested at most 64 levels deep; TOO_LARGE beyond max_bytes (as a value).';

CREATE OR REPLACE FUNCTION rt.check_object(doc jsonb, field text, max_bytes integer DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM rt.raise_problem(rt.object_problem(doc, field, max_bytes)); END $$;

COMMENT ON FUNCTION rt.check_object(jsonb, text, integer) IS
    'Internal: BAD_REQUEST unless a JSON object nested at most 64 levels deep; TOO_LARGE beyond max_bytes.';

-- A message body: non-empty text within the event size limit (max_bytes: the max_event_bytes setting).
CREATE OR REPLACE FUNCTION rt.body_problem(body text, max_bytes integer) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF body IS NULL THEN
        RETURN rt.problem('BAD_REQUEST', '"body" is required');
    ELSIF body = '' THEN
        RETURN rt.problem('BAD_REQUEST', '"body" must not be empty');
    ELSIF octet_length(body) > max_bytes THEN
        RETURN rt.problem('TOO_LARGE', format('"body" is larger than %s bytes', max_bytes),
                          hint => 'the limit is the setting max_event_bytes');
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.body_problem(text, integer) IS
    'Internal: BAD_REQUEST unless a non-empty body; TOO_LARGE beyond max_bytes (as a value).';

CREATE OR REPLACE FUNCTION rt.check_body(body text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM rt.raise_problem(rt.body_problem(body, rt.setting_int('max_event_bytes'))); END $$;

COMMENT ON FUNCTION rt.check_body(text) IS 'Internal: BAD_REQUEST unless a non-empty body; TOO_LARGE beyond max_event_bytes.';

CREATE OR REPLACE FUNCTION rt.media_url_problem(url text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF url IS NOT NULL AND (char_length(url) > 2048 OR url !~* '^https?://[^[:space:][:cntrl:]/?#]+[^[:space:][:cntrl:]]*$') THEN
        RETURN rt.problem('BAD_REQUEST', '"media_url" must be an http:// or https:// URL of at most 2048 characters');
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.media_url_problem(text) IS
    'Internal: BAD_REQUEST unless NULL or an http(s) URL of at most 2048 characters (as a value).';

CREATE OR REPLACE FUNCTION rt.check_media_url(url text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN PERFORM rt.raise_problem(rt.media_url_problem(url)); END $$;

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
