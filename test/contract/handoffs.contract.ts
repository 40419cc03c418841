import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomToken, sha256 } from '../../src/core/ids.js';
import { assertRejectsAll, BAD_IDS, type MakeStores, sleep, withStores } from './harness.js';

const newHash = () => sha256(randomToken(32));

/** `HandoffStore`: one-time browser hand-off codes, kept by hash, taken once. */
export function handoffsContract(name: string, makeStores: MakeStores): void {
  describe(`HandoffStore contract (${name})`, () => {
    it('take returns what put stored, once; a second take and an unknown hash get null', () =>
      withStores(makeStores, async (ctx) => {
        const h = ctx.stores.handoffs;
        const codeHash = newHash();
        await h.put({ codeHash, payload: '{"userId":"u1"}', ttlSeconds: 60 });
        assert.equal(await h.take(newHash()), null, 'unknown hash');
        assert.equal(await h.take(codeHash), '{"userId":"u1"}');
        assert.equal(await h.take(codeHash), null, 'single use');
      }));

    it('of concurrent takes of one hash exactly one gets the payload', () =>
      withStores(makeStores, async (ctx) => {
        const h = ctx.stores.handoffs;
        const codeHash = newHash();
        await h.put({ codeHash, payload: 'p', ttlSeconds: 60 });
        const results = await Promise.all(Array.from({ length: 20 }, () => h.take(codeHash)));
        assert.equal(results.filter((r) => r === 'p').length, 1);
        assert.equal(results.filter((r) => r === null).length, 19);
      }));

    it('a put of a hash already stored is refused and changes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const h = ctx.stores.handoffs;
        const codeHash = newHash();
        await h.put({ codeHash, payload: 'first', ttlSeconds: 60 });
        await assert.rejects(h.put({ codeHash, payload: 'second', ttlSeconds: 60 }), {
          code: 'ERR_INVALID_ARGUMENT',
        });
        assert.equal(await h.take(codeHash), 'first');
      }));

    it('a code is gone once its TTL has passed (and present just before)', () =>
      withStores(makeStores, async (ctx) => {
        const h = ctx.stores.handoffs;
        const early = newHash();
        const late = newHash();
        await h.put({ codeHash: early, payload: 'early', ttlSeconds: 1 });
        await h.put({ codeHash: late, payload: 'late', ttlSeconds: 1 });
        if (ctx.clock) {
          ctx.clock.advance(999);
          assert.equal(await h.take(early), 'early', '1 ms before its TTL');
          ctx.clock.advance(1);
        } else {
          assert.equal(await h.take(early), 'early', 'at once');
          await sleep(1100);
        }
        assert.equal(await h.take(late), null, 'gone once its TTL has passed');
      }));

    it('refuses malformed hashes and TTLs before any I/O', () =>
      withStores(makeStores, async (ctx) => {
        const h = ctx.stores.handoffs;
        const bad = [...BAD_IDS, 'short', 'x'.repeat(129), 'a.b'.repeat(10)];
        await assertRejectsAll(bad, 'ERR_INVALID_ID', (codeHash) => h.take(codeHash), 'take');
        await assertRejectsAll(
          bad,
          'ERR_INVALID_ID',
          (codeHash) => h.put({ codeHash, payload: 'p', ttlSeconds: 60 }),
          'put',
        );
        await assertRejectsAll(
          [0, -1, Number.NaN, Number.POSITIVE_INFINITY],
          'ERR_INVALID_ARGUMENT',
          (ttlSeconds) => h.put({ codeHash: newHash(), payload: 'p', ttlSeconds }),
          'put ttl',
        );
      }));
  });
}
