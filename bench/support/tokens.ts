/** Setup shared by the verify scenarios: live sessions, and access tokens issued the real way. */
import { inParallel } from './measure.js';
import type { OurSide } from './optix.js';
import { sessionInput } from './payload.js';

export interface LiveSession {
  userId: string;
  sessionId: string;
}

/** Creates `count` sessions, one per user, with the realistic payload. */
export async function createSessions(our: OurSide, prefix: string, count: number): Promise<LiveSession[]> {
  const out: LiveSession[] = new Array(count);
  await inParallel(count, 32, async (i) => {
    const s = await our.sessions.createSession(sessionInput(`${prefix}-${i}`, i));
    out[i] = { userId: s.userId, sessionId: s.sessionId };
  });
  return out;
}

/**
 * Issues `count` access tokens with `issueTokenPair` (what a login does: a refresh family bound to
 * the session, and an access token carrying `sid` and `fid`), round-robin over `sessions`.
 */
export async function issueAccessTokens(
  our: OurSide,
  sessions: readonly LiveSession[],
  count: number,
): Promise<string[]> {
  const out: string[] = new Array(count);
  await inParallel(count, 64, async (i) => {
    const s = sessions[i % sessions.length]!;
    const pair = await our.jwt.issueTokenPair({
      userId: s.userId,
      sessionId: s.sessionId,
      email: `${s.userId}@example.com`,
      roles: ['trader'],
      permissions: ['orders:read', 'orders:write'],
    });
    // A flat copy, as a request's header delivers it: the minted text is a concatenation that
    // whoever reads it first would flatten (in the bench, the contender that runs first).
    out[i] = Buffer.from(pair.accessToken, 'latin1').toString('latin1');
  });
  return out;
}
