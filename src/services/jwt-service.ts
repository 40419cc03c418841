/**
 * The JWT service (the guide's RedisJWTService): access tokens, refresh-token rotation with theft
 * detection, revocation in its four forms (jti blacklist, family, user watermark, ended session).
 * It orchestrates the store ports and holds no Redis code.
 */
import { type Clock, systemClock } from '../core/clock.js';
import {
  ConfigError,
  InvalidArgumentError,
  JwtVerificationError,
  RefreshTokenInvalidError,
  RefreshTokenReusedError,
  RefreshTokenRevokedError,
  StoreTimeoutError,
  StoreUnavailableError,
  TokenRevokedError,
} from '../core/errors.js';
import { assertUserId, randomToken } from '../core/ids.js';
import type { RevocationQuery, Stores } from '../core/ports.js';
import { assertObject, assertReason } from '../core/validate.js';
import { signCompact, verifyCompact } from './jwt/compact.js';
import { createKeyRing, type KeyRing } from './jwt/key-ring.js';
import {
  formatRefreshToken,
  newRefreshToken,
  openChild,
  parseRefreshToken,
  sealChild,
} from './jwt/refresh-token.js';
import type {
  AccessTokenPayload,
  AccessTokenRecord,
  CreateAccessTokenInput,
  JwtService,
  JwtServiceOptions,
  SessionActivity,
  TokenPair,
  VerifiedToken,
  VerifyOptions,
} from './types.js';

const MAX_LIST = 64;
const MAX_CLAIM_STRING = 256;

function positiveInt(path: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ConfigError(path, `must be an integer from 1 to ${max}`);
  }
  return v;
}

function claimString(path: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new ConfigError(path, 'must be a non-empty string of at most 1024 characters');
  }
  return value;
}

function stringList(name: string, value: readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    throw new InvalidArgumentError(name, `must be an array of at most ${MAX_LIST} strings`);
  }
  for (const v of value) {
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_CLAIM_STRING || /[\s\0]/.test(v)) {
      throw new InvalidArgumentError(name, `entries must be 1-${MAX_CLAIM_STRING} characters without spaces`);
    }
  }
  return [...value];
}

interface ExtraClaims {
  email?: string;
  roles?: string[];
  permissions?: string[];
}

function extraClaims(input: CreateAccessTokenInput): ExtraClaims {
  const out: ExtraClaims = {};
  if (input.email !== undefined) {
    if (typeof input.email !== 'string' || input.email.length > 320 || /[\s\0]/.test(input.email)) {
      throw new InvalidArgumentError('email', 'must be a string of at most 320 characters without spaces');
    }
    out.email = input.email;
  }
  const roles = stringList('roles', input.roles);
  const permissions = stringList('permissions', input.permissions);
  if (roles) out.roles = roles;
  if (permissions) out.permissions = permissions;
  return out;
}

/** Freezes `value` and every object inside it (claims shared between callers). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function claimError(claim: string, message: string): JwtVerificationError {
  return new JwtVerificationError('ERR_JWT_CLAIM', message, claim);
}

function sessionEnded(): RefreshTokenInvalidError {
  return new RefreshTokenInvalidError('the session of this refresh token has ended');
}

function isStoreFailure(err: unknown): boolean {
  return err instanceof StoreUnavailableError || err instanceof StoreTimeoutError;
}

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
  const accessTtl = positiveInt('accessTokenTtlSeconds', options.accessTokenTtlSeconds, 900, 86_400);
  const refreshTtl = positiveInt(
    'refreshTokenTtlSeconds',
    options.refreshTokenTtlSeconds,
    2_592_000,
    31_536_000,
  );
  const graceSeconds = options.refreshGraceSeconds ?? 10;
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 300) {
    throw new ConfigError('refreshGraceSeconds', 'must be an integer from 0 to 300');
  }
  const tolerance = options.clockToleranceSeconds ?? 5;
  const verifiedCacheSize = options.verifiedTokenCacheSize ?? 10_000;
  if (!Number.isInteger(verifiedCacheSize) || verifiedCacheSize < 0 || verifiedCacheSize > 10_000_000) {
    throw new ConfigError('verifiedTokenCacheSize', 'must be an integer from 0 to 10000000');
  }
  if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > 300) {
    throw new ConfigError('clockToleranceSeconds', 'must be an integer from 0 to 300');
  }
  const clock: Clock = options.clock ?? systemClock;
  const sessions: SessionActivity | null = options.sessions ?? null;

  /**
   * Records a use of `sessionId` (its idle timeout slides; the session manager writes at most once
   * per interval). `false` when the session is no longer live. A store failure of this step is
   * ignored: the caller has already checked the session is live (revocation check, rotation
   * script), and a Redis that refuses writes (full, failing over) must not turn every
   * introspection or refresh into an error.
   */
  async function recordUse(sessionId: string, endpoint: string | undefined): Promise<boolean> {
    if (sessions === null) return true;
    try {
      const live = await sessions.validateSession(sessionId, endpoint === undefined ? {} : { endpoint });
      return live !== null;
    } catch (err) {
      if (isStoreFailure(err)) return true;
      throw err;
    }
  }

  function mint(
    userId: string,
    claims: ExtraClaims,
    sessionId: string | undefined,
    familyId: string | undefined,
    userGeneration: number | null,
  ): { token: string; record: AccessTokenRecord } {
    const nowMs = clock.now();
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + accessTtl;
    const jti = randomToken(16);
    const payload: AccessTokenPayload = {
      iss: issuer,
      aud: audience,
      sub: userId,
      jti,
      iat,
      exp,
      iat_ms: nowMs,
    };
    if (userGeneration !== null) payload.ugen = userGeneration;
    if (sessionId) payload.sid = sessionId;
    if (familyId) payload.fid = familyId;
    if (claims.email !== undefined) payload.email = claims.email;
    if (claims.roles) payload.roles = claims.roles;
    if (claims.permissions) {
      payload.permissions = claims.permissions;
      payload.scope = claims.permissions.join(' ');
    }
    return {
      token: signCompact(ring, payload),
      record: {
        jti,
        userId,
        sessionId: sessionId ?? null,
        familyId: familyId ?? null,
        issuedAt: nowMs,
        expiresAt: exp * 1000,
      },
    };
  }

  /** The time claims against now (also for a token taken from the verified cache). */
  function checkTimes(raw: { exp?: unknown; nbf?: unknown; iat?: unknown }): void {
    const now = clock.now() / 1000;
    const { exp, nbf, iat } = raw;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw claimError('exp', 'exp is required');
    if (now >= exp + tolerance) throw new JwtVerificationError('ERR_JWT_EXPIRED', 'token has expired', 'exp');
    if (nbf !== undefined) {
      if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw claimError('nbf', 'nbf must be a number');
      if (now + tolerance < nbf)
        throw new JwtVerificationError('ERR_JWT_NOT_YET_VALID', 'token is not yet valid', 'nbf');
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw claimError('iat', 'iat is required');
    if (iat > now + tolerance)
      throw new JwtVerificationError('ERR_JWT_NOT_YET_VALID', 'token issued in the future', 'iat');
  }

  function checkClaims(raw: Record<string, unknown>): AccessTokenPayload {
    const num = (k: string) => {
      const v = raw[k];
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    };
    checkTimes(raw);
    const iat = raw.iat as number;
    if (raw.iss !== issuer) throw claimError('iss', 'unexpected issuer');
    const aud = raw.aud;
    if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) {
      throw claimError('aud', 'unexpected audience');
    }
    const sub = raw.sub;
    if (typeof sub !== 'string') throw claimError('sub', 'sub is required');
    try {
      assertUserId(sub);
    } catch {
      throw claimError('sub', 'sub is malformed');
    }
    const jti = raw.jti;
    if (typeof jti !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(jti))
      throw claimError('jti', 'jti is required');
    for (const k of ['sid', 'fid'] as const) {
      if (raw[k] !== undefined && !stores.ids.is(raw[k])) throw claimError(k, `${k} is malformed`);
    }
    if (raw.ugen !== undefined) {
      const ugen = raw.ugen;
      if (typeof ugen !== 'number' || !Number.isSafeInteger(ugen) || ugen < 0)
        throw claimError('ugen', 'ugen is malformed');
    }
    const iatMs = num('iat_ms');
    if (raw.iat_ms !== undefined && (iatMs === undefined || Math.floor(iatMs / 1000) !== iat)) {
      throw claimError('iat_ms', 'iat_ms does not match iat');
    }
    // `raw` was parsed for this call alone: completed in place rather than copied (hot path).
    raw.iat_ms = iatMs ?? iat * 1000;
    return raw as unknown as AccessTokenPayload;
  }

  /**
   * Verified tokens by their exact text (see `verifiedTokenCacheSize`). Only a token whose
   * signature and claims passed is stored; its claims are frozen, since every later caller
   * shares them. The key ring never changes after creation, so a stored verdict on the signature
   * stays true; the time claims are checked again on every hit.
   */
  const verified = new Map<string, AccessTokenPayload>();

  function decodeVerified(token: string): AccessTokenPayload {
    const hit = verified.get(token);
    if (hit !== undefined) {
      try {
        checkTimes(hit);
      } catch (err) {
        verified.delete(token);
        throw err;
      }
      return hit;
    }
    const payload = deepFreeze(checkClaims(verifyCompact(ring, token)));
    if (verifiedCacheSize > 0) {
      if (verified.size >= verifiedCacheSize) verified.delete(verified.keys().next().value as string);
      verified.set(token, payload);
    }
    return payload;
  }

  /**
   * The revocation question of a verified payload, one frozen object per payload (the payloads of
   * the verified-token cache are themselves frozen and reused), so a store may key what it keeps
   * in process on the object rather than rebuild a key per check.
   */
  const queries = new WeakMap<AccessTokenPayload, RevocationQuery>();
  function revocationQuery(payload: AccessTokenPayload): RevocationQuery {
    let query = queries.get(payload);
    if (query === undefined) {
      query = Object.freeze({
        jti: payload.jti,
        userId: payload.sub,
        issuedAtMs: payload.iat_ms,
        userGeneration: payload.ugen,
        familyId: payload.fid,
        sessionId: payload.sid,
        expiresAtMs: payload.exp * 1000,
      });
      queries.set(payload, query);
    }
    return query;
  }

  async function verifyToken(token: string, opts: VerifyOptions = {}): Promise<VerifiedToken> {
    assertObject('opts', opts);
    const activity = opts.recordActivity ?? false;
    if (activity !== false && sessions === null) {
      throw new InvalidArgumentError('recordActivity', 'needs a JWT service created with `sessions`');
    }
    const payload = decodeVerified(token);
    let reason: Awaited<ReturnType<Stores['revocation']['check']>>;
    try {
      reason = await stores.revocation.check(revocationQuery(payload));
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

  async function issueTokenPair(input: CreateAccessTokenInput & { sessionId: string }): Promise<TokenPair> {
    assertObject('input', input);
    assertUserId(input.userId);
    if (!stores.ids.is(input.sessionId)) throw new InvalidArgumentError('sessionId', 'is malformed');
    const claims = extraClaims(input);
    const familyId = stores.ids.newId(input.userId);
    const rt = newRefreshToken(familyId);
    const family = await stores.refreshFamilies.create({
      familyId,
      userId: input.userId,
      sessionId: input.sessionId,
      tokenHash: rt.hash,
      ttlSeconds: refreshTtl,
      claims: JSON.stringify(claims),
    });
    // The token carries the generation the family was created under (read in the same atomic
    // step): both stand or fall together at the next revoke-all.
    const { token, record } = mint(input.userId, claims, input.sessionId, familyId, family.userGeneration);
    return { accessToken: token, refreshToken: formatRefreshToken(rt), expiresIn: accessTtl, record };
  }

  async function refreshTokens(
    refreshToken: string,
    context: { ipAddress?: string; userAgent?: string; scope?: readonly string[]; endpoint?: string } = {},
  ): Promise<TokenPair> {
    const requestedScope = context.scope === undefined ? undefined : stringList('scope', [...context.scope]);
    const presented = parseRefreshToken(stores.ids, refreshToken);
    if (!presented) throw new RefreshTokenInvalidError();
    // Nothing is said about the family before the store has checked the presented secret
    // (rotate answers `invalid` first): a made-up secret with a real family id (visible in access
    // tokens' `fid`) learns nothing, not even whether the family was revoked.
    const family = await stores.refreshFamilies.get(presented.familyId);
    if (!family) throw new RefreshTokenInvalidError();
    let claims: ExtraClaims = {};
    try {
      claims = family.claims ? (JSON.parse(family.claims) as ExtraClaims) : {};
    } catch {
      claims = {};
    }
    if (requestedScope !== undefined) {
      // RFC 6749 §6: a refresh may narrow the scope, never widen it. Checked before the token is
      // consumed, so a refused scope leaves the refresh token usable. The family keeps the scope
      // granted at login; only this access token carries the narrower one.
      const granted = new Set(claims.permissions ?? []);
      const extra = requestedScope.find((s) => !granted.has(s));
      if (extra !== undefined)
        throw new InvalidArgumentError('scope', 'includes a scope that was not granted');
      claims = { ...claims, permissions: [...new Set(requestedScope)] };
    }
    // The child is prepared before the atomic consume so the store can keep it, sealed under the
    // presented secret, for the grace window.
    const next = newRefreshToken(presented.familyId);
    const minted = mint(family.userId, claims, family.sessionId, family.familyId, family.userGeneration);
    const child: TokenPair = {
      accessToken: minted.token,
      refreshToken: formatRefreshToken(next),
      expiresIn: accessTtl,
      record: minted.record,
    };
    const childBlob = sealChild(presented.secret, presented.familyId, JSON.stringify(child));
    const result = await stores.refreshFamilies.rotate({
      familyId: presented.familyId,
      presentedHash: presented.hash,
      nextHash: next.hash,
      childBlob,
      graceMs: graceSeconds * 1000,
      // Read just above: the store need not read the family again to find its keys.
      owner: { userId: family.userId, sessionId: family.sessionId },
    });
    // A refresh is a use of the session: it slides the idle timeout (an app that only refreshes
    // and calls resource servers must not be logged out at the idle timeout after login).
    const used = async (pair: TokenPair): Promise<TokenPair> => {
      if (!(await recordUse(family.sessionId, context.endpoint))) throw sessionEnded();
      return pair;
    };
    switch (result.status) {
      case 'rotated':
        return used(child);
      case 'grace': {
        const opened = openChild(presented.secret, presented.familyId, result.childBlob);
        if (!opened) throw new RefreshTokenInvalidError();
        return used(JSON.parse(opened) as TokenPair);
      }
      case 'reused':
        await stores.securityEvents.record({
          type: 'token_reuse_detected',
          userId: result.family.userId,
          severity: 'critical',
          sessionId: result.family.sessionId,
          ipAddress: context.ipAddress ?? null,
          userAgent: context.userAgent ?? null,
          details: { familyId: result.family.familyId, generation: result.family.generation },
        });
        throw new RefreshTokenReusedError(result.family.familyId);
      case 'revoked':
        throw new RefreshTokenRevokedError(result.family.familyId);
      case 'session_ended':
        throw sessionEnded();
      case 'invalid':
      case 'not_found':
        throw new RefreshTokenInvalidError();
    }
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
