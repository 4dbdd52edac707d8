// examples/rust-verifier (jsonwebtoken + a cached JWKS) against real servers: one long-running
// process answers every token, so its cached key set carries across them as in a backend.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createHmac } from "node:crypto";
import { SignJWT, generateKeyPair, decodeJwt } from "jose";
import { APP, URL_, OTHER_URL, TTL_MS, sleep, anonymousToken, memberToken, rotate, jwks, kidOf } from "./common.mjs";

const BIN = process.env.GUESTPASS_RUST_VERIFIER;
const ROTATE_RUST_URL = process.env.GUESTPASS_ROTATE_RUST_URL;

function startVerifier(issuer) {
  assert.ok(BIN, "GUESTPASS_RUST_VERIFIER names the built example (scripts/test.sh verifiers)");
  const child = spawn(BIN, [issuer, APP, "0"], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask(token) {
      child.stdin.write(`${token}\n`);
      return (await lines.next()).value;
    },
    stop: () => child.kill(),
  };
}

test("the Rust example accepts tokens, applies is_anonymous, refuses every forgery", async () => {
  const v = startVerifier(URL_);
  try {
    const anonymous = await anonymousToken();
    assert.equal(await v.ask(anonymous), `ok ${decodeJwt(anonymous).sub} anonymous=true may_write=false`);
    assert.match(await v.ask(await memberToken()), /^ok \w+ anonymous=false may_write=true$/);
    const [h, p, s] = anonymous.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url"));
    const tampered = [h, Buffer.from(JSON.stringify({ ...claims, is_anonymous: false })).toString("base64url"), s].join(".");
    assert.match(await v.ask(tampered), /^refused invalid: InvalidSignature/);
    const { privateKey } = await generateKeyPair("ES256");
    const unknown = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "not-a-guestpass-key" }).sign(privateKey);
    assert.equal(await v.ask(unknown), "refused unknown key");
    const key = (await jwks(URL_)).keys[0];
    const hsHeader = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: kidOf(anonymous) })).toString("base64url");
    const mac = createHmac("sha256", JSON.stringify(key)).update(`${hsHeader}.${p}`).digest("base64url");
    assert.equal(await v.ask(`${hsHeader}.${p}.${mac}`), "refused algorithm HS256 is not accepted");
    assert.equal(await v.ask(await anonymousToken(OTHER_URL)), "refused unknown key");
    await sleep(TTL_MS + 1100);
    assert.match(await v.ask(anonymous), /^refused invalid: ExpiredSignature/);
  } finally {
    v.stop();
  }
});

test("the Rust example keeps working across a rotation (refetch on the unknown kid)", async () => {
  assert.ok(ROTATE_RUST_URL, "GUESTPASS_ROTATE_RUST_URL is set by scripts/test.sh verifiers");
  const v = startVerifier(ROTATE_RUST_URL);
  try {
    const before = await anonymousToken(ROTATE_RUST_URL);
    assert.match(await v.ask(before), /^ok /);
    const { kid } = await rotate(ROTATE_RUST_URL);
    const after = await anonymousToken(ROTATE_RUST_URL);
    assert.equal(kidOf(after), kid);
    assert.match(await v.ask(after), /^ok /, "the cached set lacked the new kid: refetched");
    assert.match(await v.ask(before), /^ok /, "the old key is still in the set");
  } finally {
    v.stop();
  }
});
