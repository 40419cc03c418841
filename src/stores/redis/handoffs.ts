import { InvalidArgumentError } from '../../core/errors.js';
import { ttlMs } from '../../core/limits.js';
import type { HandoffPutInput, HandoffStore } from '../../core/ports.js';
import type { RedisStoreContext } from './context.js';

/**
 * `HandoffStore` on Redis: `browser:handoff:<codeHash>` STRING JSON `{p: payload, e: expiresAt}`
 * with `PX` = the code's life. One key per code, so each operation is one command on one slot:
 * `SET … NX PX` to store and `GETDEL` (Redis ≥ 6.2) to take, which reads and deletes atomically —
 * two instances taking the same code cannot both get it. The expiry inside the value is judged by
 * the injected clock; `PX` only bounds how long Redis keeps the key. Arguments are checked by
 * `CheckedHandoffs` (`core/checked/`) before they get here.
 */
export class RedisHandoffs implements HandoffStore {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async put(input: HandoffPutInput): Promise<void> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.handoff(input.codeHash);
    const px = ttlMs(input.ttlSeconds);
    const value = JSON.stringify({ p: input.payload, e: clock.now() + px });
    const reply = await client.wrap('set', () =>
      client.commands.set(key, value, { expiration: { type: 'PX', value: px }, condition: 'NX' }),
    );
    if (reply === null) throw new InvalidArgumentError('codeHash', 'is already stored');
  }

  async take(codeHash: string): Promise<string | null> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.handoff(codeHash);
    const json = await client.wrap('getDel', () => client.commands.getDel(key));
    if (json === null || json === undefined) return null;
    try {
      const value = JSON.parse(String(json)) as { p?: unknown; e?: unknown };
      if (typeof value.p !== 'string' || typeof value.e !== 'number') return null;
      return value.e > clock.now() ? value.p : null;
    } catch {
      return null;
    }
  }
}
