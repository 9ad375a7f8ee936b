-- The set-based write path (docs/sql-api.md "The write path") against single calls.
--
-- 1. The post_message rows of the bad-input table (160_bad_input.sql, read from that file) are run
--    twice: each alone as the SQL call it is, and all at once (with good sends among them) through
--    ONE rt.apply_sends call. Every command must get the same error object either way.
-- 2. Mixed good/bad batches run through rt.batch (sends as a set, the rest per command) and through a
--    reference that runs every command alone in its own subtransaction, in the order rt.batch always
--    used (rt.batch_one = rt.dispatch per command). Replies, stored events, message rows, rooms and
--    NOTIFYs must be identical (timestamps aside).
-- 3. Idempotency is keyed per (room, author, client_msg_id).
-- 4. An unexpected error in a set falls back to one command at a time with the same answers (and in a
--    batch of one, on the direct path, the command gets the same INTERNAL).
-- 5. Every batch of 2 again as batches of one (the direct path, rt.apply_send) against one rt.batch
--    (the set path): identical replies, events, messages, rooms, presence and NOTIFYs.
BEGIN;
\ir helpers.psql

-- The fixture of 160_bad_input.sql, which its rows assume.
SELECT rt.create_room('chat', 'ann', 'Chat', 'r');
SELECT rt.add_member('r', 'bob'), rt.add_member('r', 'vic', 'viewer'), rt.add_member('r', 'bot', 'service');
SELECT rt.post_message('r', 'bob', 'bob''s message', client_msg_id => 'b-1');          -- seq 5
SELECT rt.post_message('r', 'ann', 'ann''s message');                                -- seq 6
SELECT rt.publish('r', 'bot', 'status', '{"ok":true}');                             -- seq 7: not a message
SELECT rt.post_message('r', 'bob', 'soon gone');                                    -- seq 8
SELECT rt.delete_message('r', 'bob', 8);                                            -- seq 9
SELECT rt.create_room('conversation', 'ann', NULL, 'c');
SELECT rt.add_member('c', 'bob'), rt.add_member('c', 'vic', 'viewer'), rt.add_member('c', 'bot', 'service');
SELECT rt.create_room('chat', 'zed', NULL, 'x');
SELECT rt.post_message('x', 'zed', 'private', client_msg_id => 'z-1');
SELECT rt.create_room('chat', 'ann', NULL, 'e');
SELECT rt.add_member('e', 'bob');
SELECT rt.post_message('e', 'bob', 'before the end', client_msg_id => 'e-1');       -- e seq 3
SELECT rt.end_room('e', 'ann');
SELECT rt.create_room('conversation', 'ann', NULL, 'ce');
SELECT rt.end_room('ce', 'ann');
CREATE TEMP TABLE doc AS SELECT
    ('{"a":' || repeat('[', 70) || '1' || repeat(']', 70) || '}')::jsonb AS deep,
    jsonb_build_object('x', repeat('x', 70000)) AS huge,
    jsonb_build_object('x', repeat('x', 7980)) AS near_notify_limit;

-- ---- 1. The bad-input table's post_message rows: alone and as one set ------------------------------
CREATE TEMP TABLE bad (n serial, call text NOT NULL, code text NOT NULL, what text NOT NULL);
\set bad_rows `awk '/^-- post_message$/,/^-- edit_message$/' tests/pgtap/160_bad_input.sql | grep '^(' | sed '$ s/,[[:space:]]*$//'`
INSERT INTO bad (call, code, what) VALUES :bad_rows;
SELECT plan((SELECT count(*)::int FROM bad) + 43 + 2 + 18 + 4);
SELECT cmp_ok((SELECT count(*)::int FROM bad), '>=', 30, 'the bad-input table''s post_message rows were read');

-- Alone: the error each single call raises, as the error object a batch would reply.
CREATE TEMP TABLE alone AS SELECT b.n, tests.error_of(b.call) AS err FROM bad b;

-- As one set: rt.post_message is swapped (in this transaction only) for a stand-in that records its
-- arguments; then every recorded command, with good sends between them, goes through one
-- rt.apply_sends call.
CREATE TEMP TABLE recorded (n integer, cmd jsonb);
ALTER FUNCTION rt.post_message(text, text, text, text, jsonb, text) RENAME TO post_message_real;
CREATE FUNCTION rt.post_message(room text, author text, body text, media_url text DEFAULT NULL,
                                meta jsonb DEFAULT '{}', client_msg_id text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO recorded VALUES (current_setting('tests.n')::integer, jsonb_build_object(
        'frame', false, 'user', author, 'room', room, 'body', body, 'media_url', media_url, 'meta', meta,
        'client_msg_id', client_msg_id));
    RETURN NULL;
END
$$;
SELECT set_config('tests.n', b.n::text, true), tests.error_of(b.call) FROM bad b ORDER BY b.n;
DROP FUNCTION rt.post_message(text, text, text, text, jsonb, text);
ALTER FUNCTION rt.post_message_real(text, text, text, text, jsonb, text) RENAME TO post_message;
SELECT is((SELECT count(*) FROM recorded), (SELECT count(*) FROM bad), 'every row''s arguments were recorded');

CREATE TEMP TABLE as_set AS
SELECT a.i AS n, a.ok,
       CASE WHEN a.ok THEN a.reply - 'at'
            ELSE jsonb_build_object('code', a.reply ->> 'code', 'message', a.reply ->> 'message', 'retry', e.retry) END AS reply
  FROM rt.apply_sends((SELECT jsonb_agg(x.cmd || jsonb_build_object('i', x.n) ORDER BY x.n) FROM (
            SELECT r.n, r.cmd FROM recorded r
            UNION ALL  -- good sends among the bad ones: 1001.. in r, 1101.. in c
            SELECT 1000 + g, jsonb_build_object('frame', false, 'user', 'bob', 'room', 'r', 'body', 'good ' || g, 'meta', '{}'::jsonb)
              FROM generate_series(1, 5) g
            UNION ALL
            SELECT 1100 + g, jsonb_build_object('frame', false, 'user', 'bot', 'room', 'c', 'body', 'good ' || g, 'meta', '{}'::jsonb)
              FROM generate_series(1, 3) g) x)) a
  LEFT JOIN rt.error_codes e ON e.code = a.reply ->> 'code';

SELECT is(s.reply, a.err, 'one set = alone: ' || b.what)
  FROM bad b JOIN alone a ON a.n = b.n JOIN as_set s ON s.n = b.n ORDER BY b.n;
SELECT is((SELECT count(*)::int FROM as_set WHERE ok AND n > 1000), 8, 'the good sends among them succeeded');
SELECT is((SELECT array_agg((reply ->> 'seq')::int ORDER BY n) FROM as_set WHERE n > 1000),
          ARRAY[10, 11, 12, 13, 14, 5, 6, 7], 'and took consecutive seqs per room: the bad ones took none');
SELECT is((SELECT count(*)::int FROM tests.sent t WHERE t.payload::jsonb -> 'data' ->> 'body' LIKE 'good %'), 8,
          'one NOTIFY per good send');
SELECT is((SELECT count(*)::int FROM rt.messages WHERE body LIKE 'good %'), 8, 'one message row per good send');

-- ---- 2. Mixed batches: rt.batch against every command alone ---------------------------------------
-- The reference: what rt.batch did before the write path was set-based (every command through
-- rt.dispatch in its own subtransaction, in room order), returning what rt.batch returns.
CREATE FUNCTION tests.one_by_one(bridge_id text, commands jsonb) RETURNS TABLE (i integer, ok boolean, body text)
    LANGUAGE plpgsql AS $$
DECLARE
    c record;
    o record;
BEGIN
    FOR c IN SELECT (x.ord - 1)::integer AS idx, x.cmd
               FROM jsonb_array_elements(commands) WITH ORDINALITY AS x (cmd, ord)
              ORDER BY CASE WHEN jsonb_typeof(x.cmd -> 'frame' -> 'room') = 'string'
                            THEN (x.cmd -> 'frame' ->> 'room') END COLLATE "C" NULLS FIRST, x.ord
    LOOP
        o := rt.batch_one(bridge_id, c.idx, c.cmd);
        i := c.idx; ok := o.ok; body := o.body;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Everything a run leaves behind, timestamps aside: replies, events, messages, rooms, presence, and
-- the NOTIFYs sent after tests.sent row `since`.
CREATE FUNCTION tests.outcome(replies jsonb, since integer) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'replies', replies,
        'events', (SELECT jsonb_agg(to_jsonb(e) - 'at' ORDER BY e.room, e.seq) FROM rt.events e),
        'messages', (SELECT jsonb_agg(to_jsonb(m) - 'created_at' - 'edited_at' - 'deleted_at' ORDER BY m.room, m.seq) FROM rt.messages m),
        'rooms', (SELECT jsonb_agg(to_jsonb(r) - 'created_at' - 'ended_at' ORDER BY r.id) FROM rt.rooms r),
        'presence', (SELECT jsonb_agg(to_jsonb(p) - 'joined_at' ORDER BY p.bridge_id, p.conn_id, p.room) FROM rt.presence p),
        'sent', (SELECT jsonb_agg(jsonb_build_object('channel', t.channel, 'payload', t.payload::jsonb - 'at') ORDER BY t.n)
                   FROM tests.sent t WHERE t.n > since))
$$;
CREATE FUNCTION tests.replies(rows_ jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(CASE WHEN (x ->> 'ok')::boolean THEN (x ->> 'body')::jsonb - 'at' ELSE (x ->> 'body')::jsonb END
                     ORDER BY (x ->> 'i')::int)
      FROM jsonb_array_elements(rows_) x
$$;

CREATE TEMP TABLE batches (name text PRIMARY KEY, commands jsonb NOT NULL);
INSERT INTO batches VALUES
-- Only sends: every room joins the set.
('sends', $$[
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"one","client_msg_id":"k-1"}},
  {"conn":"c2","user":"bot","frame":{"type":"send","room":"c","body":"in c","meta":{"m":1},"media_url":"https://example.org/i.png"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"one again","client_msg_id":"k-1"}},
  {"conn":"c3","user":"ann","frame":{"type":"send","room":"r","body":"ann's k-1","client_msg_id":"k-1"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"retry of b-1","client_msg_id":"b-1"}},
  {"conn":"c4","user":"vic","frame":{"type":"send","room":"r","body":"viewer"}},
  {"conn":"c5","user":"eve","frame":{"type":"send","room":"r","body":"stranger"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"x","body":"foreign"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"nope","body":"missing"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"e","body":"ended"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"e","body":"ended retry","client_msg_id":"e-1"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"bad id!","body":"x"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":""}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"x","media_url":"ftp://a/b"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"x","client_msg_id":""}},
  {"conn":"","user":"bob","frame":{"type":"send","room":"r","body":"empty conn"}},
  {"conn":"c1","user":"bo\u0001b","frame":{"type":"send","room":"r","body":"control char in user"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"meta null","meta":null,"media_url":null,"client_msg_id":null}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"two"}}
]$$),
-- Sends mixed with other frames, malformed commands and wrong JSON types (those rooms run command by
-- command), and sends whose size is decided by their seq's digits.
('mixed', $$[
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"c","body":"before the move"}},
  {"conn":"c1","user":"bob","frame":{"type":"state","room":"c","to":"LISTENING","expect":0}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"c","body":"after the move"}},
  {"conn":"c1","user":"bob","frame":{"type":"state","room":"c","to":"SPEAKING"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"plain"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":42}},
  {"conn":"c1","user":"bot","frame":{"type":"publish","room":"x","event":"status","data":{}}},
  {"conn":"c1","user":"bob","frame":{"type":"join","room":"r"}},
  {"conn":"c1","user":"bob","frame":{"type":"read","room":"r","seq":5}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"e","body":"ended"}},
  42,
  {"conn":"c1","frame":{"type":"send","room":"r","body":"no user"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","body":"no room"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"x","meta":"text"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"x","meta":[1]}},
  {"conn":"c1","user":"bot","frame":{"type":"send","room":"c","body":"last"}}
]$$),
('digits', '[]');
-- Room d: its next seqs are 9 and 10. The first message's event is exactly max_event_bytes at seq 9, so
-- at seq 10 it is one byte over. In 'digits' the first is too large at 10 only if the one before it
-- took seq 9: deciding sizes needs the real seqs, in order.
SELECT rt.create_room('chat', 'ann', NULL, 'd');
SELECT rt.add_member('d', 'u' || g) FROM generate_series(1, 7) g;
SELECT rt.set_setting('max_event_bytes', '2048');
SELECT octet_length(rt.event_json('d', 9, 'message', 'u1', now(),
                    jsonb_build_object('body', 'b', 'media_url', NULL, 'meta', '{}'::jsonb, 'client_msg_id', NULL))::text) AS base \gset
UPDATE batches SET commands = jsonb_build_array(
    jsonb_build_object('conn', 'c', 'user', 'u1', 'frame', jsonb_build_object('type', 'send', 'room', 'd', 'body', repeat('a', 2048 - :base + 1))),
    jsonb_build_object('conn', 'c', 'user', 'u1', 'frame', jsonb_build_object('type', 'send', 'room', 'd', 'body', repeat('b', 2048 - :base + 1))),
    jsonb_build_object('conn', 'c', 'user', 'u1', 'frame', jsonb_build_object('type', 'send', 'room', 'd', 'body', repeat('c', 2048 - :base - 1))),
    jsonb_build_object('conn', 'c', 'user', 'bob', 'frame', jsonb_build_object('type', 'send', 'room', 'd', 'body', 'not a member')),
    jsonb_build_object('conn', 'c', 'user', 'u2', 'frame', jsonb_build_object('type', 'send', 'room', 'd', 'body', repeat('d', 2048 - :base + 1))))
 WHERE name = 'digits';

-- Each batch: the reference, rolled back, then rt.batch; the two outcomes must be equal.
CREATE TEMP TABLE compared (name text, part text, same boolean, reference jsonb, batched jsonb);
CREATE FUNCTION tests.compare(batch_name text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_cmds  jsonb := (SELECT b.commands FROM batches b WHERE b.name = batch_name);
    v_since integer := coalesce((SELECT max(n) FROM tests.sent), 0);
    v_ref   jsonb;
    v_new   jsonb;
    v_part  text;
BEGIN
    BEGIN
        v_ref := tests.outcome(tests.replies((SELECT jsonb_agg(to_jsonb(o)) FROM tests.one_by_one('b1', v_cmds) o)), v_since);
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'P0001', DETAIL = v_ref::text;
    EXCEPTION WHEN raise_exception THEN
        GET STACKED DIAGNOSTICS v_part = PG_EXCEPTION_DETAIL;
        v_ref := v_part::jsonb;
    END;
    v_since := coalesce((SELECT max(n) FROM tests.sent), 0);
    v_new := tests.outcome(tests.replies((SELECT jsonb_agg(to_jsonb(o)) FROM rt.batch('b1', v_cmds) o)), v_since);
    FOR v_part IN SELECT jsonb_object_keys(v_ref) LOOP
        INSERT INTO compared VALUES (batch_name, v_part, v_ref -> v_part IS NOT DISTINCT FROM v_new -> v_part,
                                     v_ref -> v_part, v_new -> v_part);
    END LOOP;
END
$$;
SELECT tests.compare(name) FROM batches ORDER BY CASE name WHEN 'sends' THEN 1 WHEN 'mixed' THEN 2 ELSE 3 END;

SELECT ok(c.same, 'batch ''' || c.name || ''': identical ' || c.part || ' to every command alone')
  FROM compared c ORDER BY c.name, c.part;
SELECT is((SELECT count(*)::int FROM compared), 18, 'three batches, six parts each');

-- What the batches did, so that "identical" is not "identically nothing".
SELECT is((SELECT jsonb_agg(NOT x ? 'code' ORDER BY ord) FROM compared c, jsonb_array_elements(c.batched) WITH ORDINALITY AS r (x, ord)
            WHERE c.name = 'sends' AND c.part = 'replies'),
          '[true,true,true,true,true,false,false,false,false,false,true,false,false,false,false,false,false,true,true]'::jsonb,
          'sends: the expected commands succeeded');
SELECT is((SELECT c.batched -> 2 FROM compared c WHERE c.name = 'sends' AND c.part = 'replies'),
          (SELECT c.batched -> 0 FROM compared c WHERE c.name = 'sends' AND c.part = 'replies'),
          'sends: a repeated client_msg_id in the same batch returns the first one''s event');
SELECT isnt((SELECT c.batched -> 3 ->> 'seq' FROM compared c WHERE c.name = 'sends' AND c.part = 'replies'),
            (SELECT c.batched -> 0 ->> 'seq' FROM compared c WHERE c.name = 'sends' AND c.part = 'replies'),
            'sends: another author''s same client_msg_id is a message of its own');
SELECT is((SELECT c.batched -> 4 ->> 'seq' FROM compared c WHERE c.name = 'sends' AND c.part = 'replies'), '5',
          'sends: a retry of a stored client_msg_id returns the stored event');
SELECT is((SELECT c.batched -> 10 ->> 'seq' FROM compared c WHERE c.name = 'sends' AND c.part = 'replies'), '3',
          'sends: a retry into an ended room still returns the stored event');
SELECT is((SELECT jsonb_agg(x -> 'code' ORDER BY ord) FROM compared c, jsonb_array_elements(c.batched) WITH ORDINALITY AS r (x, ord)
            WHERE c.name = 'digits' AND c.part = 'replies'),
          '[null, "TOO_LARGE", null, "FORBIDDEN", "TOO_LARGE"]'::jsonb,
          'digits: sizes are decided on the real seq (9 fits, 10 does not; a failure takes no seq)');
SELECT is((SELECT jsonb_agg(x -> 'seq' ORDER BY ord) FROM compared c, jsonb_array_elements(c.batched) WITH ORDINALITY AS r (x, ord)
            WHERE c.name = 'mixed' AND c.part = 'replies' AND NOT x ? 'code' AND x ? 'seq'),
          '[9, 10, 11, 19, 19, 12]'::jsonb,
          'mixed: room c''s sends and moves take consecutive seqs in command order (the refused move none); r''s send, then join at it');
SELECT ok((SELECT bool_and(c.batched IS NOT NULL) FROM compared c WHERE c.part IN ('events', 'sent', 'replies')),
          'every compared part holds something');

-- ---- 3. Idempotency per (room, author, client_msg_id) ------------------------------------------------
SELECT is(rt.post_message('r', 'ann', 'ann''s b-1', client_msg_id => 'b-1') -> 'data' ->> 'body', 'ann''s b-1',
          'another member''s client_msg_id b-1 does not return bob''s message');
SELECT is(rt.post_message('r', 'ann', 'again', client_msg_id => 'b-1') -> 'data' ->> 'body', 'ann''s b-1',
          'ann''s own retry returns ann''s message');
SELECT is(rt.post_message('r', 'bob', 'again', client_msg_id => 'b-1') ->> 'seq', '5', 'bob''s retry still returns bob''s');
SELECT is((SELECT count(*)::int FROM rt.messages WHERE room = 'r' AND client_msg_id = 'b-1'), 2, 'two messages, one per author');
SELECT throws_ok($$INSERT INTO rt.messages (room, seq, author, body, client_msg_id, created_at)
                   SELECT room, 9999, author, 'dup', client_msg_id, now() FROM rt.messages WHERE room = 'r' AND client_msg_id = 'b-1' AND author = 'bob'$$,
                 '23505', NULL, 'the unique index refuses a second (room, author, client_msg_id)');

-- ---- 4. An unexpected error in a set: each command alone, with the same answers ----------------------
ALTER TABLE rt.events ADD CONSTRAINT test_no_boom CHECK (data ->> 'body' IS DISTINCT FROM 'boom');
CREATE TEMP TABLE boom AS SELECT * FROM rt.batch('b1', $$[
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"fine 1"}},
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"boom"}},
  {"conn":"c1","user":"eve","frame":{"type":"send","room":"r","body":"stranger"}},
  {"conn":"c1","user":"bot","frame":{"type":"send","room":"c","body":"fine 2"}}
]$$);
SELECT is((SELECT array_agg(ok ORDER BY i) FROM boom), ARRAY[true, false, false, true], 'only the failing commands fail');
SELECT is((SELECT body::jsonb FROM boom WHERE i = 1), '{"code":"INTERNAL","message":"internal error","retry":false}',
          'the unexpected error is INTERNAL for its command alone');
SELECT is((SELECT body::jsonb ->> 'code' FROM boom WHERE i = 2), 'FORBIDDEN', 'a decided error stays what it is');
SELECT is((SELECT (b1.body::jsonb ->> 'seq')::int = (SELECT last_seq FROM rt.rooms WHERE id = 'r') FROM boom b1 WHERE b1.i = 0), true,
          'the failed command took no seq');
SELECT is((SELECT count(*)::int FROM tests.sent WHERE payload LIKE '%"boom"%'), 0, 'and was not notified');
-- The same in a batch of one (the direct path, rt.apply_send): the command alone gets INTERNAL.
CREATE TEMP TABLE boom_one AS SELECT * FROM rt.batch('b1', $$[{"conn":"c1","user":"bob","frame":{"type":"send","room":"r","body":"boom"}}]$$);
SELECT is((SELECT array_agg(body::jsonb ORDER BY i) FROM boom_one),
          ARRAY['{"code":"INTERNAL","message":"internal error","retry":false}'::jsonb],
          'a batch of one: the unexpected error is INTERNAL');
SELECT is((SELECT count(*)::int FROM tests.sent WHERE payload LIKE '%"boom"%'), 0, 'a batch of one: not notified');
ALTER TABLE rt.events DROP CONSTRAINT test_no_boom;

-- ---- 5. Batches of one (the direct path) against the set -------------------------------------------
-- Every batch of part 2 again, from the state part 2 left (so its client_msg_ids are now retries):
-- once as ONE rt.batch call (the set path), once command by command, each its own rt.batch of one
-- (rt.apply_send), in the order rt.batch runs them. Both runs are rolled back; their outcomes must be
-- identical.
CREATE FUNCTION tests.singles(bridge_id text, commands jsonb) RETURNS TABLE (i integer, ok boolean, body text)
    LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT (x.ord - 1)::integer AS idx, x.cmd
               FROM jsonb_array_elements(commands) WITH ORDINALITY AS x (cmd, ord)
              ORDER BY CASE WHEN jsonb_typeof(x.cmd -> 'frame' -> 'room') = 'string'
                            THEN (x.cmd -> 'frame' ->> 'room') END COLLATE "C" NULLS FIRST, x.ord
    LOOP
        SELECT c.idx, b.ok, b.body INTO i, ok, body FROM rt.batch(bridge_id, jsonb_build_array(c.cmd)) b;
        RETURN NEXT;
    END LOOP;
END
$$;
-- The outcome of a run (which: 'singles' or 'set'), rolled back.
CREATE FUNCTION tests.rolled_back(batch_name text, which text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_cmds  jsonb := (SELECT b.commands FROM batches b WHERE b.name = batch_name);
    v_since integer := coalesce((SELECT max(n) FROM tests.sent), 0);
    v_out   text;
BEGIN
    RAISE EXCEPTION 'roll back' USING ERRCODE = 'P0001', DETAIL = tests.outcome(tests.replies(
        CASE which WHEN 'singles' THEN (SELECT jsonb_agg(to_jsonb(o)) FROM tests.singles('b1', v_cmds) o)
                   ELSE (SELECT jsonb_agg(to_jsonb(o)) FROM rt.batch('b1', v_cmds) o) END), v_since)::text;
EXCEPTION WHEN raise_exception THEN
    GET STACKED DIAGNOSTICS v_out = PG_EXCEPTION_DETAIL;
    RETURN v_out::jsonb;
END
$$;
CREATE TEMP TABLE compared_one AS
SELECT b.name, k.part, s.o -> k.part AS singles, t.o -> k.part AS set_
  FROM batches b
 CROSS JOIN LATERAL (SELECT tests.rolled_back(b.name, 'singles') AS o) s
 CROSS JOIN LATERAL (SELECT tests.rolled_back(b.name, 'set') AS o) t
 CROSS JOIN LATERAL jsonb_object_keys(t.o) AS k (part);
SELECT ok(c.singles IS NOT DISTINCT FROM c.set_, 'batch ''' || c.name || ''': identical ' || c.part || ' as batches of one')
  FROM compared_one c ORDER BY c.name, c.part;
SELECT is((SELECT count(*)::int FROM compared_one), 18, 'batches of one: three batches, six parts each');
SELECT is((SELECT jsonb_agg(NOT x ? 'code' ORDER BY ord) FROM compared_one c, jsonb_array_elements(c.singles) WITH ORDINALITY AS r (x, ord)
            WHERE c.name = 'sends' AND c.part = 'replies'),
          '[true,true,true,true,true,false,false,false,false,false,true,false,false,false,false,false,false,true,true]'::jsonb,
          'batches of one: the same sends succeeded (retries return the stored events)');
SELECT is((SELECT jsonb_agg(x -> 'code' ORDER BY ord) FROM compared_one c, jsonb_array_elements(c.singles) WITH ORDINALITY AS r (x, ord)
            WHERE c.name = 'digits' AND c.part = 'replies'),
          '["TOO_LARGE", "TOO_LARGE", null, "FORBIDDEN", "TOO_LARGE"]'::jsonb,
          'batches of one: sizes are decided on the real seq (d''s next seq has two digits now: the first no longer fits)');
SELECT is((SELECT jsonb_array_length(c.singles) FROM compared_one c WHERE c.name = 'digits' AND c.part = 'sent'), 1,
          'batches of one: the accepted send was notified');

SELECT * FROM finish();
ROLLBACK;
