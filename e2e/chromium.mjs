// The one way the page tests and benchmarks start Chromium: Debian's /usr/bin/chromium through
// playwright-core (never a browser download), headless, with the background services off that
// this machine's closed network would otherwise refuse many times a second.
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.GUESTPASS_E2E_CHROMIUM || "/usr/bin/chromium";

export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
