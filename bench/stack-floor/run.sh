#!/usr/bin/env bash
# Builds bench/stack-floor (see its Cargo.toml) as scripts/build-sdk.sh builds the SDK (cargo's
# release profile on nightly with scripts/sdk-release.toml, wasm-bindgen --target web, wasm-opt
# with the flags in the workspace's Cargo.toml, esbuild on the glue) and prints its gzip -9
# size, then the SDK's if pkg/ holds one.
# A few minutes on 2 cores (its own target directory). Prints figures, asserts nothing.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
. "$ROOT/scripts/env.sh"
# The SDK's versions: the workspace's lock file (cargo drops what this crate does not use).
cp "$ROOT/Cargo.lock" Cargo.lock
RUSTUP_TOOLCHAIN=nightly cargo build --quiet --release --target wasm32-unknown-unknown --config "$ROOT/scripts/sdk-release.toml"
out=target/floor-pkg
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" target/wasm32-unknown-unknown/release/stack_floor.wasm
flags=$(node -e '
const toml = require("fs").readFileSync(process.argv[1], "utf8");
const m = toml.match(/^wasm-opt = (\[[^\]]*\])/m);
console.log(JSON.parse(m[1]).join(" "));' "$ROOT/Cargo.toml")
# shellcheck disable=SC2086 # the flags are words
wasm-opt $flags "$out/stack_floor_bg.wasm" -o "$out/stack_floor_bg.wasm"
esbuild "$out/stack_floor.js" --minify --format=esm --log-level=warning --outfile="$out/stack_floor.min.js"
wasm="$out/stack_floor_bg.wasm" js="$out/stack_floor.min.js"
printf 'the eight crates, one anonymous login (gzip -9): wasm %d B + JS glue %d B; together %d B\n' \
  "$(gzip -9 -c "$wasm" | wc -c)" "$(gzip -9 -c "$js" | wc -c)" "$(cat "$wasm" "$js" | gzip -9 | wc -c)"
# The SDK's own size, as every test run prints it.
if [ -f "$ROOT/pkg/guestpass_bg.wasm" ]; then "$ROOT/scripts/size.sh"; fi
