#!/usr/bin/env bash
# Builds the SDK and the server, then runs the demo at http://127.0.0.1:8080 (or $GUESTPASS_LISTEN).
# The first run installs the build tools (scripts/setup.sh) and compiles for a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
scripts/build-sdk.sh
cargo build --release -p guestpass-server
export GUESTPASS_LISTEN=${GUESTPASS_LISTEN:-127.0.0.1:8080}
export GUESTPASS_DATA=${GUESTPASS_DATA:-./guestpass.db}
export GUESTPASS_APP_ID=${GUESTPASS_APP_ID:-guestpass-demo}
export GUESTPASS_WWW=${GUESTPASS_WWW:-./www}
export GUESTPASS_PKG=${GUESTPASS_PKG:-./pkg}
echo "Open http://$GUESTPASS_LISTEN/ (Ctrl-C stops the server)"
exec target/release/guestpass-server
