-- rt.batch: several client commands in one transaction, each isolated.
--
-- Why: a transaction that NOTIFYs holds a database-wide lock through its commit (WAL flush
-- included), so one command per commit caps throughput at the flush rate. A batch pays one commit for
-- up to 64 commands. Each command runs in its own subtransaction: one that fails rolls back only its
-- own writes and NOTIFYs, and gets its own error object.
--
-- At most 64 commands: PostgreSQL caches 64 subtransaction ids per backend; beyond that, every
-- snapshot in the cluster gets slower (subxid overflow). The functions dispatch calls open no
-- subtransactions of their own, so a batch uses at most 64.
--
-- Commands run in order of room id (stable: commands for the same room keep their relative order)
-- so that two batches touching the same rooms lock them in the same order and cannot deadlock;
-- results come back by index.

CREATE OR REPLACE FUNCTION rt.batch(bridge_id text, commands jsonb)
    RETURNS TABLE (i integer, ok boolean, body text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n      integer;
    v_idx    integer;
    v_cmd    jsonb;
    v_oks    boolean[];
    v_bodies text[];
    v_state  text;
    v_msg    text;
    v_detail text;
    v_ctx    text;
BEGIN
    PERFORM rt.check_ident(bridge_id, 'bridge_id');
    IF commands IS NULL OR jsonb_typeof(commands) <> 'array' THEN
        PERFORM rt.raise('BAD_REQUEST', '"commands" must be a JSON array');
    END IF;
    v_n := jsonb_array_length(commands);
    IF v_n > 64 THEN
        PERFORM rt.raise('BAD_REQUEST', format('a batch holds at most 64 commands, not %s', v_n));
    END IF;

    FOR v_idx, v_cmd IN
        SELECT (c.ord - 1)::integer, c.cmd
          FROM jsonb_array_elements(commands) WITH ORDINALITY AS c (cmd, ord)
         ORDER BY CASE WHEN jsonb_typeof(c.cmd -> 'frame' -> 'room') = 'string'
                       THEN (c.cmd -> 'frame' ->> 'room') END COLLATE "C" NULLS FIRST,
                  c.ord
    LOOP
        BEGIN
            IF jsonb_typeof(v_cmd) <> 'object' THEN
                PERFORM rt.raise('BAD_REQUEST', 'a command must be an object {"conn","user","frame"}');
            END IF;
            v_bodies[v_idx + 1] := rt.dispatch(bridge_id, rt.frame_string(v_cmd, 'conn', true),
                                               rt.frame_string(v_cmd, 'user', true),
                                               rt.frame_object(v_cmd, 'frame', true))::text;
            v_oks[v_idx + 1] := true;
        EXCEPTION WHEN OTHERS THEN
            -- Not swallowed: the error becomes this command's reply. Unexpected ones are logged in
            -- full here because the client only ever sees a generic message.
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_ctx = PG_EXCEPTION_CONTEXT;
            IF v_state NOT LIKE 'RT%' THEN
                RAISE LOG 'rt.batch: bridge % command % failed: SQLSTATE % %; detail: %; context: %',
                          bridge_id, v_idx, v_state, v_msg, v_detail, v_ctx;
            END IF;
            v_bodies[v_idx + 1] := rt.error_body(v_state, v_msg)::text;
            v_oks[v_idx + 1] := false;
        END;
    END LOOP;

    RETURN QUERY SELECT g - 1, v_oks[g], v_bodies[g] FROM generate_series(1, v_n) AS g ORDER BY g;
END
$$;

COMMENT ON FUNCTION rt.batch(text, jsonb) IS
    'Bridge entry point: up to 64 commands {conn, user, frame} in one transaction, each isolated; one row per command (i, ok, body JSON text).';
