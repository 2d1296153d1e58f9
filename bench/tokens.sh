#!/usr/bin/env bash
# Minting Agent SDK tokens, POST /api/server/sdk-token/agent (server-key
# auth, staff lookup, Ed25519 signature, one audit row per token), next to a
# static nginx 200 JSON, in one run on loopback with wrk (2 threads, 64
# connections, WRK_DURATION each). Targets (issue 4): >= 0.4 x nginx rps and
# p99 < 5 ms. SQLite in a temp dir by default; BENCH_DATABASE_URL=postgres://...
# runs the server on PostgreSQL instead. Every token is checked to be a 201.
source "$(dirname "$0")/lib.sh"

start_nginx
start_ringnity "${BENCH_DATABASE_URL:-}"
"$BIN" staff add --tenant bench --username agent.one --role agent --json >/dev/null

BODY='{"username":"agent.one","expiresIn":900}'
status=$(curl -s -o "$BENCH_TMP/first.json" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $RN_KEY" -H 'Content-Type: application/json' \
  -d "$BODY" "$RN_URL/api/server/sdk-token/agent")
if [ "$status" != 201 ]; then
  echo "bench: the first mint answered $status: $(cat "$BENCH_TMP/first.json")" >&2
  exit 1
fi

cat > "$BENCH_TMP/mint.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $RN_KEY"
dofile(os.getenv("BENCH_RESULT_LUA"))
LUA

store=sqlite
[ -n "${BENCH_DATABASE_URL:-}" ] && store=postgres
echo "wrk: $WRK_THREADS threads, $WRK_CONNECTIONS connections, $WRK_DURATION each, loopback;" \
     "store $store; $(nproc) cores"
run_wrk "nginx static 200 JSON" "$NGINX_URL"
base_rps=$LAST_RPS
WRK_SCRIPT="$BENCH_TMP/mint.lua" run_wrk "POST /api/server/sdk-token/agent" \
  "$RN_URL/api/server/sdk-token/agent"
mint_rps=$LAST_RPS; mint_p50=$LAST_P50; mint_p99=$LAST_P99; mint_errors=$LAST_ERRORS
echo "ratio mint/nginx: $(ratio "$mint_rps" "$base_rps")   (target >= 0.40)"
echo "mint p50: $mint_p50 ms, p99: $mint_p99 ms   (target p99 < 5 ms)"
echo "server RSS after run: $(rss_mb "$RN_PID") MB"
# The arithmetic floor: Ed25519 signatures one core makes per second.
cc -O2 -o "$BENCH_TMP/sign_rate" "$BENCH_ROOT/bench/tools/sign_rate.c" -lsodium
read -r sign_us sign_rate < <("$BENCH_TMP/sign_rate")
echo "Ed25519 alone: $sign_us us per signature = $sign_rate signatures/s per core;" \
     "0.4 x nginx would be $(awk -v b="$base_rps" 'BEGIN { printf "%.0f", 0.4 * b }') mints/s"
if [ "$mint_errors" != 0 ]; then
  echo "bench: $mint_errors mint requests failed (non-2xx or socket errors)" >&2
  exit 1
fi
