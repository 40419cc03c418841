import {
  ACTIVITY_COUNTERS,
  ACTIVITY_RETENTION_MS,
  type ActivityCounts,
  type MinuteFigures,
  zeroActivity,
} from '../../core/activity.js';
import type { ActivityBucketStore } from '../../core/ports.js';
import { arg, type RedisStoreContext, replyString } from './context.js';
import { activityAdd } from './lua/activity_add.js';

const SAMPLE = 'sessions';
const SAMPLE_LOCK = 'sessions_lock';
/** What `read` fetches of each minute, in this order: the counters, then the sample. */
const FIELDS = [...ACTIVITY_COUNTERS, SAMPLE] as const;

/**
 * `ActivityBucketStore` on Redis, shared by every instance: one STRING per minute and field
 * (`activity:{<minute ms>}:<field>`, PX = the retention). `add` is `activity_add.lua` (INCRBY and
 * PEXPIRE of each counter, one script on the minute's slot); the sample claim is `SET NX PX` on
 * `sessions_lock`, the sample a `SET PX` of `sessions`; `read` is one `MGET` per minute (its keys
 * share the minute's hash tag: one slot on Cluster).
 */
export class RedisActivityBuckets implements ActivityBucketStore {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async add(minuteMs: number, deltas: Partial<ActivityCounts>): Promise<void> {
    const entries = ACTIVITY_COUNTERS.filter((name) => (deltas[name] ?? 0) !== 0);
    if (entries.length === 0) return;
    const { client, keys } = this.#ctx;
    await activityAdd(client.runScript.bind(client), {
      retentionMs: ACTIVITY_RETENTION_MS,
      counters: entries.map((name) => ({ key: keys.activity(minuteMs, name), delta: deltas[name] ?? 0 })),
    });
  }

  async claimSample(minuteMs: number): Promise<boolean> {
    const { client, keys } = this.#ctx;
    const key = keys.activity(minuteMs, SAMPLE_LOCK);
    const reply = await client.wrap('activity sample claim', () =>
      client.commands.set(key, '1', {
        expiration: { type: 'PX', value: ACTIVITY_RETENTION_MS },
        condition: 'NX',
      }),
    );
    return reply !== null;
  }

  async setSample(minuteMs: number, sessions: number): Promise<void> {
    const { client, keys } = this.#ctx;
    const key = keys.activity(minuteMs, SAMPLE);
    await client.wrap('activity sample', () =>
      client.commands.set(key, arg(sessions), {
        expiration: { type: 'PX', value: ACTIVITY_RETENTION_MS },
      }),
    );
  }

  async read(minutes: readonly number[]): Promise<MinuteFigures[]> {
    const { client, keys } = this.#ctx;
    const replies = await client.wrap('activity read', () =>
      Promise.all(minutes.map((m) => client.commands.mGet(FIELDS.map((name) => keys.activity(m, name))))),
    );
    return replies.map((values) => figures(values));
  }
}

function figures(values: readonly unknown[]): MinuteFigures {
  const out: MinuteFigures = { ...zeroActivity(), sessions: null };
  ACTIVITY_COUNTERS.forEach((name, i) => {
    const n = Number(replyString(values[i]) ?? 0);
    out[name] = Number.isFinite(n) ? n : 0;
  });
  const s = replyString(values[ACTIVITY_COUNTERS.length]);
  out.sessions = s === null ? null : Number(s);
  return out;
}
