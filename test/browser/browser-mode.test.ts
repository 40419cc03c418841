/**
 * Browser mode in a real browser: headless Chromium (Debian's `chromium`, driven by
 * `playwright-core`; `.ci/run` installs it). Three servers on 127.0.0.1:
 *
 * - OPTIX (the app, on memory) with `CORS_ORIGINS` = the app's origin;
 * - the app (origin A): its page, and a stub login service at `POST /login` that calls OPTIX with
 *   the service key (`transport: "browser"`) and hands the one-time code to the page;
 * - another site (origin B, not allowed) whose page tries to refresh, read and revoke.
 *
 * The page on A logs in, refreshes by cookie, reads its sessions with its in-memory access token
 * and logs out; the page on B gets nothing and changes nothing; the refresh token is never
 * visible to page scripts (document.cookie, response bodies, readable headers).
 *
 * Secure cookies over plain HTTP: Chromium treats http://127.0.0.1 as potentially trustworthy, so
 * it stores a `Secure`, `__Secure-` cookie set by http://127.0.0.1:PORT — verified here; no TLS
 * is needed for the test.
 *
 * Both pages are same-site with OPTIX (one host, different ports), so `SameSite=Strict` does not
 * keep the cookie from B's requests: the server-side Origin check is what refuses them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { assertChromium, CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.js';
import { createHarness, remember, SERVICE_KEY } from '../http/harness.js';

const COOKIE = '__Secure-optix_refresh';

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
const portOf = (s: Server) => (s.address() as AddressInfo).port;
const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/**
 * POSTs JSON on a fresh connection (`agent: false`): the stub login service's call to OPTIX. A
 * pooled keep-alive connection left idle while Chromium starts can be closed by the server just
 * as it is reused, which fails the call for reasons that have nothing to do with the test.
 */
function postJson(
  url: string,
  authorization: string,
  payload: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { authorization, 'content-type': 'application/json' } },
      (res) => {
        readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

/**
 * The app's page: the OPTIX client a browser app would write. Every call returns what page
 * scripts could see (status, body text, readable headers, document.cookie) so the test can look
 * for the refresh token in it.
 */
function appPage(optixUrl: string): string {
  return `<!doctype html><html><body><script>
const OPTIX = ${JSON.stringify(optixUrl)};
let accessToken = null; // in memory only
async function seen(res) {
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, text, body, headers: [...res.headers.entries()], cookie: document.cookie };
}
const cookieCall = (path, init = {}) => fetch(OPTIX + path, {
  method: 'POST', credentials: 'include', ...init,
  headers: { 'x-optix-csrf': '1', ...(init.headers || {}) },
});
window.app = {
  async login(userId) {
    const login = await seen(await fetch('/login', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }),
    }));
    const res = await seen(await cookieCall('/v1/browser/session', {
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: login.body.code }),
    }));
    if (res.status === 200) accessToken = res.body.accessToken;
    return { login, res };
  },
  async refresh() {
    const res = await seen(await cookieCall('/v1/browser/refresh'));
    if (res.status === 200) accessToken = res.body.accessToken;
    return res;
  },
  async sessions() {
    return seen(await fetch(OPTIX + '/v1/me/sessions', { headers: { authorization: 'Bearer ' + accessToken } }));
  },
  async logout() {
    const res = await seen(await cookieCall('/v1/browser/logout'));
    accessToken = null;
    return res;
  },
  token: () => accessToken,
};
</script></body></html>`;
}

/** The other site's page: tries every way to use the victim's cookie. */
function evilPage(optixUrl: string): string {
  return `<!doctype html><html><body><script>
const OPTIX = ${JSON.stringify(optixUrl)};
async function attempt(label, path, init) {
  try {
    const res = await fetch(OPTIX + path, init);
    return { label, outcome: 'response', status: res.status, text: await res.text().catch(() => ''), type: res.type };
  } catch (err) {
    return { label, outcome: 'blocked', error: String(err) };
  }
}
window.evil = async () => [
  await attempt('refresh with the CSRF header', '/v1/browser/refresh',
    { method: 'POST', credentials: 'include', headers: { 'x-optix-csrf': '1' } }),
  await attempt('refresh as a simple request', '/v1/browser/refresh', { method: 'POST', credentials: 'include' }),
  await attempt('refresh no-cors', '/v1/browser/refresh', { method: 'POST', credentials: 'include', mode: 'no-cors' }),
  await attempt('read sessions', '/v1/me/sessions', { credentials: 'include' }),
  await attempt('logout with the CSRF header', '/v1/browser/logout',
    { method: 'POST', credentials: 'include', headers: { 'x-optix-csrf': '1' } }),
  await attempt('logout as a simple request', '/v1/browser/logout', { method: 'POST', credentials: 'include' }),
  await attempt('logout no-cors', '/v1/browser/logout', { method: 'POST', credentials: 'include', mode: 'no-cors' }),
  { label: 'document.cookie', outcome: 'cookie', text: document.cookie },
];
</script></body></html>`;
}

/** What a page script saw of one response. */
interface Seen {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON of the page's response, checked by the asserts
  body: any;
  headers: Array<[string, string]>;
  cookie: string;
}
interface Exchange {
  login: Seen;
  res: Seen;
}

/** Evaluates `expression` in the page (a promise is awaited) and returns its JSON value. */
function run<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

describe('browser mode in Chromium', async () => {
  // Set up here, not in a `before` hook: the harness registers its own `after` on the suite.
  assertChromium();
  let optixUrl = '';
  /** Every refresh cookie value the browser held: none may ever be visible to a page. */
  const cookieValues = new Set<string>();
  let loginTarget = '';
  const appServer = await listen(async (req, res) => {
    if (req.method === 'POST' && req.url === '/login') {
      // The login service: it has authenticated the user (a stub here) and holds the service key.
      const { userId } = JSON.parse(await readBody(req)) as { userId: string };
      const created = await postJson(`${loginTarget}/v1/sessions`, `Bearer ${SERVICE_KEY}`, {
        userId,
        ipAddress: '127.0.0.1',
        userAgent: 'login-stub',
        transport: 'browser',
      });
      const body = JSON.parse(created.body) as { handoffCode: string };
      remember(body.handoffCode);
      res.writeHead(created.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: body.handoffCode }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(appPage(optixUrl));
  });
  const evilServer = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(evilPage(optixUrl));
  });
  const appOrigin = `http://127.0.0.1:${portOf(appServer)}`;
  const evilOrigin = `http://127.0.0.1:${portOf(evilServer)}`;
  const optix = await createHarness({ CORS_ORIGINS: appOrigin });
  await optix.app.listen({ host: '127.0.0.1', port: 0 });
  optixUrl = `http://127.0.0.1:${(optix.app.server.address() as AddressInfo).port}`;
  loginTarget = optixUrl;
  const profile = mkdtempSync(join(tmpdir(), 'optix-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });

  after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await close(appServer);
    await close(evilServer);
    await optix.close();
  });

  /** The refresh cookie as the browser holds it (read through the browser, not a page). */
  async function jarCookie() {
    const all = await context.cookies(`${optixUrl}/v1/browser/refresh`);
    const c = all.find((x) => x.name === COOKIE) ?? null;
    if (c) {
      cookieValues.add(c.value);
      remember(c.value);
    }
    return c;
  }

  /** Asserts no refresh cookie value appears in anything a page script saw. */
  function assertInvisible(seen: unknown) {
    const text = JSON.stringify(seen);
    for (const v of cookieValues) assert.ok(!text.includes(v), 'a page script saw the refresh token');
    assert.ok(!text.includes(COOKIE), 'a page script saw the refresh cookie');
  }

  async function openApp(): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${appOrigin}/`);
    return page;
  }

  test('the app logs in, refreshes by cookie, reads its sessions, and logs out; a page on another origin gets nothing', async () => {
    const page = await openApp();

    // 1. Log in: the login service gets a code, the page exchanges it for the cookie.
    const login = await run<Exchange>(page, 'app.login("chromium-user")');
    assert.equal(login.login.status, 201, JSON.stringify(login.login));
    assert.equal(login.res.status, 200, JSON.stringify(login.res));
    const first = await jarCookie();
    assert.ok(first, 'Chromium stored the refresh cookie (Secure over http://127.0.0.1)');
    assert.equal(first.httpOnly, true);
    assert.equal(first.secure, true);
    assert.equal(first.sameSite, 'Strict');
    assert.equal(first.path, '/v1/browser');
    assert.deepEqual(Object.keys(login.res.body).sort(), ['accessToken', 'expiresIn', 'tokenType']);
    remember(login.res.body.accessToken);
    assertInvisible(login);

    // 2. Refresh by cookie: a new access token, a new cookie.
    const refreshed = await run<Seen>(page, 'app.refresh()');
    assert.equal(refreshed.status, 200, refreshed.text);
    remember(refreshed.body.accessToken);
    assert.notEqual(refreshed.body.accessToken, login.res.body.accessToken);
    const second = await jarCookie();
    assert.ok(second && second.value !== first.value, 'the cookie rotated');
    assertInvisible(refreshed);

    // 3. Read the sessions with the in-memory access token.
    const sessions = await run<Seen>(page, 'app.sessions()');
    assert.equal(sessions.status, 200, sessions.text);
    assert.equal(sessions.body.sessions.length, 1);
    assert.equal(sessions.body.sessions[0].current, true);
    assertInvisible(sessions);

    // 4. The other site tries: refresh, read, revoke. Everything is blocked or refused.
    const family = optix.optix.jwt.decodeVerified(refreshed.body.accessToken).fid as string;
    const familyBefore = await optix.optix.stores.refreshFamilies.get(family);
    const evil = await context.newPage();
    await evil.goto(`${evilOrigin}/`);
    const attempts = await run<Array<Record<string, unknown>>>(evil, 'evil()');
    for (const a of attempts) {
      if (a.outcome === 'cookie') {
        assert.equal(a.text, '', 'the other page sees no cookie');
        continue;
      }
      // Preflighted and simple requests alike: the page never gets a readable answer.
      assert.ok(a.outcome === 'blocked' || a.type === 'opaque', `${a.label}: ${JSON.stringify(a)}`);
    }
    assertInvisible(attempts);
    await evil.close();
    // …and nothing changed on the server: the family neither rotated nor revoked, the session lives.
    assert.deepEqual(await optix.optix.stores.refreshFamilies.get(family), familyBefore);
    assert.equal((await jarCookie())?.value, second.value, 'the cookie was not rotated or cleared');
    const still = await run<Seen>(page, 'app.sessions()');
    assert.equal(still.status, 200, 'the session survived the other page');

    // 5. The app can still refresh (its cookie was not spent by the other page) …
    const again = await run<Seen>(page, 'app.refresh()');
    assert.equal(again.status, 200, again.text);
    remember(again.body.accessToken);
    await jarCookie();
    assertInvisible(again);

    // 6. … and logs out: the cookie is gone, the access token and the session are dead.
    const token = await run<string>(page, 'app.token()');
    const out = await run<Seen>(page, 'app.logout()');
    assert.equal(out.status, 204, out.text);
    assert.equal(await jarCookie(), null, 'the cookie was cleared');
    const revoked = await optix.inject({
      method: 'GET',
      url: '/v1/me/sessions',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(revoked.statusCode, 401);
    const afterLogout = await run<Seen>(page, 'app.refresh()');
    assert.equal(afterLogout.status, 401);
    assertInvisible(afterLogout);
    assert.ok(cookieValues.size >= 3, 'the test looked for every cookie the browser held');
    await page.close();
  });
});
