#!/usr/bin/env bash
# Server benchmark: prints figures, asserts nothing (these machines are noisy; compare the
# ratios within one run). The server gets one core (taskset), wrk the other.
#   a bare endpoint (the location route: no database)   -> the ceiling on this machine
#   anonymous logins (one durable SQLite transaction each)
#   refreshes (hash + indexed lookup + sign)
#   bytes of database per anonymous user
# Needs wrk (apt-get install wrk). DURATION=10s by default.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 2; }
DURATION=${DURATION:-10s}
cargo build --release -p guestpass-server -q
WORK=$(mktemp -d); trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
taskset -c 0 target/release/guestpass-server --listen 127.0.0.1:0 --data "$WORK/bench.db" --app-id bench \
  --anonymous-signup-limit 100000000/1h > "$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 100); do URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/log"); [ -n "$URL" ] && break; sleep 0.1; done
A=$URL/api/client/v2.0/app/bench
run() { # NAME URL [wrk args]
  local name=$1 url=$2; shift 2
  local out; out=$(taskset -c 1 wrk -t1 -c64 -d"$DURATION" --latency "$@" "$url")
  local rps p99; rps=$(awk '/Requests\/sec/{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  printf "%-22s %12s req/s   p99 %s\n" "$name" "$rps" "$p99" >&2
  echo "$rps"
}
echo "guestpass-server on one core, wrk (64 connections) on the other, $DURATION each:"
bare=$(run "bare (location)" "$A/location" | tail -1)
login=$(run "anonymous login" "$A/auth/providers/anon-user/login" -s bench/login.lua | tail -1)
users=$(sqlite3 "$WORK/bench.db" 'PRAGMA wal_checkpoint(TRUNCATE); SELECT count(*) FROM users;' | tail -1)
RT=$(curl -s -X POST "$A/auth/providers/anon-user/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')
refresh=$(GUESTPASS_BENCH_REFRESH_TOKEN=$RT run "refresh" "http://${URL#http://}/api/client/v2.0/auth/session" -s bench/refresh.lua | tail -1)
bytes=$(stat -c %s "$WORK/bench.db")
awk -v b="$bare" -v l="$login" -v r="$refresh" 'BEGIN{printf "ratios to bare: login %.3f, refresh %.3f\n", l/b, r/b}'
echo "database: $bytes bytes for $users anonymous users = $(( bytes / (users > 0 ? users : 1) )) bytes/user (file size after checkpoint)"
