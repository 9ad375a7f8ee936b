-- A word longer than 2047 characters cannot be indexed, and to_tsvector says so with a NOTICE to the
-- writing client (every post of such a body printed one). Runs of 2048+ non-blank characters are
-- left out of the indexed text instead: no token can be that long otherwise, and such a run is not
-- searchable text (a regex only for bodies of 2048+ characters: PostgreSQL's regex repetition
-- bound is 255, hence 16 x 128). PostgreSQL 15 cannot change a generated column's expression in place, so the
-- column and its index are re-created (a rewrite of rt.messages on upgrade).
ALTER TABLE rt.messages DROP COLUMN search_tsv;

ALTER TABLE rt.messages ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
    CASE WHEN body IS NULL OR search_config IS NULL THEN NULL
         ELSE to_tsvector(search_config, CASE WHEN char_length(body) < 2048 THEN body
                      ELSE regexp_replace(body, '(?:[^[:space:]]{128}){16}[^[:space:]]*', ' ', 'g') END)
              || array_to_tsvector(ARRAY['@' || room]) END) STORED;

CREATE INDEX messages_search_idx ON rt.messages USING gin (search_tsv) WHERE search_tsv IS NOT NULL;
