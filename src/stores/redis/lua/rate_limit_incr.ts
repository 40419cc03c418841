/** Typed wrapper of `rate_limit_incr.lua` (see its header). */
import { arg, replyArray, replyNumber } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** The bucket's count after this call and the ms left in its window (≥ 0). */
export async function rateLimitIncr(
  run: ScriptRunner,
  input: {
    readonly counterKey: string;
    /** Window length (ms, ≥ 1). */
    readonly windowMs: number;
    /** Requests to add (≥ 1). */
    readonly count: number;
  },
): Promise<{ total: number; ttlMs: number }> {
  const reply = replyArray(
    await run(SCRIPTS.rate_limit_incr, [input.counterKey], [arg(input.windowMs), arg(input.count)]),
    'rate_limit_incr',
  );
  return {
    total: replyNumber(reply[0], 'rate_limit_incr'),
    ttlMs: Math.max(0, replyNumber(reply[1], 'rate_limit_incr')),
  };
}
