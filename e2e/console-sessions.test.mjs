// The console's user lookup and sessions (issue 12), in headless Chromium: find a member by
// email, see its two sessions, revoke one; that refresh token is refused at once, the other
// still refreshes. Runs against the e2e server (see story.test.mjs) with its own account, using
// only the email/password provider (the story switches the anonymous one off for a while).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { launchChromium } from "./chromium.mjs";
import { artifactsDir, clientApi, TIMEOUT } from "./pages.mjs";

const BASE = (process.env.GUESTPASS_E2E_URL || "").replace(/\/+$/, "");
const ADMIN_KEY = process.env.GUESTPASS_E2E_ADMIN_KEY || "";
const APP = "guestpass-demo";
const ARTIFACTS = artifactsDir("e2e");

const api = clientApi(BASE);

const sessionOf = (accessToken) => JSON.parse(Buffer.from(accessToken.split(".")[1], "base64url").toString()).baas_id;

test("the console finds a member by email and revokes one of its sessions", { timeout: 120_000 }, async () => {
  assert.ok(BASE, "GUESTPASS_E2E_URL is not set: start the server and give its URL");
  assert.ok(ADMIN_KEY, "GUESTPASS_E2E_ADMIN_KEY is not set: give the server's --admin-key");
  await mkdir(ARTIFACTS, { recursive: true });
  const email = `sessions-${Date.now()}@example.com`;
  const password = "a password for the console test";
  const registered = await api("POST", `/app/${APP}/auth/providers/local-userpass/register`, { body: { email, password } });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const login = () => api("POST", `/app/${APP}/auth/providers/local-userpass/login`, { body: { username: email, password } });
  const [phone, laptop] = [await login(), await login()];
  assert.equal(phone.status, 200);
  assert.equal(laptop.status, 200);
  const laptopSession = sessionOf(laptop.body.access_token);

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(TIMEOUT);
    page.on("dialog", (dialog) => dialog.accept());
    await page.goto(`${BASE}/admin/`);
    await page.fill('[data-testid="admin-key"]', ADMIN_KEY);
    await page.click('[data-testid="key-submit"]');
    await page.locator('[data-testid="users-view"]').waitFor({ state: "visible" });

    await page.fill('[data-testid="find-query"]', email.toUpperCase());
    await page.click('[data-testid="find-submit"]');
    await page.locator('[data-testid="user-view"]').waitFor({ state: "visible" });
    assert.equal(await page.locator('[data-testid="user-id"]').textContent(), phone.body.user_id);
    const rows = page.locator('[data-testid="session-row"]');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    await page.screenshot({ path: path.join(ARTIFACTS, "console-sessions.png") });

    await page.click(`[data-testid="session-row"][data-session-id="${laptopSession}"] [data-testid="revoke-session"]`);
    await page.locator(`[data-testid="session-row"][data-session-id="${laptopSession}"]`).waitFor({ state: "detached" });
    assert.equal(await rows.count(), 1);
    assert.match(await page.locator('[data-testid="banner"]').textContent(), /revoked/);

    assert.equal((await api("POST", "/auth/session", { bearer: laptop.body.refresh_token })).status, 401, "the revoked session is refused");
    assert.equal((await api("POST", "/auth/session", { bearer: phone.body.refresh_token })).status, 200, "the other goes on");
  } finally {
    await browser.close();
  }
});
