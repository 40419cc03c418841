/** Typed wrapper of `session_create.lua` (see its header). */
import type { SessionLimitPolicy } from '../../../core/ports.js';
import { replyArray, replyNumber, replyString, unexpectedReply } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface SessionCreateInput {
  readonly userIndexKey: string;
  readonly recordKey: string;
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
  /** Other sessions' records declared (second call), each with its key. */
  readonly declared: ReadonlyArray<{ readonly sessionId: string; readonly key: string }> | null;
}

/** `[id, record or null]` pairs (declared records are returned; undeclared ones are `null`). */
export type IdRecordPairs = Array<[string, string | null]>;

export type SessionCreateReply =
  | { status: 'ok'; evicted: IdRecordPairs; dead: IdRecordPairs; deviceSeen: boolean }
  | { status: 'declare'; others: string[] }
  | { status: 'limit' };

export async function sessionCreate(
  run: ScriptRunner,
  input: SessionCreateInput,
): Promise<SessionCreateReply> {
  const declared = input.declared ?? [];
  const reply = replyArray(
    await run(
      SCRIPTS.session_create,
      [input.userIndexKey, input.recordKey, ...declared.map((d) => d.key)],
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
        ...declared.map((d) => d.sessionId),
      ],
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

/** `[id, value or null]` pairs from a flat `{id, value, id, value, ...}` reply. */
function pairs(reply: unknown): IdRecordPairs {
  const flat = replyArray(reply ?? [], 'session_create');
  const out: IdRecordPairs = [];
  for (let i = 0; i < flat.length; i += 2) out.push([replyString(flat[i]) ?? '', replyString(flat[i + 1])]);
  return out;
}
