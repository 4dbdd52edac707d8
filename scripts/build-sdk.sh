#!/usr/bin/env bash
# Builds the SDK package into pkg/: wasm-pack's release build (wasm-opt from npm's binaryen, with
# the flags in Cargo.toml's wasm-pack metadata), then the JS glue minified with esbuild (the
# .d.ts keeps the documentation). The browser suites (scripts/test.sh browser) build the same
# crate, with the same features and the same release profile.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
wasm-pack build --release --target web "$@"
esbuild pkg/guestpass.js --minify --format=esm --log-level=warning --outfile=pkg/guestpass.min.js
mv pkg/guestpass.min.js pkg/guestpass.js
