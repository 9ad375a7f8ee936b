-- The CHECK rules of rt.rooms as one CHECK that calls a function (docs/sql-api.md "The write path").
--
-- Why: PostgreSQL 15 rebuilds a table's CHECK expressions from their stored text (stringToNode, then
-- planning) in every statement that writes the table, and an UPDATE checks every rule of the row,
-- changed columns or not. Every send UPDATEs its room's last_seq, and so re-checked the room's id,
-- title and owner (two regular expressions) from six freshly parsed expressions: a tenth of the
-- instructions of a post_message (callgrind, docs/benchmarks.md "The write path"). One CHECK that
-- calls a PL/pgSQL function (whose expression is planned once per session) enforces the same rules
-- on every row, hand-written ones included, for about half of that. Each rule is kept as the column's
-- CHECK had it, NULL-tolerant as a CHECK is: a rule that yields NULL passes.
-- rt.events and rt.messages keep their CHECKs: a post inserts one row into each, and the set-based
-- path many rows per statement, which amortizes the parsing; a function call per row would cost more.
CREATE FUNCTION rt.room_row_valid(id text, title text, owner text, version integer, last_seq bigint, meta jsonb)
    RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (id ~ '^[A-Za-z0-9_-]{1,64}$') IS NOT FALSE
       AND (char_length(title) BETWEEN 1 AND 200 AND title !~ '[[:cntrl:]]') IS NOT FALSE
       AND (char_length(owner) BETWEEN 1 AND 128 AND owner !~ '[[:cntrl:]]') IS NOT FALSE
       AND (version >= 0) IS NOT FALSE
       AND (last_seq >= 0) IS NOT FALSE
       AND (jsonb_typeof(meta) = 'object') IS NOT FALSE;
END
$$;

COMMENT ON FUNCTION rt.room_row_valid(text, text, text, integer, bigint, jsonb) IS
    'Internal: the CHECK rule of an rt.rooms row (room id, title, owner, version, last_seq, meta).';

REVOKE ALL ON FUNCTION rt.room_row_valid(text, text, text, integer, bigint, jsonb) FROM PUBLIC;

ALTER TABLE rt.rooms
    DROP CONSTRAINT rooms_id_check, DROP CONSTRAINT rooms_title_check, DROP CONSTRAINT rooms_owner_check,
    DROP CONSTRAINT rooms_version_check, DROP CONSTRAINT rooms_last_seq_check, DROP CONSTRAINT rooms_meta_check,
    ADD CONSTRAINT rooms_row_valid CHECK (rt.room_row_valid(id, title, owner, version, last_seq, meta));
