// The network edge in Chromium: the pages run under their Content-Security-Policy with no
// violation, they cannot be framed by another origin, and a body over the limit gets a 413 the
// page can read. (This Chromium read the 413 from the server before the lingering close too, up
// to 32 MiB on loopback; Node's fetch did not: server/tests/api/edge.rs has that case.)
//
//   GUESTPASS_E2E_URL=http://127.0.0.1:47841 node --test e2e/edge.test.mjs
// (the server started with --www www --pkg pkg, as scripts/test.sh does; the reader's page "/"
// from the demo's backend at GUESTPASS_E2E_READER_URL when set, as scripts/test.sh does)
import { test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./chromium.mjs";

const BASE = (process.env.GUESTPASS_E2E_URL || "").replace(/\/+$/, "");
// The reader's page comes from the blog's backend (demo-backend/), its SDK signing in with BASE.
const READER = (process.env.GUESTPASS_E2E_READER_URL || BASE).replace(/\/+$/, "");

test("the edge in Chromium", { timeout: 120_000 }, async (t) => {
  assert.ok(BASE, "GUESTPASS_E2E_URL is not set");
  const browser = await launchChromium();
  t.after(() => browser.close());

  for (const page_ of ["/", "/admin/"]) {
    await t.test(`${page_} runs under its CSP with no violation`, async () => {
      const page = await browser.newPage();
      const violations = [];
      page.on("console", (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
      await page.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (e) => console.log(`Content Security Policy: ${e.violatedDirective} ${e.blockedURI}`));
      });
      const resp = await page.goto(`${page_ === "/" ? READER : BASE}${page_}`);
      assert.match(resp.headers()["content-security-policy"], /frame-ancestors 'none'/);
      if (page_ === "/") {
        // the SDK (wasm) signed the reader in: the page shows a user id
        await page.waitForFunction(() => /[0-9a-f]{24}/.test(document.body.innerText), null, { timeout: 30_000 });
      } else {
        await page.waitForSelector('[data-testid="admin-key"]');
      }
      await page.waitForTimeout(300);
      assert.deepEqual(violations, []);
      await page.close();
    });
  }

  await t.test("another origin cannot frame the console", async () => {
    const page = await browser.newPage();
    const blocked = [];
    page.on("console", (m) => blocked.push(m.text()));
    // about:blank is another origin than the server; the frame's load is refused.
    await page.setContent(`<iframe src="${BASE}/admin/"></iframe>`);
    await page.waitForTimeout(1000);
    const frame = page.frames().find((f) => f.url().startsWith(BASE));
    const framedBody = frame ? await frame.evaluate(() => document.body?.innerText || "").catch(() => "") : "";
    assert.ok(!/admin key/i.test(framedBody), `the console rendered in a frame: ${framedBody.slice(0, 80)}`);
    await page.close();
  });

  await t.test("an 8 MiB body gets a 413 the page can read, ten times over", async () => {
    const page = await browser.newPage();
    await page.goto(`${BASE}/404-page-for-a-same-origin-context`);
    const answers = await page.evaluate(async () => {
      const out = [];
      for (let i = 0; i < 10; i++) {
        const body = JSON.stringify({ email: "big@example.com", password: "x".repeat(8 * 1024 * 1024) });
        try {
          const resp = await fetch("/api/client/v2.0/app/guestpass-demo/auth/providers/local-userpass/register", {
            method: "POST", headers: { "content-type": "application/json" }, body,
          });
          out.push(`${resp.status} ${(await resp.json()).error_code}`);
        } catch (e) {
          out.push(`error ${e}`);
        }
      }
      return out;
    });
    assert.deepEqual(answers, Array(10).fill("413 ReadSizeLimitExceeded"));
    await page.close();
  });
});
