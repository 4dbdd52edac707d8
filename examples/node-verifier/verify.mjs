// Verifying a guestpass access token in an app's own backend, with `jose`:
// the key set is fetched from the auth server's /.well-known/jwks.json, cached, and fetched
// again when a token names a key the cached set lacks (a rotation), at most once per cooldown.
import { createRemoteJWKSet, jwtVerify } from "jose";

/**
 * @param {object} options
 * @param {string} options.issuer   the auth server's public URL (the tokens' `iss`)
 * @param {string} options.audience the app id (the tokens' `aud`)
 * @param {number} [options.cooldownMs] least time between two fetches of the key set
 */
export function createVerifier({ issuer, audience, cooldownMs = 30_000 }) {
  const base = issuer.replace(/\/+$/, "");
  const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: 10 * 60_000,
  });
  /** Resolves to the token's claims, or rejects: bad signature, unknown key, wrong algorithm,
   *  wrong issuer or audience, expired, or not an access token. */
  return async function verify(token) {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: base,
      audience,
      // Only the algorithm guestpass signs with: a token cannot pick another (no HS256 keyed
      // with the public key, no `none`).
      algorithms: ["ES256"],
    });
    if (payload.typ !== "access") throw new Error("not an access token");
    return payload;
  };
}

/** The `is_anonymous` rule: anonymous users may read, only signed-in ones may write. */
export function mayWrite(claims) {
  return claims.is_anonymous === false;
}
