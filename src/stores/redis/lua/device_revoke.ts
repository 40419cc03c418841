/** Typed wrapper of `device_revoke.lua` (see its header). */
import { replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** The deleted record (JSON), or `null` when there was none. */
export async function deviceRevoke(
  run: ScriptRunner,
  input: { readonly recordKey: string; readonly userIndexKey: string; readonly deviceId: string },
): Promise<string | null> {
  return replyString(
    await run(SCRIPTS.device_revoke, [input.recordKey, input.userIndexKey], [input.deviceId]),
  );
}
