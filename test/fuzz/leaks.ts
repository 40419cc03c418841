/**
 * Finds secrets in log text in one linear pass: every secret of at least `WINDOW` characters is
 * indexed by its first `WINDOW` characters, and each position of the text is looked up once.
 */
const WINDOW = 16;

export class LeakScanner {
  readonly #long = new Map<string, string[]>();
  readonly #short = new Set<string>();
  #count = 0;

  get size(): number {
    return this.#count;
  }

  add(...secrets: Array<string | null | undefined>): void {
    for (const secret of secrets) {
      if (typeof secret !== 'string' || secret.length < 8) continue;
      if (secret.length < WINDOW) {
        if (!this.#short.has(secret)) this.#count++;
        this.#short.add(secret);
        continue;
      }
      const key = secret.slice(0, WINDOW);
      const list = this.#long.get(key);
      if (list?.includes(secret)) continue;
      this.#count++;
      if (list) list.push(secret);
      else this.#long.set(key, [secret]);
    }
  }

  /** The secrets found in `text` (each once). */
  scan(text: string): string[] {
    const found = new Set<string>();
    for (let i = 0; i + WINDOW <= text.length; i++) {
      const candidates = this.#long.get(text.slice(i, i + WINDOW));
      if (candidates === undefined) continue;
      for (const secret of candidates) if (text.startsWith(secret, i)) found.add(secret);
    }
    for (const secret of this.#short) if (text.includes(secret)) found.add(secret);
    return [...found];
  }
}
