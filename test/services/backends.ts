/**
 * Both backends for the service tests: memory, and Redis on the file's throwaway server (or
 * `REDIS_URL`). Each `make()` gives fresh, isolated stores on a manual clock that starts now, so
 * tests move time instead of sleeping (Redis TTLs are set from the same clock and are long enough).
 */
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { GuideStores } from '../../src/core/ports.js';
import { RedisClient } from '../../src/connection/client.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { createRedisStores, loadIdCodec } from '../../src/stores/redis/index.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';

export interface Backend {
  name: 'memory' | 'redis';
  make(): Promise<{ stores: GuideStores; clock: ManualClock; keyPrefix: string | null }>;
}

const clients: RedisClient[] = [];
let shared: Promise<RedisClient> | null = null;

/**
 * `REDIS_TLS_CA_FILE`: the CA that signed the server certificate of a `rediss://` `REDIS_URL`
 * (test/topologies sets both to run these tests over TLS with an ACL user).
 */
function tlsFromEnv(): { tls?: { ca: string } } {
  const file = process.env.REDIS_TLS_CA_FILE;
  return file ? { tls: { ca: readFileSync(file, 'utf8') } } : {};
}

/** A new connected client to the file's Redis (closed after the file). */
export async function newRedisClient(options: { commandTimeoutMs?: number; keyPrefix?: string } = {}) {
  const client = new RedisClient({
    url: await getTestRedisUrl(),
    commandTimeoutMs: 5000,
    ...tlsFromEnv(),
    ...options,
  });
  await client.connect();
  clients.push(client);
  return client;
}

after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  shared = null;
});

export const BACKENDS: Backend[] = [
  {
    name: 'memory',
    async make() {
      const clock = new ManualClock(Date.now());
      return { stores: createMemoryStores({ clock }), clock, keyPrefix: null };
    },
  },
  {
    name: 'redis',
    async make() {
      shared ??= newRedisClient();
      const client = await shared;
      const clock = new ManualClock(Date.now());
      const keyPrefix = uniquePrefix();
      const ids = await loadIdCodec(client, { keyPrefix });
      return { stores: createRedisStores(client, { keyPrefix, clock, ids }), clock, keyPrefix };
    },
  },
];

/** A 32-byte HS256 test secret (never used outside tests). */
export const TEST_SECRET = 'test-secret-0123456789abcdef-0123456789';

/** The JWT options the service tests share (HS256 under `TEST_SECRET`). */
export const TEST_JWT = {
  keys: [{ kid: 'hs-1', alg: 'HS256' as const, secret: TEST_SECRET }],
  issuer: 'optix-test',
  audience: 'optix-api',
};
