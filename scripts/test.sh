#!/usr/bin/env bash
# Check the import contracts (lint-imports) and ruff, then run the whole test suite: SQLite
# always, PostgreSQL too (a throwaway cluster is started when PostgreSQL's initdb is installed, or
# pass TEST_POSTGRES_URL), the JavaScript rule tests (Node) and the browser tests (Debian's
# Chromium, and WebKit: WebKitWebDriver under Xvfb). Extra arguments go to pytest; the SQLite and
# the PostgreSQL halves run in two processes at once.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
ensure_venv test
ensure_debian_packages node:nodejs /usr/bin/chromium:chromium pdftotext:poppler-utils \
  /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf:fonts-liberation2 certutil:libnss3-tools
# WebKit (the engine of Safari on iPads) is not essential to the rest: where it cannot be
# installed, its tests are skipped and the summary says why (under CI they fail instead).
ensure_debian_packages WebKitWebDriver:webkit2gtk-driver Xvfb:xvfb ||
  echo "WebKit not installed: the WebKit browser tests will be skipped." >&2

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "PostgreSQL not installed: running on SQLite only." >&2; return 0; }
  PGDIR=$(mktemp -d /tmp/inspection-pg.XXXXXX)
  local as=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGDIR"; as=(runuser -u postgres --); fi
  chmod 700 "$PGDIR"
  "${as[@]}" "$bin/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 -o \
    "-c listen_addresses='' -k $PGDIR -p 54329 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  trap 'runuser_stop' EXIT
  "${as[@]}" "$bin/createdb" -h "$PGDIR" -p 54329 -U postgres inspections
  export TEST_POSTGRES_URL="postgresql+psycopg://postgres@/inspections?host=$PGDIR&port=54329"
  PG_BIN=$bin PG_AS="${as[*]}"
}
runuser_stop() {
  ${PG_AS:-} "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}

# The architecture first (cheap, and a violation fails the run): the import contracts in
# pyproject.toml (docs/architecture.md) and the lint rules.
contracts=$(.venv/bin/lint-imports --no-cache --no-logo 2>&1) || { echo "$contracts" >&2; exit 1; }
.venv/bin/ruff check --quiet . || { echo "ruff check: fix the findings above." >&2; exit 1; }

if [ -z "${TEST_POSTGRES_URL:-}" ]; then start_postgres; fi
if [ -z "${TEST_POSTGRES_URL:-}" ]; then exec .venv/bin/python -m pytest "$@"; fi

# Two processes at once, one per core: the database tests on SQLite with the Chromium and
# JavaScript tests and the pure functions, and the database tests again on PostgreSQL with the
# WebKit tests (which need no database of the run: a balance of the two halves' times; see
# pytest_collection_modifyitems in tests/conftest.py). Each half prints its own summary.
PG_LOG=$(mktemp /tmp/inspection-tests-pg.XXXXXX)
TEST_BACKENDS=postgresql TEST_HALF=postgresql \
  .venv/bin/python -m pytest -p no:cacheprovider "$@" >"$PG_LOG" 2>&1 &
PG_TESTS=$!
set +e
TEST_BACKENDS=sqlite TEST_HALF=sqlite .venv/bin/python -m pytest "$@"
sqlite_status=$?
wait $PG_TESTS
pg_status=$?
set -e
echo
echo "============= the database tests on PostgreSQL, and WebKit ============="
cat "$PG_LOG"
rm -f "$PG_LOG"
[ $pg_status = 5 ] && pg_status=0  # nothing to run there (e.g. only browser tests were asked for)
[ $sqlite_status = 5 ] && sqlite_status=0
exit $(( sqlite_status || pg_status ))
