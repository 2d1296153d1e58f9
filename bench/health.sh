#!/usr/bin/env bash
# Authenticated GET /api/server/health against a static nginx 200 JSON, in
# one run on loopback. Targets (issue 2): health >= 0.6 x nginx rps,
# p99 < 5 ms, server RSS < 40 MB after the run.
source "$(dirname "$0")/lib.sh"

start_nginx
start_ringnity "${BENCH_DATABASE_URL:-}"
echo "wrk: $WRK_THREADS threads, $WRK_CONNECTIONS connections, $WRK_DURATION each, loopback"
run_wrk "nginx static 200 JSON" "$NGINX_URL"
base_rps=$LAST_RPS
run_wrk "GET /api/server/health (auth)" "$RN_URL/api/server/health" -H "Authorization: Bearer $RN_KEY"
health_rps=$LAST_RPS; health_p99=$LAST_P99
echo "ratio health/nginx: $(ratio "$health_rps" "$base_rps")   (target >= 0.60)"
echo "health p99: $health_p99 ms   (target < 5 ms)"
echo "server RSS after run: $(rss_mb "$RN_PID") MB   (target < 40 MB)"
