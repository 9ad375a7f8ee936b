-- The search index holds only indexed messages: a message of a room or kind with search off (NULL
-- language), a deleted or an erased one has a NULL search_tsv and now costs the index nothing.
-- (docs/benchmarks.md "Search": a GIN index pays for NULL entries too.) Queries use it unchanged:
-- `search_tsv @@ q` implies `search_tsv IS NOT NULL`.
DROP INDEX rt.messages_search_idx;
CREATE INDEX messages_search_idx ON rt.messages USING gin (search_tsv) WHERE search_tsv IS NOT NULL;
