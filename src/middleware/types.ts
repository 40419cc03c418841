/**
 * Public types of the resource-server middleware (`optix-sessions/fastify`,
 * `optix-sessions/express`): what a verified request carries, what a route may require, and the
 * options of the two verification modes.
 */
import type { JwtService, SessionManager } from '../services/types.js';

/**
 * The caller of a request, once its bearer token has been verified. Put on the request as
 * `request.auth` (Fastify) or `req.auth` (Express).
 */
export interface OptixAuth {
  /** The token's `sub`. */
  readonly userId: string;
  /** The session the token belongs to (`sid`), or `null` for a token minted without one. */
  readonly sessionId: string | null;
  /** The token's `jti`. */
  readonly tokenId: string;
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
  /** The token's `scope`, split on spaces (our tokens' scope is their permissions). */
  readonly scope: readonly string[];
  /** Whether the session was created with MFA verified. `false` without a session. */
  readonly mfa: boolean;
  /** When the access token expires, ms since the epoch. */
  readonly expiresAt: number;
  /**
   * `true` normally. `false` only with `onUnavailable: 'allow'` while verification was degraded:
   * local mode could not reach the store (signature and times checked, revocation not); remote
   * mode could not reach the service and used an earlier positive answer past its freshness.
   */
  readonly revocationChecked: boolean;
  /** Which verification mode produced this. */
  readonly mode: 'local' | 'remote';
}

/**
 * What a route requires of its caller. Every listed role, permission and scope must be present
 * (all of them); `mfa: true` requires a session created with MFA verified. A caller without them
 * gets 403 `ERR_FORBIDDEN`.
 */
export interface AuthRequirements {
  roles?: readonly string[];
  permissions?: readonly string[];
  scopes?: readonly string[];
  mfa?: boolean;
}

/**
 * What to do when verification itself cannot be done (local: Redis unreachable or too slow;
 * remote: the service unreachable, too slow, or answering with an error).
 * - `'deny'` (default): fail closed, 503 `ERR_STORE_UNAVAILABLE` / `ERR_STORE_TIMEOUT`.
 * - `'allow'`: local mode accepts a token whose signature and times verify without the revocation
 *   and session checks; remote mode accepts a token that had an active answer earlier, until its
 *   own expiry (a token never seen is still refused). Either way a revoked token keeps working
 *   while the outage lasts; `auth.revocationChecked` is then `false`.
 */
export type OnUnavailable = 'deny' | 'allow';

/** Local mode: the app has the stores (Redis or in-process memory) and verifies in process. */
export interface LocalModeOptions {
  mode: 'local';
  /** From `createJwtService` over the same stores (and Redis prefix) as the service. */
  jwt: JwtService;
  /** From `createSessionManager` over the same stores: each request counts as session activity. */
  sessions: SessionManager;
  onUnavailable?: OnUnavailable;
}

/** How the resource server authenticates itself to the introspection endpoint. */
export type IntrospectionCredentials =
  /** `Authorization: Bearer <service key>` (a key from the service's `SERVICE_API_KEYS`). */
  | { serviceKey: string }
  /** OAuth client authentication `client_secret_basic` (RFC 6749 §2.3.1). */
  | { clientId: string; clientSecret: string };

/** Remote mode: the app has only the service's URL and a credential; it introspects (RFC 7662). */
export interface RemoteModeOptions {
  mode: 'remote';
  /** Base URL of the service, e.g. `https://sessions.internal:8080` (`/v1/introspect` is appended). */
  url: string;
  credentials: IntrospectionCredentials;
  /**
   * The worst staleness, in ms: a positive answer is reused for at most this long after the
   * introspection that produced it was sent (and never past the token's `exp`), so a token revoked
   * at the service is refused by this app at most this long later. Default 1000; 0 asks the
   * service on every request (concurrent requests with one token still share one introspection).
   */
  cacheMaxAgeMs?: number;
  /** Tokens whose positive answer is kept (least recently used go first). Default 10 000. */
  cacheMaxEntries?: number;
  /** Deadline of one introspection, in ms. Default 2000. */
  timeoutMs?: number;
  onUnavailable?: OnUnavailable;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

/** Either mode: the one option object both frameworks take. */
export type OptixAuthOptions = LocalModeOptions | RemoteModeOptions;

/** Verifies a bearer token: the part of the middleware that knows nothing of the framework. */
export interface AuthVerifier {
  readonly mode: 'local' | 'remote';
  /**
   * @param endpoint the route, recorded as the session's last endpoint (local mode).
   * @throws OptixError with a 401 code for a bad, expired or revoked token; `ERR_STORE_UNAVAILABLE`
   *   or `ERR_STORE_TIMEOUT` when verification cannot be done and `onUnavailable` is `'deny'`.
   */
  verify(token: string, endpoint: string): Promise<OptixAuth>;
  /** Drops cached answers; pending introspections still settle. */
  close(): Promise<void>;
}
