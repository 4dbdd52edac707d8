#!/usr/bin/env bash
# wasm-pack with the settings of the SDK's shipped build: the nightly toolchain, std rebuilt for
# size (scripts/sdk-release.toml). scripts/build-sdk.sh packages with it and scripts/test.sh
# builds the browser suites with it, so the suites run the code that ships.
#   scripts/sdk-wasm-pack.sh build --release --target web
#   scripts/sdk-wasm-pack.sh test --release --headless --chrome [-- --test errors]
set -euo pipefail
. "$(dirname "$0")/env.sh"
# Under these settings a failing browser test traps without its assertion's message.
# GUESTPASS_PANIC_MESSAGES=1 builds on stable without them, so a failure says why: to read a
# failure, not to pass a run.
if [ "${GUESTPASS_PANIC_MESSAGES:-}" = 1 ]; then exec wasm-pack "$@"; fi
# Cargo's own options come after wasm-pack's `--`; the settings go first among them.
args=("$@") cargo_args=()
for i in "${!args[@]}"; do
  if [ "${args[$i]}" = -- ]; then cargo_args=("${args[@]:i+1}"); args=("${args[@]:0:i}"); break; fi
done
RUSTUP_TOOLCHAIN=nightly exec wasm-pack "${args[@]}" -- --config "$GUESTPASS_ROOT/scripts/sdk-release.toml" "${cargo_args[@]}"
