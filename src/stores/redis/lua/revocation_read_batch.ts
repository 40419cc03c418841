/** Typed wrapper of `revocation_read_batch.lua` (see its header). */
import { replyArray, replyString, unexpectedReply } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';
import type { RevocationReadReply } from './revocation_read.js';

/** The keys of one check (off Cluster: keys of any slot may meet in one call). */
export interface RevocationBatchInput {
  /** The user's revoke-all record. */
  readonly watermarkKey: string;
  /** The jti's blacklist entry. */
  readonly blacklistKey: string;
  /** The family hash, when the token names a family. */
  readonly familyKey: string | null;
  /** The user index and the session id to score in it, when the token names a session. */
  readonly session: { readonly indexKey: string; readonly sessionId: string } | null;
}

/** Values per check in the reply (the script's output order). */
const PER_CHECK = 5;

/** One call for every check of `inputs`; the replies in the same order. */
export async function revocationReadBatch(
  run: ScriptRunner,
  inputs: readonly RevocationBatchInput[],
): Promise<RevocationReadReply[]> {
  const keys: string[] = [];
  const args: string[] = [];
  for (const { watermarkKey, blacklistKey, familyKey, session } of inputs) {
    keys.push(watermarkKey, blacklistKey);
    if (familyKey !== null) keys.push(familyKey);
    if (session !== null) keys.push(session.indexKey);
    args.push(familyKey === null ? '0' : '1', session === null ? '' : session.sessionId);
  }
  const reply = replyArray(await run(SCRIPTS.revocation_read_batch, keys, args), 'revocation_read_batch');
  if (reply.length !== inputs.length * PER_CHECK) throw unexpectedReply('revocation_read_batch', reply);
  const out = new Array<RevocationReadReply>(inputs.length);
  for (let c = 0, at = 0; c < inputs.length; c++, at += PER_CHECK) {
    const score = replyString(reply[at + 3]);
    out[c] = {
      watermarkJson: replyString(reply[at]),
      family: inputs[c]!.familyKey === null ? null : [replyString(reply[at + 1]), replyString(reply[at + 2])],
      sessionScore: score === null ? null : Number(score),
      blacklistJson: replyString(reply[at + 4]),
    };
  }
  return out;
}
