/**
 * The login flow, once for every caller (the HTTP route, the CLI, the bench, the tests): create the
 * session, issue what the client gets for it, and end the session again if issuing fails, so no
 * session is left without tokens.
 */
import type { Session } from '../core/types.js';
import { assertObject } from '../core/validate.js';
import type { BrowserHandoffs } from './browser-handoff.js';
import type {
  CreateAccessTokenInput,
  CreateSessionInput,
  JwtService,
  SessionManager,
  TokenPair,
} from './types.js';

/** The session to create and the claims of its tokens. */
export interface LoginInput extends CreateSessionInput {
  email?: string;
  /** Written into the access token. */
  roles?: readonly string[];
  /** Written into the access token; also its scope. */
  permissions?: readonly string[];
}

/** What the issuing step is given: the input of `JwtService.issueTokenPair`. */
export type LoginGrant = CreateAccessTokenInput & { sessionId: string };

export interface LoginDeps {
  sessions: Pick<SessionManager, 'createSession' | 'terminateSession'>;
  jwt: Pick<JwtService, 'issueTokenPair'>;
}

export interface LoginResult {
  session: Session;
  tokens: TokenPair;
}

/** Something that turns a login grant into what the client receives (hand-off codes do). */
export type GrantIssuer<T> = (grant: LoginGrant) => Promise<T>;

/** The token claims given in `input` (email, roles, permissions), without the absent ones. */
export function grantClaims(input: Pick<LoginInput, 'email' | 'roles' | 'permissions'>) {
  return {
    ...(input.email !== undefined ? { email: input.email } : {}),
    ...(input.roles !== undefined ? { roles: input.roles } : {}),
    ...(input.permissions !== undefined ? { permissions: input.permissions } : {}),
  };
}

/** The reason recorded on the `session_terminated` event when issuing failed. */
export const LOGIN_UNDO_REASON = 'token_issue_failed';

/**
 * Creates a session and hands its grant to `issue`; when `issue` throws, ends the session
 * (`session_terminated`, reason `token_issue_failed`) and rethrows the original error.
 * @throws whatever `createSession` or `issue` throws (InvalidArgumentError, SessionLimitError …).
 */
export async function openSession<T>(
  sessions: LoginDeps['sessions'],
  input: LoginInput,
  issue: GrantIssuer<T>,
): Promise<{ session: Session; issued: T }> {
  assertObject('input', input);
  const session = await sessions.createSession({
    userId: input.userId,
    ipAddress: input.ipAddress,
    userAgent: input.userAgent,
    deviceFingerprint: input.deviceFingerprint ?? null,
    deviceId: input.deviceId ?? null,
    mfaVerified: input.mfaVerified ?? false,
  });
  const grant: LoginGrant = { userId: session.userId, sessionId: session.sessionId, ...grantClaims(input) };
  try {
    return { session, issued: await issue(grant) };
  } catch (err) {
    // No session without tokens: undo, then report the original failure.
    await sessions.terminateSession(session.sessionId, LOGIN_UNDO_REASON).catch(() => undefined);
    throw err;
  }
}

/**
 * Logs a user in whom the caller has authenticated: a new session (under the per-user cap) and its
 * first token pair. Either both exist afterwards or neither does.
 *
 * @throws InvalidArgumentError / InvalidIdError for bad input; SessionLimitError
 *   (ERR_SESSION_LIMIT) with the `deny` policy at the cap; StoreUnavailableError when the store is down.
 * @example
 * const { session, tokens } = await login({ sessions, jwt }, {
 *   userId: 'u-42', ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0', roles: ['trader'],
 * });
 */
export async function login(deps: LoginDeps, input: LoginInput): Promise<LoginResult> {
  const { session, issued } = await openSession(deps.sessions, input, (grant) =>
    deps.jwt.issueTokenPair(grant),
  );
  return { session, tokens: issued };
}

export interface HandoffLoginResult {
  session: Session;
  /** The one-time code for the page (`POST /v1/browser/session`), and its life in seconds. */
  handoff: { code: string; expiresIn: number };
}

/**
 * Browser mode's login: a new session and a one-time hand-off code instead of a token pair (the
 * pair is minted when the page exchanges the code, so the refresh token never passes through the
 * login service). Either the session and its code both exist afterwards or neither does.
 * @throws as `login`.
 */
export async function loginWithHandoff(
  deps: { sessions: LoginDeps['sessions']; handoffs: Pick<BrowserHandoffs, 'create'> },
  input: LoginInput,
): Promise<HandoffLoginResult> {
  const { session, issued } = await openSession(deps.sessions, input, (grant) => deps.handoffs.create(grant));
  return { session, handoff: issued };
}
