/**
 * Paging of a security timeline, newest first, over the store's `since`/`until`/`limit` query.
 * Each page answers `nextUntil`: pass it as `until` (inclusive) to get the next, older page;
 * `null` on the last page. Events of one millisecond are never split between two pages (the page
 * stops before them and the next one starts with them), so paging neither repeats nor skips any —
 * except when more than a whole page of events share a single millisecond, where the page holds
 * `limit` of them and the rest of that millisecond is skipped.
 */
import type { ListEventsOptions } from '../core/ports.js';
import type { SecurityEvent } from '../core/types.js';

/** The store's cap on one query (`SecurityEventStore.list`). */
const STORE_MAX = 1000;

export interface EventPage {
  readonly events: SecurityEvent[];
  readonly nextUntil: number | null;
}

export async function pageOfEvents(
  list: (options: ListEventsOptions) => Promise<SecurityEvent[]>,
  query: { since?: number; until?: number; limit: number },
): Promise<EventPage> {
  const { limit } = query;
  // One more than asked tells whether older events exist (the store returns at most 1000).
  const want = Math.min(limit + 1, STORE_MAX);
  const fetched = await list({
    ...(query.since !== undefined ? { since: query.since } : {}),
    ...(query.until !== undefined ? { until: query.until } : {}),
    limit: want,
  });
  if (fetched.length < want) return { events: fetched.slice(0, limit), nextUntil: null };
  // There may be more at or before the oldest fetched millisecond: stop the page before it.
  const boundary = fetched[fetched.length - 1]!.timestamp;
  const page = fetched.slice(0, limit).filter((e) => e.timestamp > boundary);
  if (page.length > 0) return { events: page, nextUntil: boundary };
  // A whole page within one millisecond: show it, move past that millisecond.
  const nextUntil = boundary - 1;
  return {
    events: fetched.slice(0, limit),
    nextUntil: query.since !== undefined && nextUntil < query.since ? null : nextUntil,
  };
}
