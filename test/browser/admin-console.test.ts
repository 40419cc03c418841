/**
 * The operator console (`/admin`) in headless Chromium (Debian's `chromium`, `playwright-core`),
 * served by the service itself (memory backend) with `CORS_ORIGINS` = its own origin:
 *
 * - the operator signs in with the link `optix-sessions admin-link` prints, sees the live overview
 *   (it updates without a reload), finds a user and revokes everything with a reason: the user's
 *   access token is inactive at `/v1/introspect` at once, the user's account console shows them
 *   signed out, and the user's timeline shows the operator and the reason;
 * - a signed-in user without the admin role gets no console and no data (every `/v1/operator/*`
 *   answer is 403);
 * - axe-core finds no serious or critical violation on any state of the page (desktop and phone);
 * - no Content-Security-Policy violation happens (no inline script or style);
 * - the screenshots of the README (`docs/screenshots/admin-*.png`) are taken here.
 *
 * Three browser contexts (operator, user, non-admin): separate cookie jars, like three browsers.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { run } from '../../src/cli/main.js';
import { freePort } from '../helpers/ports.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { launchChromium } from '../helpers/chromium.js';
import { createHarness, remember, SERVICE_KEY } from '../http/harness.js';

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** axe-core on the page as it is now: the serious and critical violations. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) does not apply.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  );
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target)).slice(0, 200)}`,
    );
}

async function cliLink(origin: string, ...extra: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await run(['--url', origin, 'admin-link', ...extra], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { OPTIX_SERVICE_KEY: SERVICE_KEY, LOG_LEVEL: 'silent' },
    isTTY: false,
  });
  assert.equal(code, 0, err);
  const link = out.trim();
  remember(link.split('#code=')[1]);
  return link;
}

describe('operator console in Chromium', async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const h = await createHarness({ CORS_ORIGINS: origin });
  await h.app.listen({ host: '127.0.0.1', port });
  const browser: Browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  const cspViolations: string[] = [];
  after(async () => {
    for (const c of contexts) await c.close();
    await browser.close();
    await h.close();
  });

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) cspViolations.push(msg.text());
    });
    return page;
  }

  /** A browser-mode login by the service (as the login service would do): the hand-off code. */
  async function handoff(userId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: h.service,
      payload: {
        userId,
        ipAddress: '198.51.100.23',
        userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
        transport: 'browser',
        ...extra,
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().handoffCode;
  }

  /** Opens a console page with a hand-off code; resolves with the access token the page got. */
  async function openSignedIn(page: Page, path: string, code: string): Promise<string> {
    const exchanged = page.waitForResponse((r) => r.url().endsWith('/v1/browser/session'));
    await page.goto(`${origin}${path}#code=${code}`);
    const res = await exchanged;
    assert.equal(res.status(), 200, await res.text());
    const token = ((await res.json()) as { accessToken: string }).accessToken;
    remember(token);
    return token;
  }

  const ready = (page: Page, state: string) =>
    page.waitForSelector(`body[data-ready="${state}"]`, { state: 'attached', timeout: 20_000 });

  // Some traffic for the charts: logins, refreshes, a revocation and a detected reuse.
  const traffic = async () => {
    for (let i = 0; i < 6; i++) {
      const login = await h.login(`trader-${i}`);
      const r = await h.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken: login.refreshToken },
      });
      assert.equal(r.statusCode, 200);
      if (i === 0) {
        await h.inject({ method: 'POST', url: '/v1/revoke', payload: { token: r.json().refreshToken } });
      }
    }
  };

  test('an operator revokes a user: token inactive at once, the user’s console signed out, the reason on the timeline', async () => {
    await traffic();
    const victimId = 'trader-alice';
    const userPage = await newPage();
    const userToken = await openSignedIn(userPage, '/account', await handoff(victimId));
    await ready(userPage, 'true');
    assert.equal((await h.introspect(userToken)).json().active, true);

    const opPage = await newPage();
    await opPage.goto(await cliLink(origin, '--operator', 'ops-jane', '--email', 'jane@optix.example'));
    await ready(opPage, 'true');
    assert.match((await opPage.textContent('#who')) ?? '', /jane@optix\.example/);
    // The overview updates without a reload: its stamp changes on the next poll.
    const stamp = await opPage.getAttribute('body', 'data-overview');
    // (Locators, not waitForFunction: the page's CSP forbids the eval that one uses.)
    await opPage.waitForSelector(`body:not([data-overview="${stamp}"])`, {
      state: 'attached',
      timeout: 15_000,
    });
    const loginsTile = await opPage.textContent('#tiles');
    assert.match(loginsTile ?? '', /Logins, last hour\s*\d+/);
    assert.equal(await opPage.locator('#charts figure').count(), 6);
    // The live-session sample of this minute arrives with a later poll.
    await opPage.locator('#tiles', { hasText: '…' }).waitFor({ state: 'hidden', timeout: 15_000 });
    assert.deepEqual(await seriousViolations(opPage), [], 'axe: the overview');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await opPage.screenshot({ path: `${SCREENSHOTS}admin-overview.png`, fullPage: true });

    await opPage.fill('#user-id', victimId);
    await opPage.press('#user-id', 'Enter');
    await opPage.waitForSelector('#user-sessions [data-session-id]');
    assert.equal(await opPage.locator('#user-sessions [data-session-id]').count(), 1);
    assert.match(
      (await opPage.textContent('#user-sessions')) ?? '',
      /Chrome on Windows/,
      'the device in words',
    );
    assert.deepEqual(await seriousViolations(opPage), [], 'axe: a user');

    // Keyboard only: the revoke button, the reason dialog, Enter.
    await opPage.focus('#revoke-all');
    await opPage.keyboard.press('Enter');
    await opPage.waitForSelector('dialog[open] textarea');
    assert.equal(await opPage.evaluate('document.activeElement.id'), 'reason', 'focus moves into the dialog');
    assert.deepEqual(await seriousViolations(opPage), [], 'axe: the reason dialog');
    await opPage.keyboard.type('Phone stolen, ticket SEC-1042');
    // Tab past Cancel to the confirm button.
    await opPage.keyboard.press('Tab');
    await opPage.keyboard.press('Tab');
    assert.equal(await opPage.evaluate('document.activeElement.type'), 'submit');
    await opPage.keyboard.press('Enter');
    await opPage.locator('#status', { hasText: 'signed out everywhere' }).waitFor();
    assert.equal(await opPage.evaluate('document.activeElement.id'), 'revoke-all', 'focus returns');

    // The user's token is inactive at once.
    assert.equal((await h.introspect(userToken)).json().active, false);
    // The operator sees the action on the user's timeline, with the operator and the reason.
    await opPage.locator('#user-timeline', { hasText: 'SEC-1042' }).waitFor();
    const timeline = (await opPage.textContent('#user-timeline')) ?? '';
    assert.match(timeline, /operator ops-jane/);
    assert.match(timeline, /signed you out everywhere/);
    assert.equal(await opPage.locator('#user-sessions [data-session-id]').count(), 0);
    await opPage.screenshot({ path: `${SCREENSHOTS}admin-user.png`, fullPage: true });

    // The user's account console: signed out on its next use (a reload here).
    await userPage.reload();
    await userPage.waitForSelector('#signed-out:not([hidden])', { timeout: 20_000 });
    assert.equal(await userPage.locator('#console').isHidden(), true);
  });

  test('an operator ends one session of a user; the other keeps working', async () => {
    const userId = 'trader-carol';
    const phone = await h.login(userId, {
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1',
    });
    const desk = await h.login(userId);
    const page = await newPage();
    await page.goto(await cliLink(origin, '--operator', 'ops-ends'));
    await ready(page, 'true');
    await page.fill('#user-id', userId);
    await page.click('#find-form button[type="submit"]');
    const item = page.locator(`#user-sessions [data-session-id="${phone.sessionId}"]`);
    await item.waitFor();
    assert.match((await item.textContent()) ?? '', /iPhone/);
    await item.locator('button').click();
    await page.fill('dialog[open] textarea', 'lost phone');
    await page.click('dialog[open] button[type="submit"]');
    await page.locator('#status', { hasText: 'The session was ended' }).waitFor();
    await item.waitFor({ state: 'detached' });
    assert.equal((await h.introspect(phone.accessToken)).json().active, false);
    assert.equal((await h.introspect(desk.accessToken)).json().active, true);
    await page.locator('#user-timeline', { hasText: 'lost phone' }).waitFor();
  });

  test('a signed-in user without the admin role gets no console and no data', async () => {
    const page = await newPage();
    const operatorAnswers: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/v1/operator/')) operatorAnswers.push(r.status());
    });
    const token = await openSignedIn(page, '/admin', await handoff('trader-bob', { roles: ['trader'] }));
    await ready(page, 'forbidden');
    assert.equal(await page.locator('#forbidden').isVisible(), true);
    assert.equal(await page.locator('#console').isHidden(), true);
    assert.ok(operatorAnswers.length > 0 && operatorAnswers.every((s) => s === 403), String(operatorAnswers));
    for (const url of ['/v1/operator/overview', '/v1/operator/users/trader-alice', '/v1/operator/me']) {
      const res = await h.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, 403, url);
      assert.doesNotMatch(res.body, /trader-alice"|sessions|minutes/);
    }
    assert.deepEqual(await seriousViolations(page), [], 'axe: the refusal');
  });

  test('signed out, and on a phone: readable, no serious accessibility violation', async () => {
    const signedOut = await newPage();
    await signedOut.goto(`${origin}/admin`);
    await ready(signedOut, 'signed-out');
    assert.deepEqual(await seriousViolations(signedOut), [], 'axe: signed out');

    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto(await cliLink(origin, '--operator', 'ops-phone'));
    await ready(phone, 'true');
    // Nothing wider than the screen: no sideways scrolling.
    const overflow = (await phone.evaluate(
      'document.documentElement.scrollWidth - window.innerWidth',
    )) as number;
    assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
    assert.deepEqual(await seriousViolations(phone), [], 'axe: phone');
    await phone.screenshot({ path: `${SCREENSHOTS}admin-phone.png`, fullPage: true });
    assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violation');
  });

  test('on Redis: store health (topology, memory against maxmemory, latency, slow log) in the browser', async () => {
    // A server of this test's own, with a memory limit and every command in the slow log.
    const redis = await startRedisServer({
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction', '--slowlog-log-slower-than', '0'],
    });
    after(() => redis.stop());
    const redisPort = await freePort();
    const redisOrigin = `http://127.0.0.1:${redisPort}`;
    const onRedis = await createHarness({
      CORS_ORIGINS: redisOrigin,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix(),
    });
    await onRedis.app.listen({ host: '127.0.0.1', port: redisPort });
    for (let i = 0; i < 4; i++) await onRedis.login(`redis-trader-${i}`);
    const page = await newPage();
    await page.goto(await cliLink(redisOrigin, '--operator', 'ops-redis'));
    await ready(page, 'true');
    const health = (await page.textContent('#redis')) ?? '';
    assert.match(health, /Healthy/);
    assert.match(health, /standalone/);
    assert.match(health, /of 64 MB/);
    assert.match(health, /noeviction/);
    assert.match(health, /\d+\.\d\d ms/);
    assert.equal(await page.locator('#redis meter').count(), 1);
    assert.ok((await page.locator('#redis tbody tr').count()) > 0, 'the slow log lists commands');
    assert.deepEqual(await seriousViolations(page), [], 'axe: store health');
    await page.locator('section:has(#redis)').screenshot({ path: `${SCREENSHOTS}admin-redis.png` });
    await onRedis.close();
  });
});
