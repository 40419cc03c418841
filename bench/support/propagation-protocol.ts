/** The messages between the revocation-propagation bench (instance A) and its child (instance B). Times are `now()` (ms). */

/**
 * How B polls: `immediate`, one verification per turn of its event loop (it spins); `event`, it
 * sleeps and verifies on the turn after each invalidation push (and every 5 ms).
 */
export type PollMode = 'immediate' | 'event';

export type ParentMessage =
  | { type: 'clock'; t0: number }
  | { type: 'arm'; id: number; token: string; timeoutMs: number; mode: PollMode }
  | { type: 'prepare-load'; users: number }
  /** `ratePerSec` 0 stops the load. */
  | { type: 'load'; ratePerSec: number }
  /** Starts the accounting of a condition (CPU, GCs, pings, load counts). */
  | { type: 'mark' }
  | { type: 'report' }
  | { type: 'stop' };

export interface SeenMessage {
  type: 'seen';
  id: number;
  /** B's token was warm (two verifications passed) and its polls began. */
  armedAt: number;
  /** Start of B's first verification that failed. */
  firstFailAt: number;
  /** When that verification's rejection reached the poll loop. */
  failedAt: number;
  /** Start of B's last verification that passed. */
  lastOkAt: number;
  /** Arrival of the latest invalidation push before the failure (0: none seen, or not probed). */
  pushAt: number;
  polls: number;
  /** Longest time between the starts of two polls of this sample (ms). */
  maxGapMs: number;
  /** Time between the failing poll's start and the one before it (ms). */
  gapBeforeFailMs: number;
  /** [from, to, from, to, …]: the gaps between polls over 0.2 ms (immediate mode). */
  gaps: number[];
  /** `code:reason` of the failure. */
  error: string;
  /** B's main thread between armed and the failure: time on a CPU and time waiting for one (ms). */
  runMs: number | null;
  waitMs: number | null;
}

export interface ChildReport {
  type: 'report';
  wallMs: number;
  cpuMs: number;
  /** [start, duration ms, kind] of every GC since the mark. */
  gcs: Array<[number, number, number]>;
  /** [sent, answered] of every lease PING since the mark (answered NaN: failed). */
  pings: Array<[number, number]>;
  probed: boolean;
  load: { done: number; failed: number; timerLagMaxMs: number };
}

export type ChildMessage =
  | { type: 'ready'; pid: number; probed: boolean }
  | { type: 'clock'; t0: number; tB: number }
  | { type: 'armed'; id: number; armedAt: number }
  | SeenMessage
  | { type: 'timeout'; id: number; armedAt: number; lastOkAt: number; polls: number }
  | { type: 'load-ready'; tokens: number }
  | { type: 'marked' }
  | ChildReport
  | { type: 'error'; id: number; message: string };
