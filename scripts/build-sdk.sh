#!/usr/bin/env bash
# Builds the SDK package into pkg/: wasm-pack's release build (wasm-opt -Oz from npm's
# binaryen), then the JS glue minified with esbuild (the .d.ts keeps the documentation).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
wasm-pack build --release --target web "$@"
esbuild pkg/guestpass.js --minify --format=esm --log-level=warning --outfile=pkg/guestpass.min.js
mv pkg/guestpass.min.js pkg/guestpass.js
