-- Per-user preferences: one JSON object per user, replaced as a whole.

CREATE OR REPLACE FUNCTION rt.get_prefs(user_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_ident(user_id, 'user_id');
    RETURN coalesce((SELECT p.prefs FROM rt.prefs p WHERE p.user_id = get_prefs.user_id), '{}'::jsonb);
END
$$;

COMMENT ON FUNCTION rt.get_prefs(text) IS 'A user''s preferences ({} when none were set).';

-- rt.set_prefs: replace a user's preferences (a JSON object of at most max_prefs_bytes); returns them.
CREATE OR REPLACE FUNCTION rt.set_prefs(user_id text, prefs jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_ident(user_id, 'user_id');
    PERFORM rt.check_object(prefs, 'prefs', rt.setting_int('max_prefs_bytes'));
    INSERT INTO rt.prefs AS p (user_id, prefs) VALUES (user_id, prefs)
    ON CONFLICT ON CONSTRAINT prefs_pkey DO UPDATE SET prefs = excluded.prefs, updated_at = now();
    RETURN prefs;
END
$$;

COMMENT ON FUNCTION rt.set_prefs(text, jsonb) IS 'Replace a user''s preferences (a JSON object, size-capped); returns them.';
