// The console's passkeys (issue 11), in headless Chromium: a member links two
// passkeys (made here by a small software authenticator on node's crypto: `none` attestation,
// ES256), the console shows both on the user's page, removes one; that passkey no longer signs
// in, the other still does. Runs against the e2e server (see story.test.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { launchChromium } from "./chromium.mjs";
import { artifactsDir, clientApi, TIMEOUT } from "./pages.mjs";

const BASE = (process.env.GUESTPASS_E2E_URL || "").replace(/\/+$/, "");
const ADMIN_KEY = process.env.GUESTPASS_E2E_ADMIN_KEY || "";
// An origin the server allows for passkeys: its default (http://localhost:<its port>) unless
// the stage passes --passkey-origin and says which here.
const ORIGIN = process.env.GUESTPASS_E2E_PASSKEY_ORIGIN || BASE.replace("127.0.0.1", "localhost");
const APP = "guestpass-demo";
const P = `/app/${APP}/auth/providers/passkey`;
const ARTIFACTS = artifactsDir("e2e");

const api = clientApi(BASE);

// A CBOR writer for the few types an attestation object needs (RFC 8949 §3).
function head(major, n) {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  const b = Buffer.alloc(3);
  b[0] = m | 25;
  b.writeUInt16BE(n, 1);
  return b;
}
const int = (v) => (v >= 0 ? head(0, v) : head(1, -1 - v));
const bytes = (b) => Buffer.concat([head(2, b.length), b]);
const text = (t) => Buffer.concat([head(3, Buffer.byteLength(t)), Buffer.from(t)]);
const sha256 = (data) => createHash("sha256").update(data).digest();
const b64 = (b) => Buffer.from(b).toString("base64url");

function softPasskey(userHandle, rpId) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const coseKey = Buffer.concat([
    head(5, 5), int(1), int(2), int(3), int(-7), int(-1), int(1),
    int(-2), bytes(Buffer.from(jwk.x, "base64url")), int(-3), bytes(Buffer.from(jwk.y, "base64url")),
  ]);
  return { privateKey, coseKey, id: randomBytes(16), userHandle, rpId, counter: 0 };
}

function registrationResponse(key, options) {
  const clientData = Buffer.from(JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin: ORIGIN, crossOrigin: false }));
  const counter = Buffer.alloc(4);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(key.id.length);
  // Flags: user present, user verified, attested credential data.
  const authData = Buffer.concat([sha256(key.rpId), Buffer.from([0x45]), counter, Buffer.alloc(16), idLength, key.id, key.coseKey]);
  const attestation = Buffer.concat([head(5, 3), text("fmt"), text("none"), text("attStmt"), head(5, 0), text("authData"), bytes(authData)]);
  return {
    id: b64(key.id), rawId: b64(key.id), type: "public-key",
    response: { clientDataJSON: b64(clientData), attestationObject: b64(attestation), transports: ["internal"] },
    clientExtensionResults: {}, authenticatorAttachment: "platform",
  };
}

function assertion(key, options) {
  key.counter += 1;
  const clientData = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin: ORIGIN, crossOrigin: false }));
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(key.counter);
  const authData = Buffer.concat([sha256(key.rpId), Buffer.from([0x05]), counter]);
  const signature = sign("sha256", Buffer.concat([authData, sha256(clientData)]), key.privateKey);
  return {
    id: b64(key.id), rawId: b64(key.id), type: "public-key",
    response: { clientDataJSON: b64(clientData), authenticatorData: b64(authData), signature: b64(signature), userHandle: b64(key.userHandle) },
    clientExtensionResults: {}, authenticatorAttachment: "platform",
  };
}

async function linkPasskey(accessToken) {
  const started = await api("POST", `${P}/registration`, { body: {}, bearer: accessToken });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const options = started.body.public_key;
  const key = softPasskey(Buffer.from(options.user.id, "base64url"), options.rp.id);
  const linked = await api("POST", `${P}/login?link=true`, {
    body: { challenge_id: started.body.challenge_id, credential: registrationResponse(key, options) },
    bearer: accessToken,
  });
  assert.equal(linked.status, 200, JSON.stringify(linked.body));
  return { key, linked: linked.body };
}

async function logIn(key) {
  const started = await api("POST", `${P}/authentication`, { body: {} });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const credential = assertion(key, started.body.public_key);
  return api("POST", `${P}/login`, { body: { challenge_id: started.body.challenge_id, credential } });
}

test("the console shows a user's passkeys and removes one", { timeout: 120_000 }, async () => {
  assert.ok(BASE, "GUESTPASS_E2E_URL is not set: start the server and give its URL");
  assert.ok(ADMIN_KEY, "GUESTPASS_E2E_ADMIN_KEY is not set: give the server's --admin-key");
  await mkdir(ARTIFACTS, { recursive: true });
  // A member by email and password: the story switches the anonymous provider off a while.
  const email = `passkeys-${Date.now()}@example.com`;
  const password = "a password for the console test";
  const registered = await api("POST", `/app/${APP}/auth/providers/local-userpass/register`, { body: { email, password } });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const member = await api("POST", `/app/${APP}/auth/providers/local-userpass/login`, { body: { username: email, password } });
  assert.equal(member.status, 200, JSON.stringify(member.body));
  const phone = await linkPasskey(member.body.access_token);
  const laptop = await linkPasskey(member.body.access_token);
  const userId = member.body.user_id;
  assert.equal((await logIn(phone.key)).body.user_id, userId);

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(TIMEOUT);
    page.on("dialog", (dialog) => dialog.accept());
    await page.goto(`${BASE}/admin/`);
    await page.fill('[data-testid="admin-key"]', ADMIN_KEY);
    await page.click('[data-testid="key-submit"]');
    await page.locator('[data-testid="users-view"]').waitFor({ state: "visible" });
    await page.fill('[data-testid="find-query"]', userId);
    await page.click('[data-testid="find-submit"]');
    await page.locator('[data-testid="user-view"]').waitFor({ state: "visible" });
    const rows = page.locator('[data-testid="passkey-row"]');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const phoneRow = page.locator(`[data-testid="passkey-row"][data-credential-id="${b64(phone.key.id)}"]`);
    assert.match(await phoneRow.textContent(), /ago|now/, "the phone's passkey was used");
    await page.screenshot({ path: path.join(ARTIFACTS, "console-passkeys.png"), fullPage: true });

    await phoneRow.locator('[data-testid="remove-passkey"]').click();
    await phoneRow.waitFor({ state: "detached" });
    assert.equal(await rows.count(), 1);
    assert.match(await page.locator('[data-testid="banner"]').textContent(), /removed/);

    const refused = await logIn(phone.key);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error_code, "PasskeyCredentialUnknown");
    assert.equal((await logIn(laptop.key)).body.user_id, userId, "the other passkey still signs in");
  } finally {
    await browser.close();
  }
});
