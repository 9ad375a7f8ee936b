#!/usr/bin/env bash
# Runs every pgTAP file in tests/pgtap against the database the PG* variables name (already migrated).
set -euo pipefail
cd "$(dirname "$0")/.."
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null
exec pg_prove --ext .sql --failures --comments tests/pgtap/
