#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: its own data directory, a free port on
# 127.0.0.1, run as an unprivileged user (initdb refuses root), trust authentication (it
# listens on the loopback address only and lives as long as one test run).
#
#   scripts/pg.sh start DIR   creates the cluster in DIR if it is new, starts it and prints its
#                             URL (postgres://guestpass@127.0.0.1:PORT/postgres); a cluster
#                             started again keeps its port
#   scripts/pg.sh stop DIR    stops it (fast shutdown), keeping the data
#   scripts/pg.sh crash DIR   stops it as a crash would (immediate: no checkpoint, the next
#                             start recovers from the WAL)
#
# DIR must be in a directory the unprivileged user can reach (e.g. made by `mktemp -d` in /tmp).
# Debian's PostgreSQL 15 is expected in /usr/lib/postgresql/15/bin (scripts/setup.sh --test).
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop|crash DIR}
dir=${2:?usage: pg.sh start|stop|crash DIR}
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_AS=guestpass-test

# as_owner CMD...: runs CMD as the cluster's owner (the unprivileged user when we are root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$RUN_AS" -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ "$(id -u)" = 0 ] && ! id "$RUN_AS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown "$RUN_AS" "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$BIN/initdb" -D "$dir/data" -U guestpass -A trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log"; exit 1; }
    # A free port, kept for restarts (a test stops and starts the cluster under load): a
    # random one that nothing answers on (bash's /dev/tcp; no other tool needed), below the
    # kernel's ephemeral range. In that range the servers' `--listen 127.0.0.1:0` and every
    # client connection take ports, and one took a chosen port before PostgreSQL bound it
    # ("could not bind ... Address already in use", a CI run of 2026-12-02).
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 11000 ] || low=32768
    for _ in $(seq 50); do
      port=$((10000 + RANDOM % (low - 10000)))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    echo "$port" >"$dir/port"
  fi
  port=$(cat "$dir/port")
  # fsync off: the cluster is thrown away after the run and the tests never crash the machine,
  # only PostgreSQL's processes; each test creates a database, which is much faster without it.
  # PG_DURABLE=1 keeps PostgreSQL's defaults (scripts/bench.sh measures durable commits).
  durability="-c fsync=off -c full_page_writes=off"
  [ "${PG_DURABLE:-0}" = 1 ] && durability=""
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=400 $durability" \
    start >/dev/null || { tail -20 "$dir/postgres.log"; exit 1; }
  echo "postgres://guestpass@127.0.0.1:$port/postgres"
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
crash)
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
  ;;
*)
  echo "usage: pg.sh start|stop|crash DIR" >&2; exit 2
  ;;
esac
