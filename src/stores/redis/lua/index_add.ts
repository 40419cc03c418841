/** Typed wrapper of `index_add.lua` (see its header). */
import { replyNumber } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/**
 * Adds `(score, member)` pairs to an index that stands alone on its slot, pruning members scored
 * at or below `pruneAtOrBelow` (at most 500 per call), trimming to `maxMembers` (lowest scores
 * first) and, with `indexTtlSlackMs`, keeping the index alive as long as its highest score plus
 * the slack. With no entries it is a bounded prune step. Returns the members removed by pruning
 * and trimming.
 */
export async function indexAdd(
  run: ScriptRunner,
  input: {
    readonly indexKey: string;
    readonly now: number;
    readonly pruneAtOrBelow: number;
    /** 0: unbounded. */
    readonly maxMembers: number;
    /** `null`: the index's TTL is left alone. */
    readonly indexTtlSlackMs: number | null;
    readonly entries: ReadonlyArray<readonly [score: number, member: string]>;
  },
): Promise<number> {
  const args = [
    String(input.now),
    String(input.pruneAtOrBelow),
    String(input.maxMembers),
    input.indexTtlSlackMs === null ? '-1' : String(input.indexTtlSlackMs),
  ];
  for (const [score, member] of input.entries) args.push(String(score), member);
  return replyNumber(await run(SCRIPTS.index_add, [input.indexKey], args), 'index_add');
}
