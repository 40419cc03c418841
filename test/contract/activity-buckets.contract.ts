import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { ACTIVITY_COUNTERS, ACTIVITY_MINUTE_MS } from '../../src/core/activity.js';
import { type MakeStores, now, withStores } from './harness.js';

/** A minute of the last day, picked at random so that tests sharing a store do not meet. */
function someMinute(at: number): number {
  return (Math.floor(at / ACTIVITY_MINUTE_MS) - randomInt(0, 1440)) * ACTIVITY_MINUTE_MS;
}

const EMPTY = {
  logins: 0,
  refreshes: 0,
  revocations: 0,
  reuse: 0,
  cache_hits: 0,
  cache_misses: 0,
  sessions: null,
};

/** `ActivityBucketStore`: per-minute counters, atomic adds, one sample claim per minute. */
export function activityBucketsContract(name: string, makeStores: MakeStores): void {
  describe(`ActivityBucketStore contract (${name})`, () => {
    it('adds per minute and per counter; reads in the order given, zeros where nothing is stored', () =>
      withStores(makeStores, async (ctx) => {
        const a = ctx.stores.activity;
        const m = someMinute(now(ctx));
        const next = m + ACTIVITY_MINUTE_MS;
        await a.add(m, { logins: 3, refreshes: 2 });
        await a.add(m, { logins: 1, reuse: 1, cache_hits: 0, cache_misses: 5 });
        await a.add(next, { revocations: 4 });
        await a.add(next, {}); // nothing to add: nothing changes
        const [later, first, none] = await a.read([next, m, m - ACTIVITY_MINUTE_MS]);
        assert.deepEqual(first, { ...EMPTY, logins: 4, refreshes: 2, reuse: 1, cache_misses: 5 });
        assert.deepEqual(later, { ...EMPTY, revocations: 4 });
        assert.deepEqual(none, EMPTY);
        assert.deepEqual(await a.read([]), []);
      }));

    it('concurrent adds are each counted once', () =>
      withStores(makeStores, async (ctx) => {
        const a = ctx.stores.activity;
        const m = someMinute(now(ctx));
        await Promise.all(Array.from({ length: 50 }, () => a.add(m, { logins: 1, cache_hits: 2 })));
        const [f] = await a.read([m]);
        assert.equal(f?.logins, 50);
        assert.equal(f?.cache_hits, 100);
      }));

    it('one claim of the sample per minute, however many race; the sample is read back', () =>
      withStores(makeStores, async (ctx) => {
        const a = ctx.stores.activity;
        const m = someMinute(now(ctx));
        const claims = await Promise.all(Array.from({ length: 20 }, () => a.claimSample(m)));
        assert.equal(claims.filter(Boolean).length, 1);
        assert.equal(await a.claimSample(m), false);
        assert.equal(await a.claimSample(m + ACTIVITY_MINUTE_MS), true, 'the next minute is claimed anew');
        await a.setSample(m, 17);
        await a.add(m, { logins: 2 });
        assert.deepEqual(await a.read([m, m + ACTIVITY_MINUTE_MS]), [
          { ...EMPTY, logins: 2, sessions: 17 },
          EMPTY,
        ]);
        await a.setSample(m, 0);
        assert.equal((await a.read([m]))[0]?.sessions, 0, 'a later sample replaces it');
      }));

    it('refuses a malformed minute, delta or sample, and writes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const a = ctx.stores.activity;
        const m = someMinute(now(ctx));
        for (const bad of [m + 1, -ACTIVITY_MINUTE_MS, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await assert.rejects(a.add(bad, { logins: 1 }), { code: 'ERR_INVALID_ID' }, String(bad));
          await assert.rejects(a.claimSample(bad), { code: 'ERR_INVALID_ID' }, String(bad));
          await assert.rejects(a.setSample(bad, 1), { code: 'ERR_INVALID_ID' }, String(bad));
          await assert.rejects(a.read([m, bad]), { code: 'ERR_INVALID_ID' }, String(bad));
        }
        for (const delta of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await assert.rejects(a.add(m, { logins: 1, reuse: delta }), { code: 'ERR_INVALID_ARGUMENT' });
        }
        for (const sessions of [-1, 1.5, Number.NaN]) {
          await assert.rejects(a.setSample(m, sessions), { code: 'ERR_INVALID_ARGUMENT' });
        }
        assert.deepEqual(await a.read([m]), [EMPTY], 'nothing was written');
        assert.deepEqual(
          Object.keys(EMPTY).filter((k) => k !== 'sessions'),
          [...ACTIVITY_COUNTERS],
        );
      }));
  });
}
