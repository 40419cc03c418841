/**
 * A bounded map kept in two generations: entries go into the young `Map`; when it holds
 * `generationSize` entries and a new key comes, it becomes the old one and the previous old one
 * is dropped whole. `get` moves a hit in the old generation to the young one, so what is used
 * stays; `peek` does not. At most `2 × generationSize` entries are held.
 *
 * Why hand-written: deleting a `Map`'s oldest entry one at a time (the usual bounded map) makes V8
 * walk the deleted slots before it on every eviction, which was measured as a tenth of a
 * first-sight verification; dropping a whole generation costs nothing per entry. lru-cache-style
 * libraries keep a linked list per entry and cost more per `get`. quick-lru (npm, the hashlru
 * algorithm) does the same rotation, but wraps every value in an object with its expiry and looks
 * each hit up twice (`has`, then `get`); hashlru itself is unmaintained; and neither tells the
 * caller when a generation is dropped, which `InvalidationHub` needs (`set`'s return value).
 *
 * Monomorphic on purpose: one class for every cache, no callbacks, nothing allocated per call
 * (a rotation allocates one `Map`). Values must not be `undefined` (that is a miss).
 */
export class Generations<K, V> {
  readonly #generationSize: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  /** `generationSize`: entries per generation (at least 1). */
  constructor(generationSize: number) {
    this.#generationSize = Math.max(1, generationSize);
  }

  /** Entries held (a key moved to the young generation may be counted twice until the next rotation). */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** The value under `key`; a hit in the old generation moves to the young one. */
  get(key: K): V | undefined {
    const value = this.#young.get(key);
    if (value !== undefined) return value;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  /** The value under `key`, without moving it. */
  peek(key: K): V | undefined {
    return this.#young.get(key) ?? this.#old.get(key);
  }

  /** The value under `key` in the young generation only (where a key's latest `set` is). */
  peekYoung(key: K): V | undefined {
    return this.#young.get(key);
  }

  has(key: K): boolean {
    return this.#young.has(key) || this.#old.has(key);
  }

  /**
   * Stores `value` under `key` in the young generation. Returns true when this dropped the old
   * generation (the young one was full and `key` new to it), false otherwise.
   */
  set(key: K, value: V): boolean {
    const young = this.#young;
    if (young.size >= this.#generationSize && !young.has(key)) {
      this.#old = young;
      this.#young = new Map<K, V>().set(key, value);
      return true;
    }
    young.set(key, value);
    return false;
  }

  /** Removes `key` from both generations. */
  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  /** Drops everything. */
  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
  }
}
