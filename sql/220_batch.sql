-- rt.batch: several client commands in one transaction, each with its own outcome.
--
-- Why: a transaction that NOTIFYs holds a database-wide lock through its commit (WAL flush
-- included), so one command per commit caps throughput at the flush rate. A batch pays one commit for
-- up to 64 commands.
--
-- How (docs/sql-api.md "The write path"): `send` commands, the bulk of the traffic, are posted as a
-- set by rt.apply_sends (sql/215_send.sql): one validation pass, one lock per room, one INSERT for all
-- events; a set of one send (a batch of one, the usual batch of a quiet bridge) takes the direct path,
-- rt.apply_send (sql/212_send_one.sql), which gives the same answers. Every other command runs through rt.dispatch in its own subtransaction, as does each send
-- of a set that hit an unexpected error (the fallback gives the answer a batch of one would: the
-- rules are the same functions). A command that fails writes and notifies nothing either way.
--
-- Order: commands run by room id (stable: commands for the same room keep their relative order), so
-- two batches touching the same rooms lock them in the same order and cannot deadlock; results come
-- back by index. A room all of whose commands in the batch are sends joins the current set; a room
-- with any other command ends the set (which is applied first) and runs command by command, so each
-- room's events keep the order of its commands.
--
-- At most 64 commands: PostgreSQL caches 64 subtransaction ids per backend; beyond that, every
-- snapshot in the cluster gets slower (subxid overflow). The functions dispatch calls open no
-- subtransactions of their own, so a batch uses at most 64 (65 when a set fails and its commands are
-- retried one by one: the set's own subtransaction has ended by then).

-- One command through rt.dispatch in its own subtransaction: its reply data or its error object.
CREATE OR REPLACE FUNCTION rt.batch_one(bridge_id text, idx integer, cmd jsonb, OUT ok boolean, OUT body text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_state  text;
    v_msg    text;
    v_detail text;
    v_ctx    text;
BEGIN
    IF jsonb_typeof(cmd) <> 'object' THEN
        PERFORM rt.raise('BAD_REQUEST', 'a command must be an object {"conn","user","frame"}');
    END IF;
    body := rt.dispatch(bridge_id, rt.frame_string(cmd, 'conn', true), rt.frame_string(cmd, 'user', true),
                        rt.frame_object(cmd, 'frame', true))::text;
    ok := true;
EXCEPTION WHEN OTHERS THEN
    -- Not swallowed: the error becomes this command's reply. Unexpected ones are logged in full here
    -- because the client only ever sees a generic message.
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                            v_detail = PG_EXCEPTION_DETAIL, v_ctx = PG_EXCEPTION_CONTEXT;
    IF v_state NOT LIKE 'RT%' THEN
        RAISE LOG 'rt.batch: bridge % command % failed: SQLSTATE % %; detail: %; context: %',
                  bridge_id, idx, v_state, v_msg, v_detail, v_ctx;
    END IF;
    body := rt.error_body(v_state, v_msg)::text;
    ok := false;
END
$$;

COMMENT ON FUNCTION rt.batch_one(text, integer, jsonb) IS
    'Internal: one batch command through rt.dispatch in its own subtransaction; (ok, reply data or error object).';

-- Whether a batch command is a well-formed send: every field of the JSON type the frame readers of
-- rt.dispatch accept. Such a command is posted by the write path (rt.apply_send / rt.apply_sends);
-- anything else goes through rt.dispatch, which gives malformed commands their exact errors.
CREATE OR REPLACE FUNCTION rt.is_send_command(cmd jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN coalesce(jsonb_typeof(cmd) = 'object'
                    AND jsonb_typeof(cmd -> 'conn') = 'string'
                    AND jsonb_typeof(cmd -> 'user') = 'string'
                    AND jsonb_typeof(cmd -> 'frame') = 'object'
                    AND cmd -> 'frame' -> 'type' = '"send"'
                    AND jsonb_typeof(cmd -> 'frame' -> 'room') = 'string'
                    AND jsonb_typeof(cmd -> 'frame' -> 'body') = 'string'
                    AND coalesce(jsonb_typeof(cmd -> 'frame' -> 'media_url'), 'null') IN ('string', 'null')
                    AND coalesce(jsonb_typeof(cmd -> 'frame' -> 'meta'), 'null') IN ('object', 'null')
                    AND coalesce(jsonb_typeof(cmd -> 'frame' -> 'client_msg_id'), 'null') IN ('string', 'null'),
                    false);
END
$$;

COMMENT ON FUNCTION rt.is_send_command(jsonb) IS
    'Internal: whether a batch command {conn, user, frame} is a send with fields of the right JSON types.';

-- A problem decided by the write path as the reply body of a failed command: the error object
-- {code, message, retry} rt.batch_one gives the same error when it is raised.
CREATE OR REPLACE FUNCTION rt.problem_reply(problem jsonb) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN jsonb_build_object('code', problem ->> 'code', 'message', problem ->> 'message',
                              'retry', (SELECT e.retry FROM rt.error_codes e WHERE e.code = problem ->> 'code'))::text;
END
$$;

COMMENT ON FUNCTION rt.problem_reply(jsonb) IS
    'Internal: the reply body {code, message, retry} of a command the write path refused with a problem.';

-- A send command of a batch alone, through the direct path rt.apply_send, in a subtransaction: an
-- error no rule decided (a broken constraint, a full disk) rolls it back, and the command runs
-- again through rt.batch_one, which gives it the reply a failing command gets (and logs it).
CREATE OR REPLACE FUNCTION rt.batch_send(bridge_id text, idx integer, cmd jsonb, OUT ok boolean, OUT body text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_frame jsonb := cmd -> 'frame';
    o       record;
BEGIN
    BEGIN
        o := rt.apply_send(true, cmd ->> 'conn', cmd ->> 'user', v_frame ->> 'room', v_frame ->> 'body',
                           v_frame ->> 'media_url', coalesce(nullif(v_frame -> 'meta', 'null'), '{}'),
                           v_frame ->> 'client_msg_id');
        ok := o.ok;
        body := CASE WHEN o.ok THEN o.reply::text ELSE rt.problem_reply(o.reply) END;
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        NULL;  -- rolled back; run again below
    END;
    o := rt.batch_one(bridge_id, idx, cmd);
    ok := o.ok;
    body := o.body;
END
$$;

COMMENT ON FUNCTION rt.batch_send(text, integer, jsonb) IS
    'Internal: one well-formed send command of a batch through rt.apply_send (rt.batch_one should it fail unexpectedly).';

-- A set of send commands (see rt.batch) through rt.apply_sends, in one subtransaction. Should the set
-- fail as a whole (an error no rule decided: a broken constraint, a full disk), it is rolled back and
-- each command runs alone through rt.batch_one instead, so only the command that causes the error
-- gets it.
CREATE OR REPLACE FUNCTION rt.batch_sends(bridge_id text, sends jsonb, cmds jsonb)
    RETURNS TABLE (i integer, ok boolean, body text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_i integer[];
    v_ok boolean[];
    v_body text[];
    v_one record;
    v_idx integer;
BEGIN
    IF jsonb_array_length(sends) = 1 THEN  -- a set of one: the direct path
        i := (sends -> 0 ->> 'i')::integer;
        v_one := rt.batch_send(bridge_id, i, cmds -> i);
        ok := v_one.ok;
        body := v_one.body;
        RETURN NEXT;
        RETURN;
    END IF;
    BEGIN
        SELECT array_agg(a.i), array_agg(a.ok),
               array_agg(CASE WHEN a.ok THEN a.reply::text ELSE rt.problem_reply(a.reply) END)
          INTO v_i, v_ok, v_body
          FROM rt.apply_sends(sends) a;
        RETURN QUERY SELECT * FROM unnest(v_i, v_ok, v_body);
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        NULL;  -- rolled back; each command is retried alone below
    END;
    FOR v_idx IN SELECT (s.c ->> 'i')::integer FROM jsonb_array_elements(sends) AS s (c) LOOP
        v_one := rt.batch_one(bridge_id, v_idx, cmds -> v_idx);
        i := v_idx;
        ok := v_one.ok;
        body := v_one.body;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION rt.batch_sends(text, jsonb, jsonb) IS
    'Internal: send commands of a batch as one set (rt.apply_sends), or one by one should the set fail unexpectedly.';

CREATE OR REPLACE FUNCTION rt.batch(bridge_id text, commands jsonb)
    RETURNS TABLE (i integer, ok boolean, body text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n      integer;
    c        record;
    v_one    record;
    v_sends  jsonb[] := '{}';  -- the current set (an array: appending to a jsonb array copies it whole)
    v_oks    boolean[];
    v_bodies text[];
    v_problem jsonb;
BEGIN
    -- Assignments and IFs, not PERFORM, on the way of every batch: a PERFORM runs the executor.
    v_problem := rt.ident_problem(bridge_id, 'bridge_id');
    IF v_problem IS NOT NULL THEN
        PERFORM rt.raise_problem(v_problem);
    END IF;
    IF commands IS NULL OR jsonb_typeof(commands) <> 'array' THEN
        PERFORM rt.raise('BAD_REQUEST', '"commands" must be a JSON array');
    END IF;
    v_n := jsonb_array_length(commands);
    IF v_n > 64 THEN
        PERFORM rt.raise('BAD_REQUEST', format('a batch holds at most 64 commands, not %s', v_n));
    END IF;

    -- A batch of one command, the usual batch of a bridge that is not busy: no set to build.
    IF v_n = 1 THEN
        IF rt.is_send_command(commands -> 0) THEN
            v_one := rt.batch_send(bridge_id, 0, commands -> 0);
        ELSE
            v_one := rt.batch_one(bridge_id, 0, commands -> 0);
        END IF;
        i := 0;
        ok := v_one.ok;
        body := v_one.body;
        RETURN NEXT;
        RETURN;
    END IF;

    -- A command joins the set when it is a well-formed send (rt.is_send_command) and its room has
    -- only such commands in this batch. Anything else goes through rt.dispatch, which gives
    -- malformed commands their exact errors.
    FOR c IN
        WITH cmd AS (
            SELECT (x.ord - 1)::integer AS idx, x.cmd,
                   CASE WHEN jsonb_typeof(x.cmd -> 'frame' -> 'room') = 'string'
                        THEN (x.cmd -> 'frame' ->> 'room') END AS room
              FROM jsonb_array_elements(commands) WITH ORDINALITY AS x (cmd, ord)),
        -- MATERIALIZED: one rt.is_send_command call per command (inlined, the call ran once for
        -- each of its two uses below).
        shaped AS MATERIALIZED (SELECT cmd.*, rt.is_send_command(cmd.cmd) AS is_send FROM cmd)
        SELECT s.idx, s.cmd, s.is_send AND bool_and(s.is_send) OVER (PARTITION BY s.room) AS in_set
          FROM shaped s
         ORDER BY s.room COLLATE "C" NULLS FIRST, s.idx
    LOOP
        IF c.in_set THEN
            v_sends := v_sends || jsonb_build_object(
                'i', c.idx, 'frame', true, 'conn', c.cmd ->> 'conn', 'user', c.cmd ->> 'user',
                'room', c.cmd -> 'frame' ->> 'room', 'body', c.cmd -> 'frame' ->> 'body',
                'media_url', c.cmd -> 'frame' ->> 'media_url',
                'meta', coalesce(nullif(c.cmd -> 'frame' -> 'meta', 'null'), '{}'),
                'client_msg_id', c.cmd -> 'frame' ->> 'client_msg_id');
            CONTINUE;
        END IF;
        IF cardinality(v_sends) > 0 THEN
            FOR v_one IN SELECT * FROM rt.batch_sends(bridge_id, to_jsonb(v_sends), commands) LOOP
                v_oks[v_one.i + 1] := v_one.ok;
                v_bodies[v_one.i + 1] := v_one.body;
            END LOOP;
            v_sends := '{}';
        END IF;
        v_one := rt.batch_one(bridge_id, c.idx, c.cmd);
        v_oks[c.idx + 1] := v_one.ok;
        v_bodies[c.idx + 1] := v_one.body;
    END LOOP;
    IF cardinality(v_sends) > 0 THEN
        FOR v_one IN SELECT * FROM rt.batch_sends(bridge_id, to_jsonb(v_sends), commands) LOOP
            v_oks[v_one.i + 1] := v_one.ok;
            v_bodies[v_one.i + 1] := v_one.body;
        END LOOP;
    END IF;

    RETURN QUERY SELECT g - 1, v_oks[g], v_bodies[g] FROM generate_series(1, v_n) AS g ORDER BY g;
END
$$;

COMMENT ON FUNCTION rt.batch(text, jsonb) IS
    'Bridge entry point: up to 64 commands {conn, user, frame} in one transaction, each with its own outcome; sends are applied as a set. One row per command (i, ok, body JSON text).';
