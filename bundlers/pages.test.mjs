// Each bundler builds its page (bundlers/<tool>/) from a fresh project that installed the
// packed SDK; the real server serves the build (`--www dist`, `--pkg` an empty directory, so the
// wasm can only come from the bundle) and headless Chromium signs in anonymously on it. The id
// the page shows must be a user the server holds (its admin API finds it).
//
// The Vite dev server too: the page from `vite` (dev), its API calls proxied to the server.
//
// Needs the built server (target/debug/guestpass-server, or GUESTPASS_SERVER_BIN) and pkg/
// (scripts/build-sdk.sh). Run: node --test bundlers/pages.test.mjs
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { launchChromium } from "../e2e/chromium.mjs";
import { BIN, ROOT, consumerProject, run, tempDir } from "./consumer.mjs";

const SERVER = process.env.GUESTPASS_SERVER_BIN || join(ROOT, "target", "debug", "guestpass-server");
const APP_ID = "guestpass-bundlers";
const ADMIN_KEY = `bundlers-${Math.random().toString(36).slice(2)}${Date.now()}`;

let browser;
const servers = [];

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const server of servers) server.kill();
});

/** Starts the server on a free port serving `www`; resolves with its base URL. */
function startServer(www) {
  const state = tempDir("guestpass-bundlers-server-");
  const emptyPkg = tempDir("guestpass-no-pkg-");
  const server = spawn(SERVER, [
    "--listen", "127.0.0.1:0", "--data", join(state, "guestpass.db"), "--app-id", APP_ID,
    "--www", www, "--pkg", emptyPkg, "--admin-key", ADMIN_KEY,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  servers.push(server);
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (chunk) => {
      log += chunk;
      const match = /listening on (http:\S+)/.exec(log);
      if (match) resolve(match[1]);
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => reject(new Error(`server exited (${code}) before listening:\n${log}`)));
  });
}

/** The bytes of every file under `dir`. */
function size(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => statSync(join(dir, f)))
    .filter((s) => s.isFile())
    .reduce((sum, s) => sum + s.size, 0);
}

const builds = {
  vite: async (dir) => {
    await run(join(BIN, "vite"), ["build", "--logLevel", "warn"], { cwd: dir });
  },
  webpack: async (dir) => {
    await run(join(BIN, "webpack"), ["--no-stats"], { cwd: dir });
    // No HTML plugin: the page's HTML is copied as it is.
    copyFileSync(join(dir, "index.html"), join(dir, "dist", "index.html"));
  },
  esbuild: async (dir) => {
    await run(join(BIN, "esbuild"), [
      "main.js", "--bundle", "--format=esm", "--minify", "--loader:.wasm=file", "--outdir=dist", "--log-level=warning",
    ], { cwd: dir });
    copyFileSync(join(dir, "index.html"), join(dir, "dist", "index.html"));
  },
};

/**
 * Opens `pageUrl` in a new context, waits for the page's sign-in, checks that it fetched one
 * wasm and showed an id that the server at `server` holds as an anonymous user.
 */
async function assertPageSignsIn(pageUrl, server) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const wasm = [];
    page.on("response", (r) => {
      if (r.url().endsWith(".wasm")) wasm.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(pageUrl);
    await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 15000 });
    const shown = await page.evaluate(() => ({
      id: document.getElementById("user-id").textContent,
      error: document.body.dataset.error ?? null,
    }));
    assert.deepEqual({ error: shown.error, errors }, { error: null, errors: [] });
    assert.equal(wasm.length, 1, `one wasm fetched: ${wasm}`);
    assert.match(wasm[0], /^200 \//);

    const found = await fetch(`${server}/api/admin/users/find`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ query: shown.id }),
    });
    assert.equal(found.status, 200, `the server knows the page's user "${shown.id}"`);
    const user = await found.json();
    assert.equal(user.id, shown.id);
    assert.equal(user.is_anonymous, true);
  } finally {
    await context.close();
  }
}

for (const [tool, build] of Object.entries(builds)) {
  test(`a page built by ${tool} from the packed SDK signs in anonymously and shows the server's user id`, async () => {
    const dir = await consumerProject(tool);
    await build(dir);
    const dist = join(dir, "dist");
    console.log(`${tool} bundle: ${size(dist)} bytes in ${dist}`);
    const base = await startServer(dist);
    await assertPageSignsIn(`${base}/`, base);
  });
}

/** A port nothing listens on now (Vite's `--port 0` means its default port, not a free one). */
async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test("the Vite dev server serves the page from the packed SDK; it signs in through Vite's proxy", async () => {
  const dir = await consumerProject("vite");
  const server = await startServer(tempDir("guestpass-empty-www-"));
  const port = await freePort();
  const vite = spawn(join(BIN, "vite"), ["--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: dir,
    env: { ...process.env, GUESTPASS_URL: server },
    stdio: ["ignore", "pipe", "pipe"],
  });
  servers.push(vite);
  const devUrl = await new Promise((resolve, reject) => {
    let log = "";
    const onData = (chunk) => {
      log += chunk;
      const match = /Local:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ""));
      if (match) resolve(match[1]);
    };
    vite.stdout.on("data", onData);
    vite.stderr.on("data", onData);
    vite.on("exit", (code) => reject(new Error(`vite exited (${code}):\n${log}`)));
  });
  await assertPageSignsIn(`${devUrl}/`, server);
});
