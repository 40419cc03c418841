/** Typed wrapper of `revocation_read_batch.lua` (see its header). */
import { replyArray, replyString, unexpectedReply } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** The keys of one check (off Cluster: keys of any slot may meet in one call). */
export interface RevocationBatchInput {
  /**
   * The check's keys in the script's order: the user's watermark, the jti's blacklist entry, then
   * the family hash when `readsFamily`, then the user index when `sessionId` is not `null`.
   */
  readonly keys: readonly string[];
  /** Whether `keys` holds a family (third). */
  readonly readsFamily: boolean;
  /** The session id to score in the user index (last of `keys`), or `null`. */
  readonly sessionId: string | null;
}

/** Values per check in the reply (the script's output order). */
const PER_CHECK = 5;

/**
 * The reply of one call, read per check (`at` is the check's position in the input): the values
 * stay in the flat array Redis sent, nothing is copied per check.
 */
export class RevocationBatchReply {
  readonly #values: readonly unknown[];

  constructor(values: readonly unknown[]) {
    this.#values = values;
  }

  /** The user's revoke-all record (JSON), or `null`. */
  watermarkJson(at: number): string | null {
    return replyString(this.#values[at * PER_CHECK]);
  }

  /** `[revoked, expiresAt]` of the family (each `null` when absent); `null` when not asked. */
  family(at: number, readsFamily: boolean): [string | null, string | null] | null {
    if (!readsFamily) return null;
    const base = at * PER_CHECK;
    return [replyString(this.#values[base + 1]), replyString(this.#values[base + 2])];
  }

  /** The session's score in its user index (ms), or `null` (absent, or not asked). */
  sessionScore(at: number): number | null {
    const score = replyString(this.#values[at * PER_CHECK + 3]);
    return score === null ? null : Number(score);
  }

  /** The jti's blacklist entry (JSON), or `null`. */
  blacklistJson(at: number): string | null {
    return replyString(this.#values[at * PER_CHECK + 4]);
  }
}

/** One call for every check of `inputs`; read the reply with each check's position. */
export async function revocationReadBatch(
  run: ScriptRunner,
  inputs: readonly RevocationBatchInput[],
): Promise<RevocationBatchReply> {
  // The string keys of every check first (the script reads them with one MGET), then the rest.
  const keys: string[] = [];
  const args: string[] = [];
  for (const input of inputs) {
    keys.push(input.keys[0]!, input.keys[1]!);
    args.push(input.readsFamily ? '1' : '0', input.sessionId ?? '');
  }
  for (const input of inputs) {
    for (let at = 2; at < input.keys.length; at++) keys.push(input.keys[at]!);
  }
  const reply = replyArray(await run(SCRIPTS.revocation_read_batch, keys, args), 'revocation_read_batch');
  if (reply.length !== inputs.length * PER_CHECK) throw unexpectedReply('revocation_read_batch', reply);
  return new RevocationBatchReply(reply);
}
