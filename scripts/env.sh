# Sourced by the other scripts: cargo tools and npm's wasm-opt (binaryen 132) first on PATH,
# ahead of any Debian wasm-opt, which corrupts wasm-bindgen output.
GUESTPASS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$GUESTPASS_ROOT/node_modules/.bin:$PATH"
# The bare wasm-bindgen-test-runner picks a browser by PATH order; name the drivers.
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
# Panic locations name their files; the crate registry's are long absolute paths: shorten them
# in every wasm32 build (the package and the browser suites alike, so they share one build of
# the deps).
if [ -z "${GUESTPASS_WASM_FLAGS_SET:-}" ]; then
  for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS+=" --remap-path-prefix=$dir="
  done
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS GUESTPASS_WASM_FLAGS_SET=1
fi
