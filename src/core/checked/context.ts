/**
 * What every checked facade needs besides the store it wraps.
 *
 * Why a facade per port rather than checks in the services: the ports are public (the guide's
 * classes, `createRedisStores`, `createMemoryStores`), so a caller that reaches a store without a
 * service must meet the same checks; and why above the backends rather than in each: the two
 * backends then cannot drift (they used to repeat every check, and only one of them checked
 * `RevocationQuery.expiresAtMs`). The backends only store: they trust the arguments they get.
 */
import type { Clock } from '../clock.js';
import { Generations } from '../generations.js';
import type { IdCodec } from '../ids.js';

export interface CheckContext {
  /** The deployment's id codec (`Stores.ids`): parses generated ids. */
  readonly ids: IdCodec;
  /** The stores' clock: "in the future" is judged by it, as the backends judge expiry. */
  readonly clock: Clock;
}

/** How many generated ids a `KnownIds` remembers (two generations of half; ~100 bytes each). */
export const KNOWN_IDS_SIZE = 10_000;

/**
 * Generated ids that already parsed, for the read paths every request takes (`getSession`): a
 * string that parsed once under a codec always will, and a `Set` lookup costs a twentieth of a
 * parse (~0.5 µs, as much as a cached read of the session itself). Bounded as the codec's own
 * cache (`Generations`).
 */
export class KnownIds {
  readonly #ids: IdCodec;
  readonly #known = new Generations<string, true>(KNOWN_IDS_SIZE / 2);

  constructor(ids: IdCodec) {
    this.#ids = ids;
  }

  /** Throws `InvalidIdError` (naming `kind`) unless `value` is a generated id of this codec. */
  assert(kind: string, value: unknown): asserts value is string {
    if (typeof value === 'string' && this.#known.has(value)) return;
    this.#ids.parse(kind, value);
    this.#known.set(value as string, true);
  }
}

/**
 * Runs `check` and hands the call on, as a rejected promise when the check throws: every port
 * method rejects (never throws synchronously), without the extra promise of an `async` wrapper on
 * the hot paths.
 */
export function checked<T>(check: () => void, call: () => Promise<T>): Promise<T> {
  try {
    check();
  } catch (err) {
    return Promise.reject(err);
  }
  return call();
}
