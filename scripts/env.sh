# Sourced by the other scripts: cargo tools and npm's wasm-opt (binaryen 132) first on PATH,
# ahead of any Debian wasm-opt, which corrupts wasm-bindgen output.
GUESTPASS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$GUESTPASS_ROOT/node_modules/.bin:$PATH"
# The bare wasm-bindgen-test-runner picks a browser by PATH order; name the drivers.
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
