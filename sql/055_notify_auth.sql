-- Authenticated NOTIFY payloads (docs/operations.md "Trust model").
--
-- Any role that can connect may NOTIFY any channel, so a bridge must be able to tell a payload rt
-- emitted from one somebody else sent. rt.emit and rt.emit_all append a tag to every payload they send:
--
--   {"type": "event", ..., "data": {...}, "sig": "KEY_ID.HEX"}
--
-- where HEX is HMAC-SHA256(key KEY_ID, the payload without the tag) and the tag is textually the
-- last member, so a bridge cuts it off (", \"sig\": ..." up to the closing brace) and forwards the
-- original frame bytes without re-encoding. SQL clients that LISTEN still receive JSON objects, with
-- one extra member they may ignore. HMAC is built from the built-in sha256() with the pads
-- precomputed per key (no extension needed). Keys live in rt.notify_keys (owner only); bridges read
-- them through rt.notify_keys_for_bridge() (rt_bridge only).

-- The bytes a tag adds to a payload at most: ', "sig": "' + 9-digit id + '.' + 64 hex + '"'.
CREATE OR REPLACE FUNCTION rt.notify_tag_bytes() RETURNS integer
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN 85; END $$;

COMMENT ON FUNCTION rt.notify_tag_bytes() IS 'Internal: the most bytes the authentication tag adds to a NOTIFY payload.';

-- rt.notify_sign: the payload as NOTIFY sends it, tagged with the current key. PL/pgSQL because it
-- runs for every event (see rt.setting() in 020_settings.sql).
CREATE OR REPLACE FUNCTION rt.notify_sign(payload text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k record;
BEGIN
    SELECT id, ipad, opad INTO k FROM rt.notify_keys WHERE active_from <= now() ORDER BY active_from DESC, id DESC LIMIT 1;
    IF NOT FOUND THEN
        PERFORM rt.raise('INTERNAL', 'no NOTIFY key is active', hint => 'run rt-bridge migrate, or SELECT rt.rotate_notify_key(''0 s'')');
    END IF;
    IF right(payload, 1) <> '}' OR payload = '{}' THEN
        PERFORM rt.raise('INTERNAL', 'only non-empty JSON objects are sent as notifications');
    END IF;
    RETURN left(payload, -1) || ', "sig": "' || k.id || '.'
           || encode(sha256(k.opad || sha256(k.ipad || convert_to(payload, 'UTF8'))), 'hex') || '"}';
END
$$;

COMMENT ON FUNCTION rt.notify_sign(text) IS
    'Internal: a NOTIFY payload with its authentication tag ("sig": "KEY_ID.HMAC-SHA256 hex") appended as the last member.';

-- rt.rotate_notify_key: a new key that starts signing after `grace`; keys older than the one
-- signing now are removed. Bridges re-read the keys every 10 s, so a grace of at least that long
-- (the default is 60 s) lets every bridge know the new key before the first payload it signs.
-- Run by the owner (operators); returns the new key's id.
CREATE OR REPLACE FUNCTION rt.rotate_notify_key(grace interval DEFAULT interval '60 seconds') RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_secret bytea;
    v_ipad   bytea;
    v_opad   bytea;
    v_id     integer;
BEGIN
    IF grace IS NULL OR grace < interval '0' OR grace > interval '1 day' THEN
        PERFORM rt.raise('BAD_REQUEST', 'grace must be between 0 and 1 day');
    END IF;
    -- 64 bytes from pg_strong_random (gen_random_uuid): 488 random bits, 6 fixed per uuid.
    SELECT decode(string_agg(replace(gen_random_uuid()::text, '-', ''), ''), 'hex')
      INTO v_secret FROM generate_series(1, 4);
    v_ipad := v_secret;
    v_opad := v_secret;
    FOR i IN 0 .. 63 LOOP
        v_ipad := set_byte(v_ipad, i, get_byte(v_secret, i) # 54);
        v_opad := set_byte(v_opad, i, get_byte(v_secret, i) # 92);
    END LOOP;
    DELETE FROM rt.notify_keys
     WHERE (active_from, id) < (SELECT c.active_from, c.id FROM rt.notify_keys c WHERE c.active_from <= now()
                                 ORDER BY c.active_from DESC, c.id DESC LIMIT 1);
    INSERT INTO rt.notify_keys (secret, ipad, opad, active_from)
    VALUES (v_secret, v_ipad, v_opad, now() + grace)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION rt.rotate_notify_key(interval) IS
    'Operators: create a NOTIFY key that signs from now() + grace (default 60 s, at most 1 day) and drop keys older than the current one; returns its id.';

-- What a bridge verifies with: every key (the current one, its predecessor, one still in its grace).
CREATE OR REPLACE FUNCTION rt.notify_keys_for_bridge() RETURNS TABLE (id integer, secret text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT k.id, encode(k.secret, 'hex') FROM rt.notify_keys k ORDER BY k.id $$;

COMMENT ON FUNCTION rt.notify_keys_for_bridge() IS
    'Bridges: the NOTIFY keys (id, hex secret) to verify payload tags with. Executable by rt_bridge only.';

-- A database migrated for the first time gets its first key, signing at once.
SELECT rt.rotate_notify_key(interval '0 seconds') WHERE NOT EXISTS (SELECT 1 FROM rt.notify_keys);
