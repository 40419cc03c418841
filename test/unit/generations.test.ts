/**
 * `Generations`, the bounded two-generation map behind the verified-token, id, revocation-key,
 * known-id and tracking caches: when the young generation is full a new key rotates it to old and
 * drops the previous old one whole (reported by `set`), `get` moves an old hit to the young one,
 * `peek` does not, and nothing ever holds more than two generations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Generations } from '../../src/core/generations.js';

describe('Generations', () => {
  it('rotates when the young generation is full: the old one is dropped whole, and set says so', () => {
    const g = new Generations<string, number>(2);
    assert.equal(g.set('a', 1), false);
    assert.equal(g.set('b', 2), false);
    // Young is full: 'c' starts a new young generation; a and b are now old.
    assert.equal(g.set('c', 3), true);
    assert.equal(g.peek('a'), 1);
    assert.equal(g.peekYoung('a'), undefined);
    assert.equal(g.peekYoung('c'), 3);
    assert.equal(g.set('d', 4), false);
    // Second rotation: a and b go.
    assert.equal(g.set('e', 5), true);
    assert.equal(g.has('a'), false);
    assert.equal(g.has('b'), false);
    assert.equal(g.peek('c'), 3);
    assert.equal(g.peek('e'), 5);
  });

  it('overwriting a key already in a full young generation does not rotate', () => {
    const g = new Generations<string, number>(2);
    g.set('a', 1);
    g.set('b', 2);
    assert.equal(g.set('b', 20), false);
    assert.equal(g.peekYoung('b'), 20);
    assert.equal(g.size, 2);
  });

  it('get moves an old hit to the young generation; peek leaves it where it is', () => {
    const g = new Generations<string, number>(2);
    g.set('a', 1);
    g.set('b', 2);
    g.set('c', 3); // a, b old; c young
    assert.equal(g.peek('b'), 2);
    assert.equal(g.peekYoung('b'), undefined);
    assert.equal(g.get('a'), 1);
    assert.equal(g.peekYoung('a'), 1);
    // The next rotation keeps a (young) and drops b (old, never promoted).
    g.set('d', 4);
    assert.equal(g.has('a'), true);
    assert.equal(g.has('b'), false);
    assert.equal(g.get('missing'), undefined);
  });

  it('holds at most two generations, however many keys come', () => {
    const g = new Generations<number, number>(100);
    let rotations = 0;
    for (let i = 0; i < 10_000; i++) {
      if (g.set(i, i)) rotations++;
      assert.ok(g.size <= 200);
    }
    assert.equal(rotations, 99);
    assert.equal(g.size, 200);
    // The newest 200 are there; anything older is gone.
    assert.equal(g.has(9_800), true);
    assert.equal(g.has(9_799), false);
  });

  it('delete removes a key from both generations; clear drops everything', () => {
    const g = new Generations<string, number>(2);
    g.set('a', 1);
    g.set('b', 2);
    g.set('c', 3);
    g.get('a'); // now in both generations
    g.delete('a');
    assert.equal(g.has('a'), false);
    assert.equal(g.get('a'), undefined);
    g.clear();
    assert.equal(g.size, 0);
    assert.equal(g.has('b'), false);
    assert.equal(g.has('c'), false);
  });

  it('object keys (DerivedCache uses frozen queries) are told apart by identity', () => {
    const g = new Generations<object, string>(4);
    const k1 = {};
    const k2 = {};
    g.set(k1, 'one');
    assert.equal(g.get(k1), 'one');
    assert.equal(g.get(k2), undefined);
  });

  it('a generation size under 1 keeps one entry per generation', () => {
    const g = new Generations<string, number>(0);
    assert.equal(g.set('a', 1), false);
    assert.equal(g.set('b', 2), true);
    assert.equal(g.peek('a'), 1);
    assert.equal(g.peek('b'), 2);
    assert.equal(g.size, 2);
  });
});
