/** Typed wrapper of `event_record.lua` (see its header). */
import { replyArray, replyNumber, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface EventRecordInput {
  readonly recordKey: string;
  readonly userIndexKey: string;
  /** The record (JSON) and its TTL (ms, > 0). */
  readonly recordJson: string;
  readonly ttlMs: number;
  readonly eventId: string;
  /** The index score (ms). */
  readonly timestamp: number;
  /** Members with a timestamp at or before this (ms) leave the index. */
  readonly pruneAtOrBelow: number;
  readonly maxEvents: number;
  readonly indexTtlSlackMs: number;
  /** Second call: write whatever victims lack their record. */
  readonly final: boolean;
  /** Candidate victims, each with its record's key. */
  readonly candidates: ReadonlyArray<{ readonly eventId: string; readonly key: string }>;
}

export type EventRecordReply =
  | { status: 'written'; removed: number }
  /** Nothing written: the oldest members, to pass as candidates. */
  | { status: 'declare'; oldest: string[] };

export async function eventRecord(run: ScriptRunner, input: EventRecordInput): Promise<EventRecordReply> {
  const reply = replyArray(
    await run(
      SCRIPTS.event_record,
      [input.recordKey, input.userIndexKey, ...input.candidates.map((c) => c.key)],
      [
        input.recordJson,
        String(input.ttlMs),
        input.eventId,
        String(input.timestamp),
        String(input.pruneAtOrBelow),
        String(input.maxEvents),
        String(input.indexTtlSlackMs),
        input.final ? '1' : '0',
        String(input.candidates.length),
        ...input.candidates.map((c) => c.eventId),
      ],
    ),
    'event_record',
  );
  if (replyNumber(reply[0], 'event_record') === 1)
    return { status: 'written', removed: replyNumber(reply[1] ?? 0, 'event_record') };
  return { status: 'declare', oldest: reply.slice(1).map((v) => replyString(v) ?? '') };
}
