/**
 * Remote mode of the resource-server middleware, on real Fastify and Express apps: introspection
 * of the service over HTTP (a Bearer service key, or an OAuth client's HTTP Basic credentials:
 * checked byte for byte against a recording server, and end to end against the service), a bounded cache of positive answers whose staleness is measured,
 * coalescing, timeouts, and outages (fail closed unless `onUnavailable: 'allow'`).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { isOptixError } from '../../src/core/errors.js';
import { authorizationHeader } from '../../src/middleware/remote.js';
import { createVerifier } from '../../src/middleware/core.js';
import type { RemoteModeOptions } from '../../src/middleware/types.js';
import { createHarness, type Harness, SERVICE_KEY, uniqueUser } from '../http/harness.js';
import { freePort } from '../helpers/ports.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { msUntil, type ResourceApp, startApps, startFastifyApp } from './apps.js';
import { behaviourTests, listen, revokeOverHttp } from './behaviour.js';

const remote = (url: string, extra: Partial<RemoteModeOptions> = {}): RemoteModeOptions => ({
  mode: 'remote',
  url,
  credentials: { serviceKey: SERVICE_KEY },
  ...extra,
});

/** Introspections the service has answered so far, by outcome (from its /metrics). */
async function verifications(serviceUrl: string, outcome: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const m = new RegExp(`optix_token_verifications_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * The staleness of `apps` for tokens warmed just before their revoke, per round: how long after
 * the revoke was acknowledged the revoked token was still accepted (the send time of the last
 * request that passed; 0 if none did), polling every 5 ms until it is refused. Every answer must
 * be 200 or 401.
 */
async function staleness(h: Harness, serviceUrl: string, apps: ResourceApp[], rounds: number) {
  const windows: number[] = [];
  const others: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const app = apps[i % apps.length]!;
    const l = await h.login(uniqueUser());
    const warm = await app.get('/whoami', l.accessToken);
    assert.equal(warm.status, 200, JSON.stringify(warm.body));
    await revokeOverHttp(serviceUrl, l.accessToken);
    const since = performance.now();
    let lastAccepted = 0;
    const probe = async () => {
      const sent = performance.now() - since;
      const { status, body } = await app.get('/whoami', l.accessToken);
      if (status === 200) lastAccepted = sent;
      else if (status !== 401) others.push(`${status} ${JSON.stringify(body)}`);
      return status === 401;
    };
    await msUntil(probe, since, 5000);
    windows.push(lastAccepted);
  }
  assert.deepEqual(others, [], 'every answer is 200 or 401');
  return windows.sort((a, b) => a - b);
}

describe('remote mode against the service (memory backend)', async () => {
  const h = await createHarness();
  const serviceUrl = await listen(h);
  const apps = await startApps(remote(serviceUrl));
  behaviourTests('remote', () => apps, h.login);

  test('revoked through the service: refused within the default bound of 1 s (measured)', async () => {
    const delays = await staleness(h, serviceUrl, apps, 6);
    console.log(
      `# remote, cacheMaxAgeMs 1000: a revoked token still accepted up to ${delays.map((d) => d.toFixed(0)).join(', ')} ms after the revoke`,
    );
    assert.ok(delays.at(-1)! <= 1000, `worst ${delays.at(-1)} ms`);
    assert.ok(delays.at(-1)! >= 100, 'the warm answer was served from the cache for a while');
  });

  test('the bound is configurable: cacheMaxAgeMs 200 → refused within 200 ms; 0 → at once', async () => {
    const short = await startApps(remote(serviceUrl, { cacheMaxAgeMs: 200 }));
    const delays = await staleness(h, serviceUrl, short, 6);
    console.log(`# remote, cacheMaxAgeMs 200: still accepted up to ${delays.at(-1)!.toFixed(0)} ms`);
    assert.ok(delays.at(-1)! <= 200, `worst ${delays.at(-1)} ms`);
    const none = await startApps(remote(serviceUrl, { cacheMaxAgeMs: 0 }));
    for (const app of none) {
      const l = await h.login(uniqueUser());
      assert.equal((await app.get('/whoami', l.accessToken)).status, 200);
      await revokeOverHttp(serviceUrl, l.accessToken);
      assert.equal((await app.get('/whoami', l.accessToken)).status, 401, app.name);
    }
  });

  test('concurrent requests with one token share one introspection; a warm token asks nothing', async () => {
    const l = await h.login(uniqueUser());
    const before = await verifications(serviceUrl, 'valid');
    for (const app of apps) {
      const results = await Promise.all(Array.from({ length: 20 }, () => app.get('/whoami', l.accessToken)));
      assert.ok(results.every((r) => r.status === 200));
    }
    const after = await verifications(serviceUrl, 'valid');
    // One per app (each has its own cache), however many requests.
    assert.equal(after - before, 2);
  });

  test('negative answers are never cached', async () => {
    const before = await verifications(serviceUrl, 'invalid');
    for (let i = 0; i < 3; i++) assert.equal((await apps[0]!.get('/whoami', 'not-a-token')).status, 401);
    assert.equal((await verifications(serviceUrl, 'invalid')) - before, 3);
  });

  test('a refused credential fails closed (503), never open', async () => {
    const [app] = await startApps(
      remote(serviceUrl, { credentials: { serviceKey: 'wrong-key-0123456789abcdef-0123456789' } }),
    );
    const l = await h.login(uniqueUser());
    const res = await app!.get('/whoami', l.accessToken);
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'ERR_STORE_UNAVAILABLE');
    assert.equal(res.headers.get('retry-after'), '1');
  });
});

describe('remote mode: the app introspects instance B of a service on Redis, revokes go through A', async () => {
  const url = await getTestRedisUrl();
  const env = { REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix() };
  const a = await createHarness(env);
  const b = await createHarness(env);
  const urlA = await listen(a);
  const urlB = await listen(b);
  const apps = await startApps(remote(urlB));
  behaviourTests('remote', () => apps, a.login);

  test('revoked at A: refused by the app within the default bound (measured)', async () => {
    const delays = await staleness(a, urlA, apps, 6);
    console.log(
      `# remote over Redis (revoke at A, introspect at B): still accepted up to ${delays.at(-1)!.toFixed(0)} ms`,
    );
    assert.ok(delays.at(-1)! <= 1000, `worst ${delays.at(-1)} ms`);
  });
});

describe('remote mode: outages and timeouts', async () => {
  const h = await createHarness();

  test('service unreachable: 503 ERR_STORE_UNAVAILABLE', async () => {
    const port = await freePort();
    const apps = await startApps(remote(`http://127.0.0.1:${port}`));
    const l = await h.login(uniqueUser());
    for (const app of apps) {
      const res = await app.get('/whoami', l.accessToken);
      assert.equal(res.status, 503, app.name);
      assert.equal(res.body.error.code, 'ERR_STORE_UNAVAILABLE');
      assert.ok(!JSON.stringify(res.body).includes(String(port)), 'nothing of the insides in the body');
    }
  });

  test('a service that never answers: 503 ERR_STORE_TIMEOUT at the deadline', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer(() => {}); // accepts, never answers
    silent.on('connection', (s) => sockets.add(s));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    after(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const { port } = silent.address() as AddressInfo;
    const apps = await startApps(remote(`http://127.0.0.1:${port}`, { timeoutMs: 300 }));
    const l = await h.login(uniqueUser());
    for (const app of apps) {
      const started = performance.now();
      const res = await app.get('/whoami', l.accessToken);
      const took = performance.now() - started;
      assert.equal(res.status, 503, app.name);
      assert.equal(res.body.error.code, 'ERR_STORE_TIMEOUT');
      assert.ok(took >= 290 && took < 1500, `took ${took} ms`);
    }
  });

  test("service down: fail closed; 'allow' serves a token seen before (marked), never an unseen one", async () => {
    const s = await createHarness();
    const serviceUrl = await listen(s);
    // cacheMaxAgeMs 0: every request asks the service, so the outage is met at once.
    const closed = await startApps(remote(serviceUrl, { cacheMaxAgeMs: 0 }));
    const open = await startApps(remote(serviceUrl, { cacheMaxAgeMs: 0, onUnavailable: 'allow' }));
    const seen = await s.login(uniqueUser(), { roles: ['trader'] });
    const unseen = await s.login(uniqueUser());
    for (const app of [...closed, ...open])
      assert.equal((await app.get('/whoami', seen.accessToken)).status, 200);
    await s.close();
    for (const app of closed) {
      const res = await app.get('/whoami', seen.accessToken);
      assert.equal(res.status, 503, app.name);
      assert.equal(res.body.error.code, 'ERR_STORE_UNAVAILABLE');
    }
    for (const app of open) {
      const res = await app.get('/whoami', seen.accessToken);
      assert.equal(res.status, 200, `${app.name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.auth.revocationChecked, false);
      assert.equal((await app.get('/trade', seen.accessToken)).status, 200, 'its roles still apply');
      assert.equal((await app.get('/whoami', unseen.accessToken)).status, 503, `${app.name}: unseen`);
    }
  });
});

describe('remote mode: client authentication (RFC 6749 §2.3.1)', async () => {
  const seen: Array<{ authorization: string | undefined; contentType: string | undefined; body: string }> =
    [];
  let active = true;
  let lifeSeconds = 60;
  const fake = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
      const answer = active
        ? {
            active: true,
            sub: 'kim',
            jti: 'j1',
            sid: 's1',
            exp: Math.floor(Date.now() / 1000) + lifeSeconds,
            scope: 'a b',
            roles: ['r'],
            mfa: true,
          }
        : { active: false };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  });
  fake.listen(0, '127.0.0.1');
  await once(fake, 'listening');
  after(() => fake.close());
  const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;

  test('{ clientId, clientSecret } → HTTP Basic of the form-encoded id and secret', async () => {
    const clientId = 'client:one é';
    const clientSecret = 's p+c/%';
    // By hand from RFC 6749 Appendix B: ':' → %3A, ' ' → '+', 'é' → %C3%A9, '+' → %2B, '/' → %2F, '%' → %25.
    const expected = `Basic ${Buffer.from('client%3Aone+%C3%A9:s+p%2Bc%2F%25').toString('base64')}`;
    assert.equal(authorizationHeader({ clientId, clientSecret }), expected);
    const app = await startFastifyApp({ mode: 'remote', url, credentials: { clientId, clientSecret } });
    const res = await app.get('/whoami', 'opaque.token.value');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.auth.scope, ['a', 'b']);
    assert.deepEqual(res.body.auth.permissions, ['a', 'b']);
    assert.equal(res.body.auth.mfa, true);
    const last = seen.at(-1)!;
    assert.equal(last.authorization, expected);
    assert.equal(last.contentType, 'application/x-www-form-urlencoded');
    assert.equal(last.body, 'token=opaque.token.value');
    // What a server does with it gives back the id and secret.
    const decoded = Buffer.from(expected.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const form = (s: string) => new URLSearchParams(`v=${s}`).get('v');
    assert.equal(form(decoded.slice(0, colon)), clientId);
    assert.equal(form(decoded.slice(colon + 1)), clientSecret);
  });

  test('the cache is bounded: the least recently used answer goes first', async () => {
    active = true;
    const verifier = createVerifier({
      mode: 'remote',
      url,
      credentials: { serviceKey: SERVICE_KEY },
      cacheMaxAgeMs: 60_000,
      cacheMaxEntries: 2,
    });
    after(() => verifier.close());
    const asked = () => seen.length;
    const start = asked();
    for (const t of ['t-a', 't-b', 't-a', 't-b']) await verifier.verify(t, '/x');
    assert.equal(asked() - start, 2, 'two tokens, two introspections, then from cache');
    await verifier.verify('t-c', '/x'); // evicts t-a, the least recently used
    await verifier.verify('t-b', '/x');
    assert.equal(asked() - start, 3);
    await verifier.verify('t-a', '/x');
    assert.equal(asked() - start, 4, 't-a was evicted and asked again');
  });

  test("an answer is never kept past the token's exp, whatever cacheMaxAgeMs", async () => {
    active = true;
    lifeSeconds = 1;
    const verifier = createVerifier({
      mode: 'remote',
      url,
      credentials: { serviceKey: SERVICE_KEY },
      cacheMaxAgeMs: 60_000,
    });
    after(() => verifier.close());
    const auth = await verifier.verify('t-short', '/x');
    lifeSeconds = 60;
    active = false; // the service would now say inactive
    await msUntil(async () => Date.now() >= auth.expiresAt, performance.now(), 3000, 20);
    const start = seen.length;
    await assert.rejects(
      verifier.verify('t-short', '/x'),
      (err) => isOptixError(err) && err.code === 'ERR_UNAUTHORIZED',
    );
    assert.equal(seen.length - start, 1, 'asked the service again once the token expired');
    active = true;
  });

  test("a token found inactive is dropped from the cache, even with 'allow'", async () => {
    active = true;
    const verifier = createVerifier({
      mode: 'remote',
      url,
      credentials: { serviceKey: SERVICE_KEY },
      cacheMaxAgeMs: 0,
      onUnavailable: 'allow',
    });
    after(() => verifier.close());
    assert.equal((await verifier.verify('tok-1', '/x')).userId, 'kim');
    active = false;
    await assert.rejects(
      verifier.verify('tok-1', '/x'),
      (err) => isOptixError(err) && err.code === 'ERR_UNAUTHORIZED',
    );
    fake.close();
    fake.closeAllConnections();
    await assert.rejects(
      verifier.verify('tok-1', '/x'),
      (err) => isOptixError(err) && err.code === 'ERR_STORE_UNAVAILABLE',
    );
  });

  test('bad options fail at construction with ERR_CONFIG', () => {
    const bad: unknown[] = [
      { mode: 'remote', url: 'not a url', credentials: { serviceKey: SERVICE_KEY } },
      { mode: 'remote', url: 'ftp://x', credentials: { serviceKey: SERVICE_KEY } },
      { mode: 'remote', url, credentials: { serviceKey: '' } },
      { mode: 'remote', url, credentials: { clientId: 'a' } },
      { mode: 'remote', url, credentials: { serviceKey: SERVICE_KEY }, cacheMaxAgeMs: -1 },
      { mode: 'remote', url, credentials: { serviceKey: SERVICE_KEY }, onUnavailable: 'maybe' },
      { mode: 'local' },
      { mode: 'other' },
    ];
    for (const options of bad) {
      assert.throws(
        () => createVerifier(options as RemoteModeOptions),
        (err) => isOptixError(err) && err.code === 'ERR_CONFIG',
        JSON.stringify(options),
      );
    }
  });
});

describe('remote mode with an OAuth client (client_secret_basic) against the service', async () => {
  const clientSecret = 'gateway secret: 0123456789abcdef+/%';
  const digest = createHash('sha256').update(clientSecret).digest('hex');
  const h = await createHarness({ OAUTH_CLIENTS: `resource-api:sha256:${digest}` });
  const serviceUrl = await listen(h);
  const app = await startFastifyApp({
    mode: 'remote',
    url: serviceUrl,
    credentials: { clientId: 'resource-api', clientSecret },
  });
  const wrong = await startFastifyApp({
    mode: 'remote',
    url: serviceUrl,
    credentials: { clientId: 'resource-api', clientSecret: `${clientSecret}x` },
  });
  after(async () => {
    await app.close();
    await wrong.close();
  });

  test('a good token passes; revoked through the service, it is refused within the bound', async () => {
    const l = await h.login(uniqueUser());
    const ok = await app.get('/whoami', l.accessToken);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await revokeOverHttp(serviceUrl, l.accessToken);
    const since = performance.now();
    await msUntil(async () => (await app.get('/whoami', l.accessToken)).status === 401, since, 5000);
    assert.ok(performance.now() - since < 1500, 'refused within the default bound (1 s) plus a poll');
  });

  test('a wrong client secret fails closed (503), never open', async () => {
    const l = await h.login(uniqueUser());
    const res = await wrong.get('/whoami', l.accessToken);
    assert.equal(res.status, 503, JSON.stringify(res.body));
  });
});
