import type { RevocationReason } from '../../core/errors.js';
import { assertId, parseUserScopedId } from '../../core/ids.js';
import type { RevocationChecker, RevocationQuery } from '../../core/ports.js';
import type { RedisStoreContext } from './context.js';
import { decodeBlacklistEntry, decodeWatermark } from './records.js';
import { assertFiniteNumber } from './validate.js';

/**
 * `RevocationChecker` on Redis: up to four plain reads issued together (node-redis pipelines them
 * into one round trip) — the jti's blacklist entry, the user's watermark, the family's `revoked`
 * and `expiresAt` fields, the session's score in its user's index. Plain reads, no script, so a
 * client-side cache can later serve them. Returns the first reason in the order blacklisted,
 * user_revoked, family_revoked, session_ended (as the memory store does).
 */
export class RedisRevocationChecker implements RevocationChecker {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async check(query: RevocationQuery): Promise<RevocationReason | null> {
    assertId('jti', query.jti);
    assertId('userId', query.userId);
    assertFiniteNumber('issuedAtMs', query.issuedAtMs);
    if (query.familyId !== undefined) parseUserScopedId('familyId', query.familyId);
    if (query.sessionId !== undefined) parseUserScopedId('sessionId', query.sessionId);
    const { client, keys, clock } = this.#ctx;
    const { commands } = client;
    const blacklistKey = keys.blacklist(query.jti);
    const watermarkKey = keys.userWatermark(query.userId);
    const familyKey = query.familyId === undefined ? null : keys.family(query.familyId);
    const sessionIndex = query.sessionId === undefined ? null : keys.userSessionsOf(query.sessionId);
    const sessionId = query.sessionId;

    const [entryJson, watermarkJson, familyRevoked, familyExpiresAt, sessionScore] = await Promise.all([
      client.wrap('get', () => commands.get(blacklistKey)),
      client.wrap('get', () => commands.get(watermarkKey)),
      familyKey === null ? null : client.wrap('hGet', () => commands.hGet(familyKey, 'revoked')),
      familyKey === null ? null : client.wrap('hGet', () => commands.hGet(familyKey, 'expiresAt')),
      sessionIndex === null || sessionId === undefined
        ? null
        : client.wrap('zScore', () => commands.zScore(sessionIndex, sessionId)),
    ]);
    const now = clock.now();

    const entry = decodeBlacklistEntry(query.jti, entryJson);
    if (entry !== null && entry.expiresAt > now) return 'blacklisted';
    const watermark = decodeWatermark(watermarkJson, now);
    if (watermark !== null && watermark > query.issuedAtMs) return 'user_revoked';
    // An unknown or expired family revokes its tokens too: nothing vouches for them any more.
    if (familyKey !== null && (familyRevoked === '1' || !(Number(familyExpiresAt) > now)))
      return 'family_revoked';
    // The user index is the authority: a session is live while its score is ahead of now.
    if (sessionIndex !== null && !(sessionScore !== null && Number(sessionScore) > now))
      return 'session_ended';
    return null;
  }
}
