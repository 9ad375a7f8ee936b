-- A word longer than 2047 characters cannot be indexed, and to_tsvector says so with a NOTICE to the
-- writing client (every post of such a body printed one, to psql users and to bridges' logs). Runs
-- of 2048+ non-blank characters are now left out of the indexed text: no token can be that long
-- otherwise, and such a run is not searchable text. Only bodies of 2048+ characters pay for the
-- check. PostgreSQL 15 cannot change a generated column's expression in place, so the column and its
-- index are re-created (a rewrite of rt.messages on upgrade).

-- Defined here, not in sql/: the generated column depends on it.
CREATE FUNCTION rt.indexable_text(body text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(string_agg(w, ' '), '')
      FROM regexp_split_to_table(body, '[[:space:]]+') AS w
     WHERE char_length(w) < 2048
$$;

COMMENT ON FUNCTION rt.indexable_text(text) IS
    'Internal: the text without runs of 2048+ non-blank characters (too long for a text search index).';

ALTER TABLE rt.messages DROP COLUMN search_tsv;

ALTER TABLE rt.messages ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
    CASE WHEN body IS NULL OR search_config IS NULL THEN NULL
         ELSE to_tsvector(search_config, CASE WHEN char_length(body) < 2048 THEN body ELSE rt.indexable_text(body) END)
              || array_to_tsvector(ARRAY['@' || room]) END) STORED;

CREATE INDEX messages_search_idx ON rt.messages USING gin (search_tsv) WHERE search_tsv IS NOT NULL;
