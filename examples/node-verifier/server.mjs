// A runnable app backend that trusts guestpass tokens:
//   GUESTPASS_ISSUER=http://127.0.0.1:8080 GUESTPASS_APP_ID=guestpass-demo node server.mjs
// GET /me answers the token's user; POST /notes is only for users who are not anonymous.
// It listens on PORT (default 0: a free port) and prints "listening on http://...".
import { createServer } from "node:http";
import { createVerifier, mayWrite } from "./verify.mjs";

const verify = createVerifier({
  issuer: process.env.GUESTPASS_ISSUER ?? "http://127.0.0.1:8080",
  audience: process.env.GUESTPASS_APP_ID ?? "guestpass-demo",
  cooldownMs: Number(process.env.JWKS_COOLDOWN_MS ?? 30_000),
});

function answer(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (!token) return answer(res, 401, { error: "a bearer token is required" });
  let claims;
  try {
    claims = await verify(token);
  } catch {
    return answer(res, 401, { error: "invalid token" });
  }
  if (req.method === "GET" && req.url === "/me") {
    return answer(res, 200, { user_id: claims.sub, is_anonymous: claims.is_anonymous });
  }
  if (req.method === "POST" && req.url === "/notes") {
    if (!mayWrite(claims)) return answer(res, 403, { error: "sign in to write" });
    return answer(res, 201, { user_id: claims.sub });
  }
  answer(res, 404, { error: "not found" });
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
