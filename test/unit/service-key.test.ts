/**
 * The service-key check (`createServiceKeyVerifier`): a fixed-width constant-time compare. Only a
 * configured key, exactly, names its key id; prefixes, extensions, padding look-alikes, other
 * encodings and over-long values do not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServiceKeyVerifier, SERVICE_KEY_COMPARE_BYTES } from '../../src/http/auth.js';

const A = 'svc-key-0123456789abcdef-0123456789abcdef-A';
const B = 'svc-key-0123456789abcdef-0123456789abcdef-Bb';

describe('service key verifier', () => {
  const verify = createServiceKeyVerifier([A, B]);

  it('names each configured key by a stable id of 12 characters, different per key', () => {
    const a = verify(A);
    const b = verify(B);
    assert.match(String(a), /^[A-Za-z0-9_-]{12}$/);
    assert.match(String(b), /^[A-Za-z0-9_-]{12}$/);
    assert.notEqual(a, b);
    assert.equal(createServiceKeyVerifier([B, A])(A), a, 'the id depends on the key, not its position');
    assert.ok(!A.includes(String(a)) && !B.includes(String(b)), 'the id is not a piece of the key');
  });

  it('rejects everything that is not exactly a configured key', () => {
    const near = [
      '',
      A.slice(0, -1),
      `${A}x`,
      `${A}\0`,
      `\0${A}`,
      `${A} `,
      A.toUpperCase(),
      A.replace('A', 'a'),
      `${A.slice(0, -1)}\u0100`,
      B.slice(0, A.length),
      A + B,
      'x'.repeat(SERVICE_KEY_COMPARE_BYTES),
      `${A}${'\0'.repeat(SERVICE_KEY_COMPARE_BYTES - A.length)}`,
      A + 'x'.repeat(SERVICE_KEY_COMPARE_BYTES),
      '\u00e9'.repeat(SERVICE_KEY_COMPARE_BYTES),
    ];
    for (const presented of near)
      assert.equal(verify(presented), null, JSON.stringify(presented.slice(0, 60)));
    // Checks in any order leave nothing behind in the shared buffer.
    assert.equal(verify('y'.repeat(SERVICE_KEY_COMPARE_BYTES)), null);
    assert.notEqual(verify(A), null);
    assert.equal(verify(A.slice(0, 10)), null);
    assert.notEqual(verify(B), null);
  });

  it('accepts a configured key longer than the compare width (the width grows to fit it)', () => {
    const long = `k${'z'.repeat(SERVICE_KEY_COMPARE_BYTES + 40)}`;
    const v = createServiceKeyVerifier([long, A]);
    assert.notEqual(v(long), null);
    assert.equal(v(long.slice(0, -1)), null);
    assert.equal(v(`${long}z`), null);
    assert.notEqual(v(A), null);
  });

  it('with no keys configured, nothing matches', () => {
    assert.equal(createServiceKeyVerifier([])(A), null);
  });
});
