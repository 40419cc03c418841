/**
 * The checked facades' own machinery (`src/core/checked/`): the memo of ids that already parsed
 * refuses what the codec refuses, never lets a refused value in, and stays bounded. (What each
 * facade refuses is the contract suite's business: test/contract/arguments.contract.ts.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KNOWN_IDS_SIZE, KnownIds } from '../../src/core/checked/context.js';
import { createIdCodec, type IdCodec } from '../../src/core/ids.js';

function countingCodec(inner: IdCodec): { codec: IdCodec; parses: () => number } {
  let parses = 0;
  return {
    codec: {
      ...inner,
      parse(kind, value) {
        parses++;
        return inner.parse(kind, value);
      },
    },
    parses: () => parses,
  };
}

describe('KnownIds', () => {
  const ids = createIdCodec(randomBytes(32));

  it('parses an id once, then answers from memory; a refused value is refused every time', () => {
    const { codec, parses } = countingCodec(ids);
    const known: KnownIds = new KnownIds(codec);
    const id = ids.newId('user-1');
    known.assert('sessionId', id);
    known.assert('sessionId', id);
    assert.equal(parses(), 1);
    for (let i = 0; i < 3; i++) {
      assert.throws(() => known.assert('sessionId', 'plain'), { code: 'ERR_INVALID_ID' });
      assert.throws(() => known.assert('sessionId', 5), { code: 'ERR_INVALID_ID' });
    }
    assert.equal(parses(), 7, 'refusals are not remembered');
  });

  it('stays bounded: past its size the oldest generation is forgotten and parsed again', () => {
    const { codec, parses } = countingCodec(ids);
    const known: KnownIds = new KnownIds(codec);
    const first = ids.newId('user-first');
    known.assert('sessionId', first);
    for (let i = 0; i < KNOWN_IDS_SIZE; i++) known.assert('sessionId', ids.newId(`u${i}`));
    const before = parses();
    known.assert('sessionId', first);
    assert.equal(parses(), before + 1, 'the first id was forgotten');
  });
});
