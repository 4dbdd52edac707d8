// What the e2e tests share: the reader's page sizes and wait, screenshots, the reader's list,
// the client API as plain `fetch`, and Chromium's virtual authenticator (DevTools' WebAuthn
// domain) standing in for a phone's fingerprint reader.

import path from "node:path";
import { fileURLToPath } from "node:url";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const TIMEOUT = 20_000;

/** `artifacts/<name>` at the repository's root, where a test's screenshots go. */
export function artifactsDir(name) {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "artifacts", name);
}

/** A screenshot taker for `dir`, numbering its files in order: `NN-<name>.png`. */
export function screenshots(dir) {
  let number = 0;
  return async function shot(page, name, { fullPage = false } = {}) {
    number += 1;
    const file = path.join(dir, `${String(number).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage, animations: "disabled" });
    return file;
  };
}

/** Waits for the reader to settle in `state` (body[data-state]). */
export async function settled(page, state = "ready") {
  await page.waitForSelector(`body[data-state="${state}"]`, { timeout: TIMEOUT });
}

/** The slugs on the reader's reading list at `base`, sorted. */
export async function readingSlugs(page, base) {
  await page.goto(`${base}/#/reading-list`);
  await settled(page);
  await page.waitForSelector('[data-testid="reading-list"], [data-testid="reading-list-empty"]', { timeout: TIMEOUT });
  return page.$$eval('[data-testid="reading-item"]', (items) => items.map((i) => i.dataset.slug).sort());
}

/** A caller of the client API at `base` (`/api/client/v2.0`): `{ status, body }`, JSON both ways. */
export function clientApi(base) {
  return async function api(method, route, { body, bearer } = {}) {
    const headers = { "Content-Type": "application/json" };
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    const response = await fetch(`${base}/api/client/v2.0${route}`, { method, headers, body: body && JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

/** Adds a platform authenticator that holds passkeys and always verifies its user; its id. */
export async function addAuthenticator(cdp) {
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return authenticatorId;
}

/**
 * Runs in the page: evaluates `source` (a function's text) and calls it with `arg`; resolves
 * with `{ ok: true, value }`, or with the error's name, code, status and message, so a test can
 * assert on an SDK error. Passed whole to the page by both drivers (playwright's
 * `page.evaluate(inPageCall, [source, arg])`, e2e/webdriver.mjs's `session.run`), so it uses
 * nothing from this module.
 */
export async function inPageCall([source, arg]) {
  try {
    return { ok: true, value: await (0, eval)(`(${source})`)(arg) };
  } catch (error) {
    return { ok: false, name: error?.name, code: error?.code, status: error?.status, message: String(error?.message) };
  }
}
