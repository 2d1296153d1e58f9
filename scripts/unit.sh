#!/usr/bin/env bash
# Unit tests: ctest in BUILD_DIR. The store-backed suites (store_fixture.h,
# test_db.c) run each case on SQLite and again on PostgreSQL; for the second
# pass this script starts a throwaway PostgreSQL cluster and always removes
# it, unless RN_TEST_PG_URL already names a database to use.
#
#   scripts/unit.sh BUILD_DIR
#   UNIT_SKIP_PG=1 scripts/unit.sh build    SQLite cases only (PostgreSQL ones say SKIPPED)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${1:?usage: scripts/unit.sh BUILD_DIR}
PG_DIR=/tmp/rn-unit-pg-$$
PG_STARTED=0

cleanup() {
    if [ "$PG_STARTED" = 1 ]; then
        bash "$ROOT/scripts/pg-throwaway.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

if [ -z "${RN_TEST_PG_URL:-}" ] && [ "${UNIT_SKIP_PG:-0}" != 1 ]; then
    if ! RN_TEST_PG_URL=$(bash scripts/pg-throwaway.sh start "$PG_DIR" "$(free_port)"); then
        echo "unit: could not start the throwaway PostgreSQL cluster" >&2
        exit 1
    fi
    PG_STARTED=1
    export RN_TEST_PG_URL
fi
cd "$BUILD_DIR"
ctest --output-on-failure
