/**
 * A plain connection to the file's Redis for tests that reach behind the stores (plant a crash's
 * leftovers, read raw keys, scan a prefix) — on whatever topology `REDIS_URL` names: standalone,
 * Sentinel or Cluster, over TLS when `REDIS_TLS_CA_FILE` is set. node-redis's `createClient({ url })`
 * takes one host only (a Cluster or Sentinel URL is an `Invalid URL`), so this goes through our
 * `RedisClient`, which parses every form and routes each keyed command by its slot on Cluster
 * (and SCANs every master).
 */
import { readFileSync } from 'node:fs';
import type { createClient } from '@redis/client';
import { RedisClient } from '../../src/connection/client.js';
import { getTestRedisUrl } from './redis-server.js';

/** The node-redis command surface a test uses (keyed commands, `scanIterator`), plus `close`. */
export type AdminRedis = Pick<
  ReturnType<typeof createClient>,
  | 'get'
  | 'set'
  | 'del'
  | 'exists'
  | 'pTTL'
  | 'type'
  | 'hGetAll'
  | 'sMembers'
  | 'zAdd'
  | 'zRem'
  | 'zScore'
  | 'zRangeWithScores'
> & {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  readonly topology: RedisClient['topology'];
  close(): Promise<void>;
};

/** Connects to the file's Redis (`getTestRedisUrl`: `REDIS_URL` or the throwaway server). */
export async function adminRedis(): Promise<AdminRedis> {
  const ca = process.env.REDIS_TLS_CA_FILE;
  const client = new RedisClient({
    url: await getTestRedisUrl(),
    clientSideCache: false,
    replicaAcks: 0,
    commandTimeoutMs: 5000,
    ...(ca ? { tls: { ca: readFileSync(ca, 'utf8') } } : {}),
  });
  await client.connect();
  // On every topology `commands` is the node-redis client (Cluster: routed by key, with a
  // SCAN over every master): the full command surface is there, typed narrowly by the stores.
  const commands = client.commands as unknown as Omit<AdminRedis, 'close' | 'topology'>;
  return new Proxy(commands, {
    get(target, prop) {
      if (prop === 'close') return () => client.close();
      if (prop === 'topology') return client.topology;
      const value = Reflect.get(target, prop);
      // Called on the client itself, never on this proxy (node-redis methods read private state).
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as AdminRedis;
}
