// Several tabs of one browser profile, in headless Chromium with playwright-core (no browser
// download: the system's /usr/bin/chromium).
//
// Needs GUESTPASS_TABS_URL: a guestpass server started with
//   --www e2e/tabs --pkg pkg --app-id guestpass-tabs --access-token-ttl 2s
// (the fixture page e2e/tabs/index.html, the SDK package of scripts/build-sdk.sh in pkg/).
// Run: GUESTPASS_TABS_URL=http://127.0.0.1:<port> node --test e2e/tabs.test.mjs
//
// Each test uses a new browser context: an empty localStorage, shared by its pages like the
// tabs of one profile, and one Web Locks manager. Requests are counted on the context, so
// every page's requests are seen.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./chromium.mjs";

const BASE = process.env.GUESTPASS_TABS_URL;
if (!BASE) {
  throw new Error("GUESTPASS_TABS_URL is not set: start guestpass-server with --www e2e/tabs (see the top of this file)");
}
const LOGIN = "/auth/providers/anon-user/login";
const SESSION = "/api/client/v2.0/auth/session";

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** A new context (empty storage) whose requests are logged as "METHOD path". */
async function newContext() {
  const context = await browser.newContext();
  const requests = [];
  context.on("request", (request) => {
    const url = new URL(request.url());
    requests.push(`${request.method()} ${url.pathname}`);
  });
  return { context, requests };
}

/** Opens `count` pages of `context` at the same moment, each at the fixture with `query`. */
async function openPages(context, count, query = "") {
  const pages = await Promise.all(Array.from({ length: count }, () => context.newPage()));
  for (const page of pages) {
    page.on("pageerror", (error) => console.error("page error:", error));
  }
  await Promise.all(pages.map((page) => page.goto(`${BASE}/${query}`)));
  await Promise.all(pages.map((page) => page.waitForFunction(() => document.body.dataset.ready === "true")));
  return pages;
}

const count = (requests, method, path) => requests.filter((r) => r.startsWith(`${method} `) && r.endsWith(path)).length;

const currentId = (page) => page.evaluate(() => guestpass.app.currentUser?.id ?? null);

/** Waits up to a second for `predicate(arg)` to hold in `page`; on failure, says what the page holds. */
async function within1s(page, predicate, arg) {
  try {
    // Polled on a timer: the default (animation frames) stalls in a page that is not in front.
    await page.waitForFunction(predicate, arg, { timeout: 1000, polling: 20 });
  } catch (error) {
    const state = await page.evaluate(() => ({
      currentUser: guestpass.app.currentUser?.id ?? null,
      allUsers: Object.keys(guestpass.app.allUsers),
      stored: Object.fromEntries(Object.entries(localStorage).map(([k, v]) => [k, v.slice(0, 80)])),
      events: guestpass.events,
    }));
    throw new Error(`${error.message}\n${predicate}\nthe page holds: ${JSON.stringify(state, null, 1)}`);
  }
}

test("five tabs opened together on a first visit make one anonymous login and share its user", async () => {
  const { context, requests } = await newContext();
  try {
    const pages = await openPages(context, 5, "?login");

    const ids = await Promise.all(pages.map((page) => page.evaluate(() => guestpass.login)));

    assert.equal(count(requests, "POST", LOGIN), 1, `one login request: ${JSON.stringify(requests)}`);
    assert.match(ids[0], /^[0-9a-f]{24}$/, `a user id: ${ids}`);
    assert.deepEqual(ids, Array(5).fill(ids[0]), "every tab has the same user");
    for (const page of pages) {
      assert.equal(await currentId(page), ids[0]);
    }
  } finally {
    await context.close();
  }
});

test("tabs asked to log in at the same instant, after loading, still make one login", async () => {
  // The harder race: every page is loaded and idle, then all call logIn in the same moment.
  for (let round = 0; round < 3; round++) {
    const { context, requests } = await newContext();
    try {
      const pages = await openPages(context, 5);
      const ids = await Promise.all(
        pages.map((page) =>
          page.evaluate(() => guestpass.app.logIn(guestpass.Credentials.anonymous()).then((user) => user.id)),
        ),
      );
      assert.equal(count(requests, "POST", LOGIN), 1, `round ${round}: ${JSON.stringify(requests)}`);
      assert.deepEqual(ids, Array(5).fill(ids[0]), `round ${round}: one user`);
    } finally {
      await context.close();
    }
  }
});

test("a logout in one tab is seen by the others within a second", async () => {
  const { context, requests } = await newContext();
  try {
    const pages = await openPages(context, 3, "?login");
    const ids = await Promise.all(pages.map((page) => page.evaluate(() => guestpass.login)));
    assert.deepEqual(ids, Array(3).fill(ids[0]));
    const [first, ...others] = pages;

    await first.evaluate(() => guestpass.app.currentUser.logOut());

    for (const page of others) {
      // An anonymous user that logs out is removed (nothing can log back in to it).
      await within1s(page, () => guestpass.app.currentUser === null);
      const seen = await page.evaluate(() => guestpass.events.filter((e) => e.kind === "removed"));
      assert.equal(seen.length, 1, JSON.stringify(seen));
      assert.equal(seen[0].userId, ids[0]);
      assert.equal(seen[0].remote, true);
      assert.equal(await page.evaluate(() => Object.keys(guestpass.app.allUsers).length), 0);
    }
    assert.equal(count(requests, "DELETE", SESSION), 1, "one logout request, from the tab that logged out");
  } finally {
    await context.close();
  }
});

test("a refresh storm over several tabs makes one refresh request", async () => {
  const { context, requests } = await newContext();
  try {
    const pages = await openPages(context, 4, "?login");
    const ids = await Promise.all(pages.map((page) => page.evaluate(() => guestpass.login)));
    assert.deepEqual(ids, Array(4).fill(ids[0]));
    const expired = await pages[0].evaluate(() => guestpass.app.currentUser.accessToken);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // access tokens live 2 s here

    // Every page fires three authenticated calls at once, all with the expired token.
    const statuses = await Promise.all(
      pages.map((page) =>
        page.evaluate(async () => {
          const user = guestpass.app.currentUser;
          const calls = [0, 1, 2].map(() => user.fetch("/api/client/v2.0/auth/profile").then((r) => r.status));
          return Promise.all(calls);
        }),
      ),
    );

    assert.deepEqual(statuses.flat(), Array(12).fill(200), "every call succeeds");
    assert.equal(count(requests, "POST", SESSION), 1, `one refresh: ${JSON.stringify(requests)}`);
    const tokens = await Promise.all(pages.map((page) => page.evaluate(() => guestpass.app.currentUser.accessToken)));
    assert.notEqual(tokens[0], expired);
    assert.deepEqual(tokens, Array(4).fill(tokens[0]), "every tab ends with the same access token");
    const refreshEvents = await Promise.all(
      pages.map((page) => page.evaluate(() => guestpass.events.filter((e) => e.kind === "refresh").length)),
    );
    assert.deepEqual(refreshEvents, Array(4).fill(1), "each tab heard of the refresh once");
  } finally {
    await context.close();
  }
});

test("a link and a login in one tab show in another's currentUser", async () => {
  const { context } = await newContext();
  try {
    const [reader, other] = await openPages(context, 2, "?login");
    const id = await reader.evaluate(() => guestpass.login);
    assert.equal(await other.evaluate(() => guestpass.login), id);
    const email = `tabs-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.com`;

    // Link: the other tab's user becomes non-anonymous, same id, and its listener hears "link".
    await reader.evaluate(async (email) => {
      const { app, Credentials } = guestpass;
      await app.emailPasswordAuth.registerUser({ email, password: "password1" });
      await app.currentUser.linkCredentials(Credentials.emailPassword(email, "password1"));
    }, email);
    await within1s(other, () => guestpass.app.currentUser?.isAnonymous === false);
    assert.equal(await currentId(other), id);
    assert.equal(await other.evaluate(() => guestpass.app.currentUser.profile.email), email);
    assert.ok(await other.evaluate(() => guestpass.events.some((e) => e.kind === "link" && e.remote)));

    // Login: a new anonymous user made in one tab becomes the other's current user.
    const second = await reader.evaluate(async () => {
      const user = await guestpass.app.logIn(guestpass.Credentials.anonymous(false));
      return user.id;
    });
    assert.notEqual(second, id);
    await within1s(other, (second) => guestpass.app.currentUser?.id === second, second);
    assert.ok(await other.evaluate((second) => guestpass.events.some((e) => e.kind === "login" && e.userId === second), second));
    assert.deepEqual(await other.evaluate(() => Object.keys(guestpass.app.allUsers).sort()), [id, second].sort());

    // Back to the linked user, by email, in the other tab: the first tab follows.
    await other.evaluate(
      (email) => guestpass.app.logIn(guestpass.Credentials.emailPassword(email, "password1")),
      email,
    );
    await within1s(reader, (id) => guestpass.app.currentUser?.id === id, id);
  } finally {
    await context.close();
  }
});

test("clearing storage in one tab puts another tab's anonymous user at risk, without a new user", async () => {
  const { context, requests } = await newContext();
  try {
    const [one, two] = await openPages(context, 2, "?login");
    const id = await one.evaluate(() => guestpass.login);
    assert.equal(await two.evaluate(() => guestpass.login), id);

    await one.evaluate(() => localStorage.clear());

    await within1s(two, () => guestpass.events.some((e) => e.kind === "identity-at-risk"));
    const risk = await two.evaluate(() => guestpass.events.find((e) => e.kind === "identity-at-risk"));
    assert.equal(risk.reason, "storage-cleared");
    assert.equal(risk.userId, id);
    // The tab still holds the session (so the page can ask the reader to link it), and made no
    // new user.
    assert.equal(await currentId(two), id);
    assert.equal(count(requests, "POST", LOGIN), 1);
  } finally {
    await context.close();
  }
});
