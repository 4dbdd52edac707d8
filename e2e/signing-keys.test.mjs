// The console's "Rotate signing key" button, in headless Chromium against the e2e server: the
// new key signs the next tokens and the old one stays published.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./chromium.mjs";

const BASE = process.env.GUESTPASS_E2E_URL;
const ADMIN_KEY = process.env.GUESTPASS_E2E_ADMIN_KEY;
const TIMEOUT = 15_000;

const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[0], "base64url")).kid;

async function tokenKid() {
  const res = await fetch(`${BASE}/api/client/v2.0/app/guestpass-demo/auth/providers/anon-user/login`, { method: "POST" });
  return kidOf((await res.json()).access_token);
}

test("the console rotates the signing key", async () => {
  assert.ok(BASE && ADMIN_KEY, "run through scripts/test.sh e2e");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${BASE}/admin/`);
    await page.fill('[data-testid="admin-key"]', ADMIN_KEY);
    await page.click('[data-testid="key-submit"]');
    await page.click('[data-testid="tab-keys"]');
    const signing = page.locator('[data-testid="key-row"][data-state="signing"]');
    await signing.waitFor({ timeout: TIMEOUT });
    const before = await signing.getAttribute("data-kid");
    assert.equal(await tokenKid(), before, "tokens are signed with the key the console shows as signing");
    await page.click('[data-testid="keys-rotate"]');
    await page.locator(`[data-testid="key-row"][data-state="retired"][data-kid="${before}"]`).waitFor({ timeout: TIMEOUT });
    const after = await signing.getAttribute("data-kid");
    assert.notEqual(after, before);
    assert.equal(await tokenKid(), after, "the next token carries the new key's kid");
    const jwks = await (await fetch(`${BASE}/.well-known/jwks.json`)).json();
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [before, after].sort(), "the old key stays published");
  } finally {
    await browser.close();
  }
});
