// The package in Node, as server-side rendering (Next.js, Nuxt, SvelteKit, Astro) imports it:
// from a fresh project that installed the packed SDK. What it says today is asserted as it is.
// Run: node --test bundlers/ssr.test.mjs
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { consumerProject, run } from "./consumer.mjs";

let dir;
before(async () => {
  dir = await consumerProject("ts");
});

/** Runs `source` as an ES module in the consumer project; resolves with its stdout. */
const node = async (source) => (await run(process.execPath, ["--input-type=module", "-e", source], { cwd: dir })).stdout;

test(`node -e "import('guestpass')" exits 0`, async () => {
  // `run` rejects on a non-zero exit.
  await run(process.execPath, ["-e", "import('guestpass')"], { cwd: dir });
  const names = JSON.parse(await node(`console.log(JSON.stringify(Object.keys(await import("guestpass")).sort()))`));
  assert.deepEqual(names, ["App", "Credentials", "EmailPasswordAuth", "PendingMerge", "User", "default", "initSync"]);
});

test("the wasm's URL resolves through the package's exports; its internals do not", async () => {
  const out = await node(`
    console.log(import.meta.resolve("guestpass/guestpass_bg.wasm").endsWith("/node_modules/guestpass/guestpass_bg.wasm"));
    try { import.meta.resolve("guestpass/guestpass.js"); console.log("exported"); } catch (e) { console.log(e.code); }`);
  assert.equal(out, "true\nERR_PACKAGE_PATH_NOT_EXPORTED\n");
});

test("in Node, an App made before init throws a TypeError (unclear today: it names a wasm export)", async () => {
  const out = await node(`
    import { App } from "guestpass";
    try { new App({ id: "my-app", baseUrl: "http://127.0.0.1:1" }); console.log("made"); }
    catch (e) { console.log(e.name + ": " + e.message); }`);
  assert.equal(out, "TypeError: Cannot read properties of undefined (reading 'app_new')\n");
});

test("in Node, init() without arguments rejects (fetch cannot read the file: URL of the wasm)", async () => {
  const out = await node(`
    import init from "guestpass";
    try { await init(); console.log("loaded"); } catch (e) { console.log(e.name + ": " + e.message); }`);
  assert.equal(out, "TypeError: fetch failed\n");
});

test("in Node, after initSync with the wasm's bytes, an App needs a baseUrl (no page origin) and keeps users in memory", async () => {
  const out = await node(`
    import { readFileSync } from "node:fs";
    import { App, initSync } from "guestpass";
    initSync({ module: readFileSync(new URL(import.meta.resolve("guestpass/guestpass_bg.wasm"))) });
    try { new App({ id: "my-app" }); } catch (e) { console.log(e.name, e.code, e.message); }
    const app = new App({ id: "my-app", baseUrl: "http://127.0.0.1:1" });
    console.log(JSON.stringify(app.persistence), app.currentUser);
    console.log(await app.requestPersistentStorage());`);
  assert.equal(
    out,
    'GuestpassError InvalidArgument a baseUrl is required\n{"storage":"memory","durable":false,"fallback":true} null\nfalse\n',
  );
});
