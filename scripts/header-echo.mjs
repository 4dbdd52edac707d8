// A second origin for the SDK's browser tests (scripts/test.sh starts it): a real HTTP server on
// its own port that keeps what it received, so a test can check which requests carried an
// `Authorization` header. `GET /seen` answers the requests so far (without itself) as JSON
// `[{method, path, authorization}]`; a path under `/api/client/` (a protocol route) answers 200
// with JSON of the wrong shape (a number for a token, no user id), so a test can show what the SDK
// makes of a malformed answer; any other path answers 200 `ok`. CORS is open, and a
// preflight lets `Authorization` through, so that a header the page sends does arrive here.
import { createServer } from "node:http";

const seen = [];
const cors = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
  "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
};
const server = createServer((request, response) => {
  if (request.method === "OPTIONS") {
    response.writeHead(204, cors).end();
    return;
  }
  if (request.url === "/seen") {
    response.writeHead(200, { ...cors, "Content-Type": "application/json" }).end(JSON.stringify(seen));
    return;
  }
  seen.push({ method: request.method, path: request.url, authorization: request.headers.authorization ?? null });
  if (request.url.startsWith("/api/client/")) {
    const wrongShape = { access_token: 5, refresh_token: ["r"], device_id: null };
    response.writeHead(200, { ...cors, "Content-Type": "application/json" }).end(JSON.stringify(wrongShape));
    return;
  }
  response.writeHead(200, { ...cors, "Content-Type": "text/plain" }).end("ok");
});
server.listen(0, "127.0.0.1", () => {
  console.log(`header-echo listening on http://127.0.0.1:${server.address().port}`);
});
