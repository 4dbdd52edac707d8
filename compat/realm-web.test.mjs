// realm-web compatibility test: the unmodified official `realm-web` 2.0.1 npm package, in Node,
// against a running guestpass server. Run with:
//
//   GUESTPASS_TEST_URL=http://127.0.0.1:47811 \
//   GUESTPASS_TEST_SHORT_URL=http://127.0.0.1:47812 \
//   node --test compat/
//
// GUESTPASS_TEST_URL       a server with the default access-token lifetime
// GUESTPASS_TEST_SHORT_URL the same kind of server started with `--access-token-ttl 2s`
// GUESTPASS_TEST_APP_ID    the app id both servers serve (default `guestpass-test`)
//
// Two things keep the tests independent and finite without changing realm-web:
// - realm-web in Node keeps its users in one process-wide in-memory store, keyed by app id, so
//   every App here gets its own fresh storage (the `storage` option of AppConfiguration); an
//   anonymous login with reuse therefore never picks up a user from another test or server.
// - realm-web refreshes and retries a 401 InvalidSession with no retry limit. Every App gets a
//   `fetch` (also an AppConfiguration option) that records each request and refuses to send more
//   than REQUEST_BUDGET of them, and every call is raced against a timeout, so a loop fails the
//   test with the request log instead of hanging it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as Realm from "realm-web";

const BASE_URL = process.env.GUESTPASS_TEST_URL;
const SHORT_URL = process.env.GUESTPASS_TEST_SHORT_URL;
const APP_ID = process.env.GUESTPASS_TEST_APP_ID || "guestpass-test";

const CLIENT = "/api/client/v2.0";
const HEX24 = /^[0-9a-f]{24}$/;
const REQUEST_BUDGET = 25;
const CALL_TIMEOUT_MS = 4000;
const TEST_TIMEOUT_MS = 6000;

// ---------------------------------------------------------------------------------------------
// Helpers

/** A realm-web `Storage` of its own (same interface as realm-web's MemoryStorage). */
class IsolatedStorage {
  #map;
  #base;
  constructor(map = new Map(), base = "") {
    this.#map = map;
    this.#base = base;
  }
  get(key) {
    const value = this.#map.get(this.#base + key);
    return value === undefined ? null : value;
  }
  set(key, value) {
    this.#map.set(this.#base + key, value);
  }
  remove(key) {
    this.#map.delete(this.#base + key);
  }
  prefix(part) {
    return new IsolatedStorage(this.#map, `${this.#base}${part}:`);
  }
  clear(prefix = "") {
    for (const key of [...this.#map.keys()]) {
      if (key.startsWith(this.#base + prefix)) this.#map.delete(key);
    }
  }
  addListener() {}
  removeListener() {}
}

/** Short, readable form of the request log, for assertion messages. */
function describeLog(log) {
  const shown = log.length > 12 ? [...log.slice(0, 8), null, ...log.slice(-3)] : log;
  return shown
    .map((e) => (e === null ? `  … ${log.length - 11} more …` : formatEntry(e)))
    .join("\n");
}

function formatEntry(e) {
  return `  ${e.method} ${e.path}${e.search ?? ""} [${e.auth}] -> ${e.status ?? e.failure}${e.body ? ` ${e.body}` : ""}`;
}

/**
 * A realm-web App with its own storage and a recording, bounded fetch.
 * `log` gets one entry per request: {method, path, search, auth, status, body (non-2xx only)}.
 */
function makeApp(baseUrl, id = APP_ID) {
  const log = [];
  const recordingFetch = async (url, init = {}) => {
    const headers = new Headers(init.headers);
    const authHeader = headers.get("authorization");
    const parsedUrl = new URL(String(url));
    const entry = {
      method: init.method ?? "GET",
      path: parsedUrl.pathname,
      search: parsedUrl.search,
      auth: authHeader === null ? "no auth" : authHeader.slice(0, 7) + "…" + authHeader.slice(-6),
      authHeader,
    };
    if (log.length >= REQUEST_BUDGET) {
      throw new Error(
        `refusing request ${log.length + 1} (${entry.method} ${entry.path}): realm-web is looping.\n` +
          describeLog(log),
      );
    }
    log.push(entry);
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      entry.status = response.status;
      if (!response.ok) entry.body = (await response.clone().text()).slice(0, 300);
      return response;
    } catch (err) {
      entry.failure = String(err);
      throw err;
    }
  };
  const app = new Realm.App({ id, baseUrl, storage: new IsolatedStorage(), fetch: recordingFetch });
  return { app, log };
}

/** Race a promise against a timeout; the log is printed if it times out. */
async function within(promise, what, log = [], ms = CALL_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not settle within ${ms} ms; requests so far:\n${describeLog(log)}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Run `fn` and, if it throws, add the request log to the failure message. */
async function withLog(log, fn) {
  try {
    return await fn();
  } catch (err) {
    if (err && typeof err === "object" && typeof err.message === "string" && !err.message.includes("requests so far")) {
      err.message += `\nrequests made by realm-web:\n${describeLog(log)}`;
    }
    throw err;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function jwtPayload(token) {
  const parts = token.split(".");
  assert.equal(parts.length, 3, `expected a JWT with three parts, got ${JSON.stringify(token)}`);
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}

/** POST {base}/api/client/v2.0/auth/session with a bearer token, outside realm-web. */
async function directRefresh(baseUrl, token) {
  const response = await fetch(`${baseUrl}${CLIENT}/auth/session`, {
    method: "POST",
    headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get("content-type"), text, json };
}

function assertRefusedAsInvalidSession(result, what) {
  const seen = `status ${result.status}, content-type ${result.contentType}, body ${result.text}`;
  assert.equal(result.status, 401, `${what}: expected 401, got ${seen}`);
  assert.equal(result.contentType, "application/json", `${what}: expected JSON error, got ${seen}`);
  assert.equal(result.json?.error_code, "InvalidSession", `${what}: expected InvalidSession, got ${seen}`);
}

const isHit = (entry, method, suffix) => entry.method === method && entry.path.endsWith(suffix);

/** Log in a new anonymous user on a fresh App. */
async function freshAnonymousUser(baseUrl) {
  const { app, log } = makeApp(baseUrl);
  const user = await withLog(log, () => within(app.logIn(Realm.Credentials.anonymous()), "app.logIn(anonymous())", log));
  return { app, log, user };
}

const USERPASS = "/auth/providers/local-userpass";

/** An email no earlier run or other test has registered. */
function uniqueEmail(tag) {
  return `compat-${tag}-${randomBytes(6).toString("hex")}@example.com`;
}

/** Register `email` through realm-web's emailPasswordAuth on `app`; checks the single 201 answer. */
async function registerThrough(app, log, email, password) {
  const start = log.length;
  const result = await within(app.emailPasswordAuth.registerUser({ email, password }), `registerUser(${email})`, log);
  assert.equal(result, undefined, "registerUser resolves with nothing");
  const sent = log.slice(start).filter((e) => !isHit(e, "GET", "/location"));
  assert.equal(sent.length, 1, `expected one register request; got\n${describeLog(log.slice(start))}`);
  assert.ok(isHit(sent[0], "POST", `${USERPASS}/register`), `unexpected request ${formatEntry(sent[0])}`);
  assert.equal(sent[0].status, 201, `register answered ${sent[0].status} ${sent[0].body ?? ""}`);
}

/** A MongoDBRealmError with this status and code (and never the text realm-web would retry). */
function realmError(statusCode, errorCode) {
  return (err) => {
    assert.ok(err instanceof Realm.MongoDBRealmError, `expected a MongoDBRealmError, got ${err}`);
    assert.equal(err.statusCode, statusCode, `status: ${err.message}`);
    assert.equal(err.errorCode, errorCode, `error_code: ${err.message}`);
    assert.notEqual(err.error, "unauthorized", "realm-web refreshes and retries 'unauthorized' without limit");
    return true;
  };
}

/** An anonymous user on a fresh App that registered `email` and linked it with linkCredentials. */
async function anonymousUserWithLinkedEmail(baseUrl, tag) {
  const { app, log, user } = await freshAnonymousUser(baseUrl);
  const email = uniqueEmail(tag);
  const password = `pw-${randomBytes(8).toString("hex")}`;
  await withLog(log, async () => {
    await registerThrough(app, log, email, password);
    const start = log.length;
    await within(user.linkCredentials(Realm.Credentials.emailPassword(email, password)), "user.linkCredentials()", log);
    const link = log.slice(start).find((e) => isHit(e, "POST", `${USERPASS}/login`));
    assert.ok(link && link.status === 200, `expected a 200 link request; got\n${describeLog(log.slice(start))}`);
  });
  return { app, log, user, email, password };
}

// ---------------------------------------------------------------------------------------------
// Tests

const missing = [
  !BASE_URL && "GUESTPASS_TEST_URL (a guestpass server, e.g. http://127.0.0.1:47811)",
  !SHORT_URL && "GUESTPASS_TEST_SHORT_URL (a guestpass server started with --access-token-ttl 2s)",
].filter(Boolean);

if (missing.length > 0) {
  test("compat test configuration", () => {
    assert.fail(
      `realm-web compat tests need running servers; missing environment variable(s):\n  ${missing.join("\n  ")}\n` +
        "Example: GUESTPASS_TEST_URL=http://127.0.0.1:47811 GUESTPASS_TEST_SHORT_URL=http://127.0.0.1:47812 node --test compat/",
    );
  });
} else {
  test("anonymous login gives an active anon-user with tokens and a one-identity profile", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { app, log } = makeApp(BASE_URL);
    await withLog(log, async () => {
      const user = await within(app.logIn(Realm.Credentials.anonymous()), "app.logIn(anonymous())", log);

      assert.match(user.id, HEX24);
      assert.equal(user.providerType, "anon-user");
      assert.equal(user.state, "active");
      assert.equal(app.currentUser, user);
      assert.equal(typeof user.accessToken, "string");
      assert.ok(user.accessToken.length > 0);
      assert.equal(typeof user.refreshToken, "string");
      assert.ok(user.refreshToken.length > 0);
      assert.notEqual(user.accessToken, user.refreshToken);

      // The access token is a JWT realm-web can decode (customData needs numeric exp/iat).
      assert.deepEqual(user.customData, {});
      assert.equal(jwtPayload(user.accessToken).sub, user.id);

      // realm-web fetched the profile after logging in.
      assert.ok(
        log.some((e) => isHit(e, "GET", "/auth/profile") && e.status === 200),
        "expected realm-web to GET /auth/profile after login",
      );
      assert.equal(user.identities.length, 1);
      assert.equal(user.identities[0].providerType, "anon-user");
      assert.equal(typeof user.identities[0].id, "string");
      assert.ok(user.identities[0].id.length > 0);
      assert.deepEqual(user.profile, {});
    });
  });

  test("user.refreshProfile() fetches the profile again", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { log, user } = await freshAnonymousUser(BASE_URL);
    await withLog(log, async () => {
      const before = log.filter((e) => isHit(e, "GET", "/auth/profile")).length;
      await within(user.refreshProfile(), "user.refreshProfile()", log);
      const profileRequests = log.filter((e) => isHit(e, "GET", "/auth/profile"));
      assert.equal(profileRequests.length, before + 1, "expected exactly one more GET /auth/profile");
      assert.equal(profileRequests.at(-1).status, 200);
      assert.equal(user.identities.length, 1);
      assert.equal(user.identities[0].providerType, "anon-user");
      assert.equal(user.state, "active");
    });
  });

  test("an expired access token is refreshed on 401 InvalidSession and the call retried (short server)", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { log, user } = await freshAnonymousUser(SHORT_URL);
    await withLog(log, async () => {
      const oldAccess = user.accessToken;
      const oldRefresh = user.refreshToken;
      const payload = jwtPayload(oldAccess);
      assert.ok(payload.exp - payload.iat <= 2, `short server should issue ~2 s tokens, got exp-iat=${payload.exp - payload.iat}`);

      await sleep(3000);
      const start = log.length;
      await within(user.refreshProfile(), "user.refreshProfile() with an expired access token", log);

      assert.notEqual(user.accessToken, oldAccess, "the access token should have been replaced");
      assert.equal(user.refreshToken, oldRefresh, "the refresh token should be kept");
      assert.equal(user.state, "active");
      const after = log.slice(start);
      assert.equal(after.length, 3, `expected profile(401), refresh, profile(200); got\n${describeLog(after)}`);
      assert.ok(isHit(after[0], "GET", "/auth/profile") && after[0].status === 401);
      assert.equal(JSON.parse(after[0].body).error_code, "InvalidSession");
      assert.ok(isHit(after[1], "POST", "/auth/session") && after[1].status === 200);
      assert.equal(after[1].authHeader, `Bearer ${oldRefresh}`, "the refresh must use the refresh token");
      assert.ok(isHit(after[2], "GET", "/auth/profile") && after[2].status === 200);
      assert.equal(after[2].authHeader, `Bearer ${user.accessToken}`, "the retry must use the new access token");
    });
  });

  test("user.refreshAccessToken() gives a new access token and keeps the refresh token", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { log, user } = await freshAnonymousUser(BASE_URL);
    await withLog(log, async () => {
      const oldAccess = user.accessToken;
      const oldRefresh = user.refreshToken;
      // Token claims have whole-second iat/exp: wait past a second boundary so a new token differs.
      await sleep(1100);
      await within(user.refreshAccessToken(), "user.refreshAccessToken()", log);

      assert.equal(typeof user.accessToken, "string");
      assert.notEqual(user.accessToken, oldAccess);
      assert.equal(user.refreshToken, oldRefresh);
      const oldClaims = jwtPayload(oldAccess);
      const newClaims = jwtPayload(user.accessToken);
      assert.equal(newClaims.sub, user.id);
      assert.ok(newClaims.iat > oldClaims.iat, "the new token should be issued later");

      // The new access token works without another refresh.
      const start = log.length;
      await within(user.refreshProfile(), "user.refreshProfile() with the new access token", log);
      assert.equal(log.length - start, 1, `expected a single profile request; got\n${describeLog(log.slice(start))}`);
    });
  });

  test("logOut() revokes the refresh token", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { app, log, user } = await freshAnonymousUser(BASE_URL);
    await withLog(log, async () => {
      const oldRefresh = user.refreshToken;
      await within(user.logOut(), "user.logOut()", log);

      const logout = log.find((e) => isHit(e, "DELETE", "/auth/session"));
      assert.ok(logout, "expected realm-web to send DELETE /auth/session");
      assert.equal(logout.authHeader, `Bearer ${oldRefresh}`);
      assert.ok(logout.status >= 200 && logout.status < 300, `logout answered ${logout.status} ${logout.body ?? ""}`);
      assert.equal(user.state, "logged-out");
      assert.equal(user.accessToken, null);
      assert.equal(user.refreshToken, null);
      assert.equal(app.currentUser, null);

      assertRefusedAsInvalidSession(await directRefresh(BASE_URL, oldRefresh), "refresh with a logged-out refresh token");
    });
  });

  test("app.deleteUser() deletes the user and its refresh token is refused afterwards", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { app, log, user } = await freshAnonymousUser(BASE_URL);
    await withLog(log, async () => {
      const oldRefresh = user.refreshToken;
      assert.equal(app.currentUser, user, "deleteUser sends the current user's token; it must be this user");
      try {
        await within(app.deleteUser(user), "app.deleteUser(user)", log);
      } catch (err) {
        if (log.at(-1) && isHit(log.at(-1), "DELETE", "/auth/session")) {
          err.message +=
            "\n(deleteUser's follow-up logout was refused: realm-web sends DELETE /auth/session with the deleted" +
            " user's refresh token and only tolerates 2xx or an error containing 'failed to find refresh token';" +
            " docs/wire.md, the DELETE C/auth/session route)";
        }
        throw err;
      }

      const del = log.find((e) => isHit(e, "DELETE", "/auth/delete"));
      assert.ok(del, "expected realm-web to send DELETE /auth/delete");
      assert.ok(del.status >= 200 && del.status < 300, `delete answered ${del.status} ${del.body ?? ""}`);
      // realm-web then logs the deleted user out with its refresh token; deleteUser resolving
      // above means the server answered that acceptably.
      assert.ok(log.some((e) => isHit(e, "DELETE", "/auth/session")), "expected the follow-up DELETE /auth/session");
      assert.equal(user.state, "removed");
      assert.equal(app.currentUser, null);
      assert.deepEqual(Object.keys(app.allUsers), []);

      assertRefusedAsInvalidSession(await directRefresh(BASE_URL, oldRefresh), "refresh with a deleted user's refresh token");
    });
  });

  test("an unknown app id makes logIn reject (404 on /location)", { timeout: TEST_TIMEOUT_MS }, async () => {
    const unknownId = `no-such-app-${randomBytes(4).toString("hex")}`;
    const { app, log } = makeApp(BASE_URL, unknownId);
    await withLog(log, async () => {
      await assert.rejects(within(app.logIn(Realm.Credentials.anonymous()), "logIn on an unknown app", log), (err) => {
        assert.ok(err instanceof Realm.MongoDBRealmError, `expected a MongoDBRealmError, got ${err}`);
        assert.equal(err.statusCode, 404);
        assert.equal(err.errorCode, "AppNotFound");
        assert.ok(String(err.error).includes(`cannot find app using Client App ID '${unknownId}'`), `error text: ${err.error}`);
        return true;
      });
      assert.equal(log.length, 1, "only the location request should have been made");
      assert.ok(isHit(log[0], "GET", `/app/${unknownId}/location`));
      assert.equal(app.currentUser, null);
    });
  });

  test("each Credentials.anonymous(false) login creates a different user", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { app, log } = makeApp(BASE_URL);
    await withLog(log, async () => {
      const first = await within(app.logIn(Realm.Credentials.anonymous(false)), "first anonymous(false) login", log);
      const second = await within(app.logIn(Realm.Credentials.anonymous(false)), "second anonymous(false) login", log);

      assert.match(first.id, HEX24);
      assert.match(second.id, HEX24);
      assert.notEqual(first.id, second.id);
      assert.notEqual(first.refreshToken, second.refreshToken);
      assert.equal(log.filter((e) => isHit(e, "POST", "/auth/providers/anon-user/login")).length, 2);
      assert.equal(first.state, "active");
      assert.equal(second.state, "active");
      assert.equal(app.currentUser, second);
      assert.deepEqual(Object.keys(app.allUsers).sort(), [first.id, second.id].sort());
    });
  });

  test("emailPasswordAuth.registerUser() registers an email once; a second registration is 409 AccountNameInUse", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { app, log } = makeApp(BASE_URL);
    await withLog(log, async () => {
      const email = uniqueEmail("twice");
      await registerThrough(app, log, email, "first-password");

      const start = log.length;
      await assert.rejects(
        within(app.emailPasswordAuth.registerUser({ email, password: "second-password" }), "second registerUser", log),
        realmError(409, "AccountNameInUse"),
      );
      const after = log.slice(start);
      assert.equal(after.length, 1, `expected one request; got\n${describeLog(after)}`);
      assert.ok(isHit(after[0], "POST", `${USERPASS}/register`) && after[0].status === 409);
      assert.equal(app.currentUser, null, "registration logs nobody in");
    });
  });

  test("user.linkCredentials(emailPassword) keeps the anonymous user's id and adds a local-userpass identity", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { app, log, user } = await freshAnonymousUser(BASE_URL);
    await withLog(log, async () => {
      const email = uniqueEmail("link");
      const password = "linking-password";
      await registerThrough(app, log, email, password);
      const id = user.id;
      const oldAccess = user.accessToken;
      const oldRefresh = user.refreshToken;

      const start = log.length;
      await within(user.linkCredentials(Realm.Credentials.emailPassword(email, password)), "user.linkCredentials()", log);
      const after = log.slice(start);
      assert.equal(after.length, 2, `expected the link request and a profile request; got\n${describeLog(after)}`);
      assert.ok(isHit(after[0], "POST", `${USERPASS}/login`), `unexpected ${formatEntry(after[0])}`);
      assert.equal(after[0].search, "?link=true");
      assert.equal(after[0].status, 200);
      assert.equal(after[0].authHeader, `Bearer ${oldAccess}`, "realm-web links with the user's access token");
      assert.ok(isHit(after[1], "GET", "/auth/profile") && after[1].status === 200);

      assert.equal(user.id, id);
      assert.equal(user.state, "active");
      assert.equal(app.currentUser, user);
      assert.equal(user.refreshToken, oldRefresh, "linking keeps the session's refresh token");
      assert.equal(jwtPayload(user.accessToken).sub, id);
      assert.equal(jwtPayload(user.accessToken).is_anonymous, false, "the new access token is no longer anonymous");
      assert.deepEqual(user.identities.map((i) => i.providerType), ["anon-user", "local-userpass"]);
      assert.equal(user.profile.email, email);

      // the kept refresh token still works for the (now named) user
      await within(user.refreshAccessToken(), "user.refreshAccessToken() after linking", log);
      assert.equal(jwtPayload(user.accessToken).sub, id);
      assert.equal(jwtPayload(user.accessToken).is_anonymous, false);
    });
  });

  test("linking an email that another user owns is rejected at once with 409 and the user stays usable", { timeout: TEST_TIMEOUT_MS }, async () => {
    const owner = await anonymousUserWithLinkedEmail(BASE_URL, "owned");
    const { log, app, user } = await freshAnonymousUser(BASE_URL);
    await withLog(log, async () => {
      const id = user.id;
      const start = log.length;
      const began = performance.now();
      await assert.rejects(
        within(user.linkCredentials(Realm.Credentials.emailPassword(owner.email, owner.password)), "conflicting linkCredentials()", log),
        realmError(409, "AccountNameInUse"),
      );
      const elapsed = performance.now() - began;
      const after = log.slice(start);
      assert.equal(after.length, 1, `expected exactly one request (no refresh/retry); got\n${describeLog(after)}`);
      assert.ok(isHit(after[0], "POST", `${USERPASS}/login`) && after[0].search === "?link=true");
      assert.equal(after[0].status, 409);
      assert.ok(!log.some((e) => e.path.endsWith("/auth/session")), `no session refresh expected; got\n${describeLog(log)}`);
      assert.ok(elapsed < 1000, `the rejection took ${elapsed.toFixed(0)} ms`);

      // still the same anonymous, usable user
      assert.equal(user.id, id);
      assert.equal(user.state, "active");
      assert.equal(app.currentUser, user);
      const before = log.length;
      await within(user.refreshProfile(), "user.refreshProfile() after the conflict", log);
      assert.equal(log.length - before, 1, `expected a single profile request; got\n${describeLog(log.slice(before))}`);
      assert.deepEqual(user.identities.map((i) => i.providerType), ["anon-user"]);
    });
    // the owner keeps the email
    await withLog(owner.log, async () => {
      await within(owner.user.refreshProfile(), "owner refreshProfile()", owner.log);
      assert.deepEqual(owner.user.identities.map((i) => i.providerType), ["anon-user", "local-userpass"]);
    });
  });

  test("a wrong password while linking is rejected after one request (401 InvalidPassword) and the user stays usable", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { app, log, user } = await freshAnonymousUser(BASE_URL);
    await withLog(log, async () => {
      const email = uniqueEmail("wrongpw");
      await registerThrough(app, log, email, "the-right-password");
      const oldAccess = user.accessToken;
      const oldRefresh = user.refreshToken;

      const start = log.length;
      await assert.rejects(
        within(user.linkCredentials(Realm.Credentials.emailPassword(email, "not-the-password")), "linkCredentials() with a wrong password", log),
        (err) => {
          realmError(401, "InvalidPassword")(err);
          assert.equal(err.error, "invalid username/password");
          return true;
        },
      );
      const after = log.slice(start);
      assert.equal(after.length, 1, `expected exactly one request (no refresh/retry); got\n${describeLog(after)}`);
      assert.ok(isHit(after[0], "POST", `${USERPASS}/login`) && after[0].search === "?link=true");
      assert.ok(!log.some((e) => e.path.endsWith("/auth/session")), `no session refresh expected; got\n${describeLog(log)}`);

      assert.equal(user.state, "active");
      assert.equal(user.accessToken, oldAccess);
      assert.equal(user.refreshToken, oldRefresh);
      assert.equal(app.currentUser, user);
      const before = log.length;
      await within(user.refreshProfile(), "user.refreshProfile() after the wrong password", log);
      assert.equal(log.length - before, 1, `expected a single profile request; got\n${describeLog(log.slice(before))}`);
      assert.deepEqual(user.identities.map((i) => i.providerType), ["anon-user"]);
      await within(user.refreshAccessToken(), "user.refreshAccessToken() after the wrong password", log);
      assert.equal(jwtPayload(user.accessToken).is_anonymous, true);
    });
  });

  test("after linking, an email/password login on a new App with fresh storage returns the former anonymous user", { timeout: TEST_TIMEOUT_MS }, async () => {
    const linked = await anonymousUserWithLinkedEmail(BASE_URL, "return");
    // the browser's data is cleared: a new App with empty storage
    const { app, log } = makeApp(BASE_URL);
    await withLog(log, async () => {
      const user = await within(app.logIn(Realm.Credentials.emailPassword(linked.email, linked.password)), "logIn(emailPassword)", log);
      assert.equal(user.id, linked.user.id);
      assert.equal(user.providerType, "local-userpass");
      assert.equal(user.state, "active");
      assert.equal(app.currentUser, user);
      assert.notEqual(user.refreshToken, linked.user.refreshToken, "a new login is a new session");
      assert.equal(jwtPayload(user.accessToken).is_anonymous, false);
      assert.deepEqual(user.identities.map((i) => i.providerType), ["anon-user", "local-userpass"]);
      assert.ok(!log.some((e) => e.path.endsWith("/auth/session")), `no session refresh expected; got\n${describeLog(log)}`);
    });
  });

  test("app.deleteUser() on a linked user; its email/password login is refused afterwards (401)", { timeout: TEST_TIMEOUT_MS }, async () => {
    const linked = await anonymousUserWithLinkedEmail(BASE_URL, "delete");
    const { app, log } = makeApp(BASE_URL);
    await withLog(log, async () => {
      const credentials = Realm.Credentials.emailPassword(linked.email, linked.password);
      const user = await within(app.logIn(credentials), "logIn(emailPassword)", log);
      assert.equal(user.id, linked.user.id);
      assert.equal(app.currentUser, user, "deleteUser sends the current user's token; it must be this user");

      const start = log.length;
      await within(app.deleteUser(user), "app.deleteUser(user)", log);
      const after = log.slice(start);
      const del = after.find((e) => isHit(e, "DELETE", "/auth/delete"));
      assert.ok(del && del.status >= 200 && del.status < 300, `expected a 2xx DELETE /auth/delete; got\n${describeLog(after)}`);
      assert.ok(after.some((e) => isHit(e, "DELETE", "/auth/session")), "expected the follow-up DELETE /auth/session");
      assert.equal(user.state, "removed");
      assert.equal(app.currentUser, null);

      const before = log.length;
      await assert.rejects(within(app.logIn(credentials), "logIn(emailPassword) after deletion", log), (err) => {
        realmError(401, "InvalidPassword")(err);
        return true;
      });
      const refused = log.slice(before);
      assert.equal(refused.length, 1, `expected one login request; got\n${describeLog(refused)}`);
      assert.ok(isHit(refused[0], "POST", `${USERPASS}/login`) && refused[0].status === 401);
      assert.equal(app.currentUser, null);

      // every session of the deleted user is gone, including the first (formerly anonymous) one
      assertRefusedAsInvalidSession(await directRefresh(BASE_URL, linked.user.refreshToken), "refresh with the linked session's refresh token");
    });
  });
}
