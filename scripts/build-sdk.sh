#!/usr/bin/env bash
# Builds the SDK package into pkg/: wasm-pack's release build (wasm-opt from npm's binaryen, with
# the flags in Cargo.toml's wasm-pack metadata), then the JS glue minified with esbuild (the
# .d.ts keeps the documentation). The browser suites (scripts/test.sh browser) build the same
# crate, with the same features and the same release profile.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/sdk-wasm-pack.sh build --release --target web
esbuild pkg/guestpass.js --minify --format=esm --log-level=warning --outfile=pkg/guestpass.min.js
mv pkg/guestpass.min.js pkg/guestpass.js
# What bundlers and TypeScript read (bundlers/README.md): `exports` with `types` first (TypeScript
# takes the first condition that matches), the wasm exported so a tool or page can reference it
# (`guestpass/guestpass_bg.wasm`), and package.json for tools that read it through `exports`.
node -e '
const fs = require("fs");
const file = "pkg/package.json";
const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
pkg.exports = {
  ".": { types: "./guestpass.d.ts", default: "./guestpass.js" },
  "./guestpass_bg.wasm": "./guestpass_bg.wasm",
  "./package.json": "./package.json",
};
pkg.module = pkg.main;
for (const f of ["guestpass.js", "guestpass.d.ts", "guestpass_bg.wasm"])
  if (!pkg.files.includes(f)) throw new Error(`pkg/package.json: files lacks ${f}`);
if (!("sideEffects" in pkg)) pkg.sideEffects = false;
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
'
# Precompressed copies for servers that serve pkg/ as it is (scripts/precompress.mjs). For the
# wasm that is 52 KB against the 62 KB of on-the-fly brotli (docs/size-and-speed.md). Not
# in the npm package (its `files`); remade on every build, so they never describe an older build.
node scripts/precompress.mjs pkg/guestpass.js pkg/guestpass_bg.wasm
