#!/usr/bin/env bash
# Runs once, when the postgres container initializes an empty data directory
# (/docker-entrypoint-initdb.d/). Creates the login role the bridges use (`pgrt_bridge`, or
# $PGRT_BRIDGE_ROLE) holding only `rt_bridge` (docs/sql-api.md, "Roles and privileges").
# `rt_bridge` is created here, before the first `rt-bridge migrate`, so the grant can be given now;
# the migration finds the role and keeps it. Safe to run again.
# Needs POSTGRES_USER, POSTGRES_DB and PGRT_BRIDGE_PASSWORD (tests/docker/check.sh runs it too).
psql --no-psqlrc -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
  -v role="${PGRT_BRIDGE_ROLE:-pgrt_bridge}" -v pw="$PGRT_BRIDGE_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE rt_bridge NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rt_bridge') \gexec
SELECT pg_catalog.format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'role') \gexec
SELECT pg_catalog.format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'pw') \gexec
SELECT pg_catalog.format('GRANT rt_bridge TO %I', :'role')
 WHERE NOT pg_catalog.pg_has_role(:'role', 'rt_bridge', 'MEMBER') \gexec
SQL
