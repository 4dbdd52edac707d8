#!/usr/bin/env bash
# Runs every test guestpass has, installing what they need first (scripts/setup.sh --test):
#   1. server unit and integration tests (real server on a free port, fresh SQLite file each),
#      then the integration suite again against PostgreSQL (a fresh database each): a
#      throwaway cluster (scripts/pg.sh), or the server GUESTPASS_TEST_DATABASE_URL names
#   1a. the demo blog's backend (demo-backend/): its rules and its token checks, against a real
#      auth server (another one for a foreign key set), each on a free port with its own SQLite file
#   1b. several servers (multi): PostgreSQL, three server processes behind a real HAProxy
#      (round-robin); realm-web's suite through it, then multi/processes.test.mjs (processes
#      alternated on purpose, racing links, kill -9 of one process and a crash of PostgreSQL
#      under load)
#   2. SDK browser tests in headless Chromium, Firefox and WebKit (WebKitGTK's MiniBrowser on a
#      virtual display, docs/webkit.md), on the release build the package
#      ships (same crate, features and profile), against real servers (one with a 2-second
#      access-token lifetime for the expiry tests) and a second origin that keeps the headers it
#      receives (scripts/header-echo.mjs)
#   3. the release build of the SDK package into pkg/, with its size
#   3b. the package as users get it (`npm pack pkg/`, bundlers/): installed into fresh projects,
#      built by Vite, webpack 5 and esbuild into pages that sign in on a real server in headless
#      Chromium; type-checked by tsc --strict (bundler, node16), misuses refused; imported in Node
#   4. the unmodified realm-web npm package against a real server (Node's test runner)
#   4b. access tokens checked by verifiers no one here wrote (Node jose, Python PyJWT), and the
#      examples/ verifiers, against real servers fetching their JWKS (rotation included)
#   5. the demo's whole story in headless Chromium with playwright-core (screenshots in
#      artifacts/e2e/); several tabs in Chromium, and several windows of one WebKit session
#      over WebDriver (e2e/webkit-tabs.test.mjs); passkeys with Chromium's virtual
#      authenticator (e2e/passkey.test.mjs, e2e/story-passkey.test.mjs: artifacts/e2e-passkey/),
#      and in headless Firefox with WebDriver's (geckodriver: e2e/firefox-passkey.test.mjs)
#   6. the release build of the server (`cargo build --release`, minutes on 2 cores, in
#      target/test-release): a handler panic there answers 500 and the server goes on
#   7. every cargo-fuzz target in server/fuzz for FUZZ_SECONDS (default 60) each, as many at
#      once as there are cores, with LeakSanitizer, failing on any panic, hang or leak (nightly
#      toolchain, cargo-fuzz)
#   The builds of 6 and 7 start first, in the background at idle priority (see bg_build).
# Set SKIP_SETUP=1 to skip the installer, BROWSERS="chrome" to run one browser (of chrome,
# firefox, webkit).
#
# `scripts/test.sh STAGE...` runs only the named stages, in the order above:
#   lint (cargo fmt --check, clippy native and wasm32), server, demo, postgres, sdk-native, multi,
#   browser, package, bundlers, compat, verifiers, e2e, release, fuzz. With no STAGE, every one runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ "${SKIP_SETUP:-0}" = 1 ] || scripts/setup.sh --test
. scripts/env.sh
BROWSERS=${BROWSERS:-chrome firefox webkit}

ALL_STAGES="lint server demo postgres sdk-native multi browser package bundlers compat verifiers e2e release fuzz"
STAGES=${*:-$ALL_STAGES}
for s in $STAGES; do
  case " $ALL_STAGES " in *" $s "*) ;; *) echo "unknown stage '$s'; stages: $ALL_STAGES"; exit 2 ;; esac
done
# wants STAGE: true when STAGE is to run.
wants() { case " $STAGES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Each stage says when it began (bash's SECONDS: since this script started, setup included), so
# a run that creeps towards CI's time limit shows which stage grew.
elapsed() { printf '%dm%02ds' $((SECONDS / 60)) $((SECONDS % 60)); }
step() { printf '\n==== %s  [at %s]\n' "$*" "$(elapsed)"; }
WORK=$(mktemp -d)
# Keep a copy of everything the runners print, to add up their counts at the end.
exec > >(tee "$WORK/run.out") 2>&1
PIDS=()
declare -A BUILD_PIDS=()
PG_DIR=""
# kill_tree PID: PID and everything it started (a background build's cargo and its rustc's, a
# fuzz run's cargo-fuzz and its fuzzer).
kill_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  for p in "${PIDS[@]}"; do kill_tree "$p"; done
  for p in "${BUILD_PIDS[@]}"; do kill_tree "$p"; done
  if [ -n "$PG_DIR" ]; then scripts/pg.sh stop "$PG_DIR" || true; rm -rf "$PG_DIR"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The two long builds, the server's release build and the fuzz targets' nightly build, start
# here in the background at idle priority (SCHED_IDLE, or nice 19 where chrt cannot set it):
# they use the CPU the stages below leave while their tests wait on browsers, timers and
# networks, and their own stages (release, fuzz) wait for them at the end. Each has its own
# target directory (target/test-release; server/fuzz/target is the fuzz workspace's own), so
# neither holds a cargo lock that a stage's build waits on.
# bg_build NAME CMD...: runs CMD in the background at idle priority, its output in
# $WORK/build-NAME.out; wait_build NAME waits for it. It stays in this script's session: Linux's
# autogroups share the CPU equally between sessions whatever their tasks' priorities, so a
# build in a session of its own (setsid) took half the CPU from the stages (measured, top).
bg_build() {
  local name=$1; shift
  if chrt --idle 0 true 2>/dev/null; then set -- chrt --idle 0 "$@"; else set -- nice -n 19 "$@"; fi
  "$@" > "$WORK/build-$name.out" 2>&1 &
  BUILD_PIDS[$name]=$!
}
wait_build() {
  local started=$SECONDS
  if wait "${BUILD_PIDS[$1]}"; then
    echo "background build $1: finished; this stage waited $((SECONDS - started)) s for it"
    unset "BUILD_PIDS[$1]"
  else
    tail -n 80 "$WORK/build-$1.out"; echo "background build $1 failed (above)"; return 1
  fi
}
RELEASE_TARGET_DIR="$ROOT/target/test-release"
if wants release; then
  bg_build release cargo build --release -p guestpass-server --target-dir "$RELEASE_TARGET_DIR"
fi
# LeakSanitizer, not cargo-fuzz's default AddressSanitizer (docs/security.md says why). The build
# and every run name the same one: a run with other flags would rebuild every target first.
FUZZ_SANITIZER=leak
if wants fuzz; then
  cargo +nightly --version >/dev/null 2>&1 \
    || { echo "the fuzz stage needs a nightly toolchain (rustup toolchain list)"; exit 1; }
  command -v cargo-fuzz >/dev/null || { echo "the fuzz stage needs cargo-fuzz: scripts/setup.sh --test"; exit 1; }
  # From server/, as fuzz_run below runs it, so that run finds the build up to date.
  bg_build fuzz bash -c 'cd "$1" && exec cargo +nightly fuzz build --sanitizer "$2"' _ "$ROOT/server" "$FUZZ_SANITIZER"
fi

# wait_for_url WHAT LOG: waits up to 10 s for LOG's "listening on http://..." line; sets URL.
wait_for_url() {
  URL=""
  for _ in $(seq 100); do
    URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$2" | head -1)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "$1 did not start:"; cat "$2"; return 1
}

# start_server NAME ARGS...: starts the built server on a free port; sets URL to its address.
start_server() {
  local name=$1; shift
  # Made before the server starts: under load the background job may open it after
  # wait_for_url first reads it.
  : > "$WORK/$name.log"
  # Test suites sign up, register and log in many users from one address: lift the
  # per-address limits (a later option in ARGS wins).
  "$ROOT/target/debug/guestpass-server" --listen 127.0.0.1:0 --data "$WORK/$name.db" \
    --anonymous-signup-limit 100000/1h --registration-limit 100000/1h \
    --login-failure-limit-per-address 100000/1h --email-send-limit 100000/1h "$@" \
    > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_for_url "server $name" "$WORK/$name.log"
}

if wants lint; then
  step "lint: cargo fmt --check, clippy (native and wasm32) with warnings as errors"
  cargo fmt --all --check
  cargo clippy --workspace --all-targets -- -D warnings
  cargo clippy --target wasm32-unknown-unknown -p guestpass --all-targets -- -D warnings
fi

if wants server; then
  step "server: unit and integration tests"
  # SQLite here whatever the environment says; the postgres stage runs the PostgreSQL pass.
  env -u GUESTPASS_TEST_DATABASE_URL cargo test -p guestpass-server
fi

if wants demo; then
  step "the demo blog's backend: its rules and its checks of access tokens (JWKS), on a real auth server"
  cargo test -p guestpass-demo-backend
fi

if wants postgres; then
  step "server: integration tests against PostgreSQL"
  pg_started=$SECONDS
  if [ -z "${GUESTPASS_TEST_DATABASE_URL:-}" ]; then
    # In /tmp, not $WORK: the cluster's unprivileged owner must be able to reach it.
    PG_DIR=$(mktemp -d /tmp/guestpass-pg.XXXXXX)
    GUESTPASS_TEST_DATABASE_URL=$(scripts/pg.sh start "$PG_DIR")
  fi
  GUESTPASS_TEST_DATABASE_URL=$GUESTPASS_TEST_DATABASE_URL cargo test -p guestpass-server --test api
  if [ -n "$PG_DIR" ]; then scripts/pg.sh stop "$PG_DIR"; rm -rf "$PG_DIR"; PG_DIR=""; fi
  echo "postgres stage: $((SECONDS - pg_started)) s"
fi

if wants sdk-native; then
  step "SDK: native unit tests (the SDK's, and the protocol crate's)"
  cargo test -p guestpass --lib
  cargo test -p guestpass-protocol
fi

# start_echo: the second origin of the browser tests (scripts/header-echo.mjs); sets URL.
start_echo() {
  node "$ROOT/scripts/header-echo.mjs" > "$WORK/echo.log" 2>&1 &
  PIDS+=($!)
  wait_for_url "header-echo" "$WORK/echo.log"
}

# Every later stage talks to the debug server binary.
case " $STAGES " in *" multi "*|*" browser "*|*" bundlers "*|*" compat "*|*" verifiers "*|*" e2e "*) cargo build -p guestpass-server ;; esac
if wants e2e; then cargo build -p guestpass-demo-backend; fi

# free_port: a port on 127.0.0.1 that nothing answers on (HAProxy cannot bind port 0 and say
# which it got), below the kernel's ephemeral range, where `--listen 127.0.0.1:0` servers and
# client connections could take it before it is bound (see scripts/pg.sh).
free_port() {
  local port low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 11000 ] || low=32768
  for _ in $(seq 50); do
    port=$((10000 + RANDOM % (low - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

# The SDK's browser suites have their servers' addresses built in (option_env! in
# tests/common/mod.rs), so each new set of addresses means another release build of the test
# wasm. The multi stage (through HAProxy) and the browser stage (one server each) therefore
# use the same four addresses: the main and short-lived servers' ports are chosen here, and
# the rate-limited server and the second origin are started once for both.
if wants multi || wants browser; then
  SDK_PORT=$(free_port)
  SDK_SHORT_PORT=$(free_port)
  while [ "$SDK_SHORT_PORT" = "$SDK_PORT" ]; do SDK_SHORT_PORT=$(free_port); done
  start_server sdk-limited --app-id guestpass-test --anonymous-signup-limit 2/1h
  export GUESTPASS_TEST_LIMITED_URL=$URL
  start_echo; export GUESTPASS_TEST_ECHO_URL=$URL
  export GUESTPASS_TEST_APP_ID=guestpass-test
fi

if wants multi; then
  step "several servers: PostgreSQL, three processes behind HAProxy (round-robin)"
  multi_started=$SECONDS
  command -v haproxy >/dev/null || { echo "the multi stage needs haproxy: scripts/setup.sh --test"; exit 1; }
  PG_DIR=$(mktemp -d /tmp/guestpass-pg.XXXXXX)
  pg_url=$(scripts/pg.sh start "$PG_DIR")
  mkdir -p "$WORK/multi-files"
  # No key is handed to the processes: the first to start makes the signing key in the database
  # and every other reads it there. --public-url is HAProxy's, the `iss` of every token.
  lb_port=$SDK_PORT; short_port=$SDK_SHORT_PORT
  multi_servers=() short_servers=() multi_pids=()
  for name in a b c; do
    start_server "multi-$name" --app-id guestpass-test --data "$pg_url" --files-dir "$WORK/multi-files" \
      --trusted-proxy 127.0.0.1/32 --public-url "http://127.0.0.1:$lb_port"
    multi_servers+=("$URL"); multi_pids+=("${PIDS[-1]}")
  done
  # realm-web's suite wants a server with 2-second access tokens too: three more, same database.
  for name in a b c; do
    start_server "multi-short-$name" --app-id guestpass-test --data "$pg_url" --files-dir "$WORK/multi-files" \
      --trusted-proxy 127.0.0.1/32 --access-token-ttl 2s --public-url "http://127.0.0.1:$short_port"
    short_servers+=("$URL")
  done
  scripts/haproxy-config.sh "$lb_port" "${multi_servers[@]}" > "$WORK/haproxy.cfg"
  scripts/haproxy-config.sh "$short_port" "${short_servers[@]}" > "$WORK/haproxy-short.cfg"
  haproxy_pids=()
  for cfg in haproxy haproxy-short; do
    haproxy -db -f "$WORK/$cfg.cfg" > "$WORK/$cfg.out" 2>&1 &
    PIDS+=($!); haproxy_pids+=($!)
  done
  for port in "$lb_port" "$short_port"; do
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  done
  echo "HAProxy on 127.0.0.1:$lb_port and :$short_port before ${multi_servers[*]} and ${short_servers[*]}"
  GUESTPASS_TEST_URL="http://127.0.0.1:$lb_port" GUESTPASS_TEST_SHORT_URL="http://127.0.0.1:$short_port" \
    node --test compat/
  # The SDK's browser suites (Chromium) through HAProxy, before a process is killed below.
  GUESTPASS_TEST_URL="http://127.0.0.1:$lb_port" GUESTPASS_TEST_SHORT_URL="http://127.0.0.1:$short_port" \
    scripts/sdk-wasm-pack.sh test --release --headless --chrome
  GUESTPASS_MULTI_URL="http://127.0.0.1:$lb_port" GUESTPASS_MULTI_SERVERS="${multi_servers[*]}" \
    GUESTPASS_MULTI_PIDS="${multi_pids[*]}" GUESTPASS_MULTI_PG_DIR="$PG_DIR" GUESTPASS_TEST_APP_ID=guestpass-test \
    node --test multi/
  # HAProxy gives its two ports back to the browser stage's servers.
  kill "${haproxy_pids[@]}"; wait "${haproxy_pids[@]}" 2>/dev/null || true
  scripts/pg.sh stop "$PG_DIR"; rm -rf "$PG_DIR"; PG_DIR=""
  echo "multi stage: $((SECONDS - multi_started)) s"
fi

if wants browser; then
step "SDK: browser tests ($BROWSERS) against real servers"
start_server sdk --app-id guestpass-test --listen "127.0.0.1:$SDK_PORT"; export GUESTPASS_TEST_URL=$URL
start_server sdk-short --app-id guestpass-test --access-token-ttl 2s --listen "127.0.0.1:$SDK_SHORT_PORT"
export GUESTPASS_TEST_SHORT_URL=$URL
browser_flags=()
webkit=0
for b in $BROWSERS; do
  case $b in webkit) webkit=1 ;; *) browser_flags+=("--$b") ;; esac
done
# --release and scripts/sdk-wasm-pack.sh: the profile and the settings scripts/build-sdk.sh
# packages with, so the suites run the code that ships.
[ ${#browser_flags[@]} -eq 0 ] || scripts/sdk-wasm-pack.sh test --release --headless "${browser_flags[@]}"
if [ "$webkit" = 1 ]; then
  # WebKitGTK's WebDriver in the runner's Safari slot; its MiniBrowser needs an X display, so a
  # virtual one (docs/webkit.md).
  webkit_started=$SECONDS
  xvfb-run -a -s "-screen 0 1280x1024x24" \
    scripts/sdk-wasm-pack.sh test --release --headless --safari --safaridriver "${WEBKIT_DRIVER:-/usr/bin/WebKitWebDriver}"
  echo "webkit suites: $((SECONDS - webkit_started)) s"
fi
fi

# The package's size is printed on every run, whichever stages run; e2e loads pkg/.
step "SDK: release package (pkg/) and its size"
scripts/build-sdk.sh
scripts/size.sh

if wants bundlers; then
step "the packed SDK in Vite, webpack 5 and esbuild pages (headless Chromium), tsc --strict, Node (SSR)"
bundlers_started=$SECONDS
# One tarball for every test file; the consumer projects install it offline (no dependencies).
mkdir -p "$WORK/sdk-pack"
npm pack --silent --pack-destination "$WORK/sdk-pack" "$ROOT/pkg" > /dev/null
GUESTPASS_SDK_TARBALL=$(ls "$WORK"/sdk-pack/*.tgz)
echo "SDK tarball: $(stat -c %s "$GUESTPASS_SDK_TARBALL") bytes ($(basename "$GUESTPASS_SDK_TARBALL"))"
GUESTPASS_SDK_TARBALL=$GUESTPASS_SDK_TARBALL node --test bundlers/
echo "bundlers stage: $((SECONDS - bundlers_started)) s"
fi

if wants compat; then
step "realm-web 2.0.1 (unmodified, from npm) against the server"
start_server compat --app-id guestpass-test; export GUESTPASS_TEST_URL=$URL
start_server compat-short --app-id guestpass-test --access-token-ttl 2s; export GUESTPASS_TEST_SHORT_URL=$URL
node --test compat/
fi

if wants verifiers; then
step "access tokens checked by jose (npm) and PyJWT (PyPI) through the JWKS; the examples/ verifiers"
[ -x .tools/py/bin/python ] || { echo "the verifiers stage needs PyJWT in .tools/py: scripts/setup.sh --test"; exit 1; }
VERIFY_KEY="verify-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export GUESTPASS_ADMIN_KEY=$VERIFY_KEY GUESTPASS_VERIFY_APP=verify-app
verify_server() { start_server "$1" --app-id verify-app --access-token-ttl 2s --admin-key "$VERIFY_KEY"; }
verify_server verify; export GUESTPASS_VERIFY_URL=$URL
verify_server verify-other; export GUESTPASS_OTHER_URL=$URL
verify_server verify-rotate; export GUESTPASS_ROTATE_URL=$URL
verify_server verify-rotate-py; export GUESTPASS_ROTATE_PY_URL=$URL
verify_server verify-rotate-rust; export GUESTPASS_ROTATE_RUST_URL=$URL
cargo build -p guestpass-verifier-example
export GUESTPASS_RUST_VERIFIER="$ROOT/target/debug/guestpass-verifier-example"
# The example backend, trusting the first server.
: > "$WORK/node-verifier.log"
GUESTPASS_ISSUER=$GUESTPASS_VERIFY_URL GUESTPASS_APP_ID=verify-app JWKS_COOLDOWN_MS=0 \
  node examples/node-verifier/server.mjs > "$WORK/node-verifier.log" 2>&1 &
PIDS+=($!)
wait_for_url "examples/node-verifier" "$WORK/node-verifier.log"; export GUESTPASS_NODE_BACKEND_URL=$URL
# The two runtimes share nothing; run them side by side (each mostly waits for tokens to expire).
node --test verifiers/ & NODE_PID=$!; PIDS+=($NODE_PID)
.tools/py/bin/python -m unittest discover -s verifiers -p 'test_*.py' -v & PY_PID=$!; PIDS+=($PY_PID)
wait $NODE_PID; wait $PY_PID
fi

if wants e2e; then
step "pages in headless Chromium (playwright-core): the demo's story, several tabs; several windows in WebKit and passkeys in Firefox (WebDriver)"
E2E_KEY="e2e-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# As scripts/demo.sh runs the demo: the auth server (and its console), and the blog's own
# backend serving the reader on another origin, verifying tokens through the JWKS.
# Passkeys (e2e/passkey.test.mjs, e2e/story-passkey.test.mjs): the reader's pages are opened on
# http://localhost:<its port> (a relying party id must be a domain, not 127.0.0.1), an origin the
# auth server must allow, so the backend's port is chosen before the auth server starts.
READER_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
start_server e2e --app-id guestpass-demo --www "$ROOT/www" --pkg "$ROOT/pkg" --admin-key "$E2E_KEY" \
  --passkey-rp-id localhost --passkey-origin "http://localhost:$READER_PORT"
export GUESTPASS_E2E_URL=$URL GUESTPASS_E2E_ADMIN_KEY=$E2E_KEY GUESTPASS_E2E_PASSKEY_ORIGIN="http://localhost:$READER_PORT"
: > "$WORK/e2e-blog.log"
"$ROOT/target/debug/guestpass-demo-backend" --listen "127.0.0.1:$READER_PORT" --data "$WORK/e2e-blog.db" \
  --auth-url "$GUESTPASS_E2E_URL" --app-id guestpass-demo --www "$ROOT/www" --pkg "$ROOT/pkg" \
  > "$WORK/e2e-blog.log" 2>&1 &
PIDS+=($!)
wait_for_url "demo backend" "$WORK/e2e-blog.log"
export GUESTPASS_E2E_READER_URL=$URL GUESTPASS_E2E_PASSKEY_READER_URL="http://localhost:$READER_PORT"
start_server tabs --app-id guestpass-tabs --www "$ROOT/e2e/tabs" --pkg "$ROOT/pkg" --access-token-ttl 2s
export GUESTPASS_TABS_URL=$URL
# Under a virtual display: e2e/webkit-tabs.test.mjs drives WebKitGTK's MiniBrowser (headless
# Chromium ignores it).
xvfb-run -a -s "-screen 0 1280x1024x24" node --test e2e/
fi

if wants release; then
  step "release build of the server: a handler panic answers 500 and the server goes on"
  wait_build release
  GUESTPASS_RELEASE_BIN="$RELEASE_TARGET_DIR/release/guestpass-server" \
    cargo test -p guestpass-server --test release -- --ignored
fi

# fuzz_run TARGET: fuzzes TARGET for FUZZ_SECONDS, its output in $WORK/fuzz-TARGET.out. The kept
# corpus (server/fuzz/corpus/) is read, never written: new inputs go to a scratch corpus; crashes
# to server/fuzz/artifacts/. Run from server/: cargo-fuzz finds server/fuzz.
fuzz_run() {
  mkdir -p "$WORK/fuzz-corpus/$1"
  (cd server && exec cargo +nightly fuzz run --sanitizer "$FUZZ_SANITIZER" "$1" "$WORK/fuzz-corpus/$1" "fuzz/corpus/$1" -- \
    -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1) \
    > "$WORK/fuzz-$1.out" 2>&1
}
if wants fuzz; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-60}
  step "fuzz: each target in server/fuzz for ${FUZZ_SECONDS}s (a panic, a hang over 10s or a leak fails)"
  wait_build fuzz
  read -r -a fuzz_targets <<< "$(cd server && cargo +nightly fuzz list | tr '\n' ' ')"
  # libFuzzer runs one process per target: as many targets at once as there are cores.
  cores=$(nproc)
  for ((i = 0; i < ${#fuzz_targets[@]}; i += cores)); do
    batch=("${fuzz_targets[@]:i:cores}") batch_pids=()
    for target in "${batch[@]}"; do fuzz_run "$target" & batch_pids+=($!); PIDS+=($!); done
    for j in "${!batch[@]}"; do
      target=${batch[j]} out="$WORK/fuzz-${batch[j]}.out"
      if wait "${batch_pids[j]}"; then
        grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$out" || true
        echo "fuzz target $target: no panic, hang or leak in ${FUZZ_SECONDS}s"
      else
        tail -n 60 "$out"
        echo "fuzz target $target failed; the input is in server/fuzz/artifacts/$target/"; exit 1
      fi
    done
  done
fi

step "secrets in logs"
# No issued refresh token may appear in any server log (docs/security.md): the servers above
# logged every request of the suites; tokens are 43-character base64url strings.
# A passkey's credential id is no secret (the server sends it in every registration's
# excludeCredentials and in the profile), but Chromium's are 32 bytes, as long as a token: the
# server's `credential_id=` log fields are left out of the search.
touch "$WORK/none.log"
logs_without_credential_ids() { sed -E 's/credential_id=[A-Za-z0-9_-]+//g' "$WORK"/*.log; }
if logs_without_credential_ids | grep -E -q -e '[A-Za-z0-9_-]{43}' -e 'eyJ[A-Za-z0-9_-]{10,}'; then
  echo "a token-shaped string appears in a server log:"; logs_without_credential_ids | grep -E -n '[A-Za-z0-9_-]{43}' | head; exit 1
fi
echo "no token-shaped strings in $(cat "$WORK"/*.log | wc -l) server log lines"
# One closing line for the whole run: cargo's and wasm-bindgen-test's "test result" lines and
# Node's "# pass"/"# fail" lines, added up.
totals=$(awk '
  /^test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 }
  END { printf "%d %d", p, f }' "$WORK/run.out")
echo "ALL TESTS PASSED"
echo "tests: ${totals% *} passed, ${totals#* } failed; $(elapsed) in all"
