// Passkeys through the SDK, in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core) with Chromium's virtual authenticator (DevTools' WebAuthn domain): a real
// WebAuthn ceremony between the browser and the auth server, no mocks.
//
// Needs the demo as scripts/test.sh's e2e stage runs it: the auth server with
// `--passkey-rp-id localhost --passkey-origin http://localhost:<reader port>` and the blog's
// backend on that port; GUESTPASS_E2E_PASSKEY_READER_URL=http://localhost:<reader port>. The
// pages are on `localhost` (a relying party id is a domain, never 127.0.0.1). Each test loads the
// SDK into a page of the backend's origin (its /config.json names the auth server) and keeps the
// reading list through the backend's API, as the demo does.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./chromium.mjs";
import { addAuthenticator, inPageCall, TIMEOUT } from "./pages.mjs";

const READER = (process.env.GUESTPASS_E2E_PASSKEY_READER_URL || "").replace(/\/+$/, "");
if (!READER) {
  throw new Error("GUESTPASS_E2E_PASSKEY_READER_URL is not set: see the top of this file");
}
const PASSKEY_ROUTES = /\/auth\/providers\/passkey\//;

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/**
 * A new browser context with a virtual authenticator (a platform authenticator holding
 * discoverable credentials, verifying the user), and a page of the reader's origin with the SDK
 * loaded as `window.sdk` and an `App` as `window.app`. `requests` logs the passkey routes hit.
 */
async function newReader({ initScript } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (error) => console.error("page error:", error));
  if (initScript) await page.addInitScript(initScript);
  const requests = [];
  context.on("request", (request) => {
    if (PASSKEY_ROUTES.test(request.url())) requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const reader = { context, page, cdp, requests };
  reader.authenticatorId = await addAuthenticator(cdp);
  await openApp(page);
  return reader;
}

/** Loads the reader's origin, then the SDK and a new App on the auth server /config.json names. */
async function openApp(page) {
  await page.goto(`${READER}/config.json`);
  await page.evaluate(async () => {
    const sdk = await import("/pkg/guestpass.js");
    await sdk.default();
    const config = await (await fetch("/config.json")).json();
    window.sdk = sdk;
    window.app = new sdk.App({ id: config.app_id, baseUrl: config.base_url });
    window.events = [];
    window.app.addListener((event) => window.events.push(event.kind));
  });
}

/** Runs `body` (a function of the page) and gives back its value, or the error's code and status. */
function run(page, body, arg) {
  return page.evaluate(inPageCall, [body.toString(), arg]);
}

async function ok(page, body, arg) {
  const outcome = await run(page, body, arg);
  assert.ok(outcome.ok, `the page's call failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
}

const anonymous = (page) =>
  ok(page, async () => {
    const user = await app.logIn(sdk.Credentials.anonymous());
    return { id: user.id, isAnonymous: user.isAnonymous };
  });

/** What the app holds for its current user, and what its storage holds. */
const current = (page) =>
  page.evaluate(() => {
    const user = app.currentUser;
    return {
      id: user?.id ?? null,
      isAnonymous: user?.isAnonymous ?? null,
      refreshToken: user?.refreshToken ?? null,
      accessToken: user?.accessToken ?? null,
      identities: user ? user.identities.map((i) => i.providerType) : [],
      stored: Object.keys(localStorage).filter((key) => key.startsWith(`guestpass:${app.id}:`)).sort(),
      storedUser: user ? localStorage.getItem(`guestpass:${app.id}:user:${user.id}`) : null,
      events: [...events],
    };
  });

/** Saves `count` articles to the current user's reading list (the blog backend); their slugs. */
const saveArticles = (page, count) =>
  ok(page, async (count) => {
    const user = app.currentUser;
    const blog = (path, init) => user.fetch(`${location.origin}/api/blog${path}`, { ...init, sendTokenToOtherOrigins: true });
    const { articles } = await (await blog("/articles")).json();
    const slugs = articles.slice(0, count).map((a) => a.slug);
    for (const slug of slugs) {
      const response = await blog(`/reading-list/${slug}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ saved: true }),
      });
      if (!response.ok) throw new Error(`PUT ${slug}: ${response.status}`);
    }
    return slugs.sort();
  }, count);

const readingList = (page) =>
  ok(page, async () => {
    const response = await app.currentUser.fetch(`${location.origin}/api/blog/reading-list`, { sendTokenToOtherOrigins: true });
    if (!response.ok) throw new Error(`GET reading-list: ${response.status}`);
    return (await response.json()).entries.filter((e) => e.saved).map((e) => e.slug).sort();
  });

const linkPasskey = (page) => run(page, () => app.currentUser.linkCredentials(sdk.Credentials.passkey()));

const passkeyLogin = (page) =>
  run(page, async () => {
    const user = await app.logIn(sdk.Credentials.passkey());
    return { id: user.id, isAnonymous: user.isAnonymous, providerType: user.providerType };
  });

/** Clears the origin's site data (storage, cookies, caches), as a reader clearing the browser's data would; the authenticator keeps its passkeys. */
async function clearSiteData({ cdp, page }) {
  await cdp.send("Storage.clearDataForOrigin", { origin: READER, storageTypes: "all" });
  await openApp(page);
}

test("passkeysSupported: true on a localhost page of Chromium", async () => {
  const { context, page } = await newReader();
  try {
    assert.equal(await page.evaluate(() => app.passkeysSupported), true);
  } finally {
    await context.close();
  }
});

test("without WebAuthn's JSON helpers: passkeysSupported is false and both ceremonies reject PasskeyUnsupported before any request", async () => {
  const { context, page, requests } = await newReader({
    initScript: () => delete PublicKeyCredential.parseCreationOptionsFromJSON,
  });
  try {
    assert.equal(await page.evaluate(() => app.passkeysSupported), false);
    const guest = await anonymous(page);
    const link = await linkPasskey(page);
    assert.equal(link.ok, false);
    assert.equal(link.code, "PasskeyUnsupported");
    assert.equal(link.name, "GuestpassError");
    const login = await passkeyLogin(page);
    assert.equal(login.code, "PasskeyUnsupported");
    assert.deepEqual(requests, [], "no passkey route was asked");
    const after = await current(page);
    assert.equal(after.id, guest.id);
    assert.equal(after.isAnonymous, true);
  } finally {
    await context.close();
  }
});

test("a guest links a passkey and keeps its id; after the site's data is cleared, the passkey brings back the same user and reading list", async () => {
  const reader = await newReader();
  const { context, page, requests } = reader;
  try {
    const guest = await anonymous(page);
    assert.equal(guest.isAnonymous, true);
    const saved = await saveArticles(page, 2);

    const linked = await linkPasskey(page);
    assert.ok(linked.ok, `the link failed: ${JSON.stringify(linked)}`);
    const after = await current(page);
    assert.equal(after.id, guest.id, "the user keeps its id");
    assert.equal(after.isAnonymous, false);
    assert.deepEqual(after.identities.sort(), ["anon-user", "passkey"]);
    assert.ok(after.events.includes("link"), `listeners heard the link (${after.events})`);
    assert.deepEqual(requests, [
      "POST /api/client/v2.0/app/guestpass-demo/auth/providers/passkey/registration",
      "POST /api/client/v2.0/app/guestpass-demo/auth/providers/passkey/login",
    ]);
    const { credentials } = await reader.cdp.send("WebAuthn.getCredentials", { authenticatorId: reader.authenticatorId });
    assert.equal(credentials.length, 1, "the authenticator holds one passkey");
    assert.equal(credentials[0].isResidentCredential, true, "a discoverable one");

    await clearSiteData(reader);
    assert.equal((await current(page)).id, null, "nothing is stored any more");
    assert.equal((await current(page)).stored.length, 0);
    const back = await passkeyLogin(page);
    assert.ok(back.ok, `the passkey login failed: ${JSON.stringify(back)}`);
    assert.equal(back.value.id, guest.id, "the same user");
    assert.equal(back.value.isAnonymous, false);
    assert.equal(back.value.providerType, "passkey");
    assert.deepEqual(await readingList(page), saved, "the same reading list");
    assert.ok((await current(page)).storedUser, "the user is stored again");
  } finally {
    await context.close();
  }
});

test("a cancelled ceremony rejects with PasskeyCancelled and leaves the guest exactly as it was", async () => {
  const reader = await newReader();
  const { context, page, cdp, authenticatorId } = reader;
  try {
    const guest = await anonymous(page);
    const saved = await saveArticles(page, 1);
    const before = await current(page);
    // The authenticator refuses: the reader fails (or dismisses) the verification.
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });

    const link = await linkPasskey(page);
    assert.equal(link.ok, false, "the link rejects");
    assert.equal(link.code, "PasskeyCancelled", JSON.stringify(link));
    assert.equal(link.status, 0);
    assert.deepEqual(await current(page), before, "same id, tokens, stored record and no event");

    const login = await passkeyLogin(page);
    assert.equal(login.code, "PasskeyCancelled", JSON.stringify(login));
    assert.deepEqual(await current(page), before, "a cancelled login changes nothing either");

    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 0, "no passkey was made");
    // Still a working session: it refreshes, and the backend still knows its list.
    await ok(page, () => app.currentUser.refreshAccessToken());
    const refreshed = await current(page);
    assert.equal(refreshed.id, guest.id);
    assert.equal(refreshed.isAnonymous, true);
    // (A refresh within the same second may give the same token: deterministic ES256 signatures.)
    assert.deepEqual(refreshed.events, [...before.events, "refresh"], "the server took the refresh token");
    assert.ok(refreshed.storedUser, "still stored");
    assert.deepEqual(await readingList(page), saved);
  } finally {
    await context.close();
  }
});

test("a second passkey on another authenticator: both are identities of the same user, and either logs in", async () => {
  const reader = await newReader();
  const { context, page, cdp } = reader;
  try {
    const guest = await anonymous(page);
    assert.ok((await linkPasskey(page)).ok);

    // The same authenticator again: the browser finds one of the user's passkeys on it.
    const again = await linkPasskey(page);
    assert.equal(again.code, "PasskeyAlreadyRegistered", JSON.stringify(again));
    assert.deepEqual((await current(page)).identities.sort(), ["anon-user", "passkey"], "nothing was added");

    // The reader's second device.
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: reader.authenticatorId });
    const second = await addAuthenticator(reader.cdp);
    const linked = await linkPasskey(page);
    assert.ok(linked.ok, `the second link failed: ${JSON.stringify(linked)}`);
    const after = await current(page);
    assert.equal(after.id, guest.id);
    assert.deepEqual(after.identities.sort(), ["anon-user", "passkey", "passkey"]);

    await clearSiteData(reader);
    const back = await passkeyLogin(page);
    assert.ok(back.ok, JSON.stringify(back));
    assert.equal(back.value.id, guest.id, "the second passkey logs in as the same user");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId: second });
    assert.equal(credentials.length, 1, "the second authenticator holds the second passkey");
  } finally {
    await context.close();
  }
});
