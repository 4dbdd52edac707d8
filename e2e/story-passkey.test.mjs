// The reader's story with a passkey, end to end, in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core) with Chromium's virtual authenticator standing in for the reader's
// fingerprint (DevTools' WebAuthn domain):
//
//   first visit → guest → save articles → "Keep your reading list" offers a passkey first →
//   the prompt is dismissed: still the same guest → keep it with a passkey → same id, same list,
//   no longer a guest → clear the site's data → a new guest, empty list, who saves one article →
//   "Sign in with a passkey" → the first id and its list are back, with the new guest's article
//   merged in (docs/merge.md) → the account lists the passkey.
//
// Needs the demo as scripts/test.sh's e2e stage runs it (see e2e/passkey.test.mjs): the reader
// on GUESTPASS_E2E_PASSKEY_READER_URL=http://localhost:<port>, an origin the auth server allows
// for passkeys. Screenshots of each step go to artifacts/e2e-passkey/NN-step.png (e2e/story.test.mjs
// owns artifacts/e2e/).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, rm } from "node:fs/promises";
import { launchChromium } from "./chromium.mjs";
import {
  addAuthenticator,
  artifactsDir,
  DESKTOP,
  PHONE,
  readingSlugs as readingSlugsAt,
  screenshots,
  settled,
  TIMEOUT,
} from "./pages.mjs";

const BASE = (process.env.GUESTPASS_E2E_PASSKEY_READER_URL || "").replace(/\/+$/, "");
const ARTIFACTS = artifactsDir("e2e-passkey");

const shot = screenshots(ARTIFACTS);

async function userId(page) {
  return (await page.getAttribute("body", "data-user-id"))?.trim();
}

const readingSlugs = (page) => readingSlugsAt(page, BASE);

async function openAccount(page) {
  await page.goto(`${BASE}/#/account`);
  await settled(page);
  await page.waitForSelector('[data-testid="account-user-id"]');
}

test("the reader keeps the reading list with a passkey and gets it back after clearing the browser's data", { timeout: 180_000 }, async (t) => {
  assert.ok(BASE, "GUESTPASS_E2E_PASSKEY_READER_URL is not set: see the top of this file");
  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });

  const browser = await launchChromium();
  t.after(() => browser.close());
  const reader = await browser.newContext({ viewport: DESKTOP });
  const page = await reader.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));

  // The reader's device: a platform authenticator that holds passkeys and checks a fingerprint.
  const cdp = await reader.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const authenticatorId = await addAuthenticator(cdp);

  let guestId;
  let saved;

  await t.test("first visit: a guest, who saves two articles", async () => {
    await page.goto(`${BASE}/`);
    await settled(page);
    guestId = await userId(page);
    assert.match(guestId, /^[0-9a-f]{24}$/);
    assert.equal(await page.getAttribute("body", "data-anonymous"), "true");
    saved = await page.$$eval('[data-testid="article-card"]', (cards) => cards.slice(0, 2).map((c) => c.dataset.slug));
    for (const slug of saved) {
      await page.click(`[data-testid="article-card"][data-slug="${slug}"] [data-testid="save-toggle"]`);
      await page.waitForSelector(`[data-testid="article-card"][data-slug="${slug}"] [data-testid="save-toggle"][aria-pressed="true"]`);
    }
    await shot(page, "guest-saved-articles");
  });

  await t.test("'Keep your reading list' offers a passkey first, email and password second", async () => {
    await page.click('[data-testid="keep-list"]');
    await page.waitForSelector('[data-testid="passkey-panel"]');
    const order = await page.$$eval('[data-testid="passkey-panel"], [data-testid="keep-form"]', (els) => els.map((e) => e.dataset.testid));
    assert.deepEqual(order, ["passkey-panel", "keep-form"], "the passkey comes before the email form");
    assert.equal(await page.locator('[data-testid="passkey-panel"] button').count(), 1, "one button");
    await shot(page, "keep-offers-a-passkey");
    const phone = await reader.newPage();
    await phone.setViewportSize(PHONE);
    await phone.goto(`${BASE}/#/account`);
    await phone.waitForSelector('[data-testid="passkey-panel"]');
    const { scroll, client } = await phone.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    assert.ok(scroll <= client, `no horizontal scrolling at ${client}px (content is ${scroll}px wide)`);
    await shot(phone, "phone-keep-offers-a-passkey");
    await phone.close();
  });

  await t.test("a dismissed prompt leaves the reader the same guest, and says so", async () => {
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    await page.click('[data-testid="keep-passkey"]');
    await page.waitForSelector('[data-testid="passkey-panel"] [data-testid="form-error"]:not([hidden])');
    assert.equal((await page.textContent('[data-testid="passkey-panel"] [data-testid="form-error-code"]')).trim(), "PasskeyCancelled");
    assert.equal(await userId(page), guestId);
    assert.equal(await page.getAttribute("body", "data-anonymous"), "true", "still a guest");
    assert.equal(await page.isEnabled('[data-testid="keep-passkey"]'), true, "the reader can try again");
    await shot(page, "passkey-prompt-dismissed");
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
  });

  await t.test("keep it with a passkey: the same id and list, no longer a guest", async () => {
    await page.click('[data-testid="keep-passkey"]');
    await page.waitForSelector('body[data-state="ready"][data-anonymous="false"]');
    assert.equal(await userId(page), guestId, "the user id is unchanged");
    assert.equal(await page.isVisible('[data-testid="keep-list"]'), false, "nothing more to keep");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1, "the device holds the passkey");
    assert.deepEqual(await readingSlugs(page), [...saved].sort(), "the reading list is unchanged");
    await shot(page, "kept-with-a-passkey");
    await openAccount(page);
    assert.match(await page.textContent('[data-testid="account-facts"]'), /passkey/);
    await shot(page, "account-with-a-passkey");
  });

  await t.test("clearing the site's data makes a new guest with an empty list", async () => {
    await cdp.send("Storage.clearDataForOrigin", { origin: BASE, storageTypes: "all" });
    await page.goto(`${BASE}/`);
    await page.reload();
    await page.waitForSelector('body[data-state="ready"][data-anonymous="true"]');
    const newGuest = await userId(page);
    assert.notEqual(newGuest, guestId, "a new guest");
    assert.deepEqual(await readingSlugs(page), [], "with an empty reading list");
    await shot(page, "new-guest-after-clearing");
  });

  let third;
  await t.test("the new guest saves one more article before signing in", async () => {
    await page.goto(`${BASE}/`);
    await settled(page);
    third = await page.$$eval('[data-testid="article-card"]', (cards) => cards[2].dataset.slug);
    assert.ok(!saved.includes(third));
    await page.click(`[data-testid="article-card"][data-slug="${third}"] [data-testid="save-toggle"]`);
    await page.waitForSelector(`[data-testid="article-card"][data-slug="${third}"] [data-testid="save-toggle"][aria-pressed="true"]`);
  });

  await t.test("'Sign in with a passkey' brings back the first id, its reading list and the new guest's article", async () => {
    await openAccount(page);
    await page.waitForSelector('[data-testid="passkey-sign-in"]');
    await shot(page, "sign-in-with-a-passkey");
    await page.click('[data-testid="passkey-sign-in"]');
    await page.waitForSelector(`body[data-state="ready"][data-anonymous="false"][data-user-id="${guestId}"]`);
    await page.waitForFunction(
      () => document.getElementById("toast")?.textContent?.includes("1 saved article from this browser was added to your list"),
      null,
      { timeout: TIMEOUT },
    );
    assert.deepEqual(await readingSlugs(page), [...saved, third].sort(), "the old list is back, with the new guest's article");
    const users = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(":user:")).length);
    assert.equal(users, 1, "the empty guest was not left behind in this browser");
    await shot(page, "passkey-list-back");
  });

  assert.deepEqual(pageErrors, [], "no uncaught errors on the page");
});
