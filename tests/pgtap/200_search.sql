-- rt.search and the search frame (docs/sql-api.md "Search", docs/protocol.md "Search"): current text
-- only, rooms the actor may read now, newest first, escaped snippets; language per room as data.
BEGIN;
\ir helpers.psql
SELECT plan(72);

SELECT rt.create_room('chat', 'ann', id => 'a');
SELECT rt.create_room('chat', 'ann', id => 'b');
SELECT rt.create_room('meeting', 'ann', id => 'm');
SELECT rt.add_member('a', 'bob');
SELECT rt.add_member('b', 'bob');
SELECT rt.add_member('m', 'bob', 'viewer');
SELECT rt.add_member('m', 'svc', 'service');
SELECT rt.post_message('a', 'bob', 'the budget link is here');              -- a 3
SELECT rt.post_message('b', 'ann', 'budget <script>alert(1)</script> & co'); -- b 3
SELECT rt.post_message('a', 'ann', 'nothing to see');                        -- a 4
SELECT rt.publish('m', 'svc', 'transcript', '{"text": "we agreed on the budget", "speaker": "ann"}'); -- m 4
SELECT rt.publish('m', 'svc', 'transcript', '{"speaker": "ann"}');           -- m 5: no text, not indexed
SELECT rt.post_message('a', 'bob', 'old words');                            -- a 5

CREATE FUNCTION tests.hits(actor text, q text, room text DEFAULT NULL) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg((r ->> 'room') || (r ->> 'seq') ORDER BY n), '{}')
      FROM rt.search(actor, q, room) WITH ORDINALITY AS s (r, n) $$;

SELECT is(tests.hits('bob', 'budget'), ARRAY['m4', 'b3', 'a3'], 'messages and transcripts of every readable room, newest first');
SELECT is(tests.hits('bob', 'budget', 'a'), ARRAY['a3'], 'one room');
SELECT is(tests.hits('ann', 'budget'), ARRAY['m4', 'b3', 'a3'], 'the owner too');
SELECT is(tests.hits('eve', 'budget'), '{}'::text[], 'a stranger finds nothing');
SELECT is(tests.hits('bob', 'BUDGET link'), ARRAY['a3'], 'all words must match, case-insensitively');
SELECT is(tests.hits('bob', '"budget link"'), ARRAY['a3'], 'phrase');
SELECT is(tests.hits('bob', 'budget -link'), ARRAY['m4', 'b3'], 'negation');
SELECT is(tests.hits('bob', 'budget or nothing'), ARRAY['m4', 'a4', 'b3', 'a3'], 'or');
SELECT is(tests.hits('bob', 'the'), ARRAY['m4', 'a3'], '"simple" keeps every word');

SELECT is((SELECT r FROM rt.search('bob', 'budget', 'b') r),
          jsonb_build_object('room', 'b', 'seq', 3, 'event', 'message', 'actor', 'ann',
                             'at', (SELECT rt.format_at(at) FROM rt.events WHERE room = 'b' AND seq = 3),
                             'snippet', '<mark>budget</mark> &lt;script&gt;alert(1)&lt;/script&gt; &amp; co'),
          'result shape; the snippet is escaped HTML with <mark> around matches');
SELECT is((SELECT r ->> 'event' FROM rt.search('bob', 'agreed') r), 'transcript', 'a final transcript segment');
SELECT is((SELECT r ->> 'actor' FROM rt.search('bob', 'agreed') r), 'svc', 'its actor is the publisher');

-- Edits: the current text matches, the old one does not.
SELECT rt.edit_message('a', 'bob', 5, 'new phrasing');
SELECT is(tests.hits('bob', 'old'), '{}'::text[], 'an edited message no longer matches its old text');
SELECT is(tests.hits('bob', 'phrasing'), ARRAY['a5'], 'it matches its new text');
SELECT is((SELECT r ->> 'snippet' FROM rt.search('bob', 'phrasing') r), 'new <mark>phrasing</mark>', 'snippet of the new text');

-- Deletion.
SELECT rt.delete_message('a', 'bob', 3);
SELECT is(tests.hits('bob', 'budget'), ARRAY['m4', 'b3'], 'a deleted message never matches');

-- Removal: a removed member finds nothing of the room, at once.
SELECT rt.remove_member('b', 'bob', 'ann');
SELECT is(tests.hits('bob', 'budget'), ARRAY['m4'], 'removed from b: nothing of b');
SELECT tests.rejects($$SELECT * FROM rt.search('bob', 'budget', 'b')$$, 'FORBIDDEN', 'searching a room one was removed from');

-- Paging: before and max.
SELECT is((SELECT count(*)::int FROM rt.search('ann', 'budget', max => 1)), 1, 'max');
SELECT is(tests.hits('ann', 'budget'), ARRAY['m4', 'b3'], 'ann sees both');
SELECT is((SELECT array_agg(r ->> 'room') FROM rt.search('ann', 'budget',
                before => (SELECT at FROM rt.events WHERE room = 'm' AND seq = 4)) r), ARRAY['b'],
          'before: strictly older results');

-- Language per room, as data.
SELECT is(tests.hits('ann', 'agree'), '{}'::text[], '"simple" does not stem');
SELECT is(rt.set_room_search('m', 'english', 'ann'), 'english', 'the owner sets the room''s language');
SELECT is(tests.hits('ann', 'agree'), ARRAY['m4'], 'english stems: agree finds agreed (re-indexed)');
SELECT is(tests.hits('ann', 'the'), '{}'::text[], 'english drops stop words (and a query of only those finds nothing)');
SELECT rt.publish('m', 'svc', 'transcript', '{"text": "agreements were signed"}');
SELECT is(tests.hits('ann', 'agreement'), ARRAY['m6'], 'new transcripts use the room''s language');
SELECT rt.set_kind_search('chat', 'english');
SELECT rt.post_message('a', 'ann', 'meetings tomorrow');
SELECT is(tests.hits('ann', 'meeting'), ARRAY['a8'], 'the kind''s language applies to its rooms');
SELECT is((SELECT search_config::text FROM rt.messages WHERE room = 'a' AND seq = 8), 'english', 'stored with the message');

-- Search off per kind (and per room): nothing is indexed there.
SELECT rt.set_kind_search('chat', NULL);
SELECT rt.post_message('a', 'ann', 'unindexed words');
SELECT is(tests.hits('ann', 'unindexed'), '{}'::text[], 'search off for the kind: not found');
SELECT is((SELECT search_tsv FROM rt.messages WHERE room = 'a' AND seq = 9), NULL, 'and nothing indexed');
SELECT rt.set_kind_search('chat', NULL, reset => true);
SELECT is(tests.hits('ann', 'unindexed'), ARRAY['a9'], 'reset to simple: re-indexed');
SELECT is((SELECT count(*)::int FROM rt.audit WHERE action IN ('search_set', 'search_reset')), 4, 'language changes are audited');

-- The search frame.
SELECT is(rt.dispatch('br', 'c', 'ann', '{"type":"search","query":"agreement"}') #>> '{results,0,seq}', '6', 'search frame');
SELECT is(rt.dispatch('br', 'c', 'ann', '{"type":"search","query":"zzz","room":"a","limit":5}'), '{"results": []}', 'no match: empty results');
SELECT is((SELECT body::jsonb #>> '{results,0,room}' FROM rt.batch('br', '[{"conn":"c","user":"ann","frame":{"type":"search","query":"unindexed"}}]')),
          'a', 'search in a batch');

-- Both access paths of rt.search_messages give the same newest matches (a window of 2 forces the
-- GIN path for rooms whose window holds no proof; a window of 1000 never needs it).
SELECT rt.create_room('chat', 'ann', id => 'p' || n) FROM generate_series(1, 3) n;
SELECT rt.post_message('p' || (n % 3 + 1), 'ann', CASE WHEN n % 7 = 0 THEN 'rare kiwi' ELSE 'common apple' END
                       || CASE WHEN n % 2 = 0 THEN ' apple' ELSE '' END)
  FROM generate_series(1, 60) n;
CREATE FUNCTION tests.paths(w text, win integer) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(f.room || ':' || f.seq, ',' ORDER BY f.at DESC)
      FROM rt.search_messages(ARRAY['p1', 'p2', 'p3'],
                              to_tsquery('simple', w) && '''@p1'' | ''@p2'' | ''@p3'''::tsquery, NULL, 5, win) f $$;
CREATE FUNCTION tests.brute(w text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(x.room || ':' || x.seq, ',' ORDER BY x.created_at DESC)
      FROM (SELECT m.room, m.seq, m.created_at FROM rt.messages m
             WHERE m.room IN ('p1', 'p2', 'p3') AND m.body ~ ('\m' || w || '\M')
             ORDER BY m.created_at DESC LIMIT 5) x $$;
SELECT is(tests.paths('kiwi', 2), tests.brute('kiwi'), 'a rare word through the GIN path');
SELECT is(tests.paths('kiwi', 1000), tests.brute('kiwi'), 'a rare word through the window');
SELECT is(tests.paths('apple', 2), tests.brute('apple'), 'a common word through the window');
SELECT is(tests.paths('common', 1), tests.brute('common'), 'a window of one');

-- A word too long to index is left out silently (no NOTICE to the writer), the rest stays searchable.
SELECT rt.create_room('chat', 'ann', id => 'long');
SELECT lives_ok($q$SELECT rt.post_message('long', 'ann', 'findme ' || repeat('q', 5000) || ' tail')$q$,
                'a body with a 5000-character word posts');
SELECT lives_ok($q$SELECT rt.publish('long', 'ann', 'transcript', jsonb_build_object('text', 'spoken ' || repeat('z', 3000)))$q$,
                'so does such a transcript');
SELECT is(tests.hits('ann', 'findme tail', 'long'), ARRAY['long2'], 'its other words are found');
SELECT is(tests.hits('ann', 'spoken', 'long'), ARRAY['long3'], 'a transcript too');

-- Errors change nothing.
SELECT tests.rejects($$SELECT * FROM rt.search(NULL, 'x')$$, 'BAD_REQUEST', 'no actor');
SELECT tests.rejects($$SELECT * FROM rt.search('ann', '  ')$$, 'BAD_REQUEST', 'an empty query');
SELECT tests.rejects($$SELECT * FROM rt.search('ann', repeat('x', 501))$$, 'BAD_REQUEST', 'a query over 500 characters');
SELECT tests.rejects($$SELECT * FROM rt.search('ann', 'x', max => 101)$$, 'BAD_REQUEST', 'max 101');
SELECT tests.rejects($$SELECT * FROM rt.search('ann', 'x', 'bad room')$$, 'BAD_REQUEST', 'a bad room id');
SELECT tests.rejects($$SELECT * FROM rt.search('eve', 'x', 'a')$$, 'FORBIDDEN', 'a room the actor is not in');
SELECT tests.rejects($$SELECT rt.dispatch('br', 'c', 'ann', '{"type":"search"}')$$, 'BAD_REQUEST', 'frame without query');
SELECT tests.rejects($$SELECT rt.dispatch('br', 'c', 'ann', '{"type":"search","query":"x","before":"yesterday"}')$$, 'BAD_REQUEST', 'a bad before');
SELECT tests.rejects($$SELECT rt.dispatch('br', 'c', 'ann', '{"type":"search","query":"x","limit":0}')$$, 'BAD_REQUEST', 'limit 0');
SELECT tests.rejects($$SELECT rt.dispatch('br', 'c', 'ann', '{"type":"search","query":1}')$$, 'BAD_REQUEST', 'a query that is not a string');
SELECT tests.rejects($$SELECT rt.set_room_search('a', 'klingon', 'ann')$$, 'BAD_REQUEST', 'an unknown language');
SELECT tests.rejects($$SELECT rt.set_room_search('a', 'english', 'bob')$$, 'FORBIDDEN', 'a member may not set it');
SELECT tests.rejects($$SELECT rt.set_room_search('a', 'english', 'ann', true)$$, 'BAD_REQUEST', 'reset with a config');
SELECT tests.rejects($$SELECT rt.set_kind_search('nope', 'english')$$, 'BAD_REQUEST', 'an unknown kind');

SELECT * FROM finish();
ROLLBACK;
