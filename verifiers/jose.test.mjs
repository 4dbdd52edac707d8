// Access tokens checked by `jose` (npm), which no one here wrote, through the JWKS of a real
// server: what must verify does, and every forgery is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { SignJWT, generateKeyPair, decodeJwt } from "jose";
import { createVerifier, mayWrite } from "../examples/node-verifier/verify.mjs";
import { APP, URL_, ROTATE_URL, OTHER_URL, TTL_MS, sleep, anonymousToken, memberToken, rotate, jwks, kidOf } from "./common.mjs";

const verifier = (issuer = URL_, cooldownMs = 0) => createVerifier({ issuer, audience: APP, cooldownMs });

test("the discovery document names the issuer and the key set", async () => {
  const res = await fetch(`${URL_}/.well-known/openid-configuration`);
  const doc = await res.json();
  assert.equal(doc.issuer, URL_);
  assert.equal(doc.jwks_uri, `${URL_}/.well-known/jwks.json`);
  assert.deepEqual(doc.id_token_signing_alg_values_supported, ["ES256"]);
  assert.match(res.headers.get("cache-control"), /max-age=\d+/);
});

test("a token verifies, with its issuer, audience and is_anonymous", async () => {
  const token = await anonymousToken();
  const claims = await verifier()(token);
  assert.equal(claims.iss, URL_);
  assert.equal(claims.aud, APP);
  assert.equal(claims.is_anonymous, true);
  assert.equal(mayWrite(claims), false);
  assert.equal(mayWrite(await verifier()(await memberToken())), true);
});

test("a tampered token is refused", async () => {
  const token = await anonymousToken();
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url"));
  claims.is_anonymous = false;
  const forged = [h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join(".");
  await assert.rejects(verifier()(forged), /signature verification failed/);
});

test("a token signed by a key the set does not have is refused", async () => {
  const { privateKey } = await generateKeyPair("ES256");
  const claims = decodeJwt(await anonymousToken());
  const forged = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "not-a-guestpass-key" }).sign(privateKey);
  await assert.rejects(verifier()(forged), /no applicable key found/);
  const real = kidOf(await anonymousToken());
  const substituted = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: real }).sign(privateKey);
  await assert.rejects(verifier()(substituted), /signature verification failed/);
});

test("alg switched to HS256 with the public key as the secret is refused", async () => {
  const token = await anonymousToken();
  const { keys } = await jwks(URL_);
  const header = { alg: "HS256", typ: "JWT", kid: kidOf(token) };
  const payload = token.split(".")[1];
  for (const secret of [JSON.stringify(keys[0]), Buffer.from(keys[0].x, "base64url")]) {
    const signingInput = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${payload}`;
    const mac = createHmac("sha256", secret).update(signingInput).digest("base64url");
    await assert.rejects(verifier()(`${signingInput}.${mac}`), /alg/);
  }
});

test("an expired token is refused", async () => {
  const token = await anonymousToken();
  await verifier()(token);
  await sleep(TTL_MS + 1100);
  await assert.rejects(verifier()(token), /"exp" claim timestamp check failed/);
});

test("a token from another guestpass server (another key set) is refused", async () => {
  const foreign = await anonymousToken(OTHER_URL);
  await assert.rejects(verifier()(foreign));
  const pinned = createVerifier({ issuer: URL_, audience: APP, cooldownMs: 0 });
  // Even with the other server's issuer claimed, its kid is not in this server's set.
  await assert.rejects(pinned(foreign));
});

test("rotation: old tokens verify until they expire, new ones carry the new kid, the old key leaves", async () => {
  const cached = verifier(ROTATE_URL, 0);
  const before = await anonymousToken(ROTATE_URL);
  await cached(before); // the verifier has fetched and cached the set with the old key only
  const oldKid = kidOf(before);
  const { kid: newKid } = await rotate(ROTATE_URL);
  assert.notEqual(newKid, oldKid);
  const after = await anonymousToken(ROTATE_URL);
  assert.equal(kidOf(after), newKid, "tokens after the rotation carry the new kid");
  // The cached set lacks the new kid: jose refetches it and the new token verifies.
  await cached(after);
  await cached(before);
  const during = (await jwks(ROTATE_URL)).keys.map((k) => k.kid);
  assert.deepEqual(during.sort(), [oldKid, newKid].sort(), "both keys are published while old tokens live");
  await sleep(TTL_MS + 1100);
  await assert.rejects(cached(before), /"exp" claim timestamp check failed/);
  // The old key stays an access-token lifetime plus the 5 s margin after it stopped signing.
  let published = during;
  for (let i = 0; i < 40 && published.includes(oldKid); i++) {
    await sleep(250);
    published = (await jwks(ROTATE_URL)).keys.map((k) => k.kid);
  }
  assert.deepEqual(published, [newKid], "the old key left the set after its tokens expired");
  await cached(await anonymousToken(ROTATE_URL));
});

test("examples/node-verifier: anyone signed in reads, only members write, forgeries get 401", async () => {
  const backend = process.env.GUESTPASS_NODE_BACKEND_URL;
  assert.ok(backend, "scripts/test.sh starts the example backend");
  const call = (method, path, token) =>
    fetch(`${backend}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const anonymous = await anonymousToken();
  const me = await call("GET", "/me", anonymous);
  assert.equal(me.status, 200);
  assert.equal((await me.json()).is_anonymous, true);
  assert.equal((await call("POST", "/notes", anonymous)).status, 403);
  assert.equal((await call("POST", "/notes", await memberToken())).status, 201);
  assert.equal((await call("GET", "/me", await anonymousToken(OTHER_URL))).status, 401);
  assert.equal((await call("GET", "/me")).status, 401);
});

test("a revoked session: the JWKS check accepts its token until exp, introspection refuses it at once", async () => {
  const email = `revoked-${process.pid}@example.com`;
  const password = "a long enough password";
  const providers = `${URL_}/api/client/v2.0/app/${APP}/auth/providers/local-userpass`;
  const post = (url, body) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal((await post(`${providers}/register`, { email, password })).status, 201);
  const login = await (await post(`${providers}/login`, { username: email, password })).json();
  const introspect = () =>
    fetch(`${URL_}/api/client/v2.0/auth/session/verify`, { headers: { authorization: `Bearer ${login.access_token}` } });
  assert.equal((await introspect()).status, 200);
  const logout = await fetch(`${URL_}/api/client/v2.0/auth/session`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${login.refresh_token}` },
  });
  assert.equal(logout.status, 204);
  await verifier()(login.access_token); // offline: still valid, by design, until exp
  assert.equal((await introspect()).status, 401, "the auth server knows at once");
  await sleep(TTL_MS + 1100);
  await assert.rejects(verifier()(login.access_token), /"exp" claim timestamp check failed/);
});
