/**
 * The JWT service (the guide's RedisJWTService): access tokens, refresh-token rotation with theft
 * detection, revocation in its four forms (jti blacklist, family, user watermark, ended session).
 * It orchestrates the store ports and holds no Redis code. Claims and minting live in
 * `claims.ts`, the verified-token cache in `verified-cache.ts`, refresh rotation in `rotation.ts`.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import {
  ConfigError,
  InvalidArgumentError,
  JwtVerificationError,
  isStoreFailure,
  TokenRevokedError,
} from '../../core/errors.js';
import { assertUserId } from '../../core/ids.js';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  boundedInteger,
  JWT_CLOCK_TOLERANCE_SECONDS,
  REFRESH_GRACE_SECONDS,
  REFRESH_TOKEN_TTL_SECONDS,
} from '../../core/limits.js';
import type { Stores } from '../../core/ports.js';
import type { Session } from '../../core/types.js';
import { assertObject, assertReason } from '../../core/validate.js';
import type {
  AccessTokenPayload,
  JwtService,
  JwtServiceOptions,
  SessionActivity,
  VerifiedToken,
  VerifyOptions,
} from '../types.js';
import { claimString, createClaims, extraClaims } from './claims.js';
import { createKeyRing, type KeyRing } from './key-ring.js';
import { parseRefreshToken } from './refresh-token.js';
import { createRefreshFlow } from './rotation.js';
import { createVerifiedTokens } from './verified-cache.js';

/**
 * Creates the JWT service.
 * @throws ConfigError for a short HS256 secret, an unusable key, a bad lifetime or empty iss/aud.
 */
export function createJwtService(options: JwtServiceOptions): JwtService {
  if (!options || typeof options !== 'object' || !options.stores)
    throw new ConfigError('stores', 'are required');
  const stores: Stores = options.stores;
  const ring: KeyRing = createKeyRing(options.keys, options.activeKid);
  const issuer = claimString('issuer', options.issuer);
  const audience = claimString('audience', options.audience);
  const accessTtl = boundedInteger(
    'accessTokenTtlSeconds',
    options.accessTokenTtlSeconds,
    ACCESS_TOKEN_TTL_SECONDS,
  );
  const refreshTtl = boundedInteger(
    'refreshTokenTtlSeconds',
    options.refreshTokenTtlSeconds,
    REFRESH_TOKEN_TTL_SECONDS,
  );
  const graceSeconds = boundedInteger(
    'refreshGraceSeconds',
    options.refreshGraceSeconds,
    REFRESH_GRACE_SECONDS,
  );
  const tolerance = boundedInteger(
    'clockToleranceSeconds',
    options.clockToleranceSeconds,
    JWT_CLOCK_TOLERANCE_SECONDS,
  );
  const verifiedCacheSize = options.verifiedTokenCacheSize ?? 10_000;
  if (!Number.isInteger(verifiedCacheSize) || verifiedCacheSize < 0 || verifiedCacheSize > 10_000_000) {
    throw new ConfigError('verifiedTokenCacheSize', 'must be an integer from 0 to 10000000');
  }
  const clock: Clock = options.clock ?? systemClock;
  const sessions: SessionActivity | null = options.sessions ?? null;

  let useOptions: { readonly endpoint?: string } = Object.freeze({});
  /**
   * Records a use of `sessionId` (its idle timeout slides; the session manager writes at most once
   * per interval). `false` when the session is no longer live. A store failure of this step is
   * ignored: the caller has already checked the session is live (revocation check, rotation
   * script), and a Redis that refuses writes (full, failing over) must not turn every
   * introspection or refresh into an error.
   */
  async function recordUse(
    sessionId: string,
    endpoint: string | undefined,
    found: Session | null = null,
  ): Promise<boolean> {
    if (sessions === null) return true;
    // The options of the last endpoint recorded, reused: a gateway introspects with the same one
    // again and again, and the warm path allocates nothing for it.
    if (endpoint !== useOptions.endpoint)
      useOptions = Object.freeze(endpoint === undefined ? {} : { endpoint });
    try {
      // A session the caller's atomic step found live (the rotation): no second read.
      const live =
        found !== null && found.sessionId === sessionId && sessions.recordSessionUse !== undefined
          ? await sessions.recordSessionUse(found, useOptions)
          : await sessions.validateSession(sessionId, useOptions);
      return live !== null;
    } catch (err) {
      if (isStoreFailure(err)) return true;
      throw err;
    }
  }

  const claimsOf = createClaims({ ring, ids: stores.ids, issuer, audience, accessTtl, tolerance, clock });
  const { mint } = claimsOf;
  const { decode } = createVerifiedTokens({ ring, claims: claimsOf, size: verifiedCacheSize });
  const decodeVerified = (token: string): AccessTokenPayload => decode(token).payload;
  const { issueTokenPair, refreshTokens } = createRefreshFlow({
    stores,
    claims: claimsOf,
    refreshTtl,
    clock,
    graceSeconds,
    recordUse,
  });

  async function verifyToken(token: string, opts: VerifyOptions = {}): Promise<VerifiedToken> {
    assertObject('opts', opts);
    const activity = opts.recordActivity ?? false;
    if (activity !== false && sessions === null) {
      throw new InvalidArgumentError('recordActivity', 'needs a JWT service created with `sessions`');
    }
    const { payload, query } = decode(token);
    let reason: Awaited<ReturnType<Stores['revocation']['check']>>;
    try {
      reason = await stores.revocation.check(query);
    } catch (err) {
      if (opts.failOpen && isStoreFailure(err)) return { payload, revocationChecked: false };
      throw err;
    }
    if (reason) {
      throw new TokenRevokedError(reason, {
        jti: payload.jti,
        familyId: payload.fid,
        sessionId: payload.sid,
      });
    }
    if (activity !== false && payload.sid !== undefined) {
      const endpoint = activity === true ? undefined : activity.endpoint;
      if (!(await recordUse(payload.sid, endpoint))) {
        throw new TokenRevokedError('session_ended', {
          jti: payload.jti,
          familyId: payload.fid,
          sessionId: payload.sid,
        });
      }
    }
    return { payload, revocationChecked: true };
  }

  function remainingSeconds(expSeconds: number): number {
    return Math.max(1, Math.ceil(expSeconds - clock.now() / 1000));
  }

  // A token is accepted until `exp + clockToleranceSeconds` (checkTimes), so every revocation
  // entry is kept that much longer than the token's own lifetime: a revoked token must never
  // verify again in the tolerance window after its `exp`.
  async function revokeToken(input: { jti: string; ttlSeconds?: number; userId: string; reason: string }) {
    assertUserId(input.userId);
    assertReason(input.reason);
    const ttlSeconds = (input.ttlSeconds ?? accessTtl) + tolerance;
    // Revoking a token already revoked writes the entry again (it is never shortened) but no
    // second event: a client repeating a revocation must not grow the user's audit trail.
    const already = await stores.tokenBlacklist.isBlacklisted(input.jti);
    await stores.tokenBlacklist.blacklistToken({
      jti: input.jti,
      ttlSeconds,
      userId: input.userId,
      reason: input.reason,
    });
    if (already) return;
    await stores.securityEvents.record({
      type: 'token_revoked',
      userId: input.userId,
      details: { jti: input.jti, reason: input.reason },
    });
  }

  return {
    accessTokenTtlSeconds: accessTtl,
    async createAccessToken(input) {
      assertObject('input', input);
      assertUserId(input.userId);
      if (input.sessionId !== undefined && !stores.ids.is(input.sessionId)) {
        throw new InvalidArgumentError('sessionId', 'is malformed');
      }
      const claims = extraClaims(input);
      // The generation in force now: a revoke-all that returned before this read revokes nothing
      // of this token; one that returns after it revokes it.
      const userGeneration = await stores.tokenBlacklist.getUserGeneration(input.userId);
      return mint(input.userId, claims, input.sessionId, undefined, userGeneration);
    },
    issueTokenPair,
    verifyToken,
    decodeVerified,
    revokeToken,
    async revokeAccessToken(token, reason) {
      assertReason(reason);
      let payload: AccessTokenPayload;
      try {
        payload = decodeVerified(token);
      } catch (err) {
        if (err instanceof JwtVerificationError) return false;
        throw err;
      }
      await revokeToken({
        jti: payload.jti,
        userId: payload.sub,
        reason,
        ttlSeconds: remainingSeconds(payload.exp),
      });
      return true;
    },
    async revokeRefreshToken(refreshToken, reason) {
      assertReason(reason);
      const presented = parseRefreshToken(stores.ids, refreshToken);
      if (!presented) return false;
      const wasRevoked = (await stores.refreshFamilies.get(presented.familyId))?.revoked === true;
      const family = await stores.refreshFamilies.revokeWithToken({
        familyId: presented.familyId,
        presentedHash: presented.hash,
        reason,
      });
      if (!family) return false;
      // The family is revoked first (its access tokens already fail); then its session ends.
      const ended = await stores.sessionStore.deleteSession(family.sessionId);
      // Revoked before and its session already over: this call changed nothing, so no event (a
      // repeated revoke must not grow the user's audit trail).
      if (wasRevoked && ended === null) return true;
      await stores.securityEvents.record({
        type: 'token_family_revoked',
        userId: family.userId,
        sessionId: family.sessionId,
        details: { familyId: family.familyId, reason, sessionEnded: ended !== null },
      });
      return true;
    },
    async revokeAllUserTokens(userId, reason) {
      assertUserId(userId);
      assertReason(reason);
      // Raises the user's generation (clock-independent; what tokens with `ugen` are judged by)
      // and the legacy time watermark (for tokens minted before generations existed).
      await stores.tokenBlacklist.revokeUserTokensBefore({
        userId,
        beforeMs: clock.now() + 1,
        // Outlives every access token issued before it (tolerance included) and every family.
        ttlSeconds: Math.max(accessTtl + tolerance, refreshTtl),
      });
      await stores.securityEvents.record({
        type: 'all_tokens_revoked',
        userId,
        severity: 'warning',
        details: { reason },
      });
    },
    async blacklistUserTokens(input) {
      assertObject('input', input);
      assertReason(input.reason);
      const count = await stores.tokenBlacklist.blacklistAllUserTokens({
        userId: input.userId,
        tokenJtis: input.tokenJtis,
        ttlSeconds: (input.ttlSeconds ?? accessTtl) + tolerance,
        reason: input.reason,
      });
      await stores.securityEvents.record({
        type: 'all_tokens_revoked',
        userId: input.userId,
        severity: 'warning',
        details: { reason: input.reason, count },
      });
      return count;
    },
    refreshTokens,
    async cleanupExpiredTokens() {
      const start = performance.now();
      const blacklistIndexEntries = await stores.tokenBlacklist.cleanupExpired();
      return { blacklistIndexEntries, durationMs: Math.round(performance.now() - start) };
    },
    jwks: () => ring.jwks(),
  };
}
