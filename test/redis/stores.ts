/**
 * Redis factories for the contract suites and the Redis-only tests: one `RedisClient` per test file
 * (on the file's throwaway server from `getTestRedisUrl`), and per test a fresh key prefix so tests
 * never see each other's keys.
 */
import { after } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { RedisClient } from '../../src/connection/client.js';
import { createRedisStores, loadIdCodec } from '../../src/stores/redis/index.js';
import type { ContractStoreOptions, MakeStores } from '../contract/harness.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';

let shared: Promise<RedisClient> | null = null;

/** The file's client, connected on first use and closed after the file's last test. */
export function sharedClient(): Promise<RedisClient> {
  shared ??= (async () => {
    const client = new RedisClient({ url: await getTestRedisUrl(), commandTimeoutMs: 5000 });
    await client.connect();
    return client;
  })();
  return shared;
}

after(async () => {
  const client = shared;
  shared = null;
  if (client !== null) await (await client).close();
});

/** Redis stores on the file's server; `manualClock` decides whether tests move time or wait. */
export function redisStores(manualClock: boolean): MakeStores {
  return async (options: ContractStoreOptions = {}) => {
    const client = await sharedClient();
    const clock = manualClock ? new ManualClock(Date.now()) : null;
    const keyPrefix = uniquePrefix();
    // The deployment's sealed ids, as `createOptix` builds them (secret created on this prefix).
    const ids = await loadIdCodec(client, { keyPrefix });
    const stores = createRedisStores(client, {
      keyPrefix,
      ids,
      ...(clock === null ? {} : { clock }),
      ...options,
    });
    return { stores, clock, close: async () => {} };
  };
}
