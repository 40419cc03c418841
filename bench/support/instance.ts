/**
 * One OPTIX instance as the service builds it: `createOptix(loadConfig(env))` with NODE_ENV
 * production, Redis, and the client-side cache on (the default), plus the probes the
 * revocation-propagation bench reads in the process that owns it. Both sides of that bench (the
 * bench process, instance A; its child, instance B) are built here, each its own composition root.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { createOptix, type Optix } from '../../src/container.js';
import { JWT_SECRET } from './optix.js';

export const SERVICE_KEY = 'bench-service-key-0123456789abcdef-0123456789';

export function createInstance(redisUrl: string): Promise<Optix> {
  return createOptix(
    loadConfig({
      NODE_ENV: 'production',
      REDIS_URL: redisUrl,
      JWT_SECRET,
      SERVICE_API_KEYS: SERVICE_KEY,
      // The client-side cache's tracking mode, when the bench's environment names one (inherited
      // by B's process): compares `broadcast` (the default) with `default`.
      ...(process.env.REDIS_CLIENT_CACHE_MODE === undefined
        ? {}
        : { REDIS_CLIENT_CACHE_MODE: process.env.REDIS_CLIENT_CACHE_MODE }),
    }),
  );
}

/** One clock for every process of the bench: the wall clock at the process's start plus its monotonic time (ms). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The scheduler's account of one thread (`/proc/<pid>/schedstat`, the main thread when `pid` is a
 * process id): time it ran on a CPU and time it waited, runnable, for one (ms, since it started).
 * `null` where Linux's schedstats are not available. Reading costs ~10–20 µs: never inside a
 * timed window.
 */
export function schedstat(pid: number | 'self' = 'self'): { runMs: number; waitMs: number } | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return { runMs: Number(run) / 1e6, waitMs: Number(wait) / 1e6 };
  } catch {
    return null;
  }
}

/**
 * Calls `onPush(at)` whenever Redis's invalidation push for a key reaches this instance's
 * node-redis cache provider, and `onPing(sentAt, answeredAt)` for every lease `PING` of its tracked
 * connection. Bench instrumentation only, reached through node-redis's objects the way
 * test/redis/client-side-cache.test.ts reaches them; returns false when they are not where it looks
 * (the measurement still runs, without that split).
 */
export function probeTracking(
  optix: Optix,
  onPush: (at: number) => void,
  onPing: (sentAt: number, answeredAt: number) => void,
): boolean {
  const tracking = optix.redis?.tracking;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis's reader and its cache provider are internal
  const reader = tracking?.commands as any;
  const provider = reader?.clientSideCache as { invalidate?(key: unknown): void } | undefined;
  if (!provider || typeof provider.invalidate !== 'function' || typeof reader.ping !== 'function')
    return false;
  const invalidate = provider.invalidate;
  provider.invalidate = function (this: unknown, key: unknown) {
    onPush(now());
    return invalidate.call(this, key);
  };
  const ping = reader.ping;
  reader.ping = function (this: unknown, ...args: unknown[]) {
    const sentAt = now();
    const reply = ping.apply(this, args) as Promise<unknown>;
    reply.then(
      () => onPing(sentAt, now()),
      () => onPing(sentAt, Number.NaN),
    );
    return reply;
  };
  return true;
}
