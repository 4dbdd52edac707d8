#!/usr/bin/env bash
# Builds the SDK, the auth server and the blog's backend, then runs the demo: the reader at
# http://localhost:8080 (the blog's backend, demo-backend/; or $GUESTPASS_DEMO_LISTEN) and the
# auth server at http://127.0.0.1:8081 (its console at /admin/; or $GUESTPASS_LISTEN).
# Open the reader as localhost, not 127.0.0.1: passkeys are bound to a domain (the relying party
# id `localhost`), and the auth server lets the reader's origin use them (--passkey-origin).
# The first run installs the build tools (scripts/setup.sh) and compiles for a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
scripts/build-sdk.sh
cargo build --release -p guestpass-server -p guestpass-demo-backend
export GUESTPASS_LISTEN=${GUESTPASS_LISTEN:-127.0.0.1:8081}
export GUESTPASS_DATA=${GUESTPASS_DATA:-./guestpass.db}
export GUESTPASS_APP_ID=${GUESTPASS_APP_ID:-guestpass-demo}
export GUESTPASS_WWW=${GUESTPASS_WWW:-./www}
export GUESTPASS_PKG=${GUESTPASS_PKG:-./pkg}
export GUESTPASS_DEMO_LISTEN=${GUESTPASS_DEMO_LISTEN:-127.0.0.1:8080}
export GUESTPASS_DEMO_DATA=${GUESTPASS_DEMO_DATA:-./demo-blog.db}
export GUESTPASS_DEMO_AUTH_URL=${GUESTPASS_DEMO_AUTH_URL:-http://$GUESTPASS_LISTEN}
export GUESTPASS_DEMO_APP_ID=$GUESTPASS_APP_ID
export GUESTPASS_DEMO_WWW=$GUESTPASS_WWW
export GUESTPASS_DEMO_PKG=$GUESTPASS_PKG
# Passkeys: the reader's origin (--passkey-origin http://localhost:8080), whose host is the
# relying party id.
export GUESTPASS_PASSKEY_RP_ID=${GUESTPASS_PASSKEY_RP_ID:-localhost}
export GUESTPASS_PASSKEY_ORIGIN=${GUESTPASS_PASSKEY_ORIGIN:-http://localhost:${GUESTPASS_DEMO_LISTEN##*:}}
target/release/guestpass-server & AUTH_PID=$!
trap 'kill "$AUTH_PID" 2>/dev/null || true' EXIT
echo "Open $GUESTPASS_PASSKEY_ORIGIN/ (the console: http://$GUESTPASS_LISTEN/admin/; Ctrl-C stops both)"
target/release/guestpass-demo-backend
