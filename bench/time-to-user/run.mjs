// Time to a user: guestpass's SDK against realm-web 2.0.1, side by side in one headless
// Chromium, on a phone-like profile (4x CPU slowdown, 150 ms round trips, 1.6 Mbit/s down and
// up), both pages served by the same guestpass server, each SDK file precompressed (brotli 11 and
// gzip -9 beside it, as scripts/build-sdk.sh leaves the SDK). See bench/README.md.
// Run from the repository root:
//
//   node bench/time-to-user/run.mjs
//
// Environment:
//   RUNS        measured runs per SDK (default 7); the SDKs alternate, one round at a time
//   WARMUP      unrecorded rounds before them (default 1)
//   PKG_DIR     the SDK package served at /pkg/ (default: <repo>/pkg)
//   SERVER_BIN  the server binary (default: target/release/guestpass-server if present, else
//               target/debug/guestpass-server)
//   COMPARE_PKG a second build of the SDK package, measured in the same run as a third page
//               ("guestpass-b", the same page served at /compare/): to choose between two
//               builds (compiler or wasm-opt settings) by ratios within one run, not across runs
//
// For each SDK and run: (a) a first visit in a fresh browser context (empty storage and cache):
// time from navigation start to the user id in the DOM (the page's performance.now()), the
// requests to /api/ the page made, the bytes transferred for the SDK (script + wasm, as
// Chromium counts them: headers included); (b) a reload with the stored user: the same.
// The SDK package is copied once at the start (pkg/ may be rebuilt meanwhile), and every SDK file
// of both SDKs is served with the same Last-Modified, a day old (the server sends no
// Cache-Control, so that age decides whether a reload takes them from the cache).
// It prints medians (min–max) and the guestpass/realm-web ratios. It asserts nothing; it exits
// non-zero only if a page fails to produce a user (or the setup fails).

import { spawn, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../../e2e/chromium.mjs";
// The bundle gets the SDK's precompressed copies (brotli 11, gzip -9), so both SDKs travel as a
// site's build step would leave them.
import { precompress } from "../../scripts/precompress.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const SITE = join(HERE, "site");

const RUNS = positiveInt(process.env.RUNS, 7);
const WARMUP = nonNegativeInt(process.env.WARMUP, 1);
const PKG_DIR = resolve(process.env.PKG_DIR || join(ROOT, "pkg"));
const APP_ID = "bench";
const PAGE_TIMEOUT_MS = 60_000;
const SETTLE_MS = 500;
const SDK_FILE_AGE_MS = 24 * 3600 * 1000; // after the user is shown, wait this long for any request that follows

const PROFILE = {
  latencyMs: 150,
  bitsPerSecond: 1.6e6,
  cpuSlowdown: 4,
};

const COMPARE_PKG = process.env.COMPARE_PKG ? resolve(process.env.COMPARE_PKG) : null;
/** The files of an SDK package that a page loads. */
const PKG_FILES = ["guestpass.js", "guestpass_bg.wasm"];
const SDKS = [
  { name: "guestpass", page: "/guestpass.html", sdkFiles: ["/pkg/guestpass.js", "/pkg/guestpass_bg.wasm"] },
  { name: "realm-web", page: "/realm-web.html", sdkFiles: ["/realm-web.bundle.js"] },
  ...(COMPARE_PKG
    ? [{ name: "guestpass-b", page: "/compare/guestpass.html", sdkFiles: ["/compare/pkg/guestpass.js", "/compare/pkg/guestpass_bg.wasm"] }]
    : []),
];

function positiveInt(v, dflt) {
  const n = v === undefined || v === "" ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${v}`);
  return n;
}
function nonNegativeInt(v, dflt) {
  const n = v === undefined || v === "" ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got ${v}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Setup: the realm-web bundle, the server

function bundleRealmWeb() {
  const esbuild = join(ROOT, "node_modules/.bin/esbuild");
  const out = join(SITE, "realm-web.bundle.js");
  const meta = join(mkdtempSync(join(tmpdir(), "ttu-esbuild-")), "meta.json");
  execFileSync(
    esbuild,
    [
      join(HERE, "realm-web-entry.mjs"),
      "--bundle",
      "--minify",
      "--format=esm",
      "--platform=browser",
      "--log-level=warning",
      `--outfile=${out}`,
      `--metafile=${meta}`,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  precompress(out);
  const inputs = Object.keys(JSON.parse(readFileSync(meta, "utf8")).inputs);
  rmSync(dirname(meta), { recursive: true, force: true });
  const realmInput = inputs.find((p) => p.includes("realm-web/")) ?? "(realm-web not found in bundle inputs)";
  return { out, size: statSync(out).size, realmInput: realmInput.replace(/^.*node_modules\//, "") };
}

/**
 * A copy of the SDK package taken once, served for the whole run: pkg/ may be rebuilt while the
 * benchmark runs, and then one run would measure two SDKs.
 */
async function snapshotPkg(from, snap) {
  const files = PKG_FILES.map((f) => join(from, f));
  const stamp = () => files.map((f) => statSync(f).mtimeMs);
  for (let tries = 0; ; tries++) {
    const before = stamp();
    // A build in progress writes these files one after another: wait until they have been quiet.
    if (Date.now() - Math.max(...before) < 10_000 && tries < 12) {
      await new Promise((r) => setTimeout(r, 5000));
      continue;
    }
    rmSync(snap, { recursive: true, force: true });
    cpSync(from, snap, { recursive: true });
    if (stamp().every((t, i) => t === before[i])) return { dir: snap, built: new Date(Math.max(...before)) };
    if (tries >= 12) throw new Error(`${from} keeps changing; try again later or point to another copy`);
  }
}

/**
 * The server sends no Cache-Control for static files, so on a reload Chromium's heuristic
 * freshness (a tenth of the time since Last-Modified) decides whether an SDK file comes from the
 * cache or is revalidated (one more round trip). Give every SDK file the same age, a day, so both
 * SDKs get the same treatment: the files of a site that has not redeployed today.
 */
function ageSdkFiles(files) {
  const t = new Date(Date.now() - SDK_FILE_AGE_MS);
  for (const f of files.flatMap((f) => [f, `${f}.br`, `${f}.gz`])) if (existsSync(f)) utimesSync(f, t, t);
  return t;
}

function serverBinary() {
  if (process.env.SERVER_BIN) return resolve(process.env.SERVER_BIN);
  for (const p of ["target/release/guestpass-server", "target/debug/guestpass-server"]) {
    if (existsSync(join(ROOT, p))) return join(ROOT, p);
  }
  throw new Error("no guestpass-server binary: run `cargo build -p guestpass-server` (or set SERVER_BIN)");
}

/**
 * The site the server serves: the bench's own pages, and with COMPARE_PKG the guestpass page
 * again under /compare/, importing the second package from /compare/pkg/.
 */
async function siteWithCompare(dataDir) {
  if (!COMPARE_PKG) return { site: SITE };
  const site = join(dataDir, "site");
  cpSync(SITE, site, { recursive: true });
  mkdirSync(join(site, "compare"));
  for (const f of ["guestpass.html", "guestpass-page.js"]) {
    const text = readFileSync(join(SITE, f), "utf8").replaceAll("/pkg/", "/compare/pkg/").replaceAll("/guestpass-page.js", "/compare/guestpass-page.js");
    writeFileSync(join(site, "compare", f), text);
  }
  const { dir, built } = await snapshotPkg(COMPARE_PKG, join(site, "compare", "pkg"));
  return { site, compare: dir, compareBuilt: built };
}

async function startServer(bin, dataDir, pkgDir, site) {
  const args = [
    "--listen", "127.0.0.1:0",
    "--data", join(dataDir, "bench.db"),
    "--app-id", APP_ID,
    "--anonymous-signup-limit", "100000/1h",
    "--www", site,
    "--pkg", pkgDir,
  ];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let log = "";
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not say where it listens within 30 s:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = log.replace(/\x1b\[[0-9;]*m/g, "").match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${log}`));
    });
  });
  // Keep draining its output so it never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.resume();
  return { child, url };
}

function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      res();
    });
    child.kill("SIGTERM");
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** A browser context with the phone profile on one page, and a log of its network activity. */
async function openPhone(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: PROFILE.latencyMs,
    downloadThroughput: PROFILE.bitsPerSecond / 8,
    uploadThroughput: PROFILE.bitsPerSecond / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: PROFILE.cpuSlowdown });

  const net = { requests: new Map() }; // requestId -> { method, path, bytes, fromCache }
  cdp.on("Network.requestWillBeSent", (e) => {
    const u = new URL(e.request.url);
    if (!u.protocol.startsWith("http")) return;
    net.requests.set(e.requestId, { method: e.request.method, path: u.pathname, bytes: 0, fromCache: false });
  });
  cdp.on("Network.requestServedFromCache", (e) => {
    const r = net.requests.get(e.requestId);
    if (r) r.fromCache = true;
  });
  cdp.on("Network.responseReceived", (e) => {
    const r = net.requests.get(e.requestId);
    if (!r) return;
    r.status = e.response.status;
    if (e.response.fromDiskCache) r.fromCache = true;
    r.type = e.response.mimeType;
  });
  cdp.on("Network.loadingFinished", (e) => {
    const r = net.requests.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
  });
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));
  return { context, page, net, consoleLines };
}

/** Navigates (or reloads) and waits for the page's user; returns what this navigation cost. */
async function visit(phone, sdk, navigate) {
  phone.net.requests.clear();
  phone.consoleLines.length = 0;
  await navigate();
  let result;
  try {
    const handle = await phone.page.waitForFunction(() => window.__ttu, null, { timeout: PAGE_TIMEOUT_MS, polling: 50 });
    result = await handle.jsonValue();
  } catch (err) {
    result = { error: `no user within ${PAGE_TIMEOUT_MS} ms (${err.message.split("\n")[0]})` };
  }
  const apiBeforeSettle = [...phone.net.requests.values()].filter((r) => r.path.startsWith("/api/")).length;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const requests = [...phone.net.requests.values()];
  const api = requests.filter((r) => r.path.startsWith("/api/"));
  const sdkRequests = requests.filter((r) => sdk.sdkFiles.includes(r.path));
  return {
    ok: !result.error && typeof result.id === "string" && result.id.length > 0,
    error: result.error ? `${result.error}\n${phone.consoleLines.join("\n")}` : undefined,
    ms: result.t,
    id: result.id,
    marks: result.marks ?? {},
    api: api.length,
    apiAfterUser: api.length - apiBeforeSettle,
    apiList: api.map((r) => `${r.method} ${r.path.replace("/api/client/v2.0", "")} ${r.status ?? "?"}`),
    sdkBytes: sdkRequests.reduce((s, r) => s + r.bytes, 0),
    sdkFromCache: sdkRequests.filter((r) => r.fromCache).length,
    sdkStatuses: sdkRequests.map((r) => `${r.path} ${r.fromCache ? "cache" : r.status} ${r.type ?? ""}`),
  };
}

async function measure(browser, baseUrl, sdk) {
  const phone = await openPhone(browser);
  try {
    const url = baseUrl + sdk.page;
    const first = await visit(phone, sdk, () => phone.page.goto(url, { waitUntil: "commit", timeout: PAGE_TIMEOUT_MS }));
    if (!first.ok) return { first, reload: null };
    const reload = await visit(phone, sdk, () => phone.page.reload({ waitUntil: "commit", timeout: PAGE_TIMEOUT_MS }));
    reload.sameUser = reload.id === first.id;
    return { first, reload };
  } finally {
    await phone.context.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], n };
}

const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const cell = (st, fmt = int) => (st.n ? `${fmt(st.median)} (${fmt(st.min)}–${fmt(st.max)})` : "–");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : "–");

/**
 * Medians and ratios: guestpass against realm-web, and with COMPARE_PKG guestpass-b against
 * both (its ratio to guestpass is the comparison of the two builds).
 */
function table(results) {
  const col = (rs, phase, key) => stats(rs.map((r) => r[phase]).filter((x) => x && x.ok).map((x) => x[key]));
  const rows = [
    ["first visit: time to user, ms", "first", "ms", true],
    ["first visit: /api/ requests", "first", "api", false],
    ["first visit: SDK bytes transferred", "first", "sdkBytes", true],
    ["reload: time to user, ms", "reload", "ms", true],
    ["reload: /api/ requests", "reload", "api", false],
    ["reload: SDK bytes transferred", "reload", "sdkBytes", true],
  ];
  const names = Object.keys(results).sort((a, b) => (a === "realm-web") - (b === "realm-web"));
  const pairs = [["guestpass", "realm-web"]];
  if (results["guestpass-b"]) pairs.push(["guestpass-b", "realm-web"], ["guestpass-b", "guestpass"]);
  const lines = [
    `| median (min–max) | ${names.join(" | ")} | ${pairs.map(([a, b]) => `${a} / ${b}`).join(" | ")} |`,
    `|---|${names.map(() => "---:|").join("")}${pairs.map(() => "---:|").join("")}`,
  ];
  for (const [label, phase, key, withRatio] of rows) {
    const st = Object.fromEntries(names.map((n) => [n, col(results[n], phase, key)]));
    const rs = pairs.map(([a, b]) =>
      withRatio ? ratio(st[a].median, st[b].median) : `${int(st[a].median)} vs ${int(st[b].median)}`,
    );
    lines.push(`| ${label} | ${names.map((n) => cell(st[n])).join(" | ")} | ${rs.join(" | ")} |`);
  }
  return lines.join("\n");
}

/**
 * Where a first visit's time went: the median of each mark the pages record (site/marks.js and
 * the *-page.js files), in the order they happened, per SDK.
 */
function marksSummary(results) {
  const out = [];
  for (const name of Object.keys(results)) {
    const runs = results[name].filter((r) => r.first?.ok).map((r) => r.first.marks);
    const keys = [...new Set(runs.flatMap((m) => Object.keys(m)))];
    const medians = keys.map((k) => [k, stats(runs.map((m) => m[k]).filter(Number.isFinite)).median]);
    medians.sort((a, b) => a[1] - b[1]);
    out.push(`  ${name.padEnd(9)} ${medians.map(([k, v]) => `${k} ${int(v)}`).join(", ")}`);
  }
  return out.join("\n");
}

function requestSummary(results) {
  const out = [];
  for (const name of Object.keys(results)) {
    for (const phase of ["first", "reload"]) {
      const seen = new Map();
      for (const r of results[name]) {
        const v = r[phase];
        if (!v || !v.ok) continue;
        const k = v.apiList.join(", ") || "(none)";
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      const late = results[name].filter((r) => r[phase]?.ok && r[phase].apiAfterUser > 0).length;
      for (const [k, n] of seen) out.push(`  ${name.padEnd(9)} ${phase.padEnd(6)} ×${n}: ${k}`);
      if (late) out.push(`  ${name.padEnd(9)} ${phase.padEnd(6)} ${late} run(s) made /api/ requests after the user was shown (counted above)`);
      if (phase === "reload") {
        const other = results[name].filter((r) => r.reload?.ok && !r.reload.sameUser).length;
        if (other) out.push(`  ${name.padEnd(9)} reload: ${other} run(s) got a different user id after reload`);
      }
    }
  }
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(join(PKG_DIR, "guestpass.js"))) {
    throw new Error(`${PKG_DIR}/guestpass.js is missing: run scripts/build-sdk.sh (or set PKG_DIR)`);
  }
  const bundle = bundleRealmWeb();
  const bin = serverBinary();
  const dataDir = mkdtempSync(join(tmpdir(), "ttu-db-"));
  let server;
  let browser;
  const failures = [];
  const results = Object.fromEntries(SDKS.map((sdk) => [sdk.name, []]));
  try {
    const { dir: pkgDir, built } = await snapshotPkg(PKG_DIR, join(dataDir, "pkg"));
    const { site, compare, compareBuilt } = await siteWithCompare(dataDir);
    const pkgDirs = compare ? [pkgDir, compare] : [pkgDir];
    const lastModified = ageSdkFiles([join(site, "realm-web.bundle.js"), ...pkgDirs.flatMap((dir) => PKG_FILES.map((f) => join(dir, f)))]);
    server = await startServer(bin, dataDir, pkgDir, site);
    browser = await launchChromium();
    const sizes = (dir) => PKG_FILES.map((f) => `${f} ${statSync(join(dir, f)).size.toLocaleString("en-US")} B`).join(", ");
    console.log("time to user: guestpass vs realm-web 2.0.1, one headless Chromium, same server");
    console.log(`  profile: ${PROFILE.cpuSlowdown}x CPU slowdown, ${PROFILE.latencyMs} ms latency, ${PROFILE.bitsPerSecond / 1e6} Mbit/s down/up (CDP)`);
    console.log(`  browser: Chromium ${browser.version()}; server: ${bin.replace(ROOT + "/", "")} at ${server.url}`);
    console.log(`  guestpass SDK: copy of ${PKG_DIR} (built ${built.toISOString()}) taken at start: ${sizes(pkgDir)}`);
    if (compare) console.log(`  guestpass-b SDK: copy of ${COMPARE_PKG} (built ${compareBuilt.toISOString()}): ${sizes(compare)}`);
    console.log(`  realm-web: esbuild bundle of ${bundle.realmInput}, ${bundle.size.toLocaleString("en-US")} B minified`);
    console.log(`  SDK files served with Last-Modified ${lastModified.toUTCString()} (a day old, both SDKs; no Cache-Control)`);
    console.log(`  ${RUNS} measured runs per SDK after ${WARMUP} warm-up round(s), alternating; each run a fresh context (first visit) then a reload`);
    console.log("");

    for (let round = 0; round < WARMUP + RUNS; round++) {
      const warm = round < WARMUP;
      const order = round % 2 === 0 ? SDKS : [...SDKS].reverse();
      for (const sdk of order) {
        const r = await measure(browser, server.url, sdk);
        const tag = warm ? `warm-up ${round + 1}` : `run ${round - WARMUP + 1}`;
        const fmt = (v) => (v && v.ok ? `${int(v.ms)} ms, ${v.api} api, ${int(v.sdkBytes)} B sdk` : `FAILED`);
        console.log(`  ${tag.padEnd(10)} ${sdk.name.padEnd(9)} first: ${fmt(r.first)}; reload: ${r.reload ? fmt(r.reload) : "–"}`);
        for (const [phase, v] of [["first visit", r.first], ["reload", r.reload]]) {
          if (v && !v.ok) failures.push(`${sdk.name} ${tag} ${phase}: ${v.error}`);
        }
        if (!warm) results[sdk.name].push(r);
      }
    }

    console.log("");
    console.log(table(results));
    console.log("");
    console.log("first visit, where the time went (median ms from navigation start; module: the page script");
    console.log("began, its SDK imported; init: the wasm instantiated; app: after new App; X.start/X.end: a");
    console.log("request made, its last byte received):");
    console.log(marksSummary(results));
    console.log("");
    console.log("/api/ requests per page load (path after /api/client/v2.0, status):");
    console.log(requestSummary(results));
    const sdkNote = [];
    for (const name of Object.keys(results)) {
      for (const phase of ["first", "reload"]) {
        const statuses = new Set(results[name].filter((r) => r[phase]?.ok).map((r) => r[phase].sdkStatuses.join(", ")));
        sdkNote.push(`  ${name.padEnd(9)} ${phase.padEnd(6)} ${[...statuses].join(" | ") || "(none)"}`);
      }
    }
    console.log("SDK files per page load (status or cache, type):");
    console.log(sdkNote.join("\n"));
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`\n${failures.length} page load(s) produced no user:`);
    for (const f of failures) console.error(`  ${f}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exitCode = 1;
});
