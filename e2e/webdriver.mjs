// A few W3C WebDriver commands over HTTP (Node's fetch), enough to drive several windows of one
// browser session: the multi-tab tests in WebKit (e2e/webkit-tabs.test.mjs) use it against
// WebKitGTK's WebKitWebDriver, the passkey tests in Firefox (e2e/firefox-passkey.test.mjs)
// against geckodriver. The commands are those of the WebDriver standard
// (https://www.w3.org/TR/webdriver2/): new session, navigate, new window, switch, execute async
// script, delete session; and WebAuthn's virtual authenticators (its "User Agent Automation"
// extension commands, https://www.w3.org/TR/webauthn-3/#sctn-automation).
import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (the driver is then told to listen on it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `binary --port=<free port>` and waits (up to 10 s) until it answers `GET /status`.
 * Resolves with `{ url, stop() }`.
 */
export async function startDriver(binary, args = []) {
  const port = await freePort();
  const child = spawn(binary, [...args, `--port=${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${binary} exited (${child.exitCode}): ${output}`);
    try {
      const status = await fetch(`${url}/status`);
      if (status.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`${binary} did not answer on ${url} within 10 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill();
        // WebKitWebDriver may linger over a session it still holds.
        setTimeout(() => child.kill("SIGKILL"), 2000).unref();
      }),
  };
}

/**
 * Sends one command; resolves with the response's `value`, throws the driver's error. Gives up
 * after 60 s (a script's own timeout is 30 s), so a driver that stops answering fails the test
 * rather than hanging it.
 */
async function command(url, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    signal: AbortSignal.timeout(60_000),
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let value;
  try {
    ({ value } = JSON.parse(text));
  } catch {
    throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  }
  if (!response.ok || (value && typeof value === "object" && "error" in value && response.status >= 400)) {
    throw new Error(`${method} ${path}: ${value?.error}: ${value?.message}`);
  }
  return value;
}

/** One browser session: its windows share one profile (storage, Web Locks). */
export class Session {
  static async start(driverUrl, capabilities = {}) {
    const value = await command(driverUrl, "POST", "/session", { capabilities: { alwaysMatch: capabilities } });
    return new Session(driverUrl, value.sessionId, value.capabilities);
  }

  constructor(driverUrl, id, capabilities) {
    this.base = `${driverUrl}/session/${id}`;
    this.capabilities = capabilities;
  }

  #send(method, path, body) {
    return command(this.base, method, path, body);
  }

  /** The current window's handle. */
  window() {
    return this.#send("GET", "/window");
  }

  /**
   * Opens a new top-level window (not switched to); its handle. A window rather than a tab:
   * WebKit's background tabs are `hidden` (document.visibilityState), its windows visible.
   */
  async newWindow() {
    return (await this.#send("POST", "/window/new", { type: "window" })).handle;
  }

  switchTo(handle) {
    return this.#send("POST", "/window", { handle });
  }

  /** Navigates the current window (and waits for the load, unless the session's
   * `pageLoadStrategy` is `"none"`). */
  goto(url) {
    return this.#send("POST", "/url", { url });
  }

  /**
   * Runs `fn(...args)` in the current window (a function of the page, awaited there) and
   * resolves with its JSON-serializable result; a rejection comes back as a thrown Error.
   */
  async run(fn, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn}).apply(null, Array.from(arguments).slice(0, -1)))
        .then((value) => done({ ok: value === undefined ? null : value }), (error) => done({ error: String(error && error.stack || error) }));`;
    const result = await this.#send("POST", "/execute/async", { script, args });
    if (result && "error" in result) throw new Error(`in the page: ${result.error}`);
    return result?.ok;
  }

  /**
   * Adds a virtual authenticator to the session (the session must have been started with the
   * `webauthn:virtualAuthenticators` capability); resolves with its id.
   */
  addVirtualAuthenticator(options) {
    return this.#send("POST", "/webauthn/authenticator", options);
  }

  /** The credentials a virtual authenticator holds. */
  credentials(authenticatorId) {
    return this.#send("GET", `/webauthn/authenticator/${authenticatorId}/credentials`);
  }

  /** Whether the virtual authenticator's user verification succeeds from now on. */
  setUserVerified(authenticatorId, isUserVerified) {
    return this.#send("POST", `/webauthn/authenticator/${authenticatorId}/uv`, { isUserVerified });
  }

  /** Ends the session (closes its windows). */
  end() {
    return this.#send("DELETE", "");
  }
}
