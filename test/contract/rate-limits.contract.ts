import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { type MakeStores, passTime, withStores } from './harness.js';

const newBucket = () => `route.${randomBytes(8).toString('hex')}`;

/** `RateLimitStore`: fixed-window counters, atomic, per bucket. */
export function rateLimitsContract(name: string, makeStores: MakeStores): void {
  describe(`RateLimitStore contract (${name})`, () => {
    it('counts requests in a window, per bucket, and reports the time left', () =>
      withStores(makeStores, async (ctx) => {
        const r = ctx.stores.rateLimits;
        const a = newBucket();
        const first = await r.increment(a, 60_000, 1);
        assert.equal(first.total, 1);
        assert.ok(first.ttlMs > 55_000 && first.ttlMs <= 60_000, `ttl ${first.ttlMs}`);
        assert.equal((await r.increment(a, 60_000, 3)).total, 4, 'a batch counts as its size');
        assert.equal((await r.increment(newBucket(), 60_000, 1)).total, 1, 'another bucket is separate');
      }));

    it('concurrent increments are each counted once', () =>
      withStores(makeStores, async (ctx) => {
        const r = ctx.stores.rateLimits;
        const b = newBucket();
        const results = await Promise.all(Array.from({ length: 50 }, () => r.increment(b, 60_000, 1)));
        assert.deepEqual(
          results.map((x) => x.total).sort((x, y) => x - y),
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
      }));

    it('a window ends by itself: the next request starts a new one', () =>
      withStores(makeStores, async (ctx) => {
        const r = ctx.stores.rateLimits;
        const b = newBucket();
        await r.increment(b, 300, 5);
        await passTime(ctx, 300);
        // On real time the key may outlive its PX by Redis's expiry granularity: poll briefly.
        let total = (await r.increment(b, 300, 1)).total;
        for (let i = 0; total !== 1 && !ctx.clock && i < 40; i++) {
          await passTime(ctx, 300);
          total = (await r.increment(b, 300, 1)).total;
        }
        assert.equal(total, 1);
      }));

    it('refuses a malformed bucket, window or count', () =>
      withStores(makeStores, async (ctx) => {
        const r = ctx.stores.rateLimits;
        for (const bucket of ['', 'a:b', 'a b', '{x}', 'x'.repeat(129)]) {
          await assert.rejects(r.increment(bucket, 1000, 1), { code: 'ERR_INVALID_ID' }, bucket);
        }
        for (const [windowMs, count] of [
          [0, 1],
          [1.5, 1],
          [86_400_001, 1],
          [1000, 0],
          [1000, -1],
          [1000, Number.NaN],
        ] as const) {
          await assert.rejects(r.increment(newBucket(), windowMs, count), { code: 'ERR_INVALID_ARGUMENT' });
        }
      }));
  });
}
