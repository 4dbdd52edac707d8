// What the verifier tests share: the servers scripts/test.sh started, and logins on them.
export const APP = process.env.GUESTPASS_VERIFY_APP ?? "verify-app";
export const URL_ = process.env.GUESTPASS_VERIFY_URL;
export const ROTATE_URL = process.env.GUESTPASS_ROTATE_URL;
export const OTHER_URL = process.env.GUESTPASS_OTHER_URL;
export const ADMIN_KEY = process.env.GUESTPASS_ADMIN_KEY;
export const TTL_MS = 2000;

if (!URL_ || !ROTATE_URL || !OTHER_URL || !ADMIN_KEY) {
  throw new Error("run through scripts/test.sh verifiers (GUESTPASS_VERIFY_URL etc. unset)");
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const api = (base) => `${base}/api/client/v2.0/app/${APP}/auth/providers`;

export async function anonymousToken(base = URL_) {
  return (await post(`${api(base)}/anon-user/login`, {})).access_token;
}

let n = 0;
export async function memberToken(base = URL_) {
  const email = `member-${process.pid}-${n++}@example.com`;
  const password = "a long enough password";
  await post(`${api(base)}/local-userpass/register`, { email, password });
  return (await post(`${api(base)}/local-userpass/login`, { username: email, password })).access_token;
}

export async function rotate(base, startsIn = 0) {
  return post(`${base}/api/admin/signing-keys`, { starts_in: startsIn }, { authorization: `Bearer ${ADMIN_KEY}` });
}

export async function jwks(base) {
  const res = await fetch(`${base}/.well-known/jwks.json`);
  return { cacheControl: res.headers.get("cache-control"), keys: (await res.json()).keys };
}

export function kidOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url")).kid;
}
