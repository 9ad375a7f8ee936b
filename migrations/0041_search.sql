-- Full-text search over message bodies and final transcripts. docs/sql-api.md "Search".
--
-- The index is maintained by PostgreSQL in the writing transaction itself: rt.messages gets a
-- generated column (recomputed whenever body changes: an edit rewrites it, a delete or an erasure
-- empties it) with a GIN index. The only thing a writer supplies is search_config, the text search
-- configuration of the room at the time (rt.search_config(room); NULL: search is off there).
-- The room is part of the indexed document as the lexeme '@' || room (a query's own words can never
-- produce a lexeme starting with '@'), so one GIN scan intersects "these words" with "these rooms".

-- Language (text search configuration) per room kind and per room, as data; the most specific row
-- wins; a row whose config is NULL turns search off there; without any row: 'simple'.
CREATE TABLE rt.kind_search (
    kind       text        PRIMARY KEY REFERENCES rt.room_kinds (kind),
    config     regconfig,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rt.room_search (
    room       text        PRIMARY KEY REFERENCES rt.rooms (id) ON DELETE CASCADE,
    config     regconfig,
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE rt.messages ADD COLUMN search_config regconfig;

-- Existing messages become searchable with the default configuration.
UPDATE rt.messages SET search_config = 'pg_catalog.simple'::regconfig;

ALTER TABLE rt.messages ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
    CASE WHEN body IS NULL OR search_config IS NULL THEN NULL
         ELSE to_tsvector(search_config, body) || array_to_tsvector(ARRAY['@' || room]) END) STORED;

CREATE INDEX messages_search_idx ON rt.messages USING gin (search_tsv);

-- Final transcript segments (`transcript` events, text in data.text) live only in rt.events; their
-- index rows are written by a trigger on rt.events that fires for transcripts only
-- (sql/260_search.sql).
CREATE TABLE rt.transcript_search (
    room          text        NOT NULL REFERENCES rt.rooms (id) ON DELETE CASCADE,
    seq           bigint      NOT NULL,
    at            timestamptz NOT NULL,
    search_config regconfig   NOT NULL,
    search_tsv    tsvector    NOT NULL,
    PRIMARY KEY (room, seq)
);

CREATE INDEX transcript_search_idx ON rt.transcript_search USING gin (search_tsv);

INSERT INTO rt.transcript_search (room, seq, at, search_config, search_tsv)
SELECT e.room, e.seq, e.at, 'pg_catalog.simple'::regconfig,
       to_tsvector('pg_catalog.simple'::regconfig, e.data ->> 'text') || array_to_tsvector(ARRAY['@' || e.room])
  FROM rt.events e
 WHERE e.event = 'transcript' AND jsonb_typeof(e.data -> 'text') = 'string';

REVOKE ALL ON rt.kind_search, rt.room_search, rt.transcript_search FROM PUBLIC;
