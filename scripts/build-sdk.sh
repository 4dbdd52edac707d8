#!/usr/bin/env bash
# Builds the SDK package into pkg/: wasm-pack's release build (wasm-opt -Oz from npm's
# binaryen), then the JS glue minified with esbuild (the .d.ts keeps the documentation), then
# the wasm's imports renamed to short names in the .wasm and the glue together.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# Panic locations name their files; crates.io's are long absolute paths: shorten them.
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS+=" --remap-path-prefix=$dir="
done
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
# Without the `std` feature: the no_std build (Cargo.toml, src/lib.rs).
wasm-pack build --release --target web "$@" -- --no-default-features
esbuild pkg/guestpass.js --minify --format=esm --log-level=warning --outfile=pkg/guestpass.min.js
mv pkg/guestpass.min.js pkg/guestpass.js

# wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` from module "./guestpass_bg.js":
# about 68 names written twice (.wasm and glue) whose hashes do not compress, ~2.5 KB of the
# gzip total. They are renamed `a`, `b`, ... (module `a`): the names are private to the pair.
# The exports keep their names (the .d.ts's InitOutput lists them).
node - pkg/guestpass_bg.wasm pkg/guestpass.js <<'EOF'
const fs = require("fs");
const [wasmPath, jsPath] = process.argv.slice(2);
const wasm = fs.readFileSync(wasmPath);
let js = fs.readFileSync(jsPath, "utf8");
const leb = (pos) => { let n = 0, s = 0, b; do { b = wasm[pos++]; n += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return [n, pos]; };
const uleb = (n) => { const out = []; do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n); return Buffer.from(out); };
const str = (s) => Buffer.concat([uleb(Buffer.byteLength(s)), Buffer.from(s)]);
const readStr = (pos) => { const [len, p] = leb(pos); return [wasm.toString("utf8", p, p + len), p + len]; };
const limits = (pos) => { const flag = wasm[pos++]; pos = leb(pos)[1]; return flag & 1 ? leb(pos)[1] : pos; };
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const short = (i) => { let s = ""; do { s += letters[i % 52]; i = Math.floor(i / 52) - 1; } while (i >= 0); return s; };
const out = [wasm.subarray(0, 8)];
let pos = 8, module;
while (pos < wasm.length) {
  const id = wasm[pos];
  const [size, start] = leb(pos + 1);
  const end = start + size;
  let body = wasm.subarray(start, end);
  if (id === 2) {
    let [count, p] = leb(start);
    const parts = [uleb(count)];
    for (let i = 0; i < count; i++) {
      let from, name;
      [from, p] = readStr(p);
      [name, p] = readStr(p);
      if ((module ??= from) !== from) throw new Error("imports from two modules");
      const desc = p, kind = wasm[p++];
      if (kind === 0) p = leb(p)[1]; // function: type index
      else if (kind === 1) p = limits(p + 1); // table: reftype, limits
      else if (kind === 2) p = limits(p); // memory
      else if (kind === 3) p += 2; // global: valtype, mutability
      else throw new Error(`import kind ${kind}`);
      const re = new RegExp(`\\b${name}\\b`, "g");
      if (js.match(re)?.length !== 1) throw new Error(`${name} is not once in the JS glue`);
      js = js.replace(re, short(i));
      parts.push(str("a"), str(short(i)), wasm.subarray(desc, p));
    }
    if (p !== end) throw new Error("import section length");
    body = Buffer.concat(parts);
  }
  out.push(Buffer.from([id]), uleb(body.length), body);
  pos = end;
}
const quoted = JSON.stringify(module);
if (js.split(quoted).length !== 2) throw new Error(`${quoted} is not once in the JS glue`);
fs.writeFileSync(wasmPath, Buffer.concat(out));
fs.writeFileSync(jsPath, js.replace(quoted, '"a"'));
EOF
