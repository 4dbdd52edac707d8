// What the bundler tests share: the packed SDK (the artifact users install) and fresh consumer
// projects that `npm install` it. The tools themselves (vite, webpack, esbuild, tsc) are the
// root package.json's pinned devDependencies, run with the consumer project as cwd.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export const ROOT = resolve(import.meta.dirname, "..");
export const BIN = join(ROOT, "node_modules", ".bin");
export const run = promisify(execFile);

let packed;
const made = [];
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new temp dir, removed when the process exits. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * The tarball `npm pack pkg/` makes: GUESTPASS_SDK_TARBALL when the caller packed it already
 * (scripts/test.sh's bundlers stage packs once for every file), else packed here from
 * GUESTPASS_PKG_DIR (default pkg/).
 */
export async function sdkTarball() {
  if (process.env.GUESTPASS_SDK_TARBALL) return process.env.GUESTPASS_SDK_TARBALL;
  packed ??= (async () => {
    const dir = tempDir("guestpass-pack-");
    // An absolute path: `npm pack pkg` would fetch the registry package named "pkg".
    const pkg = resolve(process.env.GUESTPASS_PKG_DIR || join(ROOT, "pkg"));
    await run("npm", ["pack", "--silent", "--pack-destination", dir, pkg]);
    const [file] = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
    return join(dir, file);
  })();
  return packed;
}

/**
 * A new project in a temp dir holding a copy of `source` (a directory under bundlers/), with
 * the packed SDK installed from the tarball (no registry: it has no dependencies).
 */
export async function consumerProject(source) {
  const dir = tempDir(`guestpass-${source.replaceAll("/", "-")}-`);
  cpSync(join(ROOT, "bundlers", source), dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", await sdkTarball()], { cwd: dir });
  return dir;
}
