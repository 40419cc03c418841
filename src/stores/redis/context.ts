/**
 * What every Redis store shares: the client, the key schema, the clock and the event settings,
 * plus the few helpers that turn script replies into typed values.
 */
import type { Clock } from '../../core/clock.js';
import type { IdCodec } from '../../core/ids.js';
import { StoreUnavailableError } from '../../core/errors.js';
import type { RedisClient } from '../../connection/client.js';
import type { WriteAdmission } from '../../connection/memory-guard.js';
import type { KeySchema } from './keys.js';
import { indexAdd } from './lua/index_add.js';

export interface RedisStoreContext {
  readonly client: RedisClient;
  readonly keys: KeySchema;
  /** Makes and reads generated ids (`Stores.ids`; the key schema parses with the same codec). */
  readonly ids: IdCodec;
  readonly clock: Clock;
  /** Retention of security events, in ms. */
  readonly eventRetentionMs: number;
  /** Bound of each user's security event index. */
  readonly maxEventsPerUser: number;
  /** Asked before the writes that can wait (logins, device trusts, events); `null`: never shed. */
  readonly admission: WriteAdmission | null;
}

/**
 * How long an index outlives its latest member, in ms. Scripts compute TTLs from the injected
 * clock while Redis expires keys by its own: the slack keeps an index (the authority on what is
 * live) from vanishing before the members it vouches for when the two clocks differ, and leaves
 * expired members of idle indexes for the sweeper to count and remove. Idle indexes still vanish.
 */
export const INDEX_TTL_SLACK_MS = 5 * 60_000;

/** A script reply that must be an array; anything else means a script and its caller disagree. */
export function replyArray(reply: unknown, operation: string): unknown[] {
  if (!Array.isArray(reply)) throw unexpectedReply(operation, reply);
  return reply;
}

/** A bulk-string reply (or one element of an array reply): the string, or `null` for nil. */
export function replyString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return String(value);
  return null;
}

/** A numeric reply (integer, or a number sent as a string). */
export function replyNumber(value: unknown, operation: string): number {
  const n = typeof value === 'number' ? value : Number(replyString(value));
  if (!Number.isFinite(n)) throw unexpectedReply(operation, value);
  return n;
}

export function unexpectedReply(operation: string, reply: unknown): StoreUnavailableError {
  const shown = JSON.stringify(reply)?.slice(0, 80) ?? String(reply);
  return new StoreUnavailableError(`Redis ${operation}: unexpected reply ${shown}`);
}

/** A number as a Redis argument (scores and ms): plain decimal, no exponent for our ranges. */
export function arg(n: number): string {
  return String(n);
}

/** What one `index_add` call prunes at most (see `index_add.lua`). */
export const INDEX_PRUNE_LIMIT = 500;

/**
 * Keys one `SCAN` step looks at. A step's cost grows with it, not with the keyspace: on a 3.2M-key
 * server (`npm run scale`) steps of 500 took at most 2–3 ms (most well under 1 ms), steps of 1000
 * up to 4 ms.
 */
const SCAN_COUNT = 500;

/**
 * Removes every member scored at or before `bound` from an index on its own slot, in bounded
 * steps of `INDEX_PRUNE_LIMIT` (`index_add` with no members), so no single command runs long
 * however many members expired at once. Returns the number removed.
 */
export async function pruneIndex(ctx: RedisStoreContext, key: string, bound: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const step = await indexAdd(ctx.client.runScript.bind(ctx.client), {
      indexKey: key,
      now: ctx.clock.now(),
      pruneAtOrBelow: bound,
      maxMembers: 0,
      indexTtlSlackMs: null,
      entries: [],
    });
    removed += step;
    if (step < INDEX_PRUNE_LIMIT) return removed;
  }
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight (node-redis pipelines their
 * commands). Resolves when every call has.
 */
export async function forEachConcurrent<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Walks the keys matching `pattern` with bounded `SCAN` steps (`COUNT 500`; on Cluster every
 * master in turn). Each step runs under the client's deadline and error conversion.
 */
export async function* scanKeys(ctx: RedisStoreContext, pattern: string): AsyncGenerator<string[]> {
  const iterator = ctx.client.commands
    .scanIterator({ MATCH: pattern, COUNT: SCAN_COUNT })
    [Symbol.asyncIterator]();
  for (;;) {
    const step = await ctx.client.wrap('scan', () => iterator.next());
    if (step.done) return;
    yield step.value;
  }
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
