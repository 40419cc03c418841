import { InvalidArgumentError } from '../../core/errors.js';
import { ttlMs } from '../../core/limits.js';
import type { HandoffPutInput, HandoffStore } from '../../core/ports.js';
import type { MemoryState } from './state.js';

/**
 * In-memory `HandoffStore`: a map from code hash to payload and expiry. A put sweeps the expired
 * entries (codes live a minute or so and are few), so the map stays bounded without a timer.
 * Arguments are checked by `CheckedHandoffs` (`core/checked/`) before they get here.
 */
export class MemoryHandoffs implements HandoffStore {
  readonly #state: MemoryState;
  readonly #entries = new Map<string, { payload: string; expiresAt: number }>();

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async put(input: HandoffPutInput): Promise<void> {
    const now = this.#state.now();
    for (const [hash, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(hash);
    if (this.#entries.has(input.codeHash)) throw new InvalidArgumentError('codeHash', 'is already stored');
    this.#entries.set(input.codeHash, {
      payload: input.payload,
      expiresAt: now + ttlMs(input.ttlSeconds),
    });
  }

  async take(codeHash: string): Promise<string | null> {
    const entry = this.#entries.get(codeHash);
    if (entry === undefined) return null;
    this.#entries.delete(codeHash);
    return entry.expiresAt > this.#state.now() ? entry.payload : null;
  }
}
