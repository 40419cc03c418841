/**
 * Browser hand-off codes: how a page gets its first refresh cookie when the login service (a
 * backend holding a service key) creates the session. The login service receives a one-time code
 * instead of a token pair and passes it to the page; the page exchanges it at
 * `POST /v1/browser/session`, which sets the refresh cookie and returns only the access token.
 *
 * Nothing secret is stored: the store keeps the SHA-256 of the code, and what it stands for is the
 * *input* of `JwtService.issueTokenPair` (user, session, claims). The pair — and so the refresh
 * token — is minted at the exchange, by the library's own `issueTokenPair`, so the refresh token
 * never exists anywhere but in the cookie, and rotation, grace and theft detection are the
 * library's from the first refresh on.
 */
import { HandoffInvalidError, InvalidArgumentError } from '../core/errors.js';
import { randomToken, sha256 } from '../core/ids.js';
import type { Stores } from '../core/ports.js';
import type { CreateAccessTokenInput, JwtService, SessionManager, TokenPair } from './types.js';
import { grantClaims } from './login.js';

/** What a hand-off code stands for: the input of `issueTokenPair`. */
export type HandoffGrant = CreateAccessTokenInput & { sessionId: string };

export interface BrowserHandoffs {
  /**
   * Creates a one-time code for `grant` (a live session of `grant.userId`): 256 bits from the
   * CSPRNG, base64url (43 characters). It can be exchanged once, within `ttlSeconds`.
   */
  create(grant: HandoffGrant): Promise<{ code: string; expiresIn: number }>;
  /**
   * Takes the code (atomically: of concurrent exchanges of one code, one wins) and issues the
   * session's token pair.
   * @throws HandoffInvalidError (ERR_HANDOFF_INVALID) for a malformed, unknown, expired or used
   *   code, or when the session has ended since.
   */
  redeem(code: string): Promise<TokenPair>;
  /** The life of a code, in seconds. */
  readonly ttlSeconds: number;
}

const CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function createBrowserHandoffs(deps: {
  stores: Stores;
  jwt: JwtService;
  sessions: SessionManager;
  ttlSeconds: number;
}): BrowserHandoffs {
  const { stores, jwt, sessions, ttlSeconds } = deps;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new InvalidArgumentError('ttlSeconds', 'must be a whole number of seconds ≥ 1');
  }
  return Object.freeze({
    ttlSeconds,
    async create(grant: HandoffGrant) {
      const code = randomToken(32);
      const payload: HandoffGrant = {
        userId: grant.userId,
        sessionId: grant.sessionId,
        ...grantClaims(grant),
      };
      await stores.handoffs.put({ codeHash: sha256(code), payload: JSON.stringify(payload), ttlSeconds });
      return { code, expiresIn: ttlSeconds };
    },
    async redeem(code: string) {
      if (typeof code !== 'string' || !CODE_PATTERN.test(code)) throw new HandoffInvalidError();
      const json = await stores.handoffs.take(sha256(code));
      if (json === null) throw new HandoffInvalidError();
      const grant = JSON.parse(json) as HandoffGrant;
      // Ended between login and exchange (logout everywhere, admin revoke, eviction): no tokens.
      if ((await sessions.getSession(grant.sessionId)) === null) {
        throw new HandoffInvalidError('the session of this hand-off code has ended');
      }
      return jwt.issueTokenPair(grant);
    },
  });
}
