/**
 * The account console (`/account`) in headless Chromium (Debian's `chromium`, `playwright-core`),
 * served by the service itself and signed in as browser mode does it: the login service (the test
 * here) creates a session with `"transport":"browser"` and sends the user to
 * `/account#code=<hand-off code>`; the page exchanges the code for the refresh cookie.
 *
 * - memory backend: sign out another device (its token is inactive at /v1/introspect), sign out
 *   all others by keyboard, a reload signs in again by cookie, trusted devices and the timeline in
 *   words, paging, stop trusting; no CSP violation; axe-core finds no serious or critical issue at
 *   desktop and phone widths; screenshots for the README (docs/screenshots/).
 * - Redis backend: two service instances on one spawned redis-server; a sign-out on one is seen
 *   by the other (introspection, and the signed-out device's own console).
 *
 * axe-core is evaluated through the DevTools protocol (`page.evaluate`), which the page's CSP does
 * not govern: the page itself still runs under `script-src 'self'`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, request, type Server } from 'node:http';
import { after, describe, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { freePort } from '../helpers/ports.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { launchChromium } from '../helpers/chromium.js';
import { createHarness, type Harness, remember, SERVICE_KEY } from '../http/harness.js';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
// Functions passed to page.evaluate run in the page: its globals, declared here for this file only
// (the project's tsconfig has no DOM library).
// biome-ignore lint/suspicious/noExplicitAny: the page's own globals
declare const document: any;
// biome-ignore lint/suspicious/noExplicitAny: the page's own globals
declare const window: any;

const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** POSTs JSON on a fresh connection: the login service's call to OPTIX (service key). */
function postJson(url: string, payload: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' },
      },
      async (res) => {
        let body = '';
        for await (const chunk of res) body += chunk;
        resolve({ status: res.statusCode ?? 0, body });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

function launch(): Promise<Browser> {
  return launchChromium();
}

/** A fresh browser profile (its own cookie jar): one "device". */
function device(browser: Browser, userAgent = CHROME_WINDOWS): Promise<BrowserContext> {
  return browser.newContext({ userAgent, viewport: { width: 1280, height: 900 } });
}

interface OpenedConsole {
  page: Page;
  sessionId: string;
  /** Console errors of the page (CSP violations land here). */
  errors: string[];
}

/**
 * Signs `userId` in on `context` as the login service would: a browser-mode session, then the
 * page at `/account#code=…`. Waits until the console has loaded its data.
 */
async function openConsole(context: BrowserContext, baseUrl: string, userId: string): Promise<OpenedConsole> {
  const created = await postJson(`${baseUrl}/v1/sessions`, {
    userId,
    ipAddress: '198.51.100.23',
    userAgent: CHROME_WINDOWS,
    transport: 'browser',
  });
  assert.equal(created.status, 201, created.body);
  const body = JSON.parse(created.body) as { handoffCode: string; session: { sessionId: string } };
  remember(body.handoffCode);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto(`${baseUrl}/account#code=${encodeURIComponent(body.handoffCode)}`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(new URL(page.url()).hash, '', 'the hand-off code left the address bar');
  return { page, sessionId: body.session.sessionId, errors };
}

/** The text a reader sees in `locator` (rendered: hidden parts left out, line breaks kept). */
// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is what is rendered, on purpose
const shown = (locator: Locator) => locator.innerText();

const sessionItem = (page: Page, sessionId: string) => page.locator(`li[data-session-id="${sessionId}"]`);

async function assertActive(h: Harness, token: string, active: boolean, what: string): Promise<void> {
  const res = await h.introspect(token);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().active, active, `${what}: introspection says active=${!active}`);
}

/** axe-core on the page as it is: no serious or critical violation. */
async function assertAccessible(page: Page, label: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is the global the evaluated source defines
    const axe = (globalThis as any).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: { id: string; impact: string; help: string; nodes: unknown[] }) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
    }));
  })) as Array<{ id: string; impact: string; help: string; nodes: number }>;
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${label}: axe found ${JSON.stringify(bad)}`);
}

function assertNoCspViolation(opened: OpenedConsole): void {
  const csp = opened.errors.filter((e) => /Content Security Policy|Refused to/i.test(e));
  assert.deepEqual(csp, [], 'no CSP violation');
}

async function confirmDialog(page: Page, confirmLabel: string): Promise<void> {
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: confirmLabel, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

describe('account console in Chromium (memory)', async () => {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // The console's own origin is a browser-mode origin (its cookie routes check Origin).
  const h = await createHarness({ CORS_ORIGINS: baseUrl, REFRESH_GRACE_SECONDS: '0', PORT: String(port) });
  await h.app.listen({ host: '127.0.0.1', port });
  const browser = await launch();
  after(async () => {
    await browser.close();
  });
  const userId = 'kim@optix.example';
  const context = await device(browser);
  const opened = await openConsole(context, baseUrl, userId);
  const { page } = opened;

  test('shows this device, marked, with its browser and OS in words', async () => {
    const mine = sessionItem(page, opened.sessionId);
    await mine.waitFor();
    assert.match(await shown(mine), /Chrome on Windows 10\s*This device/);
    assert.match(await shown(mine), /IP address 198\.51\.100\.23/);
    assert.equal(await mine.getByRole('button', { name: /^Sign out/ }).count(), 0, 'no sign-out of itself');
    assert.match(await shown(page.locator('#who')), /kim@optix\.example/);
  });

  test('signs out another device after a confirmation; its token is inactive at /v1/introspect', async () => {
    const phone = await h.login(userId, { userAgent: SAFARI_IPHONE, ipAddress: '203.0.113.50' });
    await assertActive(h, phone.accessToken, true, 'before');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const item = sessionItem(page, phone.sessionId);
    assert.match(await shown(item), /Safari on iPhone/);
    // Cancel first: nothing happens.
    await item.getByRole('button', { name: /^Sign out Safari on iPhone/ }).click();
    await confirmDialog(page, 'Cancel');
    await assertActive(h, phone.accessToken, true, 'after cancel');
    await item.getByRole('button', { name: /^Sign out Safari on iPhone/ }).click();
    await confirmDialog(page, 'Sign out');
    await item.waitFor({ state: 'detached' });
    await assertActive(h, phone.accessToken, false, 'after sign-out');
    await page.locator('#status', { hasText: /Safari on iPhone was signed out/ }).waitFor();
  });

  test('signs out all others by keyboard; this device stays signed in; a reload signs in again by cookie', async () => {
    const others = [
      await h.login(userId, { userAgent: FIREFOX_LINUX, ipAddress: '192.0.2.10' }),
      await h.login(userId, { userAgent: SAFARI_IPHONE, ipAddress: '192.0.2.11' }),
    ];
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('#sessions > li').count(), 3);
    await page.focus('#sign-out-others');
    await page.keyboard.press('Enter');
    await page.locator('dialog[open]').waitFor();
    // Focus starts on Cancel (the safe choice); Tab reaches the confirm button.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Sign out all others');
    await page.keyboard.press('Enter');
    await page.locator('dialog').waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.querySelectorAll('#sessions > li').length === 1);
    // The button is gone (no other session left): focus moves to the list's heading, not the void.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'sessions-title');
    for (const o of others) await assertActive(h, o.accessToken, false, 'another session');
    await sessionItem(page, opened.sessionId).waitFor();
    await page.locator('#status', { hasText: /2 other sessions were signed out/ }).waitFor();
  });

  test('trusted devices with their expiry and the timeline in plain words, paged; stop trusting', async () => {
    // A trusted laptop (trusting needs an MFA-verified session of that device).
    const laptop = await h.login(userId, {
      userAgent: FIREFOX_LINUX,
      ipAddress: '192.0.2.20',
      mfaVerified: true,
      deviceFingerprint: 'fp-work-laptop-0001',
    });
    const trusted = await h.inject({
      method: 'POST',
      url: '/v1/me/devices',
      headers: { ...laptop.user, 'user-agent': FIREFOX_LINUX },
      payload: { deviceName: 'Work laptop', deviceType: 'desktop', durationDays: 30 },
    });
    assert.equal(trusted.statusCode, 201, trusted.body);
    // A stolen refresh token replayed after its rotation: theft detection ends that session.
    const phone = await h.login(userId, { userAgent: SAFARI_IPHONE, ipAddress: '203.0.113.51' });
    const rotated = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: phone.refreshToken },
    });
    assert.equal(rotated.statusCode, 200, rotated.body);
    remember(rotated.json().refreshToken, rotated.json().accessToken);
    // A grace window of 0 ms still holds the rotation's own millisecond (the window is inclusive).
    const rotatedBy = Date.now();
    while (Date.now() <= rotatedBy) await new Promise((resolve) => setImmediate(resolve));
    const replay = await h.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: phone.refreshToken },
    });
    assert.equal(replay.statusCode, 401, replay.body);
    // Older history, enough for a second timeline page.
    const base = Date.now() - 7 * 86_400_000;
    for (let i = 0; i < 25; i++) {
      await h.optix.stores.securityEvents.record({
        type: 'session_created',
        userId,
        timestamp: base + i * 3_600_000,
        ipAddress: '192.0.2.30',
        userAgent: FIREFOX_LINUX,
        details: {},
      });
    }
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');

    const devices = page.locator('#devices');
    assert.match(await shown(devices), /Work laptop/);
    assert.match(await shown(devices), /Trust expires\s+in 30 days/);
    const timeline = page.locator('#timeline');
    const text = await shown(timeline);
    assert.match(text, /Someone reused an old refresh token — we signed that session out/);
    assert.match(text, /New sign-in from Chrome on Windows 10/);
    assert.match(text, /You trusted a device from Firefox on Linux/);
    // Newest first: the reuse (just now) before the week-old sign-ins.
    assert.ok(text.indexOf('Someone reused') < text.lastIndexOf('New sign-in from Firefox on Linux'));
    const firstPage = await timeline.locator(':scope > li').count();
    assert.equal(firstPage, 20);
    await page.getByRole('button', { name: 'Show older events' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('#timeline > li').length > n, firstPage);
    const all = await timeline.locator(':scope > li').count();
    const stored = await h.optix.sessions.listSecurityEvents(userId, { limit: 1000 });
    // Every event once, paged in two or more steps.
    while (await page.getByRole('button', { name: 'Show older events' }).isVisible()) {
      await page.getByRole('button', { name: 'Show older events' }).click();
      await page.waitForFunction(() => !document.getElementById('timeline-more').disabled);
    }
    assert.ok(all > firstPage);
    assert.equal(await timeline.locator(':scope > li').count(), stored.length);

    // Screenshots for the README: desktop, then phone width (scrolled back to the top).
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: new URL('account-desktop.png', SCREENSHOTS).pathname, fullPage: true });
    await assertAccessible(page, 'desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px too wide)`);
    // The phone's first screen (a full-page shot at this width is a long strip).
    await page.screenshot({ path: new URL('account-phone.png', SCREENSHOTS).pathname });
    await assertAccessible(page, 'phone');
    // The confirmation dialog too.
    await page.getByRole('button', { name: 'Stop trusting Work laptop' }).click();
    await page.locator('dialog[open]').waitFor();
    await assertAccessible(page, 'dialog');
    await confirmDialog(page, 'Stop trusting');
    await page.waitForFunction(
      () => document.getElementById('devices')?.textContent === 'You trust no device.',
    );
    await page.setViewportSize({ width: 1280, height: 900 });
    assertNoCspViolation(opened);
  });

  test('signing out here ends the session; the page shows the signed-out state, accessibly', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    const stillThere = await h.optix.sessions.getSession(opened.sessionId);
    assert.equal(stillThere, null, 'the session ended');
    await page.reload();
    await page.waitForSelector('body[data-ready="signed-out"]');
    await assertAccessible(page, 'signed out');
    assertNoCspViolation(opened);
  });
});

describe('account console embedded in the trading app (iframe)', async () => {
  const [port, appPort, evilPort] = [await freePort(), await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${port}`;
  const appOrigin = `http://127.0.0.1:${appPort}`;
  const evilOrigin = `http://127.0.0.1:${evilPort}`;
  // The app is a browser-mode origin, so it may frame the console; the other site is not.
  const h = await createHarness({ CORS_ORIGINS: `${baseUrl},${appOrigin}` });
  await h.app.listen({ host: '127.0.0.1', port });
  let frameSrc = '';
  const host = (p: number) =>
    new Promise<Server>((resolve) => {
      const server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          `<!doctype html><html lang="en"><title>app</title><iframe title="Your devices" src="${frameSrc}"></iframe></html>`,
        );
      });
      server.listen(p, '127.0.0.1', () => resolve(server));
    });
  const appServer = await host(appPort);
  const evilServer = await host(evilPort);
  const browser = await launch();
  after(async () => {
    await browser.close();
    await new Promise((resolve) => appServer.close(resolve));
    await new Promise((resolve) => evilServer.close(resolve));
    await h.close();
  });

  async function handoff(userId: string): Promise<string> {
    const created = await postJson(`${baseUrl}/v1/sessions`, {
      userId,
      ipAddress: '198.51.100.23',
      userAgent: CHROME_WINDOWS,
      transport: 'browser',
    });
    const code = (JSON.parse(created.body) as { handoffCode: string }).handoffCode;
    remember(code);
    return code;
  }

  test('the app embeds it and it works there; another site cannot frame it (frame-ancestors)', async () => {
    frameSrc = `${baseUrl}/account#code=${encodeURIComponent(await handoff('framed'))}`;
    const page = await (await device(browser)).newPage();
    await page.goto(`${appOrigin}/`);
    const frame = page.frameLocator('iframe');
    await frame.locator('body[data-ready="true"]').waitFor();
    assert.match(await shown(frame.locator('#sessions')), /Chrome on Windows 10\s*This device/);

    const code = await handoff('framed-elsewhere');
    frameSrc = `${baseUrl}/account#code=${encodeURIComponent(code)}`;
    const evil = await (await device(browser)).newPage();
    // Chromium reports the refusal on the console of the framing page.
    const refused = evil.waitForEvent('console', {
      predicate: (msg) => /frame-ancestors/.test(msg.text()),
      timeout: 15_000,
    });
    await evil.goto(`${evilOrigin}/`);
    assert.match((await refused).text(), /The request has been blocked/);
    // The console never ran there: the hand-off code is still unused.
    const exchange = await h.inject({
      method: 'POST',
      url: '/v1/browser/session',
      headers: { origin: baseUrl, 'x-optix-csrf': '1' },
      payload: { code },
    });
    assert.equal(exchange.statusCode, 200, exchange.body);
  });
});

describe('account console in Chromium: misconfigured', async () => {
  test("with the service's own origin missing from CORS_ORIGINS, the page says so (no silent failure)", async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const h = await createHarness({ CORS_ORIGINS: 'https://app.example.com' });
    await h.app.listen({ host: '127.0.0.1', port });
    const browser = await launch();
    after(async () => {
      await browser.close();
      await h.close();
    });
    const created = await postJson(`${baseUrl}/v1/sessions`, {
      userId: 'misconfigured',
      ipAddress: '198.51.100.23',
      userAgent: CHROME_WINDOWS,
      transport: 'browser',
    });
    const code = (JSON.parse(created.body) as { handoffCode: string }).handoffCode;
    remember(code);
    const page = await (await device(browser)).newPage();
    await page.goto(`${baseUrl}/account#code=${encodeURIComponent(code)}`);
    await page.waitForSelector('body[data-ready="error"]');
    await page.locator('#status', { hasText: /not allowed \(CORS_ORIGINS\)/ }).waitFor();
    assert.equal(await page.locator('#console').isVisible(), false);
  });
});

describe('account console in Chromium (Redis, two service instances)', async () => {
  const redis = await startRedisServer();
  const [portA, portB] = [await freePort(), await freePort()];
  const urlA = `http://127.0.0.1:${portA}`;
  const urlB = `http://127.0.0.1:${portB}`;
  const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix(), CORS_ORIGINS: `${urlA},${urlB}` };
  const a = await createHarness(env);
  const b = await createHarness(env);
  await a.app.listen({ host: '127.0.0.1', port: portA });
  await b.app.listen({ host: '127.0.0.1', port: portB });
  const browser = await launch();
  after(async () => {
    await browser.close();
    await a.close();
    await b.close();
    await redis.stop();
  });

  test('a sign-out in the console on one instance is seen by the other', async () => {
    const userId = 'lee@optix.example';
    // Two devices, each signed in to the console on a different instance (own cookie jars).
    const laptop = await openConsole(await device(browser), urlA, userId);
    const phone = await openConsole(await device(browser, SAFARI_IPHONE), urlB, userId);
    // A third, an app session created through instance B.
    const app = await b.login(userId, { userAgent: FIREFOX_LINUX });
    await assertActive(b, app.accessToken, true, 'before, on B');

    await laptop.page.reload();
    await laptop.page.waitForSelector('body[data-ready="true"]');
    assert.equal(await laptop.page.locator('#sessions > li').count(), 3);
    await laptop.page.locator('#sign-out-others').click();
    await confirmDialog(laptop.page, 'Sign out all others');
    await laptop.page.waitForFunction(() => document.querySelectorAll('#sessions > li').length === 1);

    // Instance B sees it: the app's token is inactive there, and the phone's console is signed out.
    await assertActive(b, app.accessToken, false, 'after, on B');
    await phone.page.reload();
    await phone.page.waitForSelector('body[data-ready="signed-out"]');
    assert.equal(await phone.page.locator('#signed-out').isVisible(), true);
    // And the laptop, on A, still works.
    await laptop.page.reload();
    await laptop.page.waitForSelector('body[data-ready="true"]');
    await sessionItem(laptop.page, laptop.sessionId).waitFor();
    assertNoCspViolation(laptop);
    assertNoCspViolation(phone);
  });
});
