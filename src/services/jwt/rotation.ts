/**
 * Refresh tokens: a family per login (`issueTokenPair`) and its rotation with the grace window
 * and reuse detection (`refreshTokens`).
 */
import {
  InvalidArgumentError,
  RefreshTokenInvalidError,
  RefreshTokenReusedError,
  RefreshTokenRevokedError,
} from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { assertUserId } from '../../core/ids.js';
import type { Stores } from '../../core/ports.js';
import type { Session } from '../../core/types.js';
import { assertObject } from '../../core/validate.js';
import type { CreateAccessTokenInput, TokenPair } from '../types.js';
import { type Claims, type ExtraClaims, extraClaims, stringList } from './claims.js';
import {
  formatRefreshToken,
  newRefreshToken,
  openChild,
  parseRefreshToken,
  sealChild,
} from './refresh-token.js';

function sessionEnded(): RefreshTokenInvalidError {
  return new RefreshTokenInvalidError('the session of this refresh token has ended');
}

export interface RefreshFlow {
  issueTokenPair(input: CreateAccessTokenInput & { sessionId: string }): Promise<TokenPair>;
  refreshTokens(
    refreshToken: string,
    context?: { ipAddress?: string; userAgent?: string; scope?: readonly string[]; endpoint?: string },
  ): Promise<TokenPair>;
}

export function createRefreshFlow(options: {
  stores: Stores;
  claims: Claims;
  refreshTtl: number;
  /** The claims' clock (the issue time of a new family's first token is read before the family). */
  clock: Clock;
  graceSeconds: number;
  /**
   * Records a use of the session; `false` when it is no longer live. `found`: the session as the
   * rotation's atomic step found it (live), so it need not be read again.
   */
  recordUse(sessionId: string, endpoint: string | undefined, found?: Session | null): Promise<boolean>;
}): RefreshFlow {
  const { stores, refreshTtl, graceSeconds, recordUse, clock } = options;
  /** Seconds the access token lives (`accessTtl`, or less when its family ends sooner). */
  const expiresIn = (record: { issuedAt: number; expiresAt: number }): number =>
    Math.max(0, Math.round((record.expiresAt - Math.floor(record.issuedAt / 1000) * 1000) / 1000));
  const { mint } = options.claims;

  async function issueTokenPair(input: CreateAccessTokenInput & { sessionId: string }): Promise<TokenPair> {
    assertObject('input', input);
    assertUserId(input.userId);
    if (!stores.ids.is(input.sessionId)) throw new InvalidArgumentError('sessionId', 'is malformed');
    const claims = extraClaims(input);
    const familyId = stores.ids.newId(input.userId);
    const rt = newRefreshToken(familyId);
    // Read before the family exists: nothing can revoke it before the token's `iat_ms`.
    const issuedAtMs = clock.now();
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
    const { token, record } = mint(input.userId, claims, input.sessionId, familyId, family.userGeneration, {
      issuedAtMs,
      notAfterMs: family.expiresAt,
    });
    return { accessToken: token, refreshToken: formatRefreshToken(rt), expiresIn: expiresIn(record), record };
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
    // Minted before the consume below: a family revoked before it refuses the consume, so this
    // token is handed out only when the family was not revoked before its `iat_ms`.
    const minted = mint(family.userId, claims, family.sessionId, family.familyId, family.userGeneration, {
      notAfterMs: family.expiresAt,
    });
    const child: TokenPair = {
      accessToken: minted.token,
      refreshToken: formatRefreshToken(next),
      expiresIn: expiresIn(minted.record),
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
    const used = async (pair: TokenPair, found: Session | null): Promise<TokenPair> => {
      if (!(await recordUse(family.sessionId, context.endpoint, found))) throw sessionEnded();
      return pair;
    };
    switch (result.status) {
      case 'rotated':
        return used(child, result.session);
      case 'grace': {
        const opened = openChild(presented.secret, presented.familyId, result.childBlob);
        if (!opened) throw new RefreshTokenInvalidError();
        return used(JSON.parse(opened) as TokenPair, result.session);
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

  return { issueTokenPair, refreshTokens };
}
