-- Reading and changing rt.settings. The table's CHECK constraint is the validity rule; this file
-- turns a violation into a clear BAD_REQUEST.

-- The small helpers on the hot path (settings, wire shapes, channels, rights) are PL/pgSQL, not SQL:
-- a SQL function with a SET clause is never inlined, and PostgreSQL 15 parses and plans its body
-- again in every transaction and every subtransaction (each command of rt.batch runs in one), while
-- PL/pgSQL keeps its plans for the session. Measured: a send through rt.batch cost ~2x more CPU
-- with these as SQL functions (docs/benchmarks.md).
CREATE OR REPLACE FUNCTION rt.setting(key text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN (SELECT s.value FROM rt.settings s WHERE s.key = setting.key); END $$;

COMMENT ON FUNCTION rt.setting(text) IS 'Internal: the current value of a setting (NULL when unknown).';

CREATE OR REPLACE FUNCTION rt.setting_int(key text) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN (SELECT s.value::integer FROM rt.settings s WHERE s.key = setting_int.key); END $$;

COMMENT ON FUNCTION rt.setting_int(text) IS 'Internal: the current value of an integer setting.';

-- rt.set_setting: change one setting; unknown keys and invalid values are BAD_REQUEST.
CREATE OR REPLACE FUNCTION rt.set_setting(key text, value text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rule  text;
    v_valid boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM rt.settings s WHERE s.key = set_setting.key) THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown setting %L', left(key, 64)),
                         hint => 'see SELECT key, value, description FROM rt.settings');
    END IF;
    -- Evaluate the table's own rule on the new value without writing (a CHECK violation inside an
    -- UPDATE would abort with a PostgreSQL message instead of ours).
    SELECT pg_get_expr(c.conbin, c.conrelid) INTO v_rule
      FROM pg_constraint c
     WHERE c.conrelid = 'rt.settings'::regclass AND c.conname = 'settings_value_valid';
    EXECUTE format('SELECT %s FROM (SELECT $1::text AS key, $2::text AS value) s', v_rule)
       INTO v_valid USING key, value;
    IF v_valid IS NOT TRUE THEN
        PERFORM rt.raise('BAD_REQUEST', format('invalid value %L for setting %s', left(value, 64), key),
                         detail => (SELECT s.description FROM rt.settings s WHERE s.key = set_setting.key));
    END IF;
    UPDATE rt.settings s SET value = set_setting.value WHERE s.key = set_setting.key;
END
$$;

COMMENT ON FUNCTION rt.set_setting(text, text) IS
    'Change a setting (max_event_bytes, max_meta_bytes, max_prefs_bytes, retention); invalid values are BAD_REQUEST.';
