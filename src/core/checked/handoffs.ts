import { InvalidArgumentError } from '../errors.js';
import type { HandoffPutInput, HandoffStore } from '../ports.js';
import { assertCodeHash, assertObject, assertTtlSeconds } from '../validate.js';

/** `HandoffStore` with every argument checked before the backend sees it. */
export class CheckedHandoffs implements HandoffStore {
  readonly #inner: HandoffStore;

  constructor(inner: HandoffStore) {
    this.#inner = inner;
  }

  async put(input: HandoffPutInput): Promise<void> {
    assertObject('input', input);
    assertCodeHash(input.codeHash);
    assertTtlSeconds('ttlSeconds', input.ttlSeconds);
    if (typeof input.payload !== 'string') throw new InvalidArgumentError('payload', 'must be a string');
    return this.#inner.put(input);
  }

  async take(codeHash: string): Promise<string | null> {
    assertCodeHash(codeHash);
    return this.#inner.take(codeHash);
  }
}
