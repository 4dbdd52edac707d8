// Passkeys through the SDK in Firefox: Debian's firefox-esr, headless, driven by geckodriver over
// the W3C WebDriver HTTP API (e2e/webdriver.mjs), with WebDriver's virtual authenticator (the
// WebAuthn standard's automation commands). The same real ceremonies between the browser and the
// auth server as e2e/passkey.test.mjs runs in Chromium through DevTools; Firefox has its own
// WebAuthn implementation and its own `parseCreationOptionsFromJSON` / `toJSON`, which the SDK
// relies on.
//
// Needs the demo as scripts/test.sh's e2e stage runs it, as e2e/passkey.test.mjs does:
// GUESTPASS_E2E_PASSKEY_READER_URL=http://localhost:<reader port>. GECKODRIVER names the driver
// (default: geckodriver on PATH; scripts/env.sh puts ~/.cargo/bin, where scripts/setup.sh --test
// installs it, first), FIREFOX the browser (default /usr/bin/firefox-esr).
//
// The SDK is loaded into the reader's plain 404 page (it runs no script of its own), so the only
// App on the page is the test's.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { inPageCall } from "./pages.mjs";
import { Session, startDriver } from "./webdriver.mjs";

const READER = (process.env.GUESTPASS_E2E_PASSKEY_READER_URL || "").replace(/\/+$/, "");
if (!READER) {
  throw new Error("GUESTPASS_E2E_PASSKEY_READER_URL is not set: see the top of this file");
}
const GECKODRIVER = process.env.GECKODRIVER || "geckodriver";
const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";

/** A platform authenticator holding discoverable credentials and verifying its user, as a phone's. */
const AUTHENTICATOR = {
  protocol: "ctap2",
  transport: "internal",
  hasResidentKey: true,
  hasUserVerification: true,
  isUserConsenting: true,
  isUserVerified: true,
};

let driver;

before(async () => {
  driver = await startDriver(GECKODRIVER);
});

after(async () => {
  await driver?.stop();
});

/** A new Firefox session (a new, empty profile) with one virtual authenticator and the App open. */
async function openReader() {
  const session = await Session.start(driver.url, {
    browserName: "firefox",
    // WebDriver's virtual authenticators are Firefox's test token, which is off by default;
    // without the USB token off as well the ceremony waits for a security key (measured on
    // Firefox 153 ESR: each pref alone leaves `create()` pending or refused).
    "moz:firefoxOptions": {
      binary: FIREFOX,
      args: ["-headless"],
      prefs: { "security.webauth.webauthn_enable_softtoken": true, "security.webauth.webauthn_enable_usbtoken": false },
    },
    "webauthn:virtualAuthenticators": true,
  });
  try {
    const authenticatorId = await session.addVirtualAuthenticator(AUTHENTICATOR);
    await openApp(session);
    return { session, authenticatorId };
  } catch (error) {
    await session.end(); // geckodriver runs one session at a time
    throw error;
  }
}

/** Loads the reader's 404 page, then the SDK and a new App on the auth server /config.json names. */
async function openApp(session) {
  await session.goto(`${READER}/404.html`);
  await session.run(async () => {
    const sdk = await import("/pkg/guestpass.js");
    await sdk.default();
    const config = await (await fetch("/config.json")).json();
    window.sdk = sdk;
    window.app = new sdk.App({ id: config.app_id, baseUrl: config.base_url });
  });
}

/** Runs an SDK call in the page: `{ ok, value }`, or the error's name, code and status. */
function call(session, fn) {
  return session.run(inPageCall, [fn.toString()]);
}

/** What the App holds for its current user, and what storage holds for the app. */
const current = (session) =>
  session.run(() => {
    const user = app.currentUser;
    return {
      id: user?.id ?? null,
      isAnonymous: user?.isAnonymous ?? null,
      refreshToken: user?.refreshToken ?? null,
      identities: user ? user.identities.map((i) => i.providerType).sort() : [],
      stored: Object.keys(localStorage).filter((key) => key.startsWith(`guestpass:${app.id}:`)).sort(),
    };
  });

const anonymous = async (session) => {
  const outcome = await call(session, async () => (await app.logIn(sdk.Credentials.anonymous())).id);
  assert.ok(outcome.ok, `the anonymous login failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
};

test("Firefox: passkeysSupported is true; a guest links a passkey and keeps its id; after the site's storage is cleared, the passkey brings back the same user", async () => {
  const { session, authenticatorId } = await openReader();
  try {
    assert.equal(await session.run(() => app.passkeysSupported), true);
    const guest = await anonymous(session);

    const linked = await call(session, () => app.currentUser.linkCredentials(sdk.Credentials.passkey()));
    assert.ok(linked.ok, `the link failed: ${JSON.stringify(linked)}`);
    const after = await current(session);
    assert.equal(after.id, guest, "the user keeps its id");
    assert.equal(after.isAnonymous, false);
    assert.deepEqual(after.identities, ["anon-user", "passkey"]);
    const credentials = await session.credentials(authenticatorId);
    assert.equal(credentials.length, 1, "one passkey on the authenticator");
    assert.equal(credentials[0].isResidentCredential, true, "discoverable: it logs in without a user name");

    // The reader clears the site's storage; the authenticator keeps its passkey.
    await session.run(() => {
      localStorage.clear();
      sessionStorage.clear();
    });
    await openApp(session);
    assert.equal((await current(session)).id, null, "nothing left here");
    const back = await call(session, async () => {
      const user = await app.logIn(sdk.Credentials.passkey());
      return { id: user.id, isAnonymous: user.isAnonymous, providerType: user.providerType };
    });
    assert.ok(back.ok, `the passkey login failed: ${JSON.stringify(back)}`);
    assert.deepEqual(back.value, { id: guest, isAnonymous: false, providerType: "passkey" });
  } finally {
    await session.end();
  }
});

test("Firefox: a refused verification rejects with PasskeyCancelled and leaves the guest exactly as it was", async () => {
  const { session, authenticatorId } = await openReader();
  try {
    const guest = await anonymous(session);
    const before = await current(session);
    await session.setUserVerified(authenticatorId, false);

    const link = await call(session, () => app.currentUser.linkCredentials(sdk.Credentials.passkey()));
    assert.equal(link.ok, false, "the link rejects");
    assert.equal(link.name, "GuestpassError", JSON.stringify(link));
    assert.equal(link.code, "PasskeyCancelled", JSON.stringify(link));
    assert.deepEqual(await current(session), before, "same id, tokens and stored records");

    const login = await call(session, () => app.logIn(sdk.Credentials.passkey()));
    assert.equal(login.code, "PasskeyCancelled", JSON.stringify(login));
    assert.deepEqual(await current(session), before, "a refused login changes nothing either");
    assert.equal((await session.credentials(authenticatorId)).length, 0, "no passkey was made");
    assert.equal(before.id, guest);
  } finally {
    await session.end();
  }
});
