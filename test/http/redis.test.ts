/**
 * The app on Redis (a redis-server spawned on a spare port): the main flow, rate limits shared by
 * two app instances, readiness with Redis INFO, and fail-closed behaviour while Redis is down.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { RedisClient } from '../../src/connection/client.js';
import { parseRedisUrl } from '../../src/connection/config.js';
import { getTestRedisUrl, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, errorCode, SECOND_SERVICE_KEY, uniqueUser } from './harness.js';

describe('HTTP on Redis', async () => {
  const url = await getTestRedisUrl();
  const prefix = uniquePrefix();
  const env = { REDIS_URL: url, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_INTROSPECT_PER_MINUTE: '5' };
  // REDIS_URL may name a Sentinel or a Cluster (docs/operations.md: running the suite against a
  // deployment); the tests below expect what that topology does.
  const topology = parseRedisUrl(url).topology;
  const a = await createHarness(env);
  const b = await createHarness(env);

  test('the main flow across two instances: create at A, refresh at B, revoke at A, introspect at B', async () => {
    const login = await a.login(uniqueUser());
    const me = await b.inject({ method: 'GET', url: '/v1/me/sessions', headers: login.user });
    assert.equal(me.statusCode, 200);
    const refreshed = await b.inject({
      method: 'POST',
      url: '/v1/token/refresh',
      payload: { refreshToken: login.refreshToken },
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const pair = refreshed.json();
    const revoke = await a.inject({
      method: 'POST',
      url: '/v1/revoke',
      payload: { token: pair.refreshToken },
    });
    assert.equal(revoke.statusCode, 200);
    const intro = await b.introspect(pair.accessToken);
    assert.deepEqual(intro.json(), { active: false });
  });

  test('introspection limits are counted in each instance (no Redis round trip): 5 per minute at A, B unaffected', async () => {
    const login = await a.login(uniqueUser());
    const call = (h: typeof a) =>
      h.inject({
        method: 'POST',
        url: '/v1/introspect',
        headers: { authorization: `Bearer ${SECOND_SERVICE_KEY}` }, // a key no other test used
        payload: { token: login.accessToken },
      });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await call(a)).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429]);
    assert.equal((await call(b)).statusCode, 200);
  });

  test('concurrent requests of one client are counted exactly, in a few coalesced Redis calls', {
    skip:
      topology === 'cluster' &&
      'counts script calls in INFO commandstats of one node; on Cluster the calls land on the master of the bucket key',
  }, async () => {
    const limitEnv = { ...env, REDIS_KEY_PREFIX: uniquePrefix(), RATE_LIMIT_REVOKE_PER_MINUTE: '20' };
    const c = await createHarness(limitEnv);
    const d = await createHarness(limitEnv);
    const admin = new RedisClient({ url, clientSideCache: false });
    await admin.connect();
    const scriptCalls = async () => {
      const stats = await admin.info('commandstats');
      return ['cmdstat_evalsha', 'cmdstat_eval'].reduce((sum, k) => {
        const m = /calls=(\d+)/.exec(String(stats[k] ?? ''));
        return sum + (m ? Number(m[1]) : 0);
      }, 0);
    };
    try {
      const before = await scriptCalls();
      const responses = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          (i % 2 === 0 ? c : d).inject({
            method: 'POST',
            url: '/v1/revoke',
            remoteAddress: '198.51.100.60',
            payload: { token: 'not-a-token' },
          }),
        ),
      );
      const calls = (await scriptCalls()) - before;
      const codes = responses.map((r) => r.statusCode);
      assert.equal(codes.filter((code) => code === 200).length, 20, codes.join(','));
      assert.equal(codes.filter((code) => code === 429).length, 40);
      assert.ok(calls >= 2 && calls <= 12, `60 requests took ${calls} Redis calls`);
    } finally {
      await admin.close();
      await Promise.all([c.close(), d.close()]);
    }
  });

  test('REDIS_CLIENT_CACHE: on by default; false runs every check against Redis, with the same answers', async () => {
    assert.notEqual(a.optix.redis?.tracking, null);
    const plain = await createHarness({ ...env, REDIS_CLIENT_CACHE: 'false' });
    try {
      assert.equal(plain.optix.redis?.tracking, null);
      const login = await a.login(uniqueUser());
      const introspect = (h: typeof a) => h.introspect(login.accessToken);
      assert.equal((await introspect(plain)).json().active, true);
      await a.inject({ method: 'POST', url: '/v1/revoke', payload: { token: login.accessToken } });
      assert.deepEqual((await introspect(plain)).json(), { active: false });
    } finally {
      await plain.close();
    }
  });

  test('REDIS_REPLICA_ACKS defaults to 0 on a standalone server, 1 on Sentinel and Cluster', () => {
    assert.equal(a.optix.redis?.options.replicaAcks, topology === 'standalone' ? 0 : 1);
  });

  test('REDIS_REPLICA_ACKS reaches the client: a standalone server without replica acknowledges revocations alone, counted', {
    skip:
      topology !== 'standalone' &&
      'needs a master without replicas; test/topologies/replica-acks.test.ts covers masters with them',
  }, async () => {
    const acked = await createHarness({ ...env, REDIS_REPLICA_ACKS: '1' });
    try {
      assert.equal(acked.optix.redis?.options.replicaAcks, 1);
      const login = await acked.login(uniqueUser());
      const revoke = await acked.inject({
        method: 'POST',
        url: '/v1/revoke',
        payload: { token: login.accessToken },
      });
      assert.equal(revoke.statusCode, 200);
      const intro = await acked.introspect(login.accessToken);
      assert.deepEqual(intro.json(), { active: false });
      const metrics = await acked.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^optix_revocation_writes_unreplicated_total [1-9]\d*$/m);
      assert.match(metrics.body, /^optix_revocation_writes_unconfirmed_total 0$/m);
    } finally {
      await acked.close();
    }
  });

  test('GET /readyz reports Redis: clients, ops/s, latency', async () => {
    const res = await a.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.status, 'ready');
    assert.equal(body.backend, 'redis');
    assert.equal(body.redis.status, 'healthy');
    assert.equal(body.redis.topology, topology);
    assert.ok(body.redis.connectedClients >= 2);
    assert.equal(typeof body.redis.latencyMs, 'number');
  });

  test('GET /v1/admin/stats includes Redis INFO', async () => {
    await a.login(uniqueUser());
    const res = await a.inject({ method: 'GET', url: '/v1/admin/stats', headers: a.service });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.backend, 'redis');
    assert.ok(body.store.sessions >= 1);
    assert.equal(typeof body.redis.usedMemoryBytes, 'number');
    assert.ok(Object.keys(body.redis.keyspace).includes('db0'));
  });
});

describe('HTTP while Redis is down', async () => {
  const server = await startRedisServer();
  after(() => server.stop());
  const h = await createHarness({
    REDIS_URL: server.url,
    REDIS_KEY_PREFIX: uniquePrefix(),
    REDIS_COMMAND_TIMEOUT_MS: '300',
    REDIS_CONNECT_TIMEOUT_MS: '1000',
  });

  test('fails closed with 503 ERR_STORE_UNAVAILABLE/TIMEOUT within the deadline, then recovers', async () => {
    const login = await h.login(uniqueUser());
    await server.stop().catch(() => undefined);
    const started = Date.now();
    const intro = await h.introspect(login.accessToken);
    assert.equal(intro.statusCode, 503, intro.body);
    assert.match(errorCode(intro), /^ERR_STORE_(UNAVAILABLE|TIMEOUT)$/);
    assert.equal(intro.headers['retry-after'], '1');
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);

    const create = await h.inject({
      method: 'POST',
      url: '/v1/sessions',
      headers: h.service,
      payload: { userId: uniqueUser(), ipAddress: '203.0.113.1', userAgent: 'x' },
    });
    assert.equal(create.statusCode, 503);
    const me = await h.inject({ method: 'GET', url: '/v1/me/sessions', headers: login.user });
    assert.equal(me.statusCode, 503);
    const ready = await h.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().status, 'unhealthy');
    assert.equal(ready.headers['retry-after'], '1');
    const live = await h.inject({ method: 'GET', url: '/healthz' });
    assert.equal(live.statusCode, 200, 'liveness does not depend on Redis');
    const metrics = await h.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /optix_redis_errors_total\{code="ERR_STORE_(UNAVAILABLE|TIMEOUT)"\} [1-9]/);
  });
});
