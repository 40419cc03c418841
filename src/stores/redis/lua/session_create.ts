/** Typed wrapper of `session_create.lua` (see its header). */
import type { SessionLimitPolicy } from '../../../core/ports.js';
import { replyArray, replyNumber, replyString, unexpectedReply } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface SessionCreateInput {
  readonly userIndexKey: string;
  readonly recordKey: string;
  /** The user's swept set (`session_sweep_check.lua`). */
  readonly sweptKey: string;
  readonly now: number;
  readonly sessionId: string;
  /** The index score (ms). */
  readonly expiresAt: number;
  /** The encoded record (`records.ts`) and its TTL (ms, > 0). */
  readonly record: string;
  readonly recordTtlMs: number;
  /** Cap on live sessions (0: none) and what happens at it. */
  readonly maxSessions: number;
  readonly onLimit: SessionLimitPolicy;
  readonly indexTtlSlackMs: number;
  /** The user's sessions found in the device index: `seen` says whether one was live. */
  readonly deviceCandidates: readonly string[];
  /**
   * Off Cluster, the session's device index, written in this script (the one-step login); with
   * `decideSeen`, `seen` comes from it (then `deviceCandidates` is empty). `null` on Cluster or
   * without a device: the caller adds the entry with `session_device_add`.
   */
  readonly deviceIndex?: { readonly key: string; readonly decideSeen: boolean } | null;
  /** Other sessions' records declared (second call), each with its key. */
  readonly declared: ReadonlyArray<{ readonly sessionId: string; readonly key: string }> | null;
  /** The login's events, written with the session when the user's event index has room. */
  readonly events: SessionCreateEvents | null;
}

/** One event record as `event_record.lua` writes it. */
export interface SessionCreateEvent {
  readonly recordKey: string;
  readonly eventId: string;
  /** The index score (ms). */
  readonly timestamp: number;
  /** The record's TTL (ms, > 0) and JSON. */
  readonly ttlMs: number;
  readonly recordJson: string;
}

export interface SessionCreateEvents {
  readonly userIndexKey: string;
  /** Members with a timestamp at or before this (ms) leave the event index. */
  readonly pruneAtOrBelow: number;
  readonly maxEvents: number;
  readonly created: SessionCreateEvent;
  /** Written when the device is new to the user; `trustedDeviceKey` is its trust record. */
  readonly newDevice: (SessionCreateEvent & { readonly trustedDeviceKey: string }) | null;
}

/** `[id, record or null]` pairs (declared records are returned; undeclared ones are `null`). */
export type IdRecordPairs = Array<[string, string | null]>;

export type SessionCreateReply =
  | {
      status: 'ok';
      evicted: IdRecordPairs;
      dead: IdRecordPairs;
      deviceSeen: boolean;
      /** `none` asked, `written`, or `full`: the event index is at its bound, not written. */
      events: 'none' | 'written' | 'full';
      /** With a new-device event: whether the device was new to the user. */
      newDevice: boolean;
      /** A sweep found the session not live before this create: its device entry may be gone. */
      swept: boolean;
    }
  | { status: 'declare'; others: string[] }
  | { status: 'limit' };

export async function sessionCreate(
  run: ScriptRunner,
  input: SessionCreateInput,
): Promise<SessionCreateReply> {
  const declared = input.declared ?? [];
  const device = input.deviceIndex ?? null;
  // KEYS[4]: the device index, or (on Cluster, another slot) the swept set again, untouched.
  const keys = [input.userIndexKey, input.recordKey, input.sweptKey, device?.key ?? input.sweptKey];
  const eventArgs: string[] = [];
  const ev = input.events;
  if (ev !== null) {
    keys.push(ev.userIndexKey, ev.created.recordKey);
    eventArgs.push(String(ev.pruneAtOrBelow), String(ev.maxEvents), ...eventFields(ev.created));
    if (ev.newDevice !== null) {
      keys.push(ev.newDevice.recordKey, ev.newDevice.trustedDeviceKey);
      eventArgs.push(...eventFields(ev.newDevice));
    }
  }
  const eventKeys = keys.length - 4;
  for (const d of declared) keys.push(d.key);
  // Of these keys, tracked reads (the live-session cache) see only the session records and the
  // user index; the swept set, the events, the trust record and the device index are never read
  // there.
  const tracked = [input.userIndexKey, input.recordKey];
  for (const d of declared) tracked.push(d.key);
  const reply = replyArray(
    await run(
      SCRIPTS.session_create,
      keys,
      [
        String(input.now),
        input.sessionId,
        String(input.expiresAt),
        input.record,
        String(input.recordTtlMs),
        String(input.maxSessions),
        input.onLimit,
        String(input.indexTtlSlackMs),
        input.declared === null ? '0' : '1',
        input.deviceCandidates.join(' '),
        String(eventKeys),
        device === null ? '0' : device.decideSeen ? '2' : '1',
        ...eventArgs,
        ...declared.map((d) => d.sessionId),
      ],
      tracked,
    ),
    'session_create',
  );
  switch (reply[0]) {
    case 'ok':
      return {
        status: 'ok',
        evicted: pairs(reply[1]),
        dead: pairs(reply[2]),
        deviceSeen: replyNumber(reply[3] ?? 0, 'session_create') === 1,
        events: EVENTS_STATUS[replyNumber(reply[4] ?? 0, 'session_create')] ?? 'none',
        newDevice: replyNumber(reply[5] ?? 0, 'session_create') === 1,
        swept: replyNumber(reply[6] ?? 0, 'session_create') === 1,
      };
    case 'declare':
      return {
        status: 'declare',
        others: replyArray(reply[1], 'session_create')
          .map(replyString)
          .filter((id): id is string => id !== null),
      };
    case 'limit':
      return { status: 'limit' };
    default:
      throw unexpectedReply('session_create', reply);
  }
}

const EVENTS_STATUS = ['none', 'written', 'full'] as const;

function eventFields(e: SessionCreateEvent): string[] {
  return [e.eventId, String(e.timestamp), String(e.ttlMs), e.recordJson];
}

/** `[id, value or null]` pairs from a flat `{id, value, id, value, ...}` reply. */
function pairs(reply: unknown): IdRecordPairs {
  const flat = replyArray(reply ?? [], 'session_create');
  const out: IdRecordPairs = [];
  for (let i = 0; i < flat.length; i += 2) out.push([replyString(flat[i]) ?? '', replyString(flat[i + 1])]);
  return out;
}
