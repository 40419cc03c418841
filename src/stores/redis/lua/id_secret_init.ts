/** Typed wrapper of `id_secret_init.lua` (see its header). */
import { replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

/** The stored secret (the candidate when this call created it), or `null` on an odd reply. */
export async function idSecretInit(
  run: ScriptRunner,
  input: { readonly secretKey: string; readonly candidate: string },
): Promise<string | null> {
  return replyString(await run(SCRIPTS.id_secret_init, [input.secretKey], [input.candidate]));
}
