#!/usr/bin/env bash
# Webhook dispatcher benchmark (issue 6). Loopback only.
#
# 10 receivers (one node process, 10 HTTP servers on 127.0.0.1) and 10
# destinations, destination i subscribed to event type i only, so every event
# is one delivery. Two phases of BENCH_EVENTS events each (default 50,000),
# written to the outbox by `ringnity events emit` (the 10 types in turn):
#
#   burst:  all events as fast as the emitters can write them; reports
#           deliveries/s from the first write to the last delivery.
#   paced:  BENCH_RATE events/s in total (default 2,000); reports the
#           event-to-delivery latency p50/p99 (receiver clock minus the
#           event's createdAt, same machine) and the achieved rate.
#
# Also the server's peak RSS. BENCH_STORE=postgres runs it on a throwaway
# PostgreSQL cluster (started and removed here; then the CPU time of every
# PostgreSQL process is reported too), BENCH_DATABASE_URL=postgres://... on
# a database you can throw away; default a fresh SQLite file.
# RINGNITY_LOG_LEVEL defaults to warn (lib.sh); set info to include the
# per-attempt log line in the cost.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

EVENTS=${BENCH_EVENTS:-50000}
RATE=${BENCH_RATE:-2000}
# Paced phase only: emitters sharing the rate. One emitter writes a tick's
# events (100 ms' worth) in one transaction, so each destination finds a
# clump of them queued; several unsynchronised emitters make the arrivals
# finer grained, closer to changes made one request at a time.
EMITTERS=${BENCH_EMITTERS:-1}
if [ $((EVENTS % EMITTERS)) != 0 ] || [ $((RATE / EMITTERS)) -lt 1 ]; then
  echo "bench: BENCH_EVENTS must divide by BENCH_EMITTERS, BENCH_RATE be at least it" >&2
  exit 1
fi
RECEIVERS=10
TYPES=(conversation.created conversation.message.received conversation.closed ticket.created
       ticket.updated contact.created contact.updated agent.presence.changed call.started
       call.ended)
export RINGNITY_WEBHOOK_ALLOW_PRIVATE_NETWORKS=1
PG_DIR=""

webhooks_cleanup() {
  bench_cleanup
  if [ -n "$PG_DIR" ]; then
    bash "$BENCH_ROOT/scripts/pg-throwaway.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  fi
}
trap webhooks_cleanup EXIT

DB_URL=${BENCH_DATABASE_URL:-}
if [ -z "$DB_URL" ] && [ "${BENCH_STORE:-sqlite}" = postgres ]; then
  PG_DIR="/tmp/rn-bench-webhooks-pg-$$" # outside BENCH_TMP: the cluster's owner must enter it
  DB_URL=$(bash "$BENCH_ROOT/scripts/pg-throwaway.sh" start "$PG_DIR" "$(free_port)")
fi

# ---- receivers -----------------------------------------------------------------
cat > "$BENCH_TMP/receivers.mjs" <<'NODE'
import http from 'node:http';
import { writeFileSync } from 'node:fs';
const [count, outFile] = [Number(process.argv[2]), process.argv[3]];
let lat = [], first = 0, last = 0, bad = 0;
const listen = (srv) => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
const ports = [];
for (let i = 0; i < count; i++) {
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      try {
        lat.push(now - Date.parse(JSON.parse(Buffer.concat(chunks)).createdAt));
      } catch { bad++; }
      if (!first) first = now;
      last = now;
      res.end('ok');
    });
  });
  srv.keepAliveTimeout = 60000;
  ports.push(await listen(srv));
}
const pct = (s, p) =>
  (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : 0);
const control = http.createServer((req, res) => {
  if (req.url === '/reset') { lat = []; first = 0; last = 0; bad = 0; }
  const s = [...lat].sort((a, b) => a - b);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ count: lat.length, bad, first, last, p50: pct(s, 50), p99: pct(s, 99),
    max: s.length ? s[s.length - 1] : 0 }));
});
writeFileSync(outFile, JSON.stringify({ ports, control: await listen(control) }));
NODE
node "$BENCH_TMP/receivers.mjs" "$RECEIVERS" "$BENCH_TMP/receivers.json" &
BENCH_PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$BENCH_TMP/receivers.json" ] && break; sleep 0.1; done
CONTROL="http://127.0.0.1:$(jq -r .control "$BENCH_TMP/receivers.json")"
mapfile -t PORTS < <(jq -r '.ports[]' "$BENCH_TMP/receivers.json")

# ---- server and destinations -------------------------------------------------------
start_ringnity "$DB_URL"
for i in $(seq 0 $((RECEIVERS - 1))); do
  body=$(jq -nc --arg n "bench $i" --arg u "http://127.0.0.1:${PORTS[$i]}/hook" \
    --arg t "${TYPES[$i]}" '{name: $n, url: $u, events: [$t]}')
  curl -fsS -o /dev/null -X POST "$RN_URL/api/server/webhooks" \
    -H "Authorization: Bearer $RN_KEY" -H 'Content-Type: application/json' -d "$body"
done

PEAK_RSS=0
HZ=$(getconf CLK_TCK)
# cpu_ms PID: user + system CPU time the process has used, in ms.
cpu_ms() { awk -v hz="$HZ" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat"; }
sample_rss() {
  local r; r=$(rss_mb "$RN_PID")
  PEAK_RSS=$(awk -v a="$PEAK_RSS" -v b="$r" 'BEGIN { print (b > a ? b : a) }')
}

# pg_cpu_ms: CPU time of the throwaway cluster's processes (postmaster,
# backends, background workers; exited backends count through the
# postmaster's cutime/cstime), or 0 without one.
pg_cpu_ms() {
  [ -n "$PG_DIR" ] || { echo 0; return; }
  local pm; pm=$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null || true)
  [ -n "$pm" ] || { echo 0; return; }
  local total=0 pid
  for pid in $pm $(pgrep -P "$pm" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk -v hz="$HZ" '{ printf "%d", ($14 + $15 + $16 + $17) * 1000 / hz }' \
      "/proc/$pid/stat")))
  done
  echo "$total"
}

# report_cpu START_MS PG_START_MS: the server's (and PostgreSQL's) CPU time
# since then, per 1000 deliveries.
report_cpu() {
  printf '       server CPU %s ms per 1000 deliveries' \
    $((($(cpu_ms "$RN_PID") - $1) * 1000 / EVENTS))
  [ -z "$PG_DIR" ] || printf '; PostgreSQL CPU %s ms' $((($(pg_cpu_ms) - $2) * 1000 / EVENTS))
  printf '\n'
}

# emit_all EXTRA_ARGS...: one emitter writing EVENTS events, the 10 types in
# turn (one process: on SQLite, ten writers would mostly measure lock
# contention between processes). A failure leaves $BENCH_TMP/emit-failed.
emit_all() {
  local types; types=$(IFS=,; echo "${TYPES[*]}")
  "$BIN" events emit --tenant bench --type "$types" --count "$EVENTS" "$@" >/dev/null ||
    touch "$BENCH_TMP/emit-failed"
}

# emit_paced: the paced phase's EVENTS at RATE/s in total, from EMITTERS
# emitters started a little apart (their ticks do not coincide).
emit_paced() {
  local types pids=() i; types=$(IFS=,; echo "${TYPES[*]}")
  for i in $(seq 1 "$EMITTERS"); do
    "$BIN" events emit --tenant bench --type "$types" --count $((EVENTS / EMITTERS)) \
      --rate $((RATE / EMITTERS)) >/dev/null || touch "$BENCH_TMP/emit-failed" &
    pids+=($!)
    sleep 0.013
  done
  wait "${pids[@]}"
}

# wait_deliveries N: waits (sampling RSS) until the receivers got N deliveries.
wait_deliveries() {
  local deadline=$((SECONDS + 600))
  while [ "$(curl -fsS "$CONTROL/stats" | jq .count)" -lt "$1" ]; do
    [ ! -e "$BENCH_TMP/emit-failed" ] || { echo "bench: an emitter failed" >&2; return 1; }
    sample_rss
    if [ $SECONDS -ge $deadline ]; then
      echo "bench: deliveries stalled" >&2
      tail -5 "$BENCH_TMP/server.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

store=$([ -n "$DB_URL" ] && echo postgres || echo sqlite)
echo "webhooks bench: $EVENTS events per phase, $RECEIVERS receivers, store $store," \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- phase 1: burst ------------------------------------------------------------------
curl -fsS -o /dev/null "$CONTROL/reset"
t0=$(date +%s%3N)
c0=$(cpu_ms "$RN_PID"); g0=$(pg_cpu_ms)
emit_all & EMITTER=$!
wait_deliveries "$EVENTS"
wait $EMITTER
stats=$(curl -fsS "$CONTROL/stats")
last=$(jq .last <<<"$stats")
burst_rate=$(awk -v n="$EVENTS" -v ms="$((last - t0))" 'BEGIN{printf "%.0f", n * 1000 / ms}')
printf 'burst  %6d deliveries in %6.2f s = %6s deliveries/s (p50 %s ms, p99 %s ms: backlog)\n' \
  "$EVENTS" "$(awk -v ms="$((last - t0))" 'BEGIN{print ms/1000}')" "$burst_rate" \
  "$(jq .p50 <<<"$stats")" "$(jq .p99 <<<"$stats")"
report_cpu "$c0" "$g0"

# ---- phase 2: paced ---------------------------------------------------------------------
curl -fsS -o /dev/null "$CONTROL/reset"
t0=$(date +%s%3N)
c0=$(cpu_ms "$RN_PID"); g0=$(pg_cpu_ms)
emit_paced & EMITTER=$!
wait_deliveries "$EVENTS"
wait $EMITTER
stats=$(curl -fsS "$CONTROL/stats")
first=$(jq .first <<<"$stats"); last=$(jq .last <<<"$stats")
paced_rate=$(awk -v n="$EVENTS" -v ms="$((last - first))" 'BEGIN{printf "%.0f", n * 1000 / ms}')
printf 'paced  %6d deliveries, %s/s offered (%s emitters) = %6s deliveries/s' \
  "$EVENTS" "$RATE" "$EMITTERS" "$paced_rate"
printf '  p50 %s ms p99 %s ms max %s ms\n' \
  "$(jq .p50 <<<"$stats")" "$(jq .p99 <<<"$stats")" "$(jq .max <<<"$stats")"
report_cpu "$c0" "$g0"
sample_rss
printf 'server peak RSS %s MB (now %s MB); bad bodies %s; load average %s\n' "$PEAK_RSS" \
  "$(rss_mb "$RN_PID")" "$(jq .bad <<<"$stats")" "$(cut -d' ' -f1-3 /proc/loadavg)"
