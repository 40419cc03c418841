import { InvalidArgumentError } from '../errors.js';
import { assertUserId } from '../ids.js';
import { DEFAULT_EVENT_LIMIT, DEFAULT_SEVERITY, MAX_EVENT_LIMIT, SEVERITIES } from '../limits.js';
import type { ListEventsOptions, SecurityEventStore } from '../ports.js';
import type { SecurityEvent, SecurityEventInput } from '../types.js';
import { assertFiniteNumber, assertNonEmptyString, assertObject } from '../validate.js';
import type { CheckContext } from './context.js';

/**
 * An event to record, checked, with `severity` filled in (what `record` hands the backend; the
 * session store's checks use it for a login's events too).
 */
export function checkEventInput(input: SecurityEventInput, name = 'event'): SecurityEventInput {
  assertObject(name, input);
  assertNonEmptyString(`${name}.type`, input.type);
  if (input.userId !== undefined && input.userId !== null) assertUserId(input.userId);
  const severity = input.severity ?? DEFAULT_SEVERITY;
  if (!SEVERITIES.includes(severity)) {
    throw new InvalidArgumentError(`${name}.severity`, `must be one of ${SEVERITIES.join(', ')}`);
  }
  // Absent or null: now (the backend's clock).
  if (input.timestamp !== undefined && input.timestamp !== null) {
    assertFiniteNumber(`${name}.timestamp`, input.timestamp);
  }
  return input.severity === severity ? input : { ...input, severity };
}

/**
 * `SecurityEventStore` with every argument checked, and the defaults filled in (`severity`; the
 * list's `limit`, capped at `MAX_EVENT_LIMIT`), before the backend sees it.
 */
export class CheckedSecurityEvents implements SecurityEventStore {
  readonly #inner: SecurityEventStore;
  readonly #ctx: CheckContext;

  constructor(inner: SecurityEventStore, ctx: CheckContext) {
    this.#inner = inner;
    this.#ctx = ctx;
  }

  async record(input: SecurityEventInput): Promise<SecurityEvent> {
    return this.#inner.record(checkEventInput(input));
  }

  async get(eventId: string): Promise<SecurityEvent | null> {
    this.#ctx.ids.parse('eventId', eventId);
    return this.#inner.get(eventId);
  }

  async listUserEvents(userId: string, options: ListEventsOptions = {}): Promise<SecurityEvent[]> {
    assertUserId(userId);
    assertObject('options', options);
    if (options.since !== undefined) assertFiniteNumber('since', options.since);
    if (options.until !== undefined) assertFiniteNumber('until', options.until);
    const limit = options.limit ?? DEFAULT_EVENT_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError('limit', 'must be an integer of at least 1');
    }
    const normalized: ListEventsOptions = { limit: Math.min(limit, MAX_EVENT_LIMIT) };
    if (options.since !== undefined) normalized.since = options.since;
    if (options.until !== undefined) normalized.until = options.until;
    return this.#inner.listUserEvents(userId, normalized);
  }
}
