import type { RevocationReason } from '../../core/errors.js';
import type { RevocationChecker, RevocationQuery } from '../../core/ports.js';
import type { DerivedCache } from '../../connection/tracking.js';
import type { RedisStoreContext } from './context.js';
import { decodeBlacklistEntry, decodeUserGeneration, decodeWatermark } from './records.js';
import { revocationRead } from './lua/revocation_read.js';

/**
 * Ids of frozen queries: a caller that asks again with the same query object skips the
 * concatenation and the hashing of a fresh ~150-character string (the JWT service keeps one query
 * per token).
 */
const frozenIds = new WeakMap<RevocationQuery, string>();

/**
 * Every field takes part in the id: a verdict answers exactly the query it was computed for. Only a frozen query's id is remembered: an
 * object that can still change could otherwise be answered for what it used to ask.
 */
function verdictId(query: RevocationQuery): string {
  if (!Object.isFrozen(query)) return computeVerdictId(query);
  let id = frozenIds.get(query);
  if (id === undefined) {
    id = computeVerdictId(query);
    frozenIds.set(query, id);
  }
  return id;
}

function computeVerdictId(query: RevocationQuery): string {
  return `${query.jti}\n${query.userId}\n${query.issuedAtMs}\n${query.userGeneration}\n${query.familyId}\n${query.sessionId}`;
}

/** The `{tag}` of a key (its hash slot on Cluster), or the whole key when it has none. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open, close + 1) : key;
}

type Replies = [string | null, string | null, Array<string | null> | null, number | null];

/**
 * `RevocationChecker` on Redis: one command per check — `revocation_read.lua` reads the jti's
 * blacklist entry, the user's watermark, the family's `revoked` and `expiresAt` fields and the
 * session's score in its user index. On Cluster the blacklist entry lives on its own slot: it is
 * a plain `GET` sent with the script (one round trip, pipelined). (A query whose family or session
 * carries another user's tag cannot be read by one script on Cluster: its keys are then read one
 * by one.) Returns the first reason in the
 * order blacklisted, user_revoked, family_revoked, session_ended (as the memory store does).
 *
 * With the client's client-side cache on (`RedisClient.tracking`), the reads go through the
 * tracked connection and a "not revoked" answer is kept in process, keyed by the whole query and
 * tied to the keys it was read from: any write to one of them (from any process) drops it. It is
 * kept no longer than the earliest of the token's `exp`, the family's and the session's expiry,
 * and the cache's `ttlMs`, and used only while the tracked connection's lease holds. "Revoked"
 * answers are not kept.
 *
 * The query is checked by `CheckedRevocationChecker` (`core/checked/`) before it gets here.
 */
export class RedisRevocationChecker implements RevocationChecker {
  readonly #ctx: RedisStoreContext;
  readonly #verdicts: DerivedCache<true> | null;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
    this.#verdicts = ctx.client.tracking?.derivedCache<true>() ?? null;
  }

  async check(query: RevocationQuery): Promise<RevocationReason | null> {
    const { client, keys, clock } = this.#ctx;
    const tracking = client.tracking;
    const verdicts = this.#verdicts;
    const id = verdicts === null ? null : verdictId(query);
    if (tracking !== null && verdicts !== null && id !== null) {
      if (tracking.lookup(verdicts, id, clock.now()) === true) return null;
    }

    const blacklistKey = keys.blacklist(query.jti);
    const watermarkKey = keys.userWatermark(query.userId);
    const familyKey = query.familyId === undefined ? null : keys.family(query.familyId);
    const sessionIndex = query.sessionId === undefined ? null : keys.userSessionsOf(query.sessionId);
    const sessionId = query.sessionId;

    const deps = [blacklistKey, watermarkKey];
    if (familyKey !== null) deps.push(familyKey);
    if (sessionIndex !== null) deps.push(sessionIndex);
    const tag = hashTag(watermarkKey);
    const oneSlot =
      (familyKey === null || hashTag(familyKey) === tag) &&
      (sessionIndex === null || hashTag(sessionIndex) === tag);
    const reads = tracking?.commands ?? client.commands;
    const cluster = client.topology === 'cluster';
    const run = tracking === null ? client.runScript.bind(client) : tracking.runScript.bind(tracking);
    // One deadline for the round trip (the reads go out together, pipelined).
    const read = (): Promise<Replies> =>
      client.wrap('revocation check', async () => {
        if (oneSlot) {
          const session =
            sessionIndex === null || sessionId === undefined ? null : { indexKey: sessionIndex, sessionId };
          // Not a Cluster: every key may meet in one script, one command for the whole check.
          if (!cluster) {
            const all = await revocationRead(run, { watermarkKey, familyKey, session, blacklistKey });
            return [all.blacklistJson, all.watermarkJson, all.family, all.sessionScore];
          }
          const [entry, user] = await Promise.all([
            reads.get(blacklistKey),
            revocationRead(run, { watermarkKey, familyKey, session, blacklistKey: null }),
          ]);
          return [entry, user.watermarkJson, user.family, user.sessionScore];
        }
        return Promise.all([
          reads.get(blacklistKey),
          reads.get(watermarkKey),
          familyKey === null ? null : reads.hmGet(familyKey, ['revoked', 'expiresAt']),
          sessionIndex === null || sessionId === undefined ? null : reads.zScore(sessionIndex, sessionId),
        ]);
      });

    let reason: RevocationReason | null = null;
    const keep = ([entryJson, watermarkJson, family, sessionScore]: Replies) => {
      const now = clock.now();
      reason = decide(query, now, entryJson, watermarkJson, family, sessionScore);
      if (reason !== null || id === null || tracking === null) return null;
      let validUntil = now + tracking.ttlMs;
      if (query.expiresAtMs !== undefined) validUntil = Math.min(validUntil, query.expiresAtMs);
      if (family !== null) validUntil = Math.min(validUntil, Number(family[1]));
      if (sessionScore !== null) validUntil = Math.min(validUntil, Number(sessionScore));
      return { id, value: true as const, validUntil };
    };
    if (tracking === null || verdicts === null) keep(await read());
    else await tracking.derive(verdicts, deps, read, keep);
    return reason;
  }
}

function decide(
  query: RevocationQuery,
  now: number,
  entryJson: string | null,
  watermarkJson: string | null,
  family: Array<string | null> | null,
  sessionScore: number | null,
): RevocationReason | null {
  const entry = decodeBlacklistEntry(query.jti, entryJson);
  if (entry !== null && entry.expiresAt > now) return 'blacklisted';
  if (query.userGeneration !== undefined) {
    // Clock-independent: the generation the token was minted under against the user's now.
    if (decodeUserGeneration(watermarkJson) > query.userGeneration) return 'user_revoked';
  } else {
    // A token minted before generations existed: the legacy time watermark.
    const watermark = decodeWatermark(watermarkJson, now);
    if (watermark !== null && watermark > query.issuedAtMs) return 'user_revoked';
  }
  if (family !== null && family[0] === '1') return 'family_revoked';
  // The user index is the authority: a session is live while its score is ahead of now.
  if (query.sessionId !== undefined && !(sessionScore !== null && Number(sessionScore) > now))
    return 'session_ended';
  // An unknown or expired family revokes its tokens too: nothing vouches for them any more. (Checked
  // after the session: an ended session's family is deleted, and its tokens say session_ended.)
  if (family !== null && !(Number(family[1]) > now)) return 'family_revoked';
  return null;
}
