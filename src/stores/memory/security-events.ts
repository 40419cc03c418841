import { DEFAULT_EVENT_LIMIT } from '../../core/limits.js';
import type { ListEventsOptions, SecurityEventStore } from '../../core/ports.js';
import { newSecurityEvent, type SecurityEvent, type SecurityEventInput } from '../../core/types.js';
import { indexAdd, type MemoryState } from './state.js';

function copyEvent(event: SecurityEvent): SecurityEvent {
  return { ...event, details: { ...event.details } };
}

/** Newest first by timestamp, then by id (as `ZRANGE … REV` orders equal scores). */
function byTimestampDesc(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0);
}

/**
 * In-memory `SecurityEventStore`. A user's event lives until its timestamp + the retention (an
 * event without a user: the retention from when it was recorded); each user's index (eventId →
 * timestamp) is pruned of events past the retention and trimmed to the newest `maxEventsPerUser`
 * on every write, the trimmed records with it. Arguments are checked, and the defaults filled
 * in, by `CheckedSecurityEvents` (`core/checked/`) before they get here.
 */
export class MemorySecurityEvents implements SecurityEventStore {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async record(input: SecurityEventInput): Promise<SecurityEvent> {
    return copyEvent(recordEvent(this.#state, input));
  }

  async get(eventId: string): Promise<SecurityEvent | null> {
    const event = this.#state.read(this.#state.securityEvents, eventId);
    return event === undefined ? null : copyEvent(event);
  }

  async listUserEvents(userId: string, options: ListEventsOptions = {}): Promise<SecurityEvent[]> {
    const since = options.since ?? Number.NEGATIVE_INFINITY;
    const until = options.until ?? Number.POSITIVE_INFINITY;
    const limit = options.limit ?? DEFAULT_EVENT_LIMIT;
    const state = this.#state;
    const now = state.now();
    const oldest = now - state.eventRetentionMs;
    const members = [...(state.userSecurityEvents.get(userId) ?? [])]
      .filter(([, timestamp]) => timestamp >= since && timestamp <= until && timestamp > oldest)
      .sort(byTimestampDesc);
    const events: SecurityEvent[] = [];
    for (const [eventId] of members) {
      if (events.length >= limit) break;
      const event = state.read(state.securityEvents, eventId, now);
      if (event !== undefined) events.push(copyEvent(event));
    }
    return events;
  }
}

/**
 * Records an event (the body of `record`, shared with the session store, which records a login's
 * events in the create's own step). Returns the stored event (not a copy).
 */
export function recordEvent(state: MemoryState, input: SecurityEventInput): SecurityEvent {
  const now = state.now();
  const event = newSecurityEvent(input, state.ids, now);
  const { userId, timestamp } = event;
  if (userId === null) {
    state.securityEvents.set(event.eventId, { value: event, expiresAt: now + state.eventRetentionMs });
    return event;
  }
  // The record lives until its index entry is pruned (timestamp + retention), never longer; an
  // event already past the retention is not kept.
  const expiresAt = timestamp + state.eventRetentionMs;
  if (expiresAt <= now) return event;
  state.securityEvents.set(event.eventId, { value: event, expiresAt });
  pruneUserEvents(state, userId, now);
  indexAdd(state.userSecurityEvents, userId, event.eventId, timestamp);
  trimUserEvents(state, userId);
  return event;
}

/** Removes from the user's index events past the retention or without a record. Returns the count. */
export function pruneUserEvents(state: MemoryState, userId: string, now = state.now()): number {
  const index = state.userSecurityEvents.get(userId);
  if (index === undefined) return 0;
  const oldest = now - state.eventRetentionMs;
  let removed = 0;
  for (const [eventId, timestamp] of index) {
    if (timestamp <= oldest || state.read(state.securityEvents, eventId, now) === undefined) {
      index.delete(eventId);
      removed++;
    }
  }
  if (index.size === 0) state.userSecurityEvents.delete(userId);
  return removed;
}

/** Keeps only the newest `maxEventsPerUser` members of the user's index; trimmed records go with them. */
function trimUserEvents(state: MemoryState, userId: string): void {
  const index = state.userSecurityEvents.get(userId);
  if (index === undefined || index.size <= state.maxEventsPerUser) return;
  const oldestFirst = [...index].sort(byTimestampDesc).reverse();
  for (const [eventId] of oldestFirst.slice(0, index.size - state.maxEventsPerUser)) {
    index.delete(eventId);
    state.securityEvents.delete(eventId);
  }
}

/** Prunes every user's event index and drops expired event records. */
export function cleanupEventIndexes(state: MemoryState): { removed: number; scanned: number } {
  const now = state.now();
  let removed = 0;
  let scanned = 0;
  for (const [userId, index] of [...state.userSecurityEvents]) {
    scanned += index.size;
    removed += pruneUserEvents(state, userId, now);
  }
  for (const eventId of [...state.securityEvents.keys()]) state.read(state.securityEvents, eventId, now);
  return { removed, scanned };
}
