-- The conversation state machine, table-driven over every (from, to) pair of its seven states.
-- The expected outcome of each pair is written out here from docs/sql-api.md ("The state machine"), independently of
-- the rt.transitions data, so a wrong seed fails this test.
BEGIN;
\ir helpers.psql
SELECT plan(80);

CREATE TEMP TABLE allowed (from_state text, to_state text);
INSERT INTO allowed VALUES
    ('IDLE', 'LISTENING'), ('LISTENING', 'IDLE'), ('LISTENING', 'PROCESSING'), ('PROCESSING', 'LISTENING'),
    ('PROCESSING', 'SPEAKING'), ('SPEAKING', 'PROCESSING'), ('SPEAKING', 'WAITING_FOR_USER'),
    ('WAITING_FOR_USER', 'SPEAKING'), ('WAITING_FOR_USER', 'LISTENING'),
    ('IDLE', 'ERROR'), ('LISTENING', 'ERROR'), ('PROCESSING', 'ERROR'), ('SPEAKING', 'ERROR'),
    ('WAITING_FOR_USER', 'ERROR'), ('ERROR', 'IDLE'),
    ('IDLE', 'ENDED'), ('LISTENING', 'ENDED'), ('PROCESSING', 'ENDED'), ('SPEAKING', 'ENDED'),
    ('WAITING_FOR_USER', 'ENDED'), ('ERROR', 'ENDED');

CREATE TEMP TABLE pairs AS
SELECT f.s AS from_state, t.s AS to_state,
       CASE WHEN f.s = 'ENDED' THEN 'CONFLICT'            -- ENDED is final: the room is read-only
            WHEN EXISTS (SELECT 1 FROM allowed a WHERE a.from_state = f.s AND a.to_state = t.s) THEN 'ok'
            ELSE 'INVALID_TRANSITION' END AS expected
  FROM unnest(ARRAY['IDLE','LISTENING','PROCESSING','SPEAKING','WAITING_FOR_USER','ERROR','ENDED']) f (s),
       unnest(ARRAY['IDLE','LISTENING','PROCESSING','SPEAKING','WAITING_FOR_USER','ERROR','ENDED']) t (s);

SELECT is((SELECT count(*)::int FROM pairs), 49, '49 pairs');
SELECT set_eq('SELECT from_state, to_state FROM rt.transitions WHERE kind = ''conversation''',
              'SELECT from_state, to_state FROM allowed', 'the seeded transitions are exactly the contract''s');

-- One room per pair, placed in the from state at version 5 (ENDED rooms are also ended).
SELECT rt.create_room('conversation', 'ann', id => 'p' || row_number() OVER (ORDER BY from_state, to_state)) FROM pairs;
ALTER TABLE pairs ADD COLUMN room text;
UPDATE pairs p SET room = x.room
  FROM (SELECT from_state, to_state, 'p' || row_number() OVER (ORDER BY from_state, to_state) AS room FROM pairs) x
 WHERE x.from_state = p.from_state AND x.to_state = p.to_state;
UPDATE rt.rooms r SET state = p.from_state, version = 5,
                      ended_at = CASE WHEN p.from_state = 'ENDED' THEN now() END
  FROM pairs p WHERE r.id = p.room;

CREATE FUNCTION pg_temp.outcome(room text, to_state text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
BEGIN
    PERFORM rt.transition(room, 'ann', to_state, 5);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
    RETURN coalesce((SELECT e.code FROM rt.error_codes e WHERE e.sqlstate = v_state), v_state);
END
$$;

SELECT is(pg_temp.outcome(p.room, p.to_state), p.expected, p.from_state || ' -> ' || p.to_state)
  FROM pairs p ORDER BY p.from_state, p.to_state;

-- What an accepted move does.
SELECT rt.create_room('conversation', 'ann', id => 'c');
SELECT rt.add_member('c', 'bob');
SELECT rt.add_member('c', 'bot', 'service');
SELECT rt.add_member('c', 'vic', 'viewer');
SELECT is(rt.transition('c', 'bob', 'LISTENING') - 'at',
          '{"type":"event","room":"c","seq":5,"event":"state","actor":"bob","data":{"from":"IDLE","to":"LISTENING","version":1}}',
          'a member moves IDLE -> LISTENING: state event, version 1');
SELECT is(tests.last_sent() ->> 'event', 'state', 'the state event is notified');
SELECT results_eq($$SELECT state, version FROM rt.rooms WHERE id = 'c'$$, $$VALUES ('LISTENING', 1)$$, 'room at LISTENING v1');
SELECT is(rt.transition('c', 'bot', 'PROCESSING', 1) -> 'data' -> 'version', '2', 'with the right expected_version');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bob', 'SPEAKING', 1)$$, 'CONFLICT', 'a stale expected_version');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bob', 'PROCESSING')$$, 'INVALID_TRANSITION', 'a move to the current state');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bob', 'IDLE')$$, 'INVALID_TRANSITION', 'PROCESSING -> IDLE');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bob', 'SLEEPING')$$, 'BAD_REQUEST', 'an unknown state');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bob', NULL)$$, 'BAD_REQUEST', 'no state');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bob', 'SPEAKING', -1)$$, 'BAD_REQUEST', 'a negative expected_version');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'vic', 'SPEAKING')$$, 'FORBIDDEN', 'a viewer');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'eve', 'SPEAKING')$$, 'FORBIDDEN', 'a non-member');
SELECT * FROM tests.rejects($$SELECT rt.transition('nope', 'bob', 'SPEAKING')$$, 'FORBIDDEN', 'a missing room');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bob', 'ENDED')$$, 'FORBIDDEN', 'a member moving to ENDED (that ends the room)');
SELECT rt.create_room('chat', 'ann', id => 'plain');
SELECT * FROM tests.rejects($$SELECT rt.transition('plain', 'ann', 'IDLE')$$, 'INVALID_TRANSITION', 'a chat room has no state machine');
SELECT is(rt.transition('c', 'bot', 'ENDED') - 'at',
          '{"type":"event","room":"c","seq":7,"event":"room_ended","actor":"bot","data":{"from":"PROCESSING","to":"ENDED","version":3}}',
          'a service moving to ENDED ends the room with room_ended');
SELECT * FROM tests.rejects($$SELECT rt.transition('c', 'bot', 'IDLE')$$, 'CONFLICT', 'ENDED is final');

SELECT * FROM finish();
ROLLBACK;
