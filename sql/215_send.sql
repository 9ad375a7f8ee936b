-- The set-based write path for messages (docs/sql-api.md "The write path"). Every message is posted
-- here: rt.post_message is a batch of one, rt.batch hands over all its `send` commands at once. So
-- there is one implementation of each rule of posting, and a send from psql costs what one from a
-- bridge does.
--
-- For N commands the work is a fixed number of statements, not N times a dozen:
--   1. lock every touched room once, in room-id order (the order every room-locking path uses, so
--      concurrent batches cannot deadlock), with one SELECT ... FOR NO KEY UPDATE;
--   2-3. one SELECT, in a snapshot taken after the locks, validates every command (the *_problem
--      rules of sql/030_validate.sql) and gives it its actor's role, its room's last_seq and ended_at
--      and, with a client_msg_id, the message already stored under it;
--      a loop over those rows (expressions only, no statements) decides each command's outcome in
--      (room, index) order and numbers the accepted ones;
--   4. one UPDATE moves last_seq of every touched room, one INSERT writes all events, one INSERT all
--      message rows, one call of rt.emit_all notifies every event, in seq order per room.
-- A command that fails is decided before anything is written, so it writes, numbers and notifies
-- nothing, and the others do not notice it. Unexpected errors (a broken constraint, a full disk)
-- raise out of here; rt.batch then falls back to one subtransaction per command.

-- cmds: a JSON array of
--   {"i": index, "frame": true when it came as a client frame through a bridge (then "conn" and "user"
--    are checked first, as rt.dispatch does), "conn", "user" (the author), "room", "body",
--    "media_url", "meta", "client_msg_id"}
-- Returns one row per command: ok and the event (wire shape), or not ok and the problem
-- {code, message, detail?, hint?} (what rt.raise_problem raises).
-- plan_cache_mode: the statements below were planned afresh on every call (PostgreSQL kept choosing a
-- custom plan for their jsonb/array parameters), which cost more than running them for a set of one;
-- their generic plans (primary-key probes per command) are the right ones for any set size.
-- enable_hashjoin, enable_mergejoin, enable_seqscan: a generic plan assumes 100 commands (the row
-- estimate of jsonb_to_recordset and unnest), and for tables of a few thousand rows it read them
-- whole: the room lock scanned rt.rooms comparing every row with every room of the batch, the
-- validation hashed all of rt.rooms and rt.members (1,000 rooms: ~10 million instructions per batch,
-- more than a batch of 8 sends' writes; found with callgrind). A batch holds at most 64 commands, so
-- primary-key probes per command are always the cheaper plan; these settings make them the only one. They are
-- set for this function only (its statements and the rules it calls are planned under them).
CREATE OR REPLACE FUNCTION rt.apply_sends(cmds jsonb) RETURNS TABLE (i integer, ok boolean, reply jsonb)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_hashjoin = off
    SET enable_mergejoin = off
    SET enable_seqscan = off
AS $$
DECLARE
    v_max_event integer := rt.setting_int('max_event_bytes');
    v_max_meta  integer := rt.setting_int('max_meta_bytes');
    v_at        timestamptz;
    c           record;
    v_room      text;      -- the room whose commands the loop is in
    v_next      bigint;    -- the next seq of v_room
    v_key       text;
    v_seen      jsonb := '{}';  -- client_msg_id key -> event accepted earlier in this call
    v_event     jsonb;
    v_data      jsonb;
    v_problem   jsonb;
    -- outcomes, in decision order
    r_i         integer[] := '{}';
    r_ok        boolean[] := '{}';
    r_reply     jsonb[] := '{}';
    -- accepted events, in seq order per room
    a_room      text[] := '{}';
    a_seq       bigint[] := '{}';
    a_author    text[] := '{}';
    a_data      jsonb[] := '{}';
    a_body      text[] := '{}';
    a_media_url text[] := '{}';
    a_meta      jsonb[] := '{}';
    a_cmid      text[] := '{}';
    a_event     jsonb[] := '{}';
    a_config    regconfig[] := '{}';
BEGIN
    -- 1. One lock per room the commands name, in room-id order. (A command that fails validation
    --    below may lock its room too: that changes no outcome, only when a concurrent writer of the
    --    room proceeds; it saves a statement per call.)
    --    (The rooms are found through the primary key: see the planner settings above.)
    PERFORM 1 FROM rt.rooms r
     WHERE r.id = ANY (ARRAY(SELECT x.room FROM jsonb_to_recordset(cmds) AS x (room text)))
     ORDER BY r.id COLLATE "C"
       FOR NO KEY UPDATE;
    -- Taken after the locks, so `at` follows seq order within a room.
    v_at := clock_timestamp();

    -- 2. Validate and look up, in one statement whose snapshot is newer than the locks: it sees every
    --    change committed by the writers we waited for (members, messages, last_seq, ended_at).
    --    Validation follows the order the single calls check in (the first problem wins).
    FOR c IN
        SELECT x.i, x."user", x.room, x.body, x.media_url, x.meta, x.client_msg_id,
               rt.send_problem(x.frame, x.conn, x."user", x.room, x.body, x.media_url, x.meta, x.client_msg_id,
                               v_max_event, v_max_meta) AS problem,
               ro.last_seq, ro.ended_at, m.role,
               -- the room's text search configuration, as rt.search_config decides it (the room's
               -- row, else its kind's row, else simple; NULL: search off), read with the room: a
               -- call per room cost two statements and a function call (~7% of a batch).
               CASE WHEN rs.found THEN rs.config WHEN ks.found THEN ks.config
                    ELSE 'pg_catalog.simple'::regconfig END AS search_config,
               m.role IS NOT NULL AND EXISTS (SELECT 1 FROM rt.role_rights rr
                                               WHERE rr.role = m.role AND rr.right_name = 'send') AS may_send,
               (SELECT rt.event_json(ev) FROM rt.messages sm JOIN rt.events ev ON ev.room = sm.room AND ev.seq = sm.seq
                 WHERE x.client_msg_id IS NOT NULL AND sm.room = x.room AND sm.author = x."user"
                   AND sm.client_msg_id = x.client_msg_id) AS stored
          FROM jsonb_to_recordset(cmds) AS x (i integer, frame boolean, conn text, "user" text, room text, body text,
                                              media_url text, meta jsonb, client_msg_id text)
          -- LATERAL: one primary-key probe per command (a join planned for the set would scan
          -- rt.rooms and rt.members whole for a set of one).
          LEFT JOIN LATERAL (SELECT r.id, r.last_seq, r.ended_at, r.kind FROM rt.rooms r WHERE r.id = x.room) ro ON true
          LEFT JOIN LATERAL (SELECT mm.role FROM rt.members mm WHERE mm.room = x.room AND mm.user_id = x."user") m ON true
          LEFT JOIN LATERAL (SELECT true AS found, s.config FROM rt.room_search s WHERE s.room = x.room) rs ON true
          LEFT JOIN LATERAL (SELECT true AS found, s.config FROM rt.kind_search s WHERE s.kind = ro.kind) ks ON true
         ORDER BY x.room COLLATE "C", x.i
    LOOP
        v_event := NULL;
        -- The access rule is asked only when the right is missing, as rt.apply_send does (a call per
        -- send saved; it answers NULL otherwise).
        v_problem := coalesce(c.problem, CASE WHEN NOT c.may_send
                                              THEN rt.access_problem(c."user", c.room, c.role, c.may_send, 'send') END);
        IF v_problem IS NULL AND c.client_msg_id IS NOT NULL THEN
            -- Idempotent retry: the message stored earlier under this key, even in an ended room.
            v_key := c.room || '/' || length(c."user") || ':' || c."user" || '/' || c.client_msg_id;
            v_event := coalesce(c.stored, v_seen -> v_key);
        END IF;
        IF v_problem IS NULL AND v_event IS NULL AND c.ended_at IS NOT NULL THEN  -- an ended room
            v_problem := rt.open_problem(c.room, c.ended_at);
        END IF;
        IF v_problem IS NULL AND v_event IS NULL THEN
            IF v_room IS DISTINCT FROM c.room THEN
                v_room := c.room;
                v_next := c.last_seq + 1;
            END IF;
            v_data := jsonb_build_object('body', c.body, 'media_url', c.media_url, 'meta', c.meta,
                                         'client_msg_id', c.client_msg_id);
            v_event := rt.event_json(c.room, v_next, 'message', c."user", v_at, v_data);
            v_problem := rt.event_size_problem(v_event, v_max_event);
            IF v_problem IS NULL THEN
                a_room := a_room || c.room;
                a_seq := a_seq || v_next;
                a_author := a_author || c."user";
                a_data := a_data || v_data;
                a_body := a_body || c.body;
                a_media_url := a_media_url || c.media_url;
                a_meta := a_meta || c.meta;
                a_cmid := a_cmid || c.client_msg_id;
                a_event := a_event || v_event;
                a_config := a_config || c.search_config;
                v_next := v_next + 1;
                IF c.client_msg_id IS NOT NULL THEN
                    v_seen := v_seen || jsonb_build_object(v_key, v_event);
                END IF;
            END IF;
        END IF;
        r_i := r_i || c.i;
        r_ok := r_ok || (v_problem IS NULL);
        r_reply := r_reply || coalesce(v_problem, v_event);
    END LOOP;

    -- 4. Write and notify the accepted events.
    IF cardinality(a_seq) > 0 THEN
        UPDATE rt.rooms r SET last_seq = n.last_seq
          FROM (SELECT u.room, max(u.seq) AS last_seq FROM unnest(a_room, a_seq) AS u (room, seq) GROUP BY u.room) n
         WHERE r.id = n.room;
        INSERT INTO rt.events (room, seq, event, actor, data, at)
        SELECT u.room, u.seq, 'message', u.author, u.data, v_at
          FROM unnest(a_room, a_seq, a_author, a_data) AS u (room, seq, author, data);
        -- The search document, as rt.search_document makes it, written out
        -- (migrations/0047_search_tsv_written.sql).
        INSERT INTO rt.messages (room, seq, author, body, media_url, meta, client_msg_id, created_at, search_config, search_tsv)
        SELECT u.room, u.seq, u.author, u.body, u.media_url, u.meta, u.client_msg_id, v_at, u.config,
               to_tsvector(u.config, CASE WHEN char_length(u.body) < 2048 THEN u.body ELSE rt.indexable_text(u.body) END)
               || array_to_tsvector(ARRAY['@' || u.room])
          FROM unnest(a_room, a_seq, a_author, a_body, a_media_url, a_meta, a_cmid, a_config)
               AS u (room, seq, author, body, media_url, meta, client_msg_id, config);
        PERFORM FROM rt.emit_all(a_event);
    END IF;

    RETURN QUERY SELECT u.i, u.ok, u.reply FROM unnest(r_i, r_ok, r_reply) AS u (i, ok, reply) ORDER BY u.i;
END
$$;

COMMENT ON FUNCTION rt.apply_sends(jsonb) IS
    'Internal: post many messages as sets (validate, lock rooms once, decide, one INSERT each); one outcome per command.';
