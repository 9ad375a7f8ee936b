-- Trust boundaries (docs/operations.md "Trust model").
--
-- 1. Only pgrt's roles may connect. LISTEN and NOTIFY need no privilege beyond CONNECT, so any
--    role that can connect could read every room's live events (LISTEN rt_rooms_N) and send
--    forged ones. CONNECT is taken from PUBLIC here, once; sql/900_grants.sql grants it to the rt_*
--    roles on every migrate. An operator sharing the database with other applications grants
--    CONNECT to their roles explicitly (and knows those roles can LISTEN to room channels).
-- 2. Keys that authenticate NOTIFY payloads: rt.emit appends an HMAC-SHA256 tag computed with the
--    current key (sql/055_notify_auth.sql); bridges read the keys through rt.notify_keys_for_bridge()
--    and drop any payload whose tag does not verify. The table is readable by its owner only.
DO $connect$
BEGIN
    EXECUTE pg_catalog.format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
END
$connect$;

CREATE TABLE rt.notify_keys (
    id          integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret      bytea       NOT NULL CHECK (octet_length(secret) = 64),
    ipad        bytea       NOT NULL CHECK (octet_length(ipad) = 64),  -- secret XOR 0x36 (HMAC inner pad)
    opad        bytea       NOT NULL CHECK (octet_length(opad) = 64),  -- secret XOR 0x5c (HMAC outer pad)
    active_from timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX notify_keys_active_from ON rt.notify_keys (active_from DESC, id DESC);

REVOKE ALL ON rt.notify_keys FROM PUBLIC;

COMMENT ON TABLE rt.notify_keys IS
    'pgrt: keys of the NOTIFY payload tag (HMAC-SHA256); the newest key whose active_from has passed signs. Owner only.';
