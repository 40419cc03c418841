/** Typed wrapper of `family_drop.lua` (see its header): its two calls. */
import { arg, replyArray, replyNumber, replyString } from '../context.js';
import { SCRIPTS, type ScriptRunner } from './index.js';

interface FamilyIndexes {
  /** The user's family index (familyId -> sessionId). */
  readonly userFamiliesKey: string;
  /** The user's session index. */
  readonly userSessionsKey: string;
  readonly now: number;
}

/** First call: the ids of the user's families whose session is not live. */
export async function familyDropFind(run: ScriptRunner, input: FamilyIndexes): Promise<string[]> {
  return replyArray(
    await run(SCRIPTS.family_drop, [input.userFamiliesKey, input.userSessionsKey], [arg(input.now)]),
    'family_drop',
  )
    .map(replyString)
    .filter((id): id is string => id !== null);
}

/** Second call: deletes each named family whose session is (still) not live; how many went. */
export async function familyDropDelete(
  run: ScriptRunner,
  input: FamilyIndexes & {
    readonly families: ReadonlyArray<{ readonly familyId: string; readonly key: string }>;
  },
): Promise<number> {
  return replyNumber(
    await run(
      SCRIPTS.family_drop,
      [input.userFamiliesKey, input.userSessionsKey, ...input.families.map((f) => f.key)],
      [arg(input.now), ...input.families.map((f) => f.familyId)],
    ),
    'family_drop',
  );
}
