import type { RevocationReason } from '../../core/errors.js';
import type { RevocationChecker, RevocationQuery } from '../../core/ports.js';
import { Generations } from '../../core/generations.js';
import type { DerivedCache, DerivedId, RevocationWatch } from '../../connection/tracking.js';
import type { RedisStoreContext } from './context.js';
import type { ScriptRunner } from './lua/index.js';
import { revocationRead } from './lua/revocation_read.js';
import {
  type RevocationBatchInput,
  type RevocationBatchReply,
  revocationReadBatch,
} from './lua/revocation_read_batch.js';
import { decodeBlacklistEntry, decodeUserGeneration, decodeWatermark } from './records.js';

/**
 * What a verdict is kept under: a frozen query is its own id (it cannot change, so it always asks
 * the same question, and no ~150-character string is built and hashed per check; the JWT service
 * keeps one frozen query per token). A mutable query is keyed by every field it has: a verdict
 * answers exactly the query it was computed for.
 */
function verdictId(query: RevocationQuery): DerivedId {
  if (Object.isFrozen(query)) return query;
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
 * Most checks one batched call carries when the tracked connection is in default mode: Redis 7.0
 * then re-records every declared key of the script at each read it makes, so a call's server time
 * grows with checks² (per check: ~29 µs alone, ~20 µs at 2 or 4, 27–38 µs at 8, ~160 µs at 64).
 */
export const MAX_CHECKS_PER_CALL = 4;

/**
 * Most checks one call carries in broadcasting mode (and with the cache off), where a check costs
 * Redis the same at any batch size (~10 µs): bounds the time one script holds the server (~0.2 ms).
 */
export const MAX_CHECKS_PER_BROADCAST_CALL = 16;

/** Keys remembered per generation, per kind (see `KeysOf`). */
const KEYS_PER_GENERATION = 5_000;

/**
 * Keys by the id they are built from (user id → watermark, family id → family, session id → user
 * index): a key costs a SHA-256 of the user id, or the opening of a sealed id, and the same users,
 * families and sessions come back with every token. A string that built a key once always builds
 * the same one, so nothing here goes stale. Bounded in two generations (`Generations`).
 */
class KeysOf {
  readonly #build: (id: string) => string;
  readonly #keys = new Generations<string, string>(KEYS_PER_GENERATION);

  constructor(build: (id: string) => string) {
    this.#build = build;
  }

  get(id: string): string {
    let key = this.#keys.get(id);
    if (key !== undefined) return key;
    key = this.#build(id);
    this.#keys.set(id, key);
    return key;
  }
}

/**
 * A check waiting for its batch: its keys (the batch script's input, and what a verdict depends
 * on) and how to answer it.
 */
interface Pending extends RevocationBatchInput {
  readonly query: RevocationQuery;
  readonly id: DerivedId | null;
  readonly since: number;
  readonly resolve: (reason: RevocationReason | null) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * `RevocationChecker` on Redis. Off Cluster, the checks asked in the same tick of the event loop
 * go to Redis together: one `revocation_read_batch.lua` call reads, for each, the user's
 * watermark, the jti's blacklist entry, the family's `revoked` and `expiresAt` and the session's
 * score in its user index (so node-redis's per-command cost, the deadline timer and the socket
 * write are paid once per batch, not per check). A failed or late call fails every check in it
 * (closed). On Cluster the keys of different users live on different slots: each check is one
 * `revocation_read.lua` on the user's slot, with the blacklist entry (its own slot) as a `GET`
 * pipelined with it. (A query whose family or session carries another user's tag cannot be read by
 * one script on Cluster: its keys are then read one by one.) Returns the first reason in the order
 * blacklisted, user_revoked, family_revoked, session_ended (as the memory store does).
 *
 * With the client's client-side cache on (`RedisClient.tracking`), the reads go through the
 * tracked connection (Redis tracks every key a script reads for the connection that called it, or
 * in broadcasting mode every key under the tracked prefixes; batches are then 16, not 4) and
 * a "not revoked" answer is kept in process, keyed by the query (see `verdictId`) and tied to the
 * keys it was read from: any write to one of them (from any process), also one that lands while
 * the read is in flight, drops it. It is kept no longer than the earliest of the token's `exp`,
 * the family's and the session's expiry, and the cache's `ttlMs`, and used only while the tracked
 * connection's lease holds. "Revoked" answers are not kept.
 *
 * The query is checked by `CheckedRevocationChecker` (`core/checked/`) before it gets here.
 */
export class RedisRevocationChecker implements RevocationChecker {
  readonly #ctx: RedisStoreContext;
  readonly #verdicts: DerivedCache<true> | null;
  /** Broadcast listening for first sights without a read (see `#fromWatch`), or `null`. */
  readonly #watch: RevocationWatch | null;
  readonly #skewMs: number;
  /** With a watch: each user's revoke-all record (JSON, '' when none), as last read. */
  readonly #watermarks: DerivedCache<string> | null;
  /** With a watch: each session's score in its user index, as last read (only while live). */
  readonly #sessionScores: DerivedCache<number> | null;
  readonly #batched: boolean;
  readonly #maxPerCall: number;
  #batch: Pending[] | null = null;
  readonly #watermarkKeys: KeysOf;
  readonly #familyKeys: KeysOf;
  readonly #sessionIndexKeys: KeysOf;

  constructor(
    ctx: RedisStoreContext,
    firstSight: { watch: boolean; skewMs: number } = { watch: false, skewMs: 0 },
  ) {
    this.#ctx = ctx;
    this.#verdicts = ctx.client.tracking?.derivedCache<true>() ?? null;
    this.#batched = ctx.client.topology !== 'cluster';
    const tracking = ctx.client.tracking;
    // Standalone only: on Sentinel and Cluster the tracked connections are several (a pool, one
    // per node, made as needed), and one made later would not have heard what came before it.
    this.#watch =
      firstSight.watch && tracking !== null && ctx.client.topology === 'standalone'
        ? tracking.watch(ctx.keys.revocationOnlyPrefixes, () => ctx.clock.now())
        : null;
    this.#skewMs = firstSight.skewMs;
    this.#watermarks = this.#watch === null ? null : (tracking?.derivedCache<string>() ?? null);
    this.#sessionScores = this.#watch === null ? null : (tracking?.derivedCache<number>() ?? null);
    this.#maxPerCall =
      tracking !== null && tracking.broadcastPrefixes.length === 0
        ? MAX_CHECKS_PER_CALL
        : MAX_CHECKS_PER_BROADCAST_CALL;
    this.#watermarkKeys = new KeysOf((userId) => ctx.keys.userWatermark(userId));
    this.#familyKeys = new KeysOf((familyId) => ctx.keys.family(familyId));
    this.#sessionIndexKeys = new KeysOf((sessionId) => ctx.keys.userSessionsOf(sessionId));
  }

  check(query: RevocationQuery): Promise<RevocationReason | null> {
    const tracking = this.#ctx.client.tracking;
    const verdicts = this.#verdicts;
    const id = verdicts === null ? null : verdictId(query);
    if (tracking !== null && verdicts !== null && id !== null) {
      if (tracking.lookup(verdicts, id, this.#ctx.clock.now()) === true) return Promise.resolve(null);
      if (this.#watch !== null && this.#fromWatch(query, id)) return Promise.resolve(null);
    }
    if (!this.#batched) return this.#checkAlone(query, id);
    try {
      return this.#enqueue(query, id);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * True when the token is known not revoked without a read (a first sight, with a watch): minted
   * after this process began listening (`iat_ms` − `maxClockSkewMs` ≥ the watch's `since`), no
   * write heard to its blacklist entry or its family's revocation mark (neither is ever written
   * before the token is minted: a jti is new, and a family revoked before a token of it was handed
   * out never hands it out — the rotation's consume refuses, and `issueTokenPair` mints with the
   * time read before the family existed), its user's revoke-all record and its session's score
   * known here (read before, dropped by any write to them), and not past its `exp` (a token is
   * minted with `exp` at most its family's expiry, so the family has not expired either). The
   * verdict is then kept as a read one would be. Anything else: `false`, and the check reads.
   */
  #fromWatch(query: RevocationQuery, id: DerivedId): boolean {
    const watch = this.#watch!;
    const tracking = this.#ctx.client.tracking!;
    const expiresAtMs = query.expiresAtMs;
    if (expiresAtMs === undefined || !tracking.isFresh()) return false;
    const now = this.#ctx.clock.now();
    if (now >= expiresAtMs) return false;
    const from = query.issuedAtMs - this.#skewMs;
    if (!(from >= watch.since)) return false;
    const since = this.#verdicts!.since();
    const blacklistKey = this.#ctx.keys.blacklist(query.jti);
    if (!watch.unwrittenSince(blacklistKey, from)) return false;
    let markKey: string | null = null;
    if (query.familyId !== undefined) {
      // Built, not kept: a new family per login or refresh chain (the sealed tag's opening is cached).
      markKey = this.#ctx.keys.familyRevoked(query.familyId);
      if (!watch.unwrittenSince(markKey, from)) return false;
    }
    const watermarkJson = this.#watermarks!.get(query.userId, now);
    if (watermarkJson === undefined) return false;
    const watermarkKey = this.#watermarkKeys.get(query.userId);
    let validUntil = Math.min(now + tracking.ttlMs, expiresAtMs);
    let indexKey: string | null = null;
    const sessionId = query.sessionId;
    if (sessionId !== undefined) {
      const score = this.#sessionScores!.get(sessionId, now);
      if (score === undefined || !(score > now)) return false;
      validUntil = Math.min(validUntil, score);
      indexKey = this.#sessionIndexKeys.get(sessionId);
    }
    if (decideUser(query, now, watermarkJson === '' ? null : watermarkJson)) {
      return false;
    }
    const deps = [watermarkKey, blacklistKey];
    if (markKey !== null) deps.push(markKey);
    if (indexKey !== null) deps.push(indexKey);
    this.#verdicts!.set(id, true, validUntil, deps, since);
    return true;
  }

  #enqueue(query: RevocationQuery, id: DerivedId | null): Promise<RevocationReason | null> {
    const keys = [this.#watermarkKeys.get(query.userId), this.#ctx.keys.blacklist(query.jti)];
    const familyId = query.familyId;
    const readsFamily = familyId !== undefined;
    if (readsFamily) keys.push(this.#familyKeys.get(familyId));
    const sessionId = query.sessionId ?? null;
    if (sessionId !== null) keys.push(this.#sessionIndexKeys.get(sessionId));
    const since = this.#verdicts === null ? 0 : this.#verdicts.since();
    return new Promise((resolve, reject) => {
      let batch = this.#batch;
      if (batch === null) {
        batch = this.#batch = [];
        process.nextTick(this.#flush);
      }
      batch.push({ keys, readsFamily, sessionId, query, id, since, resolve, reject });
      if (batch.length >= this.#maxPerCall) this.#flush();
    });
  }

  /** Sends the checks gathered so far as one call (from `nextTick`, or when a batch is full). */
  readonly #flush = (): void => {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    const { client } = this.#ctx;
    const tracking = client.tracking;
    const run: ScriptRunner =
      tracking === null
        ? (script, keys, args) => client.runScript(script, keys, args)
        : (script, keys, args) => tracking.runScript(script, keys, args);
    client
      .wrap('revocation check', () => revocationReadBatch(run, batch))
      .then(
        (reply) => this.#settle(batch, reply),
        (err: unknown) => {
          for (const pending of batch) pending.reject(err);
        },
      );
  };

  #settle(batch: readonly Pending[], reply: RevocationBatchReply): void {
    const now = this.#ctx.clock.now();
    for (let at = 0; at < batch.length; at++) {
      const pending = batch[at]!;
      let reason: RevocationReason | null;
      let family: [string | null, string | null] | null;
      let sessionScore: number | null;
      try {
        family = reply.family(at, pending.readsFamily);
        sessionScore = reply.sessionScore(at);
        reason = decide(
          pending.query,
          now,
          reply.blacklistJson(at),
          reply.watermarkJson(at),
          family,
          sessionScore,
        );
      } catch (err) {
        pending.reject(err);
        continue;
      }
      if (reason === null && pending.id !== null) {
        this.#keep(pending.query, pending.id, now, family, sessionScore, pending.keys, pending.since);
      }
      if (this.#watch !== null) this.#learn(pending, now, reply.watermarkJson(at), sessionScore);
      pending.resolve(reason);
    }
  }

  /**
   * Keeps what a batch read of one check found about its user and session (with a watch), for the
   * first sights of the user's and the session's next tokens (`#fromWatch`); each entry is dropped
   * by any write to the key it was read from, also one that landed while the read was out.
   */
  #learn(pending: Pending, now: number, watermarkJson: string | null, sessionScore: number | null): void {
    const ttl = this.#ctx.client.tracking!.ttlMs;
    const { query, keys, since } = pending;
    this.#watermarks!.set(query.userId, watermarkJson ?? '', now + ttl, [keys[0]!], since);
    const sessionId = query.sessionId;
    if (sessionId !== undefined && sessionScore !== null && sessionScore > now) {
      this.#sessionScores!.set(
        sessionId,
        sessionScore,
        Math.min(now + ttl, sessionScore),
        [keys[keys.length - 1]!],
        since,
      );
    }
  }

  /** Keeps a "not revoked" verdict (with the cache on), bounded by every expiry it depends on. */
  #keep(
    query: RevocationQuery,
    id: DerivedId,
    now: number,
    family: Array<string | null> | null,
    sessionScore: number | null,
    deps: readonly string[],
    since: number,
  ): void {
    const tracking = this.#ctx.client.tracking;
    const verdicts = this.#verdicts;
    if (tracking === null || verdicts === null) return;
    let validUntil = now + tracking.ttlMs;
    if (query.expiresAtMs !== undefined) validUntil = Math.min(validUntil, query.expiresAtMs);
    if (family !== null) validUntil = Math.min(validUntil, Number(family[1]));
    if (sessionScore !== null) validUntil = Math.min(validUntil, Number(sessionScore));
    verdicts.set(id, true, validUntil, deps, since);
  }

  /** One check on its own (Cluster): the user's slot in one script, the blacklist entry beside. */
  async #checkAlone(query: RevocationQuery, id: DerivedId | null): Promise<RevocationReason | null> {
    const { client, keys, clock } = this.#ctx;
    const tracking = client.tracking;
    const blacklistKey = keys.blacklist(query.jti);
    const watermarkKey = this.#watermarkKeys.get(query.userId);
    const familyKey = query.familyId === undefined ? null : this.#familyKeys.get(query.familyId);
    const sessionIndex = query.sessionId === undefined ? null : this.#sessionIndexKeys.get(query.sessionId);
    const sessionId = query.sessionId;

    const deps = [blacklistKey, watermarkKey];
    if (familyKey !== null) deps.push(familyKey);
    if (sessionIndex !== null) deps.push(sessionIndex);
    const since = this.#verdicts === null ? 0 : this.#verdicts.since();
    const tag = hashTag(watermarkKey);
    const oneSlot =
      (familyKey === null || hashTag(familyKey) === tag) &&
      (sessionIndex === null || hashTag(sessionIndex) === tag);
    const reads = tracking?.commands ?? client.commands;
    const run: ScriptRunner =
      tracking === null
        ? (script, k, a) => client.runScript(script, k, a)
        : (script, k, a) => tracking.runScript(script, k, a);
    // One deadline for the round trip (the reads go out together, pipelined).
    const [entryJson, watermarkJson, family, sessionScore] = await client.wrap(
      'revocation check',
      async (): Promise<Replies> => {
        if (oneSlot) {
          const session =
            sessionIndex === null || sessionId === undefined ? null : { indexKey: sessionIndex, sessionId };
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
      },
    );
    const now = clock.now();
    const reason = decide(query, now, entryJson, watermarkJson, family, sessionScore);
    if (reason === null && id !== null) this.#keep(query, id, now, family, sessionScore, deps, since);
    return reason;
  }
}

/** Whether the user's revoke-all record revokes the token (`decide`'s second rule alone). */
function decideUser(query: RevocationQuery, now: number, watermarkJson: string | null): boolean {
  if (query.userGeneration !== undefined) return decodeUserGeneration(watermarkJson) > query.userGeneration;
  const watermark = decodeWatermark(watermarkJson, now);
  return watermark !== null && watermark > query.issuedAtMs;
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
  // Clock-independent with a generation (the one the token was minted under against the user's
  // now); a token minted before generations existed: the legacy time watermark.
  if (decideUser(query, now, watermarkJson)) return 'user_revoked';
  if (family !== null && family[0] === '1') return 'family_revoked';
  // The user index is the authority: a session is live while its score is ahead of now.
  if (query.sessionId !== undefined && !(sessionScore !== null && Number(sessionScore) > now))
    return 'session_ended';
  // An unknown or expired family revokes its tokens too: nothing vouches for them any more. (Checked
  // after the session: an ended session's family is deleted, and its tokens say session_ended.)
  if (family !== null && !(Number(family[1]) > now)) return 'family_revoked';
  return null;
}
