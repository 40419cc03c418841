import { StoreUnavailableError } from '../../core/errors.js';
import { DEFAULT_EVENT_LIMIT } from '../../core/limits.js';
import type { ListEventsOptions, SecurityEventStore } from '../../core/ports.js';
import { newSecurityEvent, type SecurityEvent, type SecurityEventInput } from '../../core/types.js';
import { arg, INDEX_TTL_SLACK_MS, type RedisStoreContext, replyNumber, scanKeys } from './context.js';
import { decodeSecurityEvent, encodeSecurityEvent } from './records.js';
import { eventRecord } from './lua/event_record.js';

const BATCH = 500;

function copyEvent(event: SecurityEvent): SecurityEvent {
  return { ...event, details: { ...event.details } };
}

/**
 * `SecurityEventStore` on Redis: `security:event:{tag}.<rest>` STRING JSON (`PX` = until the event's
 * timestamp + the retention, when its index entry is pruned) and `user:security:{tag}` ZSET
 * eventId → timestamp, written together by one script that also prunes the index of events past
 * the retention and trims it to the newest `maxEventsPerUser`, deleting the trimmed records. An event without a user has an id with a random tag of its own and
 * no index. Arguments are checked, and the defaults filled in, by `CheckedSecurityEvents`
 * (`core/checked/`) before they get here.
 */
export class RedisSecurityEvents implements SecurityEventStore {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async record(input: SecurityEventInput): Promise<SecurityEvent> {
    const { client, keys, clock, eventRetentionMs, maxEventsPerUser } = this.#ctx;
    const now = clock.now();
    const event = newSecurityEvent(input, this.#ctx.ids, now);
    const { userId, timestamp } = event;
    // Under memory pressure events are dropped (counted by the guard): the memory left is kept
    // for revocations, and the action the event describes has happened anyway.
    if (this.#ctx.admission !== null && !this.#ctx.admission.admit('event')) return copyEvent(event);
    const key = keys.securityEvent(event.eventId);
    if (userId === null) {
      const json = encodeSecurityEvent(event, now + eventRetentionMs);
      await client.wrap('set', () =>
        client.commands.set(key, json, { expiration: { type: 'PX', value: eventRetentionMs } }),
      );
      return copyEvent(event);
    }
    // The record lives until its index entry is pruned (timestamp + retention), never longer. An
    // event given a timestamp already past the retention is not kept at all.
    const expiresAt = timestamp + eventRetentionMs;
    if (expiresAt <= now) return copyEvent(event);
    const json = encodeSecurityEvent(event, expiresAt);
    const index = keys.userSecurityEvents(userId);
    // Every record the script may delete is passed in KEYS (Cluster routing): the first call names
    // none; at the bound the script writes nothing and names the oldest events, and the second
    // call passes their records and always writes (a victim a concurrent write made new stays over
    // the bound until a later write trims it: two round trips at most, however busy the user).
    let candidates: string[] = [];
    for (const final of [false, true]) {
      const reply = await eventRecord(client.runScript.bind(client), {
        recordKey: key,
        userIndexKey: index,
        recordJson: json,
        ttlMs: expiresAt - now,
        eventId: event.eventId,
        timestamp,
        pruneAtOrBelow: now - eventRetentionMs,
        maxEvents: maxEventsPerUser,
        indexTtlSlackMs: INDEX_TTL_SLACK_MS,
        final,
        candidates: candidates.map((id) => ({ eventId: id, key: keys.securityEvent(id) })),
      });
      if (reply.status === 'written') return copyEvent(event);
      const ids = reply.oldest;
      const valid = ids.filter((id) => this.#ctx.ids.is(id) && keys.userSecurityEventsOf(id) === index);
      // A member that is not an event id of this user's slot has no record: drop it from the index.
      const junk = ids.filter((id) => !valid.includes(id));
      if (junk.length > 0) await client.wrap('zRem', () => client.commands.zRem(index, junk));
      candidates = valid;
    }
    throw new StoreUnavailableError('event_record: the second call did not write');
  }

  async get(eventId: string): Promise<SecurityEvent | null> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.securityEvent(eventId);
    const stored = decodeSecurityEvent(await client.wrap('get', () => client.commands.get(key)));
    return stored !== null && stored.expiresAt > clock.now() && stored.event.eventId === eventId
      ? stored.event
      : null;
  }

  async listUserEvents(userId: string, options: ListEventsOptions = {}): Promise<SecurityEvent[]> {
    const { client, keys, clock, eventRetentionMs } = this.#ctx;
    const index = keys.userSecurityEvents(userId);
    const want = options.limit ?? DEFAULT_EVENT_LIMIT;
    const now = clock.now();
    // Newest first (ZRANGE … REV orders equal timestamps by id, descending), inside since/until and
    // the retention (timestamp > now - retention).
    const oldest = now - eventRetentionMs;
    const min = options.since !== undefined && options.since > oldest ? arg(options.since) : `(${oldest}`;
    const max = options.until !== undefined ? arg(options.until) : '+inf';

    const events: SecurityEvent[] = [];
    let offset = 0;
    // Page until `want` events are found: members whose record is gone are skipped.
    for (;;) {
      const count = Math.min(BATCH, Math.max(want - events.length, 1) + 10);
      const ids = await client.wrap('zRange', () =>
        client.commands.zRange(index, max, min, { BY: 'SCORE', REV: true, LIMIT: { offset, count } }),
      );
      const valid = ids.filter((id) => this.#ctx.ids.is(id) && keys.userSecurityEventsOf(id) === index);
      // One user's records share the index's slot: one MGET per page.
      const jsons =
        valid.length === 0
          ? []
          : await client.wrap('mGet', () => client.commands.mGet(valid.map((id) => keys.securityEvent(id))));
      for (const json of jsons) {
        if (events.length >= want) break;
        const stored = decodeSecurityEvent(json);
        if (stored !== null && stored.expiresAt > now) events.push(stored.event);
      }
      if (events.length >= want || ids.length < count) break;
      offset += ids.length;
    }
    return events;
  }
}

/**
 * Prunes every user's event index (bounded `SCAN`, members in batches of 500) of events past the
 * retention or whose record is gone. Returns the members removed and looked at.
 */
export async function cleanupEventIndexes(
  ctx: RedisStoreContext,
  onStep?: (scanned: number) => void,
): Promise<{ removed: number; scanned: number }> {
  const { client, keys, clock, eventRetentionMs } = ctx;
  let removed = 0;
  let scanned = 0;
  for await (const batch of scanKeys(ctx, keys.patterns.userSecurityEvents)) {
    for (const index of batch) {
      const now = clock.now();
      scanned += await client.wrap('zCard', () => client.commands.zCard(index));
      removed += await client.wrap('zRemRangeByScore', () =>
        client.commands.zRemRangeByScore(index, '-inf', now - eventRetentionMs),
      );
      let offset = 0;
      for (;;) {
        const ids = await client.wrap('zRange', () =>
          client.commands.zRange(index, offset, offset + BATCH - 1),
        );
        if (ids.length === 0) break;
        const valid = ids.filter((id) => ctx.ids.is(id) && keys.userSecurityEventsOf(id) === index);
        const jsons =
          valid.length === 0
            ? []
            : await client.wrap('mGet', () =>
                client.commands.mGet(valid.map((id) => keys.securityEvent(id))),
              );
        const gone = new Set(ids.filter((id) => !valid.includes(id)));
        valid.forEach((id, i) => {
          const stored = decodeSecurityEvent(jsons[i] ?? null);
          if (stored === null || stored.expiresAt <= now) gone.add(id);
        });
        const removedHere =
          gone.size === 0
            ? 0
            : replyNumber(await client.wrap('zRem', () => client.commands.zRem(index, [...gone])), 'zRem');
        removed += removedHere;
        if (ids.length < BATCH) break;
        offset += ids.length - removedHere;
      }
      onStep?.(scanned);
    }
  }
  return { removed, scanned };
}
