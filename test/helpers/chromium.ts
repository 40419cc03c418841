/**
 * Debian's Chromium for the browser tests, driven by playwright-core (no browser download works on
 * these machines: /work/shared/NOTES.md). No silent skip: without Chromium a browser suite fails
 * (CI installs it; see .ci/run).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Root needs --no-sandbox; the rest keeps Chromium off the network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails (never skips) when Chromium is missing. */
export function assertChromium(): void {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
}

/** A headless Chromium. */
export function launchChromium(): Promise<Browser> {
  assertChromium();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
