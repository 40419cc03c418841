/**
 * Behind reverse proxies (issue 14 §3, proxies): with a hop count or a list of trusted proxy
 * addresses, the per-address rate limits key on the address the outermost trusted proxy saw, so a
 * client that writes its own left-most `X-Forwarded-For` entries cannot change its key. On memory
 * and on Redis (two instances sharing the counters).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, type Harness } from './harness.js';

const PROXY = '10.0.0.5';
const CLIENT = '198.51.100.7';

/** `POST /v1/revoke` (limited per address) as sent through the proxy, with a spoofed left-most hop. */
function throughProxy(h: Harness, spoofed: string, client = CLIENT) {
  return h.inject({
    method: 'POST',
    url: '/v1/revoke',
    remoteAddress: PROXY,
    headers: { 'x-forwarded-for': `${spoofed}, ${client}` },
    payload: { token: 'not-a-token' },
  });
}

const spoofs = (n: number) => Array.from({ length: n }, (_, i) => `203.0.113.${i + 1}`);

const backends: Array<{ name: string; env(): Promise<Record<string, string>> }> = [
  { name: 'memory', env: async () => ({}) },
  {
    name: 'Redis',
    env: async () => ({ REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() }),
  },
];

for (const backend of backends) {
  describe(`TRUST_PROXY and per-address rate limits (${backend.name})`, () => {
    for (const trust of ['1', '10.0.0.0/8,127.0.0.1']) {
      test(`TRUST_PROXY=${trust}: a rotated left-most X-Forwarded-For does not change the key`, async () => {
        const env = { ...(await backend.env()), TRUST_PROXY: trust, RATE_LIMIT_REVOKE_PER_MINUTE: '3' };
        const a = await createHarness(env);
        const b = backend.name === 'Redis' ? await createHarness(env) : a;
        const codes: number[] = [];
        for (const [i, spoofed] of spoofs(5).entries()) {
          codes.push((await throughProxy(i % 2 === 0 ? a : b, spoofed)).statusCode);
        }
        assert.deepEqual(codes, [200, 200, 200, 429, 429]);
        // Another client behind the same proxy has its own bucket (not the proxy's).
        assert.equal((await throughProxy(b, '203.0.113.200', '198.51.100.8')).statusCode, 200);
      });
    }

    test('with a list of proxies, a client that connects directly is keyed by its own address', async () => {
      const env = {
        ...(await backend.env()),
        TRUST_PROXY: '10.0.0.0/8',
        RATE_LIMIT_REVOKE_PER_MINUTE: '3',
      };
      const h = await createHarness(env);
      const codes: number[] = [];
      for (const spoofed of spoofs(4)) {
        const res = await h.inject({
          method: 'POST',
          url: '/v1/revoke',
          remoteAddress: '192.0.2.44',
          headers: { 'x-forwarded-for': spoofed },
          payload: { token: 'not-a-token' },
        });
        codes.push(res.statusCode);
      }
      assert.deepEqual(codes, [200, 200, 200, 429]);
    });
  });
}
