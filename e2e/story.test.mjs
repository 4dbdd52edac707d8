// The reader's whole story, end to end, in headless Chromium (Debian's /usr/bin/chromium; no
// browser is ever downloaded):
//
//   first visit → guest id shown → save articles → read one (progress) → a guest cannot comment →
//   reload → same id and list → phone width → sign-out warns a guest → register and link → same id
//   → member comments → clear site data → new guest, empty list → sign in with the email → list
//   back → on a new phone a guest saves three articles and signs in to the account: all of them
//   are in its list, the guest is gone → the console refuses a wrong key → the console disables the anonymous provider →
//   a fresh visitor sees "no anonymous provider" and can still sign in → re-enable → guests again.
//
// Needs the demo running as scripts/demo.sh runs it: the auth server (`--app-id guestpass-demo
// --www www --admin-key ...`, its console at /admin/) and the blog's backend in front of the
// reader (`guestpass-demo-backend --auth-url <the auth server> --www www --pkg pkg`):
//   GUESTPASS_E2E_READER_URL=<the backend> GUESTPASS_E2E_URL=<the auth server> \
//   GUESTPASS_E2E_ADMIN_KEY=... node --test e2e/
// Screenshots of each step go to artifacts/e2e/NN-step.png.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, rm } from "node:fs/promises";
import { launchChromium } from "./chromium.mjs";
import { artifactsDir, DESKTOP, PHONE, readingSlugs as readingSlugsAt, screenshots, settled, TIMEOUT } from "./pages.mjs";

// The reader is on the blog backend's origin; the console is the auth server's page.
const BASE = (process.env.GUESTPASS_E2E_READER_URL || process.env.GUESTPASS_E2E_URL || "").replace(/\/+$/, "");
const ADMIN_KEY = process.env.GUESTPASS_E2E_ADMIN_KEY || "";
const ADMIN_BASE = (process.env.GUESTPASS_E2E_URL || "").replace(/\/+$/, "");
const ARTIFACTS = artifactsDir("e2e");

const shot = screenshots(ARTIFACTS);

async function userId(page) {
  return (await page.textContent("#user-id"))?.trim();
}

const readingSlugs = (page) => readingSlugsAt(page, BASE);

async function noHorizontalScroll(page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `no horizontal scrolling at ${client}px (content is ${scroll}px wide)`);
}

/** Opens the console with `key` typed into the key form. */
async function openConsole(page, key) {
  await page.goto(`${ADMIN_BASE}/admin/`);
  await page.waitForSelector('[data-testid="key-form"]', { state: "visible", timeout: TIMEOUT });
  await page.fill('[data-testid="admin-key"]', key);
  await page.click('[data-testid="key-submit"]');
}

/** In the console: Users → Providers tab → Edit on the anonymous row → Provider Status → Save. */
async function switchAnonymousProvider(page, enabled) {
  await page.click('[data-testid="tab-providers"]');
  const row = page.locator('[data-testid="provider-row"][data-provider="anon-user"]');
  await row.waitFor({ timeout: TIMEOUT });
  assert.equal((await row.locator('[data-testid="provider-label"]').textContent()).trim(), "Allow users to log in anonymously");
  await row.getByRole("link", { name: "Edit" }).click();
  const editor = page.locator('[data-testid="provider-editor"]');
  await editor.waitFor({ state: "visible", timeout: TIMEOUT });
  await editor.getByText("Provider Status", { exact: true }).waitFor();
  const toggle = page.locator('[data-testid="provider-status"]');
  assert.equal(await toggle.isChecked(), !enabled, "the toggle shows the current status");
  await toggle.setChecked(enabled);
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="provider-status-text"]')?.textContent === want,
    enabled ? "Enabled" : "Disabled",
  );
  const editShot = await shot(page, enabled ? "console-enable-anonymous" : "console-edit-anonymous");
  await page.click('[data-testid="provider-save"]');
  await page.locator('[data-testid="providers-view"]').waitFor({ state: "visible", timeout: TIMEOUT });
  await page.waitForFunction(
    (want) => document.querySelector('[data-provider="anon-user"] [data-testid="provider-status-cell"]')?.textContent?.trim() === want,
    enabled ? "Enabled" : "Disabled",
    { timeout: TIMEOUT },
  );
  return editShot;
}

test("the reader's story, from first visit to the console and back", { timeout: 240_000 }, async (t) => {
  assert.ok(BASE, "GUESTPASS_E2E_URL is not set: start a guestpass server with --www www --pkg pkg --app-id guestpass-demo and give its URL");
  assert.ok(ADMIN_KEY, "GUESTPASS_E2E_ADMIN_KEY is not set: give the server's --admin-key");

  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });

  const browser = await launchChromium();
  t.after(() => browser.close());

  const reader = await browser.newContext({ viewport: DESKTOP });
  const page = await reader.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));

  const email = `reader-${Date.now()}@example.com`;
  const password = "a long reading-list password";
  let guestId;
  let saved;
  let readSlug;

  await t.test("first visit: signed in as a guest with no prompt, the id in the header", async () => {
    let prompted = false;
    page.on("dialog", (d) => {
      prompted = true;
      d.dismiss();
    });
    await page.goto(`${BASE}/`);
    await settled(page);
    assert.equal((await page.textContent('[data-testid="status"]')).trim(), "Reading as guest");
    guestId = await userId(page);
    assert.match(guestId, /^[0-9a-f]{24}$/, "the full user id is in #user-id");
    assert.equal(await page.getAttribute("body", "data-anonymous"), "true");
    assert.ok(await page.isVisible('[data-testid="keep-list"]'), "a guest is offered to keep the list");
    const cards = await page.$$('[data-testid="article-card"]');
    assert.ok(cards.length >= 24, `a few dozen articles are listed (${cards.length})`);
    assert.equal(prompted, false, "no prompt on the first visit");
    page.removeAllListeners("dialog");
    await shot(page, "first-visit");
  });

  await t.test("save two articles to the reading list", async () => {
    saved = await page.$$eval('[data-testid="article-card"]', (cards) => cards.slice(1, 3).map((c) => c.dataset.slug));
    for (const slug of saved) {
      const button = page.locator(`[data-testid="article-card"][data-slug="${slug}"] [data-testid="save-toggle"]`);
      await button.click();
      await page.waitForSelector(`[data-testid="article-card"][data-slug="${slug}"] [data-testid="save-toggle"][aria-pressed="true"]`);
    }
    await page.waitForSelector('#list-count:not([hidden])');
    assert.equal((await page.textContent("#list-count")).trim(), "2");
    await page.locator(`[data-testid="article-card"][data-slug="${saved[0]}"]`).scrollIntoViewIfNeeded();
    await shot(page, "saved-articles");
  });

  await t.test("reading an article saves how far the reader got", async () => {
    readSlug = saved[0];
    await page.goto(`${BASE}/#/article/${readSlug}`);
    await settled(page);
    await page.waitForSelector('[data-testid="article-body"] p');
    const put = page.waitForResponse(
      (r) => r.url().endsWith(`/api/blog/reading-list/${readSlug}`) && r.request().method() === "PUT",
    );
    await page.evaluate(() => {
      const body = document.querySelector('[data-testid="article-body"]');
      const rect = body.getBoundingClientRect();
      window.scrollTo(0, window.scrollY + rect.top + rect.height * 0.55 - window.innerHeight);
    });
    const response = await put;
    assert.equal(response.status(), 200);
    const entry = await response.json();
    assert.ok(entry.progress > 0.3 && entry.progress < 0.9, `progress was saved (${entry.progress})`);
    await shot(page, "reading-an-article");
  });

  await t.test("a guest who tries to comment gets the server's 'create an account to comment'", async () => {
    await page.locator('[data-testid="comments"]').scrollIntoViewIfNeeded();
    assert.ok(await page.isVisible('[data-testid="comment-guest-note"]'), "guests are told why they cannot comment");
    await page.fill('[data-testid="comment-text"]', "Lovely piece, thank you.");
    const post = page.waitForResponse((r) => r.url().endsWith(`/api/blog/articles/${readSlug}/comments`));
    await page.click('[data-testid="comment-submit"]');
    assert.equal((await post).status(), 403, "the server refuses the guest's comment");
    await page.waitForSelector('[data-testid="comment-error"]:not([hidden])');
    assert.match(await page.textContent('[data-testid="comment-error-message"]'), /create an account to comment/i);
    assert.equal((await page.textContent('[data-testid="comment-error-code"]')).trim(), "CommentRequiresAccount");
    assert.equal(await page.locator('[data-testid="comment"]').count(), 0, "nothing was posted");
    await page.locator('[data-testid="comment-form"]').scrollIntoViewIfNeeded();
    await shot(page, "guest-comment-refused");
  });

  await t.test("reload: the same guest id and the same reading list", async () => {
    await page.reload();
    await settled(page);
    assert.equal(await userId(page), guestId);
    assert.deepEqual(await readingSlugs(page), [...saved].sort());
    const progress = Number(
      await page.getAttribute(`[data-testid="reading-item"][data-slug="${readSlug}"] [data-testid="progress"]`, "aria-valuenow"),
    );
    assert.ok(progress > 0, `the reading list shows how far the article was read (${progress}%)`);
    await shot(page, "reading-list");
  });

  await t.test("phone width: list, article and reading list without layout breakage", async () => {
    const phone = await reader.newPage();
    phone.setDefaultTimeout(TIMEOUT);
    await phone.setViewportSize(PHONE);
    await phone.goto(`${BASE}/`);
    await settled(phone);
    assert.equal(await userId(phone), guestId, "the same guest in another tab");
    await noHorizontalScroll(phone);
    await shot(phone, "phone-articles");
    await phone.goto(`${BASE}/#/article/${readSlug}`);
    await phone.waitForSelector('[data-testid="article-body"] p');
    await noHorizontalScroll(phone);
    await shot(phone, "phone-article");
    await phone.goto(`${BASE}/#/reading-list`);
    await phone.waitForSelector('[data-testid="reading-item"]');
    await noHorizontalScroll(phone);
    await shot(phone, "phone-reading-list");
    await phone.emulateMedia({ colorScheme: "dark" });
    await phone.goto(`${BASE}/#/article/${readSlug}`);
    await phone.waitForSelector('[data-testid="article-body"] p');
    await shot(phone, "phone-article-dark");
    await phone.close();
  });

  await t.test("sign-out warns a guest that the reading list will be lost", async () => {
    const dialog = new Promise((resolve) => page.once("dialog", async (d) => {
      const message = d.message();
      await d.dismiss();
      resolve(message);
    }));
    await page.click('[data-testid="sign-out"]');
    assert.match(await dialog, /reading list will be lost/i);
    await settled(page);
    assert.equal(await userId(page), guestId, "dismissing the warning keeps the guest");
  });

  await t.test("keep the reading list: register and link an email, same id, same list", async () => {
    await page.goto(`${BASE}/#/account`);
    await page.waitForSelector('[data-testid="keep-form"]');
    await page.fill('[data-testid="keep-email"]', email);
    await page.fill('[data-testid="keep-password"]', password);
    await shot(page, "keep-your-reading-list");
    await page.click('[data-testid="keep-submit"]');
    await page.waitForSelector('body[data-state="ready"][data-anonymous="false"]');
    assert.equal((await page.textContent('[data-testid="user-email"]')).trim(), email, "the header shows the email");
    assert.equal(await page.getAttribute("body", "data-user-id"), guestId, "the user id is unchanged");
    assert.equal(await userId(page), guestId);
    assert.equal(await page.isVisible('[data-testid="keep-list"]'), false);
    assert.deepEqual(await readingSlugs(page), [...saved].sort(), "the reading list is unchanged");
    await shot(page, "linked-same-list");
  });

  await t.test("a reader with an account can comment", async () => {
    await page.goto(`${BASE}/#/article/${readSlug}`);
    await page.waitForSelector('[data-testid="comment-form"]');
    await page.fill('[data-testid="comment-name"]', "Kim R.");
    await page.fill('[data-testid="comment-text"]', "Kept my list, and now I can say: lovely piece.");
    await page.click('[data-testid="comment-submit"]');
    await page.waitForSelector('[data-testid="comment"]');
    const comments = await page.textContent('[data-testid="comment-list"]');
    assert.match(comments, /now I can say: lovely piece/);
    assert.match(comments, /Kim R\./, "the comment shows the name the reader gave");
    assert.doesNotMatch(comments, /reader-\d+/, "and nothing of the email");
    await page.locator('[data-testid="comments"]').scrollIntoViewIfNeeded();
    await shot(page, "member-comment");
  });

  await t.test("clearing the browser's data makes a new guest with an empty reading list", async () => {
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${BASE}/`);
    await page.reload();
    await page.waitForSelector('body[data-state="ready"][data-anonymous="true"]');
    const newGuest = await userId(page);
    assert.match(newGuest, /^[0-9a-f]{24}$/);
    assert.notEqual(newGuest, guestId, "a new guest");
    assert.deepEqual(await readingSlugs(page), [], "with an empty reading list");
    await page.waitForSelector('[data-testid="reading-list-empty"]');
    await shot(page, "new-guest-empty-list");
  });

  await t.test("signing in with the linked email brings the old list back", async () => {
    await page.goto(`${BASE}/#/account`);
    await page.waitForSelector('[data-testid="sign-in-form"]');
    await page.fill('[data-testid="sign-in-email"]', email);
    await page.fill('[data-testid="sign-in-password"]', password);
    await page.click('[data-testid="sign-in-submit"]');
    await page.waitForSelector('body[data-state="ready"][data-anonymous="false"]');
    assert.equal(await page.getAttribute("body", "data-user-id"), guestId, "the kept user, with its first id");
    assert.equal((await page.textContent('[data-testid="user-email"]')).trim(), email);
    assert.deepEqual(await readingSlugs(page), [...saved].sort(), "the old list is back");
    await shot(page, "signed-in-list-back");
  });

  await t.test("on a new phone a guest saves three articles, signs in to the account, and keeps all of them", async () => {
    const phone = await browser.newContext({ viewport: PHONE });
    const guest = await phone.newPage();
    guest.setDefaultTimeout(TIMEOUT);
    guest.on("pageerror", (error) => pageErrors.push(error.message));
    await guest.goto(`${BASE}/`);
    await guest.waitForSelector('body[data-state="ready"][data-anonymous="true"]');
    const guestOnPhone = await userId(guest);
    assert.notEqual(guestOnPhone, guestId, "a guest of its own");
    // Three articles the account has not saved.
    const three = await guest.$$eval('[data-testid="article-card"]', (cards, skip) =>
      cards.map((c) => c.dataset.slug).filter((slug) => !skip.includes(slug)).slice(0, 3), saved);
    for (const slug of three) {
      await guest.click(`[data-testid="article-card"][data-slug="${slug}"] [data-testid="save-toggle"]`);
      await guest.waitForSelector(`[data-testid="article-card"][data-slug="${slug}"] [data-testid="save-toggle"][aria-pressed="true"]`);
    }
    await shot(guest, "phone-guest-saved-three");
    // The guest's access token, to ask the auth server about it afterwards.
    const guestToken = await guest.evaluate((id) => {
      const key = Object.keys(localStorage).find((k) => k.endsWith(`:user:${id}`));
      return JSON.parse(localStorage.getItem(key)).accessToken;
    }, guestOnPhone);
    const profileUrl = `${ADMIN_BASE}/api/client/v2.0/auth/profile`;
    const before = await fetch(profileUrl, { headers: { Authorization: `Bearer ${guestToken}` } });
    assert.equal(before.status, 200, "the guest exists on the server");

    await guest.goto(`${BASE}/#/account`);
    await guest.waitForSelector('[data-testid="sign-in-form"]');
    await guest.fill('[data-testid="sign-in-email"]', email);
    await guest.fill('[data-testid="sign-in-password"]', password);
    await guest.click('[data-testid="sign-in-submit"]');
    await guest.waitForFunction(
      () => document.getElementById("toast")?.textContent?.includes("3 saved articles from this browser were added to your list"),
      null,
      { timeout: TIMEOUT },
    );
    await guest.waitForSelector('body[data-state="ready"][data-anonymous="false"]');
    await shot(guest, "phone-merged-into-account");
    assert.equal(await guest.getAttribute("body", "data-user-id"), guestId, "signed in to the account");
    assert.deepEqual(await readingSlugs(guest), [...saved, ...three].sort(), "the account's list and the guest's, together");
    await shot(guest, "phone-union-list", { fullPage: true });
    const after = await fetch(profileUrl, { headers: { Authorization: `Bearer ${guestToken}` } });
    assert.equal(after.status, 401, "the guest is gone on the server");
    assert.equal(await guest.evaluate(() => Object.keys(localStorage).some((k) => k.endsWith(":merge"))), false,
      "no merge left pending");
    await phone.close();
  });

  const admin = await browser.newContext({ viewport: DESKTOP });
  const console_ = await admin.newPage();
  console_.setDefaultTimeout(TIMEOUT);

  await t.test("the console refuses a wrong admin key", async () => {
    await openConsole(console_, "not-the-admin-key");
    const error = console_.locator('[data-testid="key-error"]');
    await error.waitFor({ state: "visible" });
    assert.match(await error.textContent(), /wrong admin key/i);
    assert.equal(await console_.getAttribute("body", "data-state"), "locked");
    assert.equal(await console_.evaluate(() => localStorage.length), 0, "the key is never put in localStorage");
    await shot(console_, "console-wrong-key");
  });

  await t.test("the console lists users: the kept reader is a member with two identities", async () => {
    await console_.fill('[data-testid="admin-key"]', ADMIN_KEY);
    await console_.click('[data-testid="key-submit"]');
    await console_.locator('[data-testid="users-view"]').waitFor({ state: "visible" });
    const row = console_.locator(`[data-testid="user-row"][data-user-id="${guestId}"]`);
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /Member/);
    assert.match(text, /Anonymous, Email\/Password|Email\/Password, Anonymous/);
    assert.match(text, new RegExp(email.replace(/[.]/g, "\\.")));
    await shot(console_, "console-users");
  });

  await t.test("the console disables the anonymous provider: Providers → Edit → Provider Status → Save", async () => {
    await switchAnonymousProvider(console_, false);
    await shot(console_, "console-providers-disabled");
  });

  await t.test("a fresh visitor is told there is no anonymous provider, and can still sign in", async () => {
    const fresh = await browser.newContext({ viewport: DESKTOP });
    const visitor = await fresh.newPage();
    visitor.setDefaultTimeout(TIMEOUT);
    await visitor.goto(`${BASE}/`);
    await settled(visitor, "no-provider");
    const notice = visitor.locator('[data-testid="no-provider"]');
    assert.match(await notice.textContent(), /no anonymous provider/i);
    assert.ok(await visitor.isVisible('[data-testid="sign-in-form"]'), "the sign-in form is offered");
    assert.equal(await visitor.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(":user:")).length), 0, "no guest was made");
    await shot(visitor, "no-anonymous-provider");
    await visitor.setViewportSize(PHONE);
    await noHorizontalScroll(visitor);
    await shot(visitor, "phone-no-anonymous-provider");
    await visitor.setViewportSize(DESKTOP);
    await visitor.fill('[data-testid="sign-in-email"]', email);
    await visitor.fill('[data-testid="sign-in-password"]', password);
    await visitor.click('[data-testid="sign-in-submit"]');
    await visitor.waitForSelector('body[data-state="ready"][data-anonymous="false"]');
    assert.equal(await visitor.getAttribute("body", "data-user-id"), guestId);
    await fresh.close();
  });

  await t.test("re-enabling the anonymous provider in the console lets guests in again", async () => {
    await console_.goto(`${ADMIN_BASE}/admin/#/users`);
    await console_.locator('[data-testid="users-view"]').waitFor({ state: "visible" });
    await switchAnonymousProvider(console_, true);
    const fresh = await browser.newContext({ viewport: DESKTOP });
    const visitor = await fresh.newPage();
    visitor.setDefaultTimeout(TIMEOUT);
    await visitor.goto(`${BASE}/`);
    await visitor.waitForSelector('body[data-state="ready"][data-anonymous="true"]');
    assert.equal((await visitor.textContent('[data-testid="status"]')).trim(), "Reading as guest");
    await shot(visitor, "guests-again");
    await fresh.close();
  });

  await t.test("the console disables, enables and deletes a user", async () => {
    const fresh = await browser.newContext({ viewport: DESKTOP });
    const visitor = await fresh.newPage();
    await visitor.goto(`${BASE}/`);
    await visitor.waitForSelector('body[data-state="ready"][data-anonymous="true"]');
    const id = await userId(visitor);
    await fresh.close();

    await console_.click('[data-testid="tab-users"]');
    const row = console_.locator(`[data-testid="user-row"][data-user-id="${id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /Anonymous/);
    await row.locator('[data-testid="disable-user"]').click();
    await console_.locator(`[data-testid="user-row"][data-user-id="${id}"] [data-testid="enable-user"]`).waitFor();
    assert.match(await row.textContent(), /Disabled/);
    await shot(console_, "console-user-disabled");
    await row.locator('[data-testid="enable-user"]').click();
    await console_.locator(`[data-testid="user-row"][data-user-id="${id}"] [data-testid="disable-user"]`).waitFor();
    assert.match(await row.textContent(), /Active/);
    const confirmText = new Promise((resolve) => console_.once("dialog", async (d) => {
      const message = d.message();
      await d.accept();
      resolve(message);
    }));
    await row.locator('[data-testid="delete-user"]').click();
    assert.match(await confirmText, /Delete this anonymous user/);
    await row.waitFor({ state: "detached" });
    await console_.locator('[data-testid="banner"]').getByText("was deleted").waitFor();
  });

  await t.test("a guest who confirms signing out loses the guest pass for good", async () => {
    const fresh = await browser.newContext({ viewport: DESKTOP });
    const visitor = await fresh.newPage();
    visitor.setDefaultTimeout(TIMEOUT);
    await visitor.goto(`${BASE}/`);
    await visitor.waitForSelector('body[data-state="ready"][data-anonymous="true"]');
    const id = await userId(visitor);
    visitor.once("dialog", (d) => d.accept());
    await visitor.click('[data-testid="sign-out"]');
    await settled(visitor, "signed-out");
    assert.ok(await visitor.isVisible('[data-testid="sign-in-form"]'));
    await shot(visitor, "guest-signed-out");
    await visitor.click('[data-testid="gate-continue"]');
    await visitor.waitForSelector('body[data-state="ready"][data-anonymous="true"]');
    assert.notEqual(await userId(visitor), id, "continuing as a guest is a new guest");
    await fresh.close();
  });

  assert.deepEqual(pageErrors, [], "the reader threw no uncaught errors");
  await admin.close();
  await reader.close();
});
