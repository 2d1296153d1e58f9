#!/usr/bin/env bash
# Shared helpers for the benchmarks: a static nginx baseline, a throwaway
# ringnity server, wrk runs with latency percentiles. Loopback only; every
# process started here is stopped by pid on exit. Source it, don't run it.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RINGNITY_BIN:-$BENCH_ROOT/build/ringnity}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_DURATION=${WRK_DURATION:-10s}
BENCH_TMP=$(mktemp -d /tmp/rn-bench.XXXXXX)
BENCH_PIDS=()
BENCH_PG_DIR="" # a throwaway PostgreSQL cluster bench_store started, if any

bench_cleanup() {
  for pid in "${BENCH_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$BENCH_TMP"
  if [ -n "$BENCH_PG_DIR" ]; then
    bash "$BENCH_ROOT/scripts/pg-throwaway.sh" stop "$BENCH_PG_DIR" >/dev/null 2>&1 || true
  fi
}
trap bench_cleanup EXIT

# free_port: prints a free TCP port on 127.0.0.1.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_http URL: waits up to 10 s for URL to answer.
wait_http() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: $1 did not come up" >&2
  return 1
}

# bench_store NAME: picks the store and sets DB_URL: BENCH_DATABASE_URL when
# given; with BENCH_STORE=postgres a throwaway cluster (stopped on exit);
# else a new SQLite file in BENCH_TMP.
bench_store() {
  DB_URL=${BENCH_DATABASE_URL:-}
  if [ -z "$DB_URL" ] && [ "${BENCH_STORE:-sqlite}" = postgres ]; then
    BENCH_PG_DIR="/tmp/rn-bench-$1-pg-$$" # outside BENCH_TMP: the cluster's owner must enter it
    DB_URL=$(bash "$BENCH_ROOT/scripts/pg-throwaway.sh" start "$BENCH_PG_DIR" "$(free_port)")
  fi
  if [ -z "$DB_URL" ]; then
    unset RINGNITY_DATABASE_URL
    DB_URL="$BENCH_TMP/var/ringnity.db"
  fi
}

# start_nginx: serves a static 200 JSON body like /healthz on a free port;
# sets NGINX_URL. Same worker count as the server's threads would be unfair
# to neither: nginx gets one worker per core.
start_nginx() {
  local port; port=$(free_port)
  mkdir -p "$BENCH_TMP/nginx"
  cat > "$BENCH_TMP/nginx/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
pid $BENCH_TMP/nginx/nginx.pid;
error_log $BENCH_TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $BENCH_TMP/nginx;
  proxy_temp_path $BENCH_TMP/nginx;
  fastcgi_temp_path $BENCH_TMP/nginx;
  uwsgi_temp_path $BENCH_TMP/nginx;
  scgi_temp_path $BENCH_TMP/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / {
      default_type application/json;
      return 200 '{"status":"ok","tenantId":"ten_01m8y7aqfbjt6p59vpjrtf4tq9","serverTime":"2026-12-03T07:15:00.000Z"}';
    }
  }
}
NGINX
  nginx -c "$BENCH_TMP/nginx/nginx.conf" -e "$BENCH_TMP/nginx/error.log" &
  BENCH_PIDS+=($!)
  NGINX_URL="http://127.0.0.1:$port/"
  wait_http "$NGINX_URL"
}

# start_ringnity [DATABASE_URL]: migrates, creates tenant "bench" with an
# all-scope key, starts `ringnity serve`; sets RN_URL, RN_KEY, RN_PID.
start_ringnity() {
  local port; port=$(free_port)
  export RINGNITY_DATA_DIR="$BENCH_TMP/var"
  export RINGNITY_LISTEN="127.0.0.1:$port"
  export RINGNITY_LOG_LEVEL=${RINGNITY_LOG_LEVEL:-warn}
  export RINGNITY_MASTER_KEY=${RINGNITY_MASTER_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  [ -n "${1:-}" ] && export RINGNITY_DATABASE_URL="$1"
  "$BIN" tenant create --slug bench --name Bench --json >/dev/null
  RN_KEY=$("$BIN" key create --tenant bench --name bench --scopes all --rate-limit 1000000 \
           --burst 1000000 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).secret))')
  "$BIN" serve 2>"$BENCH_TMP/server.log" &
  RN_PID=$!
  BENCH_PIDS+=($RN_PID)
  RN_URL="http://127.0.0.1:$port"
  wait_http "$RN_URL/healthz"
}

# rss_mb PID: resident set size in MB.
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# The wrk `done` hook that prints the line run_wrk reads ("RESULT rps p50_ms
# p99_ms errors requests", exact percentiles). A WRK_SCRIPT of one's own
# loads it with dofile(os.getenv("BENCH_RESULT_LUA")).
export BENCH_RESULT_LUA="$BENCH_TMP/result.lua"
cat > "$BENCH_RESULT_LUA" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA

# run_wrk NAME URL [wrk args...]: runs wrk (with WRK_SCRIPT, else just the
# result hook) and prints "NAME rps p50 p99".
run_wrk() {
  local name=$1 url=$2; shift 2
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency \
        -s "${WRK_SCRIPT:-$BENCH_RESULT_LUA}" "$@" "$url")
  echo "$out" > "$BENCH_TMP/wrk-${name//[^A-Za-z0-9]/_}.txt"
  local line; line=$(grep '^RESULT' <<<"$out" || true)
  if [ -z "$line" ]; then
    echo "bench: wrk gave no result for $name" >&2
    echo "$out" >&2
    return 1
  fi
  read -r _ rps p50 p99 errors total <<<"$line"
  printf '%-34s %10s rps   p50 %8s ms   p99 %8s ms   errors %s/%s\n' "$name" "$rps" "$p50" "$p99" "$errors" "$total"
  LAST_RPS=$rps; LAST_P50=$p50; LAST_P99=$p99; LAST_ERRORS=$errors
}

# median N...: the median of whole numbers (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ratio A B: prints A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
