#!/usr/bin/env bash
# Prints an HAProxy configuration (Debian's haproxy 2.6) that spreads guestpass's API over
# several server processes, round-robin:
#
#   scripts/haproxy-config.sh LISTEN_PORT SERVER_URL... > haproxy.cfg && haproxy -f haproxy.cfg
#
# e.g. scripts/haproxy-config.sh 8080 http://10.0.0.11:8080 http://10.0.0.12:8080. HAProxy adds
# X-Forwarded-For: start each server with --trusted-proxy naming HAProxy's address. The test
# stage `scripts/test.sh multi` and scripts/bench.sh run HAProxy with this configuration.
set -euo pipefail
port=${1:?usage: haproxy-config.sh LISTEN_PORT SERVER_URL...}; shift
[ $# -gt 0 ] || { echo "usage: haproxy-config.sh LISTEN_PORT SERVER_URL..." >&2; exit 2; }
cat <<EOF
global
    maxconn 4096

defaults
    mode http
    option forwardfor
    # A connection refused by a server that died is tried again on another one; a request
    # already sent to it is not (a login is not idempotent).
    option redispatch 1
    retries 3
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend guestpass
    bind 127.0.0.1:$port
    default_backend guestpass

backend guestpass
    balance roundrobin
    # A server its health check finds down is skipped until it answers again.
    default-server check inter 500ms fall 1 rise 2
EOF
i=0
for url in "$@"; do
  i=$((i + 1))
  hostport=${url#http://}
  echo "    server guestpass$i ${hostport%/}"
done
