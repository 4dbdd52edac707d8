// Writes X.br (brotli, quality 11) and X.gz (gzip -9) beside each file named, for servers that
// send a precompressed copy when the browser accepts it (guestpass-server's --pkg and --www,
// nginx's brotli_static/gzip_static): too slow to make per request. Used by
// scripts/build-sdk.sh for the SDK and by bench/time-to-user/run.mjs for realm-web's bundle,
// so both travel the same way.
//
//   node scripts/precompress.mjs FILE...
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

export function precompress(file) {
  const bytes = readFileSync(file);
  const params = { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length };
  writeFileSync(`${file}.br`, zlib.brotliCompressSync(bytes, { params }));
  writeFileSync(`${file}.gz`, zlib.gzipSync(bytes, { level: 9 }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) precompress(file);
}
