/** Typed wrapper of `device_trust.lua` (see its header). */
import { replyArray, replyNumber, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

export interface DeviceTrustInput {
  readonly recordKey: string;
  readonly userIndexKey: string;
  readonly now: number;
  readonly deviceId: string;
  /** The record (JSON), its TTL (ms, > 0) and its expiry (ms, the index score). */
  readonly recordJson: string;
  readonly ttlMs: number;
  readonly expiresAt: number;
  readonly indexTtlSlackMs: number;
  readonly maxDevices: number;
  /** Candidate victims, each with its record's key. */
  readonly candidates: ReadonlyArray<{ readonly deviceId: string; readonly key: string }>;
}

export type DeviceTrustReply =
  | { status: 'written'; evicted: string[] }
  /** Nothing written: every other member of the index, to pass as candidates. */
  | { status: 'declare'; others: string[] };

export async function deviceTrust(run: ScriptRunner, input: DeviceTrustInput): Promise<DeviceTrustReply> {
  const reply = replyArray(
    await run(
      SCRIPTS.device_trust,
      [input.recordKey, input.userIndexKey, ...input.candidates.map((c) => c.key)],
      [
        String(input.now),
        input.deviceId,
        input.recordJson,
        String(input.ttlMs),
        String(input.expiresAt),
        String(input.indexTtlSlackMs),
        String(input.maxDevices),
        String(input.candidates.length),
        ...input.candidates.map((c) => c.deviceId),
      ],
    ),
    'device_trust',
  );
  const ids = reply.slice(1).map((v) => replyString(v) ?? '');
  return replyNumber(reply[0], 'device_trust') === 1
    ? { status: 'written', evicted: ids }
    : { status: 'declare', others: ids };
}
