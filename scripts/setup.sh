#!/usr/bin/env bash
# Installs what guestpass needs on a fresh Debian 12 machine, and nothing that is already there.
#
#   scripts/setup.sh          what the demo needs: the wasm target (stable and nightly, with
#                             std's source), wasm-pack, wasm-bindgen-cli (the exact version in
#                             Cargo.lock) and npm's wasm-opt
#   scripts/setup.sh --test   also what the tests need: Chromium + chromedriver, Firefox ESR +
#                             geckodriver, WebKitGTK's WebDriver + xvfb, realm-web and
#                             playwright-core from npm, cargo-fuzz (the fuzz stage),
#                             PostgreSQL 15
#
# Traps it avoids (see the README): wasm-pack's GitHub downloads fail on machines without
# GitHub access, so every tool is built from the crate registry; Debian's `binaryen` (wasm-opt
# 108) silently corrupts wasm-bindgen output, so npm's binaryen 132 is used and put first on PATH
# by scripts/env.sh; `cargo install --locked wasm-bindgen-cli` fails, so it is unlocked.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST_TOOLS=0
[ "${1:-}" = "--test" ] && WITH_TEST_TOOLS=1

WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
CARGO_FUZZ_VERSION=0.13.2
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)

log() { printf '== setup: %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

# --- Debian packages -------------------------------------------------------------------------
apt_pkgs=(pkg-config build-essential curl ca-certificates)
if [ "$WITH_TEST_TOOLS" = 1 ]; then apt_pkgs+=(chromium chromium-driver firefox-esr); fi
# WebKit (docs/webkit.md): WebKitGTK's WebDriver (its MiniBrowser comes with libwebkit2gtk-4.1-0),
# and a virtual X display for it (xvfb-run needs xauth, only recommended by xvfb).
if [ "$WITH_TEST_TOOLS" = 1 ]; then apt_pkgs+=(webkit2gtk-driver xvfb xauth); fi
# PostgreSQL 15 for the postgres stage (scripts/pg.sh runs its own throwaway clusters).
if [ "$WITH_TEST_TOOLS" = 1 ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then apt_pkgs+=(postgresql); fi
# HAProxy for the multi stage (three servers behind a round-robin load balancer).
if [ "$WITH_TEST_TOOLS" = 1 ]; then apt_pkgs+=(haproxy); fi
command -v node >/dev/null 2>&1 || apt_pkgs+=(nodejs npm)
# The server's passkeys (issue 11): webauthn-rs verifies signatures with OpenSSL, which the
# server links (openssl-sys finds it with pkg-config, listed above).
apt_pkgs+=(libssl-dev)
# A venv for the metrics test's Prometheus parser (see the Python block below).
if [ "$WITH_TEST_TOOLS" = 1 ]; then apt_pkgs+=(python3-venv); fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Rust target and cargo-installed tools ---------------------------------------------------
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# The SDK's package is built on nightly with std rebuilt from its source (scripts/sdk-release.toml),
# and cargo-fuzz (the fuzz stage) runs on nightly: machines of this kind come with a nightly
# toolchain; elsewhere rustup installs one. Its wasm target and std's source come through rustup.
if ! rustup toolchain list | grep -q '^nightly'; then
  log "rustup toolchain install nightly --profile minimal"
  rustup toolchain install nightly --profile minimal
fi
rustup +nightly target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup +nightly target add wasm32-unknown-unknown
rustup +nightly component list --installed | grep -q '^rust-src' || rustup +nightly component add rust-src

# cargo_tool CRATE VERSION BIN [--locked]: installs unless `BIN --version` already says VERSION.
cargo_tool() {
  local crate=$1 ver=$2 bin=$3 locked=${4:-}
  local have=""
  if command -v "$bin" >/dev/null 2>&1; then
    have=$("$bin" --version 2>/dev/null | awk 'NR==1{sub(/^v/,"",$2); print $2}' || true)
  fi
  [ "$have" = "$ver" ] && return 0
  log "cargo install $crate $ver (found: ${have:-none}); a few minutes on 2 cores"
  cargo install --quiet --force $locked "$crate" --version "$ver"
}
cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack --locked
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
if [ "$WITH_TEST_TOOLS" = 1 ]; then
  cargo_tool geckodriver "$GECKODRIVER_VERSION" geckodriver --locked
  cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz --locked
fi

# --- npm tools (versions pinned in package.json / package-lock.json) -------------------------
if ! node -e "require('./node_modules/binaryen/package.json'); require('./node_modules/esbuild/package.json'); require('./node_modules/realm-web/package.json'); require('./node_modules/playwright-core/package.json'); require('./node_modules/jose/package.json')" 2>/dev/null; then
  log "npm ci (binaryen's wasm-opt, realm-web, playwright-core, jose, vite, webpack, typescript; no browser downloads)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- PyPI tools, in one venv (.tools/py): PyJWT with cryptography for the verifiers stage,
# prometheus-client's text parser for server/tests/api/ops_metrics.rs ---------------------------
if [ "$WITH_TEST_TOOLS" = 1 ] && ! .tools/py/bin/python -c "import jwt, cryptography, prometheus_client" 2>/dev/null; then
  log "python venv .tools/py: PyJWT[crypto] 2.10.1, prometheus-client 0.21.1"
  python3 -m venv .tools/py
  .tools/py/bin/pip install --quiet --disable-pip-version-check "PyJWT[crypto]==2.10.1" "prometheus-client==0.21.1"
fi

if dpkg-query -W -f='${Status}' binaryen 2>/dev/null | grep -q 'install ok installed'; then
  log "note: Debian's binaryen is installed; scripts/env.sh puts npm's wasm-opt 132 ahead of it"
fi
log "ready"
