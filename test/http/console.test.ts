/**
 * The web consoles over HTTP (no browser: that is test/browser/account-console.test.ts): pages and
 * assets with their security headers, served from source (transpiled) and from a build; and the
 * API the account console needs: user agents in words, and the paged timeline.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { consoleCsp, consoleRoutes } from '../../src/http/console.js';
import { toHttpError } from '../../src/http/errors.js';
import { pageOfEvents } from '../../src/http/event-pages.js';
import { describeUserAgent } from '../../src/http/user-agent.js';
import type { SecurityEvent } from '../../src/core/types.js';
import { ensureBuilt } from '../helpers/build.js';
import { createHarness } from './harness.js';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

describe('console pages and assets', async () => {
  const h = await createHarness({ CORS_ORIGINS: 'https://app.example.com' });

  test('/account: HTML with a strict CSP and security headers; the browser-mode apps may frame it', async () => {
    const res = await h.inject({ method: 'GET', url: '/account' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.match(csp, /frame-ancestors 'self' https:\/\/app\.example\.com/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-frame-options'], undefined, 'frame-ancestors decides');
    // No inline script or style in the page: everything is a file from 'self'.
    assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(res.body, /<style|style=/);
    assert.match(res.body, /<script type="module" src="\/console\/account\/main\.js"><\/script>/);
  });

  test('assets: TypeScript served as JavaScript (from source), CSS as CSS, with ETag revalidation', async () => {
    const js = await h.inject({ method: 'GET', url: '/console/shared/api.js' });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(js.body, /export function createApiClient/);
    assert.doesNotMatch(js.body, /: ApiClientOptions|interface /, 'types are stripped');
    assert.equal(js.headers['cache-control'], 'no-cache');
    assert.ok(js.headers['content-security-policy']);
    const again = await h.inject({
      method: 'GET',
      url: '/console/shared/api.js',
      headers: { 'if-none-match': String(js.headers.etag) },
    });
    assert.equal(again.statusCode, 304);
    const css = await h.inject({ method: 'GET', url: '/console/shared/console.css' });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
  });

  test('nothing else is reachable: sources, other files, traversal', async () => {
    for (const url of [
      '/console/shared/api.ts',
      '/console/tsconfig.json',
      '/console/../package.json',
      '/console/%2e%2e/src/server.js',
      '/console/shared/..%2f..%2fpackage.js',
      '/console/shared/nope.js',
      '/console/api.js',
      '/console/account/index.html',
    ]) {
      const res = await h.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, `${url}: ${res.statusCode} ${res.body}`);
      assert.doesNotMatch(res.body, /"name":\s*"optix-sessions"|import /);
    }
  });

  test('without browser-mode apps, only the service itself may frame the consoles', async () => {
    const plain = await createHarness();
    const res = await plain.inject({ method: 'GET', url: '/account' });
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'self'$/);
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(consoleCsp([]).includes('frame-ancestors'), true);
  });

  test('compiled mode serves a build as it is, and says so when it is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optix-web-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'account'));
    mkdirSync(join(dir, 'shared'));
    writeFileSync(join(dir, 'account', 'index.html'), '<!doctype html><title>built</title>');
    writeFileSync(join(dir, 'shared', 'api.js'), 'export const built = 1;');
    const app = Fastify();
    after(() => app.close());
    // The app's error mapping (buildApp has it; a bare Fastify would answer 500).
    app.setErrorHandler((err, _request, reply) => {
      const view = toHttpError(err);
      reply.code(view.status).send(view.body);
    });
    await app.register(consoleRoutes, {
      frameAncestors: [],
      webRoot: pathToFileURL(`${dir}/`),
      fromSource: false,
    });
    const page = await app.inject({ method: 'GET', url: '/account' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /built/);
    const js = await app.inject({ method: 'GET', url: '/console/shared/api.js' });
    assert.equal(js.body, 'export const built = 1;');
    const missing = await app.inject({ method: 'GET', url: '/console/shared/dom.js' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /npm run build/);
  });
});

describe('the built consoles (npm run build → dist/web/)', () => {
  test('the page and every module it imports are in the build, as JavaScript', async () => {
    ensureBuilt();
    const app = Fastify();
    after(() => app.close());
    await app.register(consoleRoutes, {
      frameAncestors: [],
      webRoot: new URL('../../dist/web/', import.meta.url),
      fromSource: false,
    });
    const page = await app.inject({ method: 'GET', url: '/account' });
    assert.equal(page.statusCode, 200);
    // Follow the module graph from the page's script and stylesheet.
    const pending = [...page.body.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
    const seen = new Set<string>();
    while (pending.length > 0) {
      const url = pending.pop()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      for (const m of res.body.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        pending.push(new URL(m[1]!, `http://x${url}`).pathname);
      }
    }
    assert.ok(
      seen.has('/console/account/main.js') && seen.has('/console/shared/api.js'),
      [...seen].join(' '),
    );
  });
});

describe('user agents in words', () => {
  test('browsers and systems by name; anything else is still words', () => {
    assert.equal(describeUserAgent(CHROME_WINDOWS).summary, 'Chrome on Windows 10');
    assert.equal(describeUserAgent(SAFARI_IPHONE).summary, 'Safari on iPhone');
    assert.equal(describeUserAgent(SAFARI_IPHONE).deviceType, 'mobile');
    assert.equal(describeUserAgent('curl/8.5.0').summary, 'curl');
    assert.equal(describeUserAgent('').summary, 'an unknown device');
    assert.equal(describeUserAgent(null).summary, 'an unknown device');
    assert.equal(describeUserAgent('\u0000\uffff'.repeat(600)).summary, 'an unknown device');
  });
});

describe('the API of the account console', async () => {
  const h = await createHarness();

  test('GET /v1/me/sessions: each session with its client in words, this one marked', async () => {
    const userId = `ua-${Date.now()}`;
    const a = await h.login(userId, { userAgent: CHROME_WINDOWS });
    await h.login(userId, { userAgent: SAFARI_IPHONE });
    const res = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: a.user });
    assert.equal(res.statusCode, 200, res.body);
    const sessions = res.json().sessions as Array<{ current: boolean; client: { summary: string } }>;
    assert.deepEqual(sessions.map((s) => [s.client.summary, s.current]).sort(), [
      ['Chrome on Windows 10', true],
      ['Safari on iPhone', false],
    ]);
  });

  test('GET /v1/me/security-events: pages newest first by nextUntil, no event repeated or lost, ties kept together', async () => {
    const userId = `pages-${Date.now()}`;
    const a = await h.login(userId, { userAgent: CHROME_WINDOWS });
    // 23 more events over 10 distinct milliseconds (ties of 2-3), well in the past.
    const base = Date.now() - 3_600_000;
    for (let i = 0; i < 23; i++) {
      await h.optix.stores.securityEvents.record({
        type: 'token_revoked',
        userId,
        timestamp: base + Math.floor(i / 3) * 1000,
        details: { i },
      });
    }
    const all = await h.optix.sessions.listSecurityEvents(userId, { limit: 1000 });
    const seen: string[] = [];
    let until: number | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const url: string = `/v1/me/security-events?limit=4${until !== null ? `&until=${until}` : ''}`;
      const res = await h.inject({ method: 'GET', url, headers: a.user });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as {
        events: Array<{ eventId: string; timestamp: number }>;
        nextUntil: number | null;
      };
      assert.ok(body.events.length <= 4);
      const stamps = body.events.map((e) => e.timestamp);
      assert.deepEqual(
        stamps,
        [...stamps].sort((x, y) => y - x),
        'newest first',
      );
      seen.push(...body.events.map((e) => e.eventId));
      until = body.nextUntil;
      if (until === null) break;
    }
    assert.equal(until, null, 'the last page says so');
    assert.equal(new Set(seen).size, seen.length, 'no event twice');
    assert.deepEqual(new Set(seen), new Set(all.map((e) => e.eventId)), 'every event once');
    const first = await h.inject({ method: 'GET', url: '/v1/me/security-events?limit=50', headers: a.user });
    const created = (first.json().events as Array<{ type: string; client: { summary: string } | null }>).find(
      (e) => e.type === 'session_created',
    );
    assert.equal(created?.client?.summary, 'Chrome on Windows 10');
  });

  test('pageOfEvents: a page of one millisecond moves past it', async () => {
    const events = Array.from(
      { length: 5 },
      (_, i) => ({ eventId: `e${i}`, timestamp: 100 }) as SecurityEvent,
    );
    const page = await pageOfEvents(async ({ limit }) => events.slice(0, limit), { limit: 3 });
    assert.equal(page.events.length, 3);
    assert.equal(page.nextUntil, 99);
    const last = await pageOfEvents(async () => events.slice(0, 2), { limit: 3 });
    assert.equal(last.nextUntil, null);
  });
});
