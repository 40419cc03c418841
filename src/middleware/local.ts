/**
 * Local mode: the token is verified in process by the library's JWT service (signature, claims,
 * every revocation; on Redis a revocation already seen is answered from the client-side cache
 * that Redis invalidates, so a warm check makes no round trip), then its session is confirmed
 * live and its activity recorded, as the service's own `/v1/me` routes do.
 */
import { OptixError } from '../core/errors.js';
import type { SessionManager } from '../services/types.js';
import type { AuthVerifier, LocalModeOptions, OptixAuth } from './types.js';

const words = (s: string | undefined) => (s ? s.split(' ').filter((w) => w !== '') : []);

/**
 * The one place a request through the middleware counts as activity on its session: the live
 * session (its idle timeout slid, at most one write per `activityWriteIntervalSeconds`), an
 * unverified one when the store is down and `failOpen`, or `null` when it has ended. Should the
 * library grow a `verifyToken` that slides the session itself, this is the call to replace.
 */
async function confirmSession(
  sessions: SessionManager,
  sessionId: string,
  endpoint: string,
  failOpen: boolean,
) {
  return sessions.validateSession(sessionId, { endpoint: endpoint.slice(0, 512), failOpen });
}

/**
 * Builds a local-mode verifier from the library's own services.
 * @example
 * // The deployment's id codec: the service's session ids carry a sealed user tag.
 * const ids = await loadIdCodec(redis, { keyPrefix: 'optix:' });
 * const stores = createRedisStores(redis, { keyPrefix: 'optix:', ids });
 * const verifier = createLocalVerifier({ mode: 'local', jwt: createJwtService({ stores, … }),
 *   sessions: createSessionManager({ stores }) });
 */
export function createLocalVerifier(options: LocalModeOptions): AuthVerifier {
  const { jwt, sessions } = options;
  const failOpen = (options.onUnavailable ?? 'deny') === 'allow';
  return {
    mode: 'local',
    async verify(token, endpoint) {
      const verified = await jwt.verifyToken(token, { failOpen });
      const p = verified.payload;
      let revocationChecked = verified.revocationChecked;
      let mfa = false;
      const sessionId = p.sid ?? null;
      if (sessionId !== null) {
        const session = await confirmSession(sessions, sessionId, endpoint, failOpen);
        // The same answer the revocation check gives a token of an ended session.
        if (session === null)
          throw new OptixError('ERR_TOKEN_REVOKED', 'the session of this token has ended');
        if ('unverified' in session) revocationChecked = false;
        else mfa = session.mfaVerified;
      }
      const auth: OptixAuth = {
        userId: p.sub,
        sessionId,
        tokenId: p.jti,
        roles: p.roles ?? [],
        permissions: p.permissions ?? [],
        scope: words(p.scope),
        mfa,
        expiresAt: p.exp * 1000,
        revocationChecked,
        mode: 'local',
      };
      return Object.freeze(auth);
    },
    async close() {},
  };
}
