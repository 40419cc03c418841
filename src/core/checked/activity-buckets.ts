import {
  type ActivityCounts,
  assertActivityDeltas,
  assertActivityMinute,
  assertActivitySample,
  type MinuteFigures,
} from '../activity.js';
import type { ActivityBucketStore } from '../ports.js';

/** `ActivityBucketStore` with every argument checked before the backend sees it. */
export class CheckedActivityBuckets implements ActivityBucketStore {
  readonly #inner: ActivityBucketStore;

  constructor(inner: ActivityBucketStore) {
    this.#inner = inner;
  }

  async add(minuteMs: number, deltas: Partial<ActivityCounts>): Promise<void> {
    assertActivityMinute(minuteMs);
    assertActivityDeltas(deltas);
    return this.#inner.add(minuteMs, deltas);
  }

  async claimSample(minuteMs: number): Promise<boolean> {
    assertActivityMinute(minuteMs);
    return this.#inner.claimSample(minuteMs);
  }

  async setSample(minuteMs: number, sessions: number): Promise<void> {
    assertActivityMinute(minuteMs);
    assertActivitySample(sessions);
    return this.#inner.setSample(minuteMs, sessions);
  }

  async read(minutes: readonly number[]): Promise<MinuteFigures[]> {
    for (const m of minutes) assertActivityMinute(m);
    return this.#inner.read(minutes);
  }
}
