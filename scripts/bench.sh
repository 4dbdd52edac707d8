#!/usr/bin/env bash
# Server benchmark: prints figures, asserts nothing (these machines are noisy; compare the
# ratios within one run). In one run, each beside the bare endpoint of the same set-up:
#   1. SQLite, one process: the server on core 0, wrk on core 1
#   2. PostgreSQL 15 (a throwaway cluster, fsync and synchronous_commit on), one process: the
#      server on core 0, wrk on core 1, PostgreSQL wherever the kernel puts it
#   3. PostgreSQL, two processes behind HAProxy (scripts/haproxy-config.sh), nothing pinned
# For each: a bare endpoint (the location route: no database), anonymous logins (each one
# durable user + identity + session), refreshes (hash + indexed lookup + sign); then bytes per
# anonymous user, and for PostgreSQL the transactions, WAL flushes and CPU seconds per login.
# Needs wrk (apt-get install wrk) and, for 2 and 3, PostgreSQL 15 and haproxy
# (scripts/setup.sh --test). DURATION=10s by default.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 2; }
DURATION=${DURATION:-10s}
PSQL=${PG_BIN:-/usr/lib/postgresql/15/bin}/psql
cargo build --release -p guestpass-server -q
WORK=$(mktemp -d)
PIDS=()
PG_DIR=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$PG_DIR" ]; then scripts/pg.sh stop "$PG_DIR" || true; rm -rf "$PG_DIR"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME CPUS ARGS...: a release server pinned to CPUS; sets URL.
start() {
  local name=$1 cpus=$2; shift 2
  taskset -c "$cpus" target/release/guestpass-server --listen 127.0.0.1:0 --app-id bench \
    --anonymous-signup-limit 100000000/1h "$@" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  URL=""
  for _ in $(seq 100); do
    URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/$name.log" 2>/dev/null | head -1)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "server $name did not start:"; cat "$WORK/$name.log"; exit 1
}

run() { # NAME URL [wrk args]: prints the line, returns requests/s on stdout
  local name=$1 url=$2; shift 2
  local out; out=$(taskset -c 1 wrk -t1 -c64 -d"$DURATION" --latency "$@" "$url")
  local rps p99; rps=$(awk '/Requests\/sec/{print $2}' <<<"$out"); p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  local errors; errors=$(awk '/Non-2xx|Socket errors/{$1=$1; print}' <<<"$out" | tr '\n' ' ')
  printf "  %-20s %12s req/s   p99 %-9s %s\n" "$name" "$rps" "$p99" "$errors" >&2
  echo "$rps"
}

# pg_pids: this cluster's processes (the postmaster and its children; not other clusters').
pg_pids() {
  local postmaster; postmaster=$(head -1 "$PG_DIR/data/postmaster.pid")
  echo "$postmaster" $(pgrep -P "$postmaster" || true)
}

# ticks PID...: user + system clock ticks the processes have used (0 for one that is gone).
ticks() {
  local total=0 t
  for p in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}

sql() { "$PSQL" "$1" -Atqc "$2"; }

# per_login_flushes DB_URL: WAL flushes since the login run began, per login (the refreshes
# after it write nearly nothing: activity is recorded at most once a minute per user).
per_login_flushes() {
  sleep 0.5
  local s; s=$(( $(sql "$1" "$WAL_SYNCS") - BEFORE_SYNCS ))
  awk -v s="$s" -v u="$LOGINS" 'BEGIN { printf "  WAL flushes: %d for %d logins = %.3f per login\n", s, u, s / u }'
}

XMAX="SELECT txid_snapshot_xmax(txid_current_snapshot())"
WAL_SYNCS="SELECT wal_sync FROM pg_stat_wal"

# series BASE [DB_URL SERVER_PID...]: bare, login, refresh against BASE; with a PostgreSQL
# database, what one login costs there: write transactions (transaction ids handed out) and
# CPU; the WAL flushes are counted by per_login_flushes once the servers are stopped
# (PostgreSQL's backends report them when they exit, or every few seconds).
series() {
  local base=$1 db=${2:-}; shift 2 || shift $#
  local A=$base/api/client/v2.0/app/bench
  local bare login refresh rt
  bare=$(run "bare (location)" "$A/location" | tail -1)
  local before_x before_cpu before_pg
  if [ -n "$db" ]; then
    before_x=$(sql "$db" "$XMAX"); BEFORE_SYNCS=$(sql "$db" "$WAL_SYNCS")
    before_cpu=$(ticks "$@"); before_pg=$(ticks $(pg_pids))
  fi
  login=$(run "anonymous login" "$A/auth/providers/anon-user/login" -s bench/login.lua | tail -1)
  if [ -n "$db" ]; then
    local x cpu pgcpu
    LOGINS=$(sql "$db" "SELECT count(*) FROM users")
    x=$(( $(sql "$db" "$XMAX") - before_x ))
    cpu=$(( $(ticks "$@") - before_cpu )); pgcpu=$(( $(ticks $(pg_pids)) - before_pg ))
    awk -v u="$LOGINS" -v x="$x" -v c="$cpu" -v p="$pgcpu" -v hz="$(getconf CLK_TCK)" 'BEGIN {
      printf "  per login: %.2f write transactions; CPU %.0f us in PostgreSQL, %.0f us in the server(s) and HAProxy\n",
        x / u, p / hz / u * 1e6, c / hz / u * 1e6 }' >&2
  fi
  rt=$(curl -s -X POST "$A/auth/providers/anon-user/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')
  refresh=$(GUESTPASS_BENCH_REFRESH_TOKEN=$rt run "refresh" "$base/api/client/v2.0/auth/session" -s bench/refresh.lua | tail -1)
  awk -v b="$bare" -v l="$login" -v r="$refresh" 'BEGIN{printf "  ratios to bare: login %.3f, refresh %.3f\n", l/b, r/b}' >&2
}

echo "$(nproc) cores; wrk: 1 thread, 64 connections, $DURATION each"
echo "== SQLite, one process (server on core 0, wrk on core 1)"
start sqlite 0 --data "$WORK/bench.db"
series "$URL"
users=$(sqlite3 "$WORK/bench.db" 'PRAGMA wal_checkpoint(TRUNCATE); SELECT count(*) FROM users;' | tail -1)
bytes=$(stat -c %s "$WORK/bench.db")
echo "  database: $bytes bytes for $users anonymous users = $(( bytes / (users > 0 ? users : 1) )) bytes/user (file size after checkpoint)"
kill "${PIDS[-1]}"

[ -x "$PSQL" ] || { echo "no PostgreSQL 15 here (scripts/setup.sh --test): the PostgreSQL figures are skipped"; exit 0; }
PG_DIR=$(mktemp -d /tmp/guestpass-bench-pg.XXXXXX)
pg_url=$(PG_DURABLE=1 scripts/pg.sh start "$PG_DIR")
pg_db() { sql "$pg_url" "CREATE DATABASE $1"; echo "${pg_url%/*}/$1"; }

echo "== PostgreSQL 15 (fsync on, synchronous_commit on), one process (server on core 0, wrk on core 1)"
one=$(pg_db bench_one)
start pg-one 0 --data "$one" --files-dir "$WORK"
series "$URL" "$one" "${PIDS[-1]}"
users=$(sql "$one" "SELECT count(*) FROM users")
bytes=$(sql "$one" "SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(array['users', 'identities', 'sessions']) t")
echo "  database: $bytes bytes in users, identities, sessions (with indexes) for $users anonymous users = $(( bytes / (users > 0 ? users : 1) )) bytes/user"
kill "${PIDS[-1]}"
per_login_flushes "$one"

if ! command -v haproxy >/dev/null; then echo "no haproxy: the two-process figures are skipped"; exit 0; fi
echo "== PostgreSQL, two processes behind HAProxy (round-robin; servers and PostgreSQL not pinned, wrk on core 1)"
two=$(pg_db bench_two)
start pg-two-a 0,1 --data "$two" --files-dir "$WORK" --trusted-proxy 127.0.0.1/32
a=$URL; pid_a=${PIDS[-1]}
start pg-two-b 0,1 --data "$two" --files-dir "$WORK" --trusted-proxy 127.0.0.1/32
b=$URL; pid_b=${PIDS[-1]}
port=""
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$low" -gt 11000 ] || low=32768
for _ in $(seq 50); do
  # Below the ephemeral range, as scripts/pg.sh explains.
  port=$((10000 + RANDOM % (low - 10000)))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
scripts/haproxy-config.sh "$port" "$a" "$b" > "$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.out" 2>&1 &
PIDS+=($!)
pid_lb=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
series "http://127.0.0.1:$port" "$two" "$pid_a" "$pid_b" "$pid_lb"
kill "$pid_a" "$pid_b"
per_login_flushes "$two"
