// Several windows of one WebKit session (WebKitGTK's MiniBrowser through WebKitWebDriver, over
// the W3C WebDriver HTTP API: e2e/webdriver.mjs), on the fixture page of e2e/tabs.test.mjs.
// The windows of a session share one profile: localStorage, Web Locks.
//
// Needs GUESTPASS_TABS_URL (the server e2e/tabs.test.mjs uses: --www e2e/tabs --pkg pkg
// --app-id guestpass-tabs --access-token-ttl 2s) and an X display for MiniBrowser:
//   GUESTPASS_TABS_URL=http://127.0.0.1:<port> xvfb-run -a node --test e2e/webkit-tabs.test.mjs
// WEBKIT_DRIVER names another WebKitWebDriver binary (default /usr/bin/WebKitWebDriver).
//
// Each test makes a new session, hence a new, empty profile. A session runs one command at a
// time, so what the tabs must do "at once" is scheduled in each of them for one shared instant
// (Date.now() is the same clock in every window) before any of it starts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Session, startDriver } from "./webdriver.mjs";

const BASE = process.env.GUESTPASS_TABS_URL;
if (!BASE) {
  throw new Error("GUESTPASS_TABS_URL is not set: start guestpass-server with --www e2e/tabs (see the top of this file)");
}
const LOGIN = "/auth/providers/anon-user/login";
const SESSION = "/api/client/v2.0/auth/session";

let driver;

before(async () => {
  driver = await startDriver(process.env.WEBKIT_DRIVER || "/usr/bin/WebKitWebDriver");
});

after(async () => {
  await driver?.stop();
});

/**
 * A new session with `count` windows, all navigated to the fixture with `query` before any has
 * loaded (page load strategy "none"), then waited for. Resolves with the session and the
 * windows' handles; `session.ended` ends it.
 */
async function openWindows(count, query = "") {
  const session = await Session.start(driver.url, { pageLoadStrategy: "none" });
  try {
    const handles = [await session.window()];
    while (handles.length < count) handles.push(await session.newWindow());
    for (const handle of handles) {
      await session.switchTo(handle);
      await session.goto(`${BASE}/${query}`);
    }
    for (const handle of handles) {
      await session.switchTo(handle);
      await until(session, () => document.body?.dataset.ready === "true", 10_000);
    }
    return { session, handles };
  } catch (error) {
    await session.end(); // the driver runs one session at a time
    throw error;
  }
}

/** Runs `fn(...args)` in the window `handle`. */
async function inWindow(session, handle, fn, ...args) {
  await session.switchTo(handle);
  return session.run(fn, ...args);
}

/**
 * Waits up to `ms` for `predicate(...args)` to hold in the current window, asking it anew every
 * 20 ms (each a script of its own: the fixture's server forbids eval, so the page cannot be
 * handed the predicate to poll); on failure, says what the page holds.
 */
async function until(session, predicate, ms = 1000, ...args) {
  const deadline = Date.now() + ms;
  while (!(await session.run(predicate, ...args))) {
    if (Date.now() > deadline) {
      const state = await session.run(() => ({
        currentUser: window.guestpass?.app.currentUser?.id ?? null,
        stored: Object.fromEntries(Object.entries(localStorage).map(([k, v]) => [k, v.slice(0, 80)])),
        events: window.guestpass?.events,
      }));
      throw new Error(`not within ${ms} ms: ${predicate}\nthe page holds: ${JSON.stringify(state, null, 1)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every window's requests, "METHOD path". */
async function allRequests(session, handles) {
  const all = [];
  for (const handle of handles) all.push(...(await inWindow(session, handle, () => guestpass.requests)));
  return all;
}

const count = (requests, method, path) => requests.filter((r) => r.startsWith(`${method} `) && r.endsWith(path)).length;

test("five windows opened together on a first visit make one anonymous login and share its user", async () => {
  const { session, handles } = await openWindows(5, "?login");
  try {
    const ids = [];
    for (const handle of handles) ids.push(await inWindow(session, handle, () => guestpass.login));

    const requests = await allRequests(session, handles);
    assert.equal(count(requests, "POST", LOGIN), 1, `one login request: ${JSON.stringify(requests)}`);
    assert.match(ids[0], /^[0-9a-f]{24}$/, `a user id: ${ids}`);
    assert.deepEqual(ids, Array(5).fill(ids[0]), "every window has the same user");
    for (const handle of handles) {
      assert.equal(await inWindow(session, handle, () => guestpass.app.currentUser?.id ?? null), ids[0]);
    }
  } finally {
    await session.end();
  }
});

test("windows asked to log in at the same instant, after loading, still make one login", async () => {
  const { session, handles } = await openWindows(5);
  try {
    const at = Date.now() + 500;
    for (const handle of handles) {
      await inWindow(session, handle, (at) => {
        setTimeout(() => {
          guestpass.raced = guestpass.app.logIn(guestpass.Credentials.anonymous()).then((user) => user.id);
        }, at - Date.now());
      }, at);
    }
    await new Promise((resolve) => setTimeout(resolve, at - Date.now() + 100));
    const ids = [];
    for (const handle of handles) ids.push(await inWindow(session, handle, () => guestpass.raced));

    const requests = await allRequests(session, handles);
    assert.equal(count(requests, "POST", LOGIN), 1, JSON.stringify(requests));
    assert.deepEqual(ids, Array(5).fill(ids[0]), "one user");
  } finally {
    await session.end();
  }
});

test("a logout in one window is seen by the others within a second", async () => {
  const { session, handles } = await openWindows(3, "?login");
  try {
    const ids = [];
    for (const handle of handles) ids.push(await inWindow(session, handle, () => guestpass.login));
    assert.deepEqual(ids, Array(3).fill(ids[0]));
    const [first, ...others] = handles;

    await inWindow(session, first, () => guestpass.app.currentUser.logOut());

    for (const handle of others) {
      await session.switchTo(handle);
      // An anonymous user that logs out is removed (nothing can log back in to it).
      await until(session, () => guestpass.app.currentUser === null);
      const seen = await session.run(() => guestpass.events.filter((e) => e.kind === "removed"));
      assert.equal(seen.length, 1, JSON.stringify(seen));
      assert.equal(seen[0].userId, ids[0]);
      assert.equal(seen[0].remote, true);
      assert.equal(await session.run(() => Object.keys(guestpass.app.allUsers).length), 0);
    }
    const requests = await allRequests(session, handles);
    assert.equal(count(requests, "DELETE", SESSION), 1, "one logout request, from the window that logged out");
  } finally {
    await session.end();
  }
});

test("a refresh storm over several windows makes one refresh request", async () => {
  const { session, handles } = await openWindows(4, "?login");
  try {
    const ids = [];
    for (const handle of handles) ids.push(await inWindow(session, handle, () => guestpass.login));
    assert.deepEqual(ids, Array(4).fill(ids[0]));
    const expired = await inWindow(session, handles[0], () => guestpass.app.currentUser.accessToken);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // access tokens live 2 s here

    // At one instant, every window fires three authenticated calls, all with the expired token.
    const at = Date.now() + 500;
    for (const handle of handles) {
      await inWindow(session, handle, (at) => {
        setTimeout(() => {
          const user = guestpass.app.currentUser;
          const calls = [0, 1, 2].map(() => user.fetch("/api/client/v2.0/auth/profile").then((r) => r.status));
          guestpass.storm = Promise.all(calls);
        }, at - Date.now());
      }, at);
    }
    await new Promise((resolve) => setTimeout(resolve, at - Date.now() + 100));
    const statuses = [];
    for (const handle of handles) statuses.push(...(await inWindow(session, handle, () => guestpass.storm)));

    assert.deepEqual(statuses, Array(12).fill(200), "every call succeeds");
    const requests = await allRequests(session, handles);
    assert.equal(count(requests, "POST", SESSION), 1, `one refresh: ${JSON.stringify(requests)}`);
    const tokens = [];
    for (const handle of handles) {
      await session.switchTo(handle);
      // The other windows take the new token from storage, at its `storage` event.
      await until(session, (expired) => guestpass.app.currentUser.accessToken !== expired, 1000, expired);
      tokens.push(await session.run(() => guestpass.app.currentUser.accessToken));
    }
    assert.notEqual(tokens[0], expired);
    assert.deepEqual(tokens, Array(4).fill(tokens[0]), "every window ends with the same access token");
    const refreshEvents = [];
    for (const handle of handles) {
      refreshEvents.push(await inWindow(session, handle, () => guestpass.events.filter((e) => e.kind === "refresh").length));
    }
    assert.deepEqual(refreshEvents, Array(4).fill(1), "each window heard of the refresh once");
  } finally {
    await session.end();
  }
});
