/**
 * Write shedding under memory pressure. With `maxmemory` and `noeviction`, a full Redis refuses
 * every write, revocations included, while tokens already issued keep verifying: one account's
 * flood of logins would block every revoke. The guard samples `INFO memory` (on a timer, never per
 * request) and, above a share of `maxmemory`, the stores refuse the writes that can wait — logins,
 * device trusts — and drop security events, so that the remaining memory is kept for
 * revocation-class writes (blacklist entries, family revocations, session deletions, watermarks),
 * which are small or free memory. A Redis `OOM` reply turns shedding on at once, until a sample
 * shows the memory back under the threshold.
 */
import type { RedisClient } from './client.js';

/** The writes the guard may refuse, lowest priority first. */
export type SheddableWrite = 'login' | 'device_trust' | 'event';

/** What the stores ask before a sheddable write. */
export interface WriteAdmission {
  /** `false` while shedding: the caller refuses (`StoreBusyError`) or drops (events) the write. */
  admit(write: SheddableWrite): boolean;
}

export interface MemoryGuardOptions {
  /** Shed above this share of `maxmemory`, in percent (1–99). */
  shedAbovePercent: number;
  /** How often `INFO memory` is read, in ms. */
  sampleIntervalMs: number;
}

/** Who is told of shed writes (metrics) and of shedding starting and stopping (logs). */
export interface MemoryGuardListener {
  onShed?(write: SheddableWrite): void;
  onStateChange?(state: MemoryGuardState): void;
}

export interface MemoryGuardState {
  readonly shedding: boolean;
  /** `used_memory` at the last sample, bytes. */
  readonly usedBytes: number | null;
  /** `maxmemory`, bytes; 0 = no limit (the guard never sheds then, unless Redis answers OOM). */
  readonly maxBytes: number | null;
  /** Why it sheds: the sampled share, or an OOM reply since the last sample. */
  readonly reason: 'memory' | 'oom' | null;
}

export class MemoryGuard implements WriteAdmission {
  readonly #client: RedisClient;
  readonly #options: MemoryGuardOptions;
  #state: MemoryGuardState = { shedding: false, usedBytes: null, maxBytes: null, reason: null };
  #timer: NodeJS.Timeout | null = null;
  #sampling = false;
  readonly #listeners = new Set<MemoryGuardListener>();

  constructor(client: RedisClient, options: MemoryGuardOptions) {
    this.#client = client;
    this.#options = options;
  }

  get state(): MemoryGuardState {
    return this.#state;
  }

  admit(write: SheddableWrite): boolean {
    if (!this.#state.shedding) return true;
    for (const l of this.#listeners) l.onShed?.(write);
    return false;
  }

  /** Adds a listener; returns a function that removes it. */
  listen(listener: MemoryGuardListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Redis refused a write for memory (`OOM`): shed until a sample says otherwise. */
  noteOom(): void {
    if (!this.#state.shedding) this.#set({ ...this.#state, shedding: true, reason: 'oom' });
  }

  /** Reads `INFO memory` once and updates the state. Never throws (a failed read keeps the state). */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const info = await this.#client.info('memory');
      const used = typeof info.used_memory === 'number' ? info.used_memory : null;
      const max = typeof info.maxmemory === 'number' ? info.maxmemory : null;
      const over =
        used !== null && max !== null && max > 0 && used * 100 >= max * this.#options.shedAbovePercent;
      this.#set({ shedding: over, usedBytes: used, maxBytes: max, reason: over ? 'memory' : null });
    } catch {
      // Redis unreachable: the writes fail on their own; keep the last verdict.
    } finally {
      this.#sampling = false;
    }
  }

  /** Samples now and then every `sampleIntervalMs` (the timer does not keep the process alive). */
  async start(): Promise<void> {
    await this.sample();
    this.#timer ??= setInterval(() => void this.sample(), this.#options.sampleIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #set(next: MemoryGuardState): void {
    const changed = next.shedding !== this.#state.shedding;
    this.#state = Object.freeze(next);
    if (changed) for (const l of this.#listeners) l.onStateChange?.(this.#state);
  }
}
