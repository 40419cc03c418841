/**
 * Access-token claims: the checks of what a caller asks to put in a token, `mint` (payload and
 * signature), and the claim checks of a presented token (times, issuer, audience, ids).
 */
import type { Clock } from '../../core/clock.js';
import { ConfigError, InvalidArgumentError, JwtVerificationError } from '../../core/errors.js';
import { assertUserId, type IdCodec, randomToken } from '../../core/ids.js';
import type { AccessTokenPayload, AccessTokenRecord, CreateAccessTokenInput } from '../types.js';
import { signCompact } from './compact.js';
import type { KeyRing } from './key-ring.js';

const MAX_LIST = 64;
const MAX_CLAIM_STRING = 256;

export function claimString(path: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new ConfigError(path, 'must be a non-empty string of at most 1024 characters');
  }
  return value;
}

export function stringList(name: string, value: readonly string[] | undefined): string[] | undefined {
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

export interface ExtraClaims {
  email?: string;
  roles?: string[];
  permissions?: string[];
}

export function extraClaims(input: CreateAccessTokenInput): ExtraClaims {
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

/**
 * Freezes `value` and every object inside it (claims shared between callers). Walks keys and
 * indexes in place (no `Object.values` array per object: this runs at every first sight).
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') deepFreeze(v);
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const v = record[key];
      if (v !== null && typeof v === 'object') deepFreeze(v);
    }
  }
  return value;
}

export function claimError(claim: string, message: string): JwtVerificationError {
  return new JwtVerificationError('ERR_JWT_CLAIM', message, claim);
}

export interface ClaimsOptions {
  readonly ring: KeyRing;
  readonly ids: IdCodec;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTtl: number;
  /** Clock tolerance, seconds. */
  readonly tolerance: number;
  readonly clock: Clock;
}

/** When a token is minted from a refresh family (see `RedisRevocationChecker`'s first sight). */
export interface MintTimes {
  /**
   * The issue time to sign (ms), read before the family's store step: a family revoked after it
   * could not have been revoked before the token's `iat_ms` (default: now).
   */
  readonly issuedAtMs?: number;
  /** `exp` is cut to this (ms; the family's expiry): no token outlives its family. */
  readonly notAfterMs?: number;
}

/** Minting and checking of access-token claims with one service's settings. */
export interface Claims {
  mint(
    userId: string,
    claims: ExtraClaims,
    sessionId: string | undefined,
    familyId: string | undefined,
    userGeneration: number | null,
    times?: MintTimes,
  ): { token: string; record: AccessTokenRecord };
  /** The time claims against now (also for a token taken from the verified cache). */
  checkTimes(raw: { exp?: unknown; nbf?: unknown; iat?: unknown }): void;
  /** Every claim of a freshly verified payload; completes `iat_ms` in place. */
  checkClaims(raw: Record<string, unknown>): AccessTokenPayload;
}

export function createClaims(options: ClaimsOptions): Claims {
  const { ring, ids, issuer, audience, accessTtl, tolerance, clock } = options;

  function mint(
    userId: string,
    claims: ExtraClaims,
    sessionId: string | undefined,
    familyId: string | undefined,
    userGeneration: number | null,
    times: MintTimes = {},
  ): { token: string; record: AccessTokenRecord } {
    const nowMs = times.issuedAtMs ?? clock.now();
    const iat = Math.floor(nowMs / 1000);
    let exp = iat + accessTtl;
    if (times.notAfterMs !== undefined) exp = Math.min(exp, Math.floor(times.notAfterMs / 1000));
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

  // No closures or literals built per call below: every first sight of a token runs this, and
  // the service runs under tsx, whose keep-names transform wraps each inner function per call.
  function checkClaims(raw: Record<string, unknown>): AccessTokenPayload {
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
    if (raw.sid !== undefined && !ids.is(raw.sid)) throw claimError('sid', 'sid is malformed');
    if (raw.fid !== undefined && !ids.is(raw.fid)) throw claimError('fid', 'fid is malformed');
    if (raw.ugen !== undefined) {
      const ugen = raw.ugen;
      if (typeof ugen !== 'number' || !Number.isSafeInteger(ugen) || ugen < 0)
        throw claimError('ugen', 'ugen is malformed');
    }
    const rawIatMs = raw.iat_ms;
    const iatMs = typeof rawIatMs === 'number' && Number.isFinite(rawIatMs) ? rawIatMs : undefined;
    if (rawIatMs !== undefined && (iatMs === undefined || Math.floor(iatMs / 1000) !== iat)) {
      throw claimError('iat_ms', 'iat_ms does not match iat');
    }
    // `raw` was parsed for this call alone: completed in place rather than copied (hot path).
    raw.iat_ms = iatMs ?? iat * 1000;
    return raw as unknown as AccessTokenPayload;
  }

  return { mint, checkTimes, checkClaims };
}
