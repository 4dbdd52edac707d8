#!/usr/bin/env bash
# Prints the gzip -9 size of the SDK package a page downloads: the .wasm plus the JS glue.
set -euo pipefail
cd "$(dirname "$0")/../pkg"
wasm=$(gzip -9 -c guestpass_bg.wasm | wc -c)
js=$(gzip -9 -c guestpass.js | wc -c)
total=$(cat guestpass_bg.wasm guestpass.js | gzip -9 | wc -c)
printf 'SDK size (gzip -9): wasm %d B + JS glue %d B; together %d B (%s KB). Goal on the eight crates: <= 45 KB, then <= 40 KB.\n' \
  "$wasm" "$js" "$total" "$(awk "BEGIN{printf \"%.1f\", $total/1000}")"
printf 'raw: wasm %d B, JS glue %d B\n' "$(wc -c < guestpass_bg.wasm)" "$(wc -c < guestpass.js)"
