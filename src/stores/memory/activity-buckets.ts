import {
  ACTIVITY_COUNTERS,
  ACTIVITY_RETENTION_MS,
  type ActivityCounts,
  type MinuteFigures,
  zeroActivity,
} from '../../core/activity.js';
import type { ActivityBucketStore } from '../../core/ports.js';

type Bucket = MinuteFigures & { claimed: boolean };

/**
 * In-memory `ActivityBucketStore`: a map from minute to its figures, for one process (the memory
 * backend has one instance). Each call is one synchronous step (atomic). The map stays bounded
 * without a timer: when a new minute is written, minutes older than the retention before the
 * newest minute written are dropped (relative to the minutes themselves, so the overview's wall
 * clock and the stores' clock need not agree).
 */
export class MemoryActivityBuckets implements ActivityBucketStore {
  readonly #buckets = new Map<number, Bucket>();
  #newest = 0;

  #bucket(minuteMs: number): Bucket {
    let b = this.#buckets.get(minuteMs);
    if (b === undefined) {
      this.#newest = Math.max(this.#newest, minuteMs);
      for (const m of this.#buckets.keys()) {
        if (m < this.#newest - ACTIVITY_RETENTION_MS) this.#buckets.delete(m);
      }
      b = { ...zeroActivity(), sessions: null, claimed: false };
      if (minuteMs >= this.#newest - ACTIVITY_RETENTION_MS) this.#buckets.set(minuteMs, b);
    }
    return b;
  }

  async add(minuteMs: number, deltas: Partial<ActivityCounts>): Promise<void> {
    if (ACTIVITY_COUNTERS.every((name) => (deltas[name] ?? 0) === 0)) return;
    const b = this.#bucket(minuteMs);
    for (const name of ACTIVITY_COUNTERS) b[name] += deltas[name] ?? 0;
  }

  async claimSample(minuteMs: number): Promise<boolean> {
    const b = this.#bucket(minuteMs);
    if (b.claimed) return false;
    b.claimed = true;
    return true;
  }

  async setSample(minuteMs: number, sessions: number): Promise<void> {
    this.#bucket(minuteMs).sessions = sessions;
  }

  async read(minutes: readonly number[]): Promise<MinuteFigures[]> {
    return minutes.map((m) => {
      const b = this.#buckets.get(m);
      if (b === undefined) return { ...zeroActivity(), sessions: null };
      const { claimed: _claimed, ...figures } = b;
      return figures;
    });
  }
}
