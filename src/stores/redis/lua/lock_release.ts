/** Typed wrapper of `lock_release.lua` (see its header). */
import { SCRIPTS, type ScriptRunner } from './index.js';

/** `true` when released, `false` when the lock was not held by `token`. */
export async function lockRelease(
  run: ScriptRunner,
  input: { readonly lockKey: string; readonly token: string },
) {
  return Number(await run(SCRIPTS.lock_release, [input.lockKey], [input.token])) === 1;
}
