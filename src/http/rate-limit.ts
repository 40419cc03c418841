/**
 * Per-client rate limits for refresh, revoke, introspect and `/v1/me` writes (@fastify/rate-limit),
 * counted by the stores' `RateLimitStore` port: with Redis the counters live in Redis, so every
 * instance shares them; in memory they are this process's. (The plugin's own Redis store assumes
 * ioredis.) This module only adapts the port to the plugin's store interface.
 */
import { hash } from 'node:crypto';
import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';
import type { RouteOptions } from 'fastify';
import type { RateLimitStore } from '../core/ports.js';

/** A client identity as a bucket-safe string: a digest, so raw keys and addresses never reach Redis. */
export function clientBucket(route: string, client: string): string {
  return `${route}.${hash('sha256', client, 'base64url').slice(0, 22)}`;
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Bucket keys remembered (digests are not recomputed per request); cleared when full. */
const MAX_REMEMBERED_BUCKETS = 10_000;

/**
 * A store class for `@fastify/rate-limit` over `counters`. Each route gets its own child (`route`
 * names the bucket family). Store failures are reported to the plugin, which lets the request
 * through (`skipOnError`): a Redis outage must not turn into refused refreshes on top of it.
 *
 * Requests of one bucket are coalesced, not approximated: while a bucket's call to the store is in
 * flight, the requests that arrive queue up and go in the next call as one `INCRBY n`, and each
 * gets its exact place in the count (`total - n + i`). A lone request costs one call, as before;
 * a busy client costs one call per round trip instead of one per request. (Hand-written because
 * the plugin's own Redis store assumes ioredis and sends one call per request.)
 */
export function rateLimitStore(counters: RateLimitStore) {
  /** Per bucket: the requests waiting for the next call, and whether one is in flight. */
  const pending = new Map<string, { waiting: Callback[]; inFlight: boolean; windowMs: number }>();

  function send(bucketName: string): void {
    const bucket = pending.get(bucketName);
    if (bucket === undefined || bucket.inFlight) return;
    if (bucket.waiting.length === 0) {
      pending.delete(bucketName);
      return;
    }
    const batch = bucket.waiting;
    bucket.waiting = [];
    bucket.inFlight = true;
    const settle = (deliver: (cb: Callback, i: number) => void) => {
      bucket.inFlight = false;
      batch.forEach(deliver);
      send(bucketName);
    };
    counters.increment(bucketName, bucket.windowMs, batch.length).then(
      ({ total, ttlMs }) => {
        const first = total - batch.length;
        settle((cb, i) => cb(null, { current: first + i + 1, ttl: ttlMs }));
      },
      (err: unknown) => settle((cb) => cb(err as Error)),
    );
  }

  class PortRateLimitStore implements FastifyRateLimitStore {
    readonly #route: string;
    readonly #bucketNames = new Map<string, string>();
    constructor(_options: FastifyRateLimitOptions, route = 'global') {
      this.#route = route;
    }
    incr(key: string, callback: Callback, timeWindow: number): void {
      let bucketName = this.#bucketNames.get(key);
      if (bucketName === undefined) {
        bucketName = clientBucket(this.#route, key);
        if (this.#bucketNames.size >= MAX_REMEMBERED_BUCKETS) this.#bucketNames.clear();
        this.#bucketNames.set(key, bucketName);
      }
      let bucket = pending.get(bucketName);
      if (bucket === undefined) {
        bucket = { waiting: [], inFlight: false, windowMs: timeWindow };
        pending.set(bucketName, bucket);
      }
      bucket.waiting.push(callback);
      if (!bucket.inFlight) send(bucketName);
    }
    child(routeOptions: RouteOptions & { path: string; prefix: string }): FastifyRateLimitStore {
      // The plugin passes the merged limit options, with the route under `routeInfo`.
      const info = (routeOptions as unknown as { routeInfo?: { url?: string } }).routeInfo;
      const route = String(info?.url ?? routeOptions.url ?? 'route')
        .replace(/[^A-Za-z0-9]+/g, '_')
        .replace(/^_+|_+$/g, '');
      return new PortRateLimitStore({}, route || 'route');
    }
  }
  return PortRateLimitStore;
}
