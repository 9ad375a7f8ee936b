-- Full-text search over message bodies (their current text) and final transcript segments, in one
-- room or in every room the actor may read, newest first, with highlighted snippets.
-- docs/sql-api.md "Search"; the index is described in migrations/0041_search.sql.

-- rt.search_config: the text search configuration new messages of `room` are indexed with: the
-- room's row, else its kind's row, else 'simple'; NULL when search is off for the room or kind.
-- Writers put it in rt.messages.search_config and the document in search_tsv (PL/pgSQL: called per
-- message, see rt.setting()).
CREATE OR REPLACE FUNCTION rt.search_config(room text) RETURNS regconfig
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_config regconfig;
BEGIN
    SELECT s.config INTO v_config FROM rt.room_search s WHERE s.room = search_config.room;
    IF FOUND THEN
        RETURN v_config;
    END IF;
    SELECT s.config INTO v_config
      FROM rt.rooms r JOIN rt.kind_search s ON s.kind = r.kind WHERE r.id = search_config.room;
    IF FOUND THEN
        RETURN v_config;
    END IF;
    RETURN 'pg_catalog.simple'::regconfig;
END
$$;

COMMENT ON FUNCTION rt.search_config(text) IS
    'Internal: the text search configuration of a room (room, else kind, else simple); NULL when search is off.';

-- The indexed document of a text in a room: its words plus the room as the lexeme '@room'; NULL
-- when config (search off) or body (deleted, erased) is NULL. rt.messages.search_tsv holds exactly
-- this for every message: its writers set it (migrations/0047_search_tsv_written.sql; the two send
-- paths write the expression out, tests/pgtap/176_row_invariants.sql checks every row against this).
CREATE OR REPLACE FUNCTION rt.search_document(config regconfig, room text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- runs of 2048+ non-blank characters are left out (migrations/0044_search_long_words.sql):
    -- to_tsvector would only NOTICE that it cannot index them
    SELECT to_tsvector(config, CASE WHEN char_length(body) < 2048 THEN body ELSE rt.indexable_text(body) END)
           || array_to_tsvector(ARRAY['@' || room])
$$;

COMMENT ON FUNCTION rt.search_document(regconfig, text, text) IS 'Internal: the indexed tsvector of a text in a room.';

-- Text made safe to embed in HTML (ts_headline then adds the <mark> tags around matches).
CREATE OR REPLACE FUNCTION rt.html_escape(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT replace(replace(replace(replace(replace(t, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;

COMMENT ON FUNCTION rt.html_escape(text) IS 'Internal: escape & < > " '' for HTML.';

-- rt.snippet: the text as escaped HTML with matches in <mark>: a short text whole (up to 35 words,
-- from the start), a longer one as up to two fragments around matches (with words before them).
CREATE OR REPLACE FUNCTION rt.snippet(config regconfig, body text, q tsquery) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ts_headline(config, rt.html_escape(body), q,
                       CASE WHEN char_length(body) <= 200 THEN 'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15'
                            ELSE 'StartSel=<mark>, StopSel=</mark>, MaxWords=20, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'
                       END)
$$;

COMMENT ON FUNCTION rt.snippet(regconfig, text, tsquery) IS 'Internal: a highlighted, HTML-escaped snippet of a search result.';

-- rt.search_messages: the newest `max` messages of `rooms` matching q (older than `before`), as
-- (room, seq). Two access paths, because one cannot serve both kinds of word well:
--  1. each room's newest messages, walked backwards on the primary key (at most `window` per room),
--     tested with @@: cheap, and enough on its own for common words (they match early in every room);
--  2. the GIN index, only for rooms whose window was exhausted without proving that their older
--     matches are too old to make the result (rare words): a GIN scan finds those few directly.
-- A room needs path 2 when its window was full (it has older messages) and its oldest windowed
-- message is newer than the max-th newest match found so far (or fewer than max were found).
-- Measured: docs/benchmarks.md "Search" (one GIN scan alone took ~60 ms for a word in 60 % of
-- 20,000 messages: every match had to be fetched to sort them).
CREATE OR REPLACE FUNCTION rt.search_messages(rooms text[], q tsquery, before timestamptz, max integer,
                                              "window" integer DEFAULT 100)
    RETURNS TABLE (room text, seq bigint, at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hit_rooms text[];
    v_hit_seqs  bigint[];
    v_hit_ats   timestamptz[];
    v_need      text[];
    v_bound     timestamptz[];
BEGIN
    WITH win AS (
        SELECT r.room, w.seq, w.created_at, w.hit, w.n
          FROM unnest(rooms) AS r (room)
          CROSS JOIN LATERAL (
              SELECT m.seq, m.created_at, m.search_tsv @@ q AS hit, row_number() OVER (ORDER BY m.seq DESC) AS n
                FROM rt.messages m
               WHERE m.room = r.room AND (before IS NULL OR m.created_at < before)
               ORDER BY m.seq DESC
               LIMIT "window") w),
    hits AS (
        SELECT w.room, w.seq, w.created_at FROM win w WHERE w.hit
         ORDER BY w.created_at DESC LIMIT max),
    edge AS (
        SELECT CASE WHEN count(*) = max THEN min(h.created_at) END AS t FROM hits h),
    need AS (
        SELECT w.room, w.created_at AS bound FROM win w, edge
         WHERE w.n = "window" AND (edge.t IS NULL OR w.created_at > edge.t))
    SELECT (SELECT array_agg(h.room) FROM hits h), (SELECT array_agg(h.seq) FROM hits h),
           (SELECT array_agg(h.created_at) FROM hits h),
           (SELECT array_agg(n.room) FROM need n), (SELECT array_agg(n.bound) FROM need n)
      INTO v_hit_rooms, v_hit_seqs, v_hit_ats, v_need, v_bound;
    RETURN QUERY
        SELECT x.room, x.seq, x.at FROM (
            SELECT h.room, h.seq, h.at FROM unnest(v_hit_rooms, v_hit_seqs, v_hit_ats) AS h (room, seq, at)
            UNION ALL
            (SELECT m.room, m.seq, m.created_at
               FROM rt.messages m
               JOIN unnest(v_need, v_bound) AS b (room, bound) ON m.room = b.room AND m.created_at < b.bound
              WHERE v_need IS NOT NULL AND m.search_tsv @@ q AND m.room = ANY (v_need)
                AND (before IS NULL OR m.created_at < before)
              ORDER BY m.created_at DESC
              LIMIT max)) x
         ORDER BY x.at DESC
         LIMIT max;
END
$$;

COMMENT ON FUNCTION rt.search_messages(text[], tsquery, timestamptz, integer, integer) IS
    'Internal: the newest max matching messages of rooms (newest-window walk, GIN for the rest).';

-- rt.search: up to `max` (1..100) messages and transcript segments matching `query` (web search
-- syntax: words, "a phrase", or, -not), newest first, older than `before` when given; in `room`, or
-- in every room the actor may read now. Each result:
--   {room, seq, event: "message"|"transcript", actor, at, snippet}
-- snippet is HTML: the current text escaped, matches in <mark>...</mark>.
-- Current text only: an edited message matches its new body, a deleted or erased one never; a
-- member removed from a room finds nothing of it any more.
CREATE OR REPLACE FUNCTION rt.search(actor text, query text, room text DEFAULT NULL,
                                     before timestamptz DEFAULT NULL, max integer DEFAULT 20)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- a query of only stop words is answered with no results, not with a NOTICE to the caller
    SET client_min_messages = warning
AS $$
DECLARE
    v_rooms  text[];
    v_q      tsquery;
    v_part   tsquery;
    v_config regconfig;
    v_group  text[];
BEGIN
    PERFORM rt.check_ident(actor, 'actor');
    IF query IS NULL OR btrim(query) = '' THEN
        PERFORM rt.raise('BAD_REQUEST', '"query" is required');
    ELSIF char_length(query) > 500 THEN
        PERFORM rt.raise('BAD_REQUEST', '"query" must be at most 500 characters');
    END IF;
    IF max IS NULL OR max NOT BETWEEN 1 AND 100 THEN
        PERFORM rt.raise('BAD_REQUEST', '"max" must be between 1 and 100');
    END IF;
    IF room IS NOT NULL THEN
        PERFORM rt.check_room_id(room);
        PERFORM rt.room_for(room, actor, 'read', false);
        v_rooms := ARRAY[room];
    ELSE
        SELECT array_agg(m.room) INTO v_rooms
          FROM rt.members m
         WHERE m.user_id = search.actor AND rt.has_right(m.role, 'read');
    END IF;
    IF v_rooms IS NULL THEN
        RETURN;
    END IF;

    -- One tsquery for all the rooms: for each configuration in use, (its words) & (its rooms).
    FOR v_config, v_group IN
        SELECT c.config, array_agg(c.room)
          FROM (SELECT r AS room, rt.search_config(r) AS config FROM unnest(v_rooms) r) c
         WHERE c.config IS NOT NULL
         GROUP BY c.config
    LOOP
        v_part := websearch_to_tsquery(v_config, query);
        CONTINUE WHEN numnode(v_part) = 0;  -- only stop words in this language
        v_part := v_part && (SELECT string_agg(quote_literal('@' || g), ' | ') FROM unnest(v_group) g)::tsquery;
        v_q := CASE WHEN v_q IS NULL THEN v_part ELSE v_q || v_part END;
    END LOOP;
    IF v_q IS NULL THEN
        RETURN;
    END IF;

    RETURN QUERY
        SELECT jsonb_build_object(
                   'room', h.room, 'seq', h.seq, 'event', h.event, 'actor', h.actor, 'at', rt.format_at(h.at),
                   'snippet', rt.snippet(h.config, h.body, websearch_to_tsquery(h.config, query)))
          FROM ((SELECT m.room, m.seq, 'message'::text AS event, m.author AS actor, m.created_at AS at,
                        m.body, m.search_config AS config
                   FROM rt.search_messages(v_rooms, v_q, before, max) f
                   JOIN rt.messages m ON m.room = f.room AND m.seq = f.seq)
                UNION ALL
                (SELECT t.room, t.seq, 'transcript'::text, e.actor, t.at, e.data ->> 'text', t.search_config
                   FROM rt.transcript_search t JOIN rt.events e ON e.room = t.room AND e.seq = t.seq
                  WHERE t.search_tsv @@ v_q AND t.room = ANY (v_rooms)
                    AND (before IS NULL OR t.at < before)
                  ORDER BY t.at DESC
                  LIMIT max)
                ORDER BY at DESC, room, seq DESC
                LIMIT max) h
         ORDER BY h.at DESC, h.room, h.seq DESC;
END
$$;

COMMENT ON FUNCTION rt.search(text, text, text, timestamptz, integer) IS
    'Full-text search of messages and transcripts the actor may read: [{room, seq, event, actor, at, snippet}], newest first.';

-- rt.check_search_config: a configuration name of pg_catalog (english, simple, german, ...), or
-- BAD_REQUEST listing them.
CREATE OR REPLACE FUNCTION rt.check_search_config(config text) RETURNS regconfig
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_oid oid;
BEGIN
    SELECT c.oid INTO v_oid FROM pg_ts_config c
     WHERE c.cfgname = check_search_config.config AND c.cfgnamespace = 'pg_catalog'::regnamespace;
    IF v_oid IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown search language %L', left(config, 64)),
                         hint => (SELECT 'languages: ' || string_agg(c.cfgname, ', ' ORDER BY c.cfgname)
                                    FROM pg_ts_config c WHERE c.cfgnamespace = 'pg_catalog'::regnamespace));
    END IF;
    RETURN v_oid::regconfig;
END
$$;

COMMENT ON FUNCTION rt.check_search_config(text) IS 'Internal: a built-in text search configuration, or BAD_REQUEST.';

-- Re-index the stored messages and transcripts of the given rooms with their current configuration.
CREATE OR REPLACE FUNCTION rt.reindex_search(rooms text[]) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE rt.messages m
       SET search_config = rt.search_config(m.room), search_tsv = rt.search_document(rt.search_config(m.room), m.room, m.body)
     WHERE m.room = ANY (rooms) AND m.search_config IS DISTINCT FROM rt.search_config(m.room);
    DELETE FROM rt.transcript_search t WHERE t.room = ANY (rooms);
    INSERT INTO rt.transcript_search (room, seq, at, search_config, search_tsv)
    SELECT e.room, e.seq, e.at, rt.search_config(e.room), rt.search_document(rt.search_config(e.room), e.room, e.data ->> 'text')
      FROM rt.events e
     WHERE e.room = ANY (rooms) AND e.event = 'transcript' AND jsonb_typeof(e.data -> 'text') = 'string'
       AND rt.search_config(e.room) IS NOT NULL;
END
$$;

COMMENT ON FUNCTION rt.reindex_search(text[]) IS 'Internal: re-index the messages and transcripts of rooms after a language change.';

-- rt.set_room_search: the room's search language (a configuration name; NULL: search off), or
-- reset => true to follow its kind again. Owner (manage_room) or trusted. Re-indexes the room.
CREATE OR REPLACE FUNCTION rt.set_room_search(room text, config text, actor text DEFAULT NULL,
                                              reset boolean DEFAULT false) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_config regconfig;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    IF reset IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"reset" must be true or false');
    ELSIF reset AND config IS NOT NULL THEN
        PERFORM rt.raise('BAD_REQUEST', 'reset takes no config');
    END IF;
    IF config IS NOT NULL THEN
        v_config := rt.check_search_config(config);
    END IF;
    PERFORM rt.room_for(room, actor, 'manage_room', true);
    IF reset THEN
        DELETE FROM rt.room_search s WHERE s.room = set_room_search.room;
    ELSE
        INSERT INTO rt.room_search AS s (room, config) VALUES (room, v_config)
        ON CONFLICT ON CONSTRAINT room_search_pkey DO UPDATE SET config = excluded.config, updated_at = now();
    END IF;
    PERFORM rt.reindex_search(ARRAY[room]);
    PERFORM rt.audit_write(CASE WHEN reset THEN 'search_reset' ELSE 'search_set' END, room, actor,
                           jsonb_build_object('scope', 'room', 'config', config));
    RETURN rt.search_config(room)::text;
END
$$;

COMMENT ON FUNCTION rt.set_room_search(text, text, text, boolean) IS
    'Set a room''s search language (NULL: off; reset: follow the kind); owner or trusted. Re-indexes the room; returns the language in force.';

-- rt.set_kind_search: the search language of a kind's rooms without their own (NULL: off), or
-- reset => true for the default 'simple'. Database owner only. Re-indexes those rooms.
CREATE OR REPLACE FUNCTION rt.set_kind_search(kind text, config text, reset boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_config regconfig;
BEGIN
    IF kind IS NULL OR NOT EXISTS (SELECT 1 FROM rt.room_kinds k WHERE k.kind = set_kind_search.kind) THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown room kind %L', left(kind, 64)));
    END IF;
    IF reset IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"reset" must be true or false');
    ELSIF reset AND config IS NOT NULL THEN
        PERFORM rt.raise('BAD_REQUEST', 'reset takes no config');
    END IF;
    IF config IS NOT NULL THEN
        v_config := rt.check_search_config(config);
    END IF;
    IF reset THEN
        DELETE FROM rt.kind_search s WHERE s.kind = set_kind_search.kind;
    ELSE
        INSERT INTO rt.kind_search AS s (kind, config) VALUES (kind, v_config)
        ON CONFLICT ON CONSTRAINT kind_search_pkey DO UPDATE SET config = excluded.config, updated_at = now();
    END IF;
    PERFORM rt.reindex_search(ARRAY(SELECT r.id FROM rt.rooms r WHERE r.kind = set_kind_search.kind
                                       AND NOT EXISTS (SELECT 1 FROM rt.room_search s WHERE s.room = r.id)));
    PERFORM rt.audit_write(CASE WHEN reset THEN 'search_reset' ELSE 'search_set' END, NULL, NULL,
                           jsonb_build_object('scope', 'kind', 'kind', kind, 'config', config));
END
$$;

COMMENT ON FUNCTION rt.set_kind_search(text, text, boolean) IS
    'Set the search language of a room kind (NULL: search off for it; reset: simple). Re-indexes its rooms.';

-- rt.dispatch_search: the `search` frame {query, room?, before?, limit?} (docs/protocol.md "Search")
-- -> {"results": [...]}. Called by rt.dispatch; opens no subtransaction (see rt.batch).
CREATE OR REPLACE FUNCTION rt.dispatch_search(user_id text, frame jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_room   text := rt.frame_string(frame, 'room', false);
    v_before text := rt.frame_string(frame, 'before', false);
    v_limit  bigint := coalesce(rt.frame_int(frame, 'limit', false), 20);
BEGIN
    IF v_room IS NOT NULL THEN
        PERFORM rt.check_room_id(v_room);
    END IF;
    IF v_before IS NOT NULL
       AND v_before !~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-][0-2][0-9]:[0-5][0-9])$' THEN
        PERFORM rt.raise('BAD_REQUEST', '"before" must be an ISO 8601 time such as 2026-01-31T12:00:00.000000Z');
    END IF;
    IF v_limit NOT BETWEEN 1 AND 100 THEN
        PERFORM rt.raise('BAD_REQUEST', '"limit" must be between 1 and 100');
    END IF;
    RETURN jsonb_build_object('results', coalesce(
        (SELECT jsonb_agg(r.x ORDER BY r.n)
           FROM rt.search(user_id, rt.frame_string(frame, 'query', true), v_room, v_before::timestamptz,
                          v_limit::integer) WITH ORDINALITY AS r (x, n)),
        '[]'::jsonb));
END
$$;

COMMENT ON FUNCTION rt.dispatch_search(text, jsonb) IS 'Internal (via rt.dispatch search): the search frame''s reply data.';
