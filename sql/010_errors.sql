-- Raising pgrt's errors (docs/protocol.md, "Errors"), and turning any error into the protocol's error object.
-- The SQLSTATE of each code comes from rt.error_codes, so SQL clients and bridges agree on one table.

-- rt.raise: raise error `code` with a human MESSAGE (never SQL text) and optional
-- DETAIL / HINT. Declared to return void so callers write PERFORM rt.raise(...).
CREATE OR REPLACE FUNCTION rt.raise(code text, message text, detail text DEFAULT NULL,
                                    hint text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_state text;
BEGIN
    SELECT e.sqlstate INTO v_state FROM rt.error_codes e WHERE e.code = raise.code;
    IF v_state IS NULL THEN
        RAISE EXCEPTION 'rt.raise: unknown error code %', code USING ERRCODE = 'RT500';
    END IF;
    IF detail IS NULL AND hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = message;
    ELSIF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = message, DETAIL = detail;
    ELSIF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = message, HINT = hint;
    ELSE
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = message, DETAIL = detail, HINT = hint;
    END IF;
END
$$;

COMMENT ON FUNCTION rt.raise(text, text, text, text) IS
    'Internal: raise an error code with its SQLSTATE from rt.error_codes.';

-- rt.error_body: the protocol's error object {"code","message","retry"} for an error that was raised
-- with `sqlstate` and `message`. Our RT-class errors keep their message; a few PostgreSQL classes
-- have an obvious meaning among our codes; everything else is INTERNAL with a generic message, because a
-- PostgreSQL message may quote SQL or other users' data (the caller logs the original).
CREATE OR REPLACE FUNCTION rt.error_body(sqlstate text, message text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_code  text;
    v_retry boolean;
BEGIN
    SELECT e.code, e.retry INTO v_code, v_retry FROM rt.error_codes e WHERE e.sqlstate = error_body.sqlstate;
    IF v_code IS NOT NULL THEN
        RETURN jsonb_build_object('code', v_code, 'message', message, 'retry', v_retry);
    END IF;
    RETURN CASE
        WHEN left(sqlstate, 2) = '22' THEN
            jsonb_build_object('code', 'BAD_REQUEST', 'message', 'a value in the request is invalid', 'retry', false)
        WHEN sqlstate = '54000' THEN
            jsonb_build_object('code', 'TOO_LARGE', 'message', 'the request is too large', 'retry', false)
        WHEN sqlstate IN ('40001', '40P01', '55P03', '57014', '53300', '57P03') THEN
            jsonb_build_object('code', 'UNAVAILABLE', 'message', 'the database is busy; retry', 'retry', true)
        ELSE
            jsonb_build_object('code', 'INTERNAL', 'message', 'internal error', 'retry', false)
    END;
END
$$;

COMMENT ON FUNCTION rt.error_body(text, text) IS
    'The protocol error object {code, message, retry} for an error raised with SQLSTATE and MESSAGE.';

-- The SQLSTATE <-> code table for bridges and clients that cannot read rt.error_codes directly.
CREATE OR REPLACE FUNCTION rt.error_code_map() RETURNS TABLE (code text, sqlstate text, retry boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT e.code, e.sqlstate, e.retry FROM rt.error_codes e ORDER BY e.sqlstate $$;

COMMENT ON FUNCTION rt.error_code_map() IS 'The error codes (docs/protocol.md, Errors), their SQLSTATEs and whether a retry may succeed.';
