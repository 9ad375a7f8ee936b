-- rt.rooms' CHECK (rt.room_row_valid, migration 0014) matches the room id with the pattern written
-- so that it is cheap to match, as migration 0045 does for event names: every send updates its
-- room's last_seq, which runs this CHECK, and '^[A-Za-z0-9_-]{1,64}$' cost ~20,000 instructions per
-- match (a bounded repetition is rebuilt in every match); a length and '^[A-Za-z0-9_-]+$' is the same
-- rule (the class is ASCII) for a tenth of that. Everything else is unchanged.
CREATE OR REPLACE FUNCTION rt.room_row_valid(id text, title text, owner text, version integer, last_seq bigint, meta jsonb)
    RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (char_length(id) BETWEEN 1 AND 64 AND id ~ '^[A-Za-z0-9_-]+$') IS NOT FALSE
       AND (char_length(title) BETWEEN 1 AND 200 AND title !~ '[[:cntrl:]]') IS NOT FALSE
       AND (char_length(owner) BETWEEN 1 AND 128 AND owner !~ '[[:cntrl:]]') IS NOT FALSE
       AND (version >= 0) IS NOT FALSE
       AND (last_seq >= 0) IS NOT FALSE
       AND (jsonb_typeof(meta) = 'object') IS NOT FALSE;
END
$$;
