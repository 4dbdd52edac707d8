// Several guestpass servers on one PostgreSQL database behind a real HAProxy (round-robin),
// started by `scripts/test.sh multi`, which sets:
//
// GUESTPASS_MULTI_URL      HAProxy's frontend
// GUESTPASS_MULTI_SERVERS  the three servers behind it, space-separated (A B C), each
//                          addressed directly where a test picks the process on purpose
// GUESTPASS_MULTI_PIDS     their process ids, in the same order (one is killed with SIGKILL)
// GUESTPASS_MULTI_PG_DIR   the cluster's directory for scripts/pg.sh (crashed and restarted)
// GUESTPASS_TEST_APP_ID    the app id the servers serve
//
// The tests run in order: the last two kill process C and crash PostgreSQL.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

const LB = process.env.GUESTPASS_MULTI_URL;
const SERVERS = (process.env.GUESTPASS_MULTI_SERVERS || "").split(" ").filter(Boolean);
const PIDS = (process.env.GUESTPASS_MULTI_PIDS || "").split(" ").filter(Boolean).map(Number);
const PG_DIR = process.env.GUESTPASS_MULTI_PG_DIR;
const APP_ID = process.env.GUESTPASS_TEST_APP_ID || "guestpass-test";
const PG_SH = fileURLToPath(new URL("../scripts/pg.sh", import.meta.url));

const app = (base, path) => `${base}/api/client/v2.0/app/${APP_ID}${path}`;
const ANON = "/auth/providers/anon-user/login";
const USERPASS = "/auth/providers/local-userpass";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request; its status, content type and JSON body (null when there is none). */
async function call(url, { method = "POST", token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { unparsed: text.slice(0, 200) };
  }
  return { status: resp.status, type: resp.headers.get("content-type"), body: json };
}

const anonymousLogin = (base) => call(app(base, ANON), { body: {} });
const refresh = (base, refreshToken) => call(`${base}/api/client/v2.0/auth/session`, { token: refreshToken });
const logout = (base, refreshToken) => call(`${base}/api/client/v2.0/auth/session`, { method: "DELETE", token: refreshToken });
const profile = (base, accessToken) => call(`${base}/api/client/v2.0/auth/profile`, { method: "GET", token: accessToken });
const register = (base, email) => call(app(base, `${USERPASS}/register`), { body: { email, password: "password1" } });
const link = (base, accessToken, email) =>
  call(app(base, `${USERPASS}/login?link=true`), { token: accessToken, body: { username: email, password: "password1" } });

function expect(answer, status, what) {
  assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `loops` concurrent anonymous-login loops through HAProxy until `stop()` says so;
 * returns the refresh tokens of the answered logins and every other answer.
 */
function loginLoops(loops, stopped) {
  return Promise.all(
    Array.from({ length: loops }, async () => {
      const answered = [];
      const other = [];
      while (!stopped()) {
        let answer;
        try {
          answer = await anonymousLogin(LB);
        } catch (e) {
          answer = { status: 0, body: { transport: String(e) } };
        }
        answer.at = Date.now();
        if (answer.status === 200) {
          answered.push(answer.body.refresh_token);
        } else {
          other.push(answer);
          await sleep(20);
        }
      }
      return { answered, other };
    }),
  ).then((results) => ({
    answered: results.flatMap((r) => r.answered),
    other: results.flatMap((r) => r.other),
  }));
}

/** Refreshes every token through HAProxy (16 at a time); the statuses that were not 200. */
async function refreshAll(tokens) {
  const failed = [];
  for (let i = 0; i < tokens.length; i += 16) {
    const answers = await Promise.all(tokens.slice(i, i + 16).map((t) => refresh(LB, t)));
    failed.push(...answers.filter((a) => a.status !== 200).map((a) => a.status));
  }
  return failed;
}

if (!LB || SERVERS.length !== 3 || PIDS.length !== 3 || !PG_DIR) {
  test("multi test configuration", () => {
    assert.fail("run through scripts/test.sh multi (GUESTPASS_MULTI_URL, _SERVERS, _PIDS, _PG_DIR)");
  });
} else {
  const [A, B, C] = SERVERS;

  test("users made through HAProxy refresh on each process addressed directly", async () => {
    for (let i = 0; i < 6; i++) {
      const user = expect(await anonymousLogin(LB), 200, "login through HAProxy");
      for (const base of SERVERS) expect(await refresh(base, user.refresh_token), 200, `refresh on ${base}`);
    }
  });

  test("login on A, refresh on B, link on C, logout on A, and B refuses the refresh at once", async () => {
    const guest = expect(await anonymousLogin(A), 200, "login on A");
    const session = expect(await refresh(B, guest.refresh_token), 200, "refresh on B");
    const email = `alternating-${randomBytes(6).toString("hex")}@example.com`;
    expect(await register(LB, email), 201, "register through HAProxy");
    expect(await link(C, session.access_token, email), 200, "link on C");
    const me = expect(await profile(A, session.access_token), 200, "profile on A");
    assert.deepEqual(me.identities.map((i) => i.provider_type).sort(), ["anon-user", "local-userpass"], "A sees C's link");
    assert.equal((await logout(A, guest.refresh_token)).status, 204, "logout on A");
    const refused = await refresh(B, guest.refresh_token);
    assert.equal(refused.status, 401, "B refuses a session A ended");
    assert.equal(refused.body.error_code, "InvalidSession");
  });

  test("users of three processes racing to link one email: exactly one winner, every round", async () => {
    const ROUNDS = 10;
    const RACERS = 12;
    for (let round = 0; round < ROUNDS; round++) {
      const email = `race-${round}-${randomBytes(6).toString("hex")}@example.com`;
      expect(await register(LB, email), 201, "register");
      const users = await Promise.all(Array.from({ length: RACERS }, (_, i) => anonymousLogin(SERVERS[i % 3])));
      // Each links on the process after the one it logged in on.
      const links = await Promise.all(
        users.map((u, i) => link(SERVERS[(i + 1) % 3], expect(u, 200, "login").access_token, email)),
      );
      const statuses = links.map((l) => l.status);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `round ${round}: ${statuses}`);
      assert.equal(statuses.filter((s) => s === 409).length, RACERS - 1, `round ${round}: ${statuses}`);
    }
  });

  test("kill -9 of one process under 16 login loops: every answered login refreshes through the others", async () => {
    let stop = false;
    const load = loginLoops(16, () => stop);
    await sleep(1000);
    process.kill(PIDS[2], "SIGKILL");
    const killedAt = Date.now();
    await sleep(2500);
    stop = true;
    const { answered, other } = await load;
    assert.ok(!alive(PIDS[2]), "C is dead");
    assert.ok(alive(PIDS[0]) && alive(PIDS[1]), "A and B live on");
    // Only requests on C as it died may fail, until HAProxy's health check (every 500 ms) finds
    // it down; HAProxy answers those itself (502/503), never a server with a 500.
    for (const a of other) {
      assert.ok([0, 502, 503].includes(a.status), `a failed login: ${a.status} ${JSON.stringify(a.body)}`);
      const after = a.at - killedAt;
      assert.ok(after >= 0 && after < 1500, `a login failed ${after} ms after the kill: ${a.status}`);
    }
    const failed = await refreshAll(answered);
    const statuses = [...new Set(other.map((a) => a.status))].join(",");
    console.log(
      `kill -9: ${answered.length} logins answered, ${other.length} failed (status ${statuses || "-"}, ` +
        `within ${Math.max(0, ...other.map((a) => a.at - killedAt))} ms of the kill), ` +
        `${failed.length} of the answered did not refresh on the others`,
    );
    assert.deepEqual(failed, [], "every answered login refreshes on A or B");
    assert.ok(answered.length > 100, `the load was real: ${answered.length} logins`);
  });

  test("PostgreSQL crashes and restarts under load: 503 while down, no answered login lost, the servers reconnect", async () => {
    let stop = false;
    const load = loginLoops(8, () => stop);
    await sleep(1000);
    execFileSync("bash", [PG_SH, "crash", PG_DIR]);
    await sleep(2000);
    execFileSync("bash", [PG_SH, "start", PG_DIR]);
    // Each live process logs in again (directly) within 15 s of the restart.
    for (const base of [A, B]) {
      const deadline = Date.now() + 15000;
      while ((await anonymousLogin(base)).status !== 200) {
        assert.ok(Date.now() < deadline, `${base} did not reconnect within 15 s`);
        await sleep(200);
      }
    }
    await sleep(500);
    stop = true;
    const { answered, other } = await load;
    assert.ok(other.length > 0, "the load saw the database down");
    for (const a of other) {
      assert.equal(a.status, 503, `while PostgreSQL was down: ${JSON.stringify(a.body)}`);
      assert.equal(a.type, "application/json");
      assert.equal(a.body.error_code, "ServiceUnavailable");
      assert.equal(a.body.error, "the database is unavailable; try again shortly", "no internal detail");
      assert.equal(typeof a.body.link, "string");
    }
    assert.ok(alive(PIDS[0]) && alive(PIDS[1]), "no server died");
    const failed = await refreshAll(answered);
    console.log(
      `PostgreSQL crash: ${answered.length} logins answered, ${other.length} answered 503, ` +
        `${failed.length} of the answered did not refresh after the restart`,
    );
    assert.deepEqual(failed, [], "every answered login survived the crash");
  });
}
