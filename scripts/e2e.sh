#!/usr/bin/env bash
# End-to-end suite: lints api/openapi.yaml, then runs `node --test tests/e2e/`
# against real `ringnity serve` processes, first on SQLite, then on a
# throwaway PostgreSQL cluster that this script starts and always removes.
#
# Environment:
#   RINGNITY_BIN        binary under test (default: build/ringnity)
#   E2E_SKIP_PG=1       SQLite pass only (for a quick local loop)
#   E2E_CONCURRENCY     test files run at once (default 2: the machine has 2 cores)
#   E2E_KEEP=1          keep the per-deployment temp dirs (logs, SQLite files)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

export RINGNITY_BIN=${RINGNITY_BIN:-$ROOT/build/ringnity}
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true
CONCURRENCY=${E2E_CONCURRENCY:-2}
REPORT_DIR=$(mktemp -d /tmp/rn-e2e-report.XXXXXX)
PG_DIR=/tmp/rn-e2e-pg-$$
PG_STARTED=0

cleanup() {
    if [ "$PG_STARTED" = 1 ]; then
        bash scripts/pg-throwaway.sh stop "$PG_DIR" >/dev/null 2>&1 || true
    fi
    rm -rf "$REPORT_DIR"
}
trap cleanup EXIT

# @redocly/cli needs Node >= 20.19, and --test-concurrency needs Node 20.
node_version=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "e2e: Node.js >= 20.19 is required (found $node_version)" >&2
    exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "e2e: npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error
fi

echo "e2e: linting api/openapi.yaml" >&2
if ! lint_out=$(node_modules/.bin/redocly lint api/openapi.yaml 2>&1); then
    printf '%s\n' "$lint_out" | grep -v -E '[║╔╚]' >&2
    echo "e2e: api/openapi.yaml does not lint clean" >&2
    exit 1
fi

if [ ! -x "$RINGNITY_BIN" ]; then
    echo "e2e: $RINGNITY_BIN is missing; run 'make build' first" >&2
    exit 1
fi

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Runs the suite once; $1 names the pass. Results go to $REPORT_DIR/$1.tap.
run_suite() {
    local name=$1
    echo "e2e: running the suite on $name" >&2
    node --test --test-concurrency="$CONCURRENCY" \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$REPORT_DIR/$name.tap" \
        tests/e2e/
}

count() { # count FIELD FILE -> the number on the "# FIELD N" line
    sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$2" | tail -n 1
}

status=0
run_suite sqlite || status=1

if [ "${E2E_SKIP_PG:-0}" != 1 ]; then
    port=$(free_port)
    if url=$(bash scripts/pg-throwaway.sh start "$PG_DIR" "$port"); then
        PG_STARTED=1
        E2E_DATABASE_URL=$url run_suite postgres || status=1
    else
        echo "e2e: could not start the throwaway PostgreSQL cluster" >&2
        status=1
    fi
fi

passed=0 failed=0 skipped=0
for tap in "$REPORT_DIR"/*.tap; do
    [ -f "$tap" ] || continue
    passed=$((passed + $(count pass "$tap")))
    failed=$((failed + $(count fail "$tap") + $(count cancelled "$tap")))
    skipped=$((skipped + $(count skipped "$tap")))
done
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "e2e: $passed passed, $failed failed, $skipped skipped"
exit "$status"
