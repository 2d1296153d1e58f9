#!/usr/bin/env bash
# Reports benchmark (issue 5), one run on loopback next to the static nginx
# baseline. Seeds tenant "bench" (Asia/Jakarta) with REPORTS_CONVERSATIONS
# conversations (default 1,000,000; about ten messages each, calls, tickets,
# presence) over REPORTS_DAYS days (default 90) with `ringnity demo seed`,
# reports the seeding rate, then measures with wrk the 30-day and 90-day JSON
# exports, the 30-day CSV exports (timeseries and productivity), and ends
# with the server's peak RSS and the store's size.
#
# Every wrk run uses WRK_CONNECTIONS (64); the JSON exports run once more at
# LATENCY_CONNECTIONS (8): at 64 connections on two shared cores the
# percentiles measure the queue in front of the server, not the request.
#
#   bench/reports.sh                              SQLite (a fresh file)
#   BENCH_STORE=postgres bench/reports.sh         a throwaway PostgreSQL cluster
#   REPORTS_CONVERSATIONS=100000 bench/reports.sh a smaller, quicker run
#
# Time on SQLite: seeding about a minute per million conversations, then six
# wrk runs of WRK_DURATION (default 10 s). Targets: 30-day JSON export p99 <
# 20 ms; seeding >= 20,000 conversations/s on SQLite.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

CONVERSATIONS=${REPORTS_CONVERSATIONS:-1000000}
DAYS=${REPORTS_DAYS:-90}
LATENCY_CONNECTIONS=${LATENCY_CONNECTIONS:-8}
bench_store reports

json_field() { # json_field EXPR: evaluates EXPR on the JSON document on stdin (as `d`)
  node -e 'let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
    const d = JSON.parse(s); console.log(eval(process.argv[1])); });' "$1"
}

start_nginx
start_ringnity "$DB_URL"
echo "store: ${BENCH_STORE:-sqlite}; seeding $CONVERSATIONS conversations over $DAYS days"
seeded=$("$BIN" demo seed --tenant bench --days "$DAYS" --conversations "$CONVERSATIONS" \
  --agents 8 --seed 5 --json 2>"$BENCH_TMP/seed.log")
rate=$(json_field 'd.conversationsPerSecond' <<<"$seeded")
echo "seeded: $(json_field '`${d.conversations} conversations, ${d.messages} messages, ${d.calls} calls, ${d.tickets} tickets in ${d.seconds} s`' <<<"$seeded")"
echo "seeding rate: $rate conversations/s   (target >= 20000 on SQLite)"
echo "load average after seeding: $(cut -d' ' -f1-3 /proc/loadavg)"

AUTH=(-H "Authorization: Bearer $RN_KEY")
E="$RN_URL/api/server/reports/export"
# The export must carry every seeded conversation (a sanity check, not timed).
total=$(curl -fsS "${AUTH[@]}" "$E?period=${DAYS}days" | json_field 'd.summary.conversations')
echo "the ${DAYS}-day export counts $total conversations"
for url in "$E?period=30days" "$E?period=90days" "$E?period=30days&format=csv"; do
  curl -fsS -o /dev/null "${AUTH[@]}" "$url" # warm the caches once
done

echo "wrk: $WRK_THREADS threads, $WRK_CONNECTIONS connections, $WRK_DURATION each, loopback"
run_wrk "nginx static 200 JSON" "$NGINX_URL"
base_rps=$LAST_RPS
run_wrk "export 30days JSON" "$E?period=30days" "${AUTH[@]}"
run_wrk "export 90days JSON" "$E?period=90days" "${AUTH[@]}"
run_wrk "export 30days CSV timeseries" "$E?period=30days&format=csv" "${AUTH[@]}"
run_wrk "export 30days CSV productivity" "$E?period=30days&format=csv&dataset=productivity" \
  "${AUTH[@]}"
WRK_CONNECTIONS=$LATENCY_CONNECTIONS run_wrk "export 30days JSON (8 conns)" \
  "$E?period=30days" "${AUTH[@]}"
p99_30=$LAST_P99
WRK_CONNECTIONS=$LATENCY_CONNECTIONS run_wrk "export 90days JSON (8 conns)" \
  "$E?period=90days" "${AUTH[@]}"
echo "30-day JSON export p99 at $LATENCY_CONNECTIONS connections: $p99_30 ms   (target < 20 ms)"
echo "nginx baseline: $base_rps rps"
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$RN_PID/status") MB"
if [ -f "$DB_URL" ]; then
  echo "store size: $(du -sh "$(dirname "$DB_URL")" | cut -f1) (SQLite file and WAL)"
fi
