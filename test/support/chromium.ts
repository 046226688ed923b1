// Debian's Chromium driven by playwright-core (it cannot download browsers here): where it is,
// and the flags every browser test launches it with.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Screenshots and other files a browser test leaves for a person to look at. */
export const TEST_OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", ".tmp", "test-output");

/** Fails the suite with the fix when there is no Chromium, instead of a launch error. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
}
