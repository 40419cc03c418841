/**
 * "Revoke everything of a user", once for every caller (`DELETE /v1/admin/users/:userId/sessions`,
 * the operator console, `optix-sessions revoke-user`, a password change in the login service):
 * tokens first (the user's generation goes up: O(1), from then on nothing issued before verifies,
 * even if the second step fails), then every live session ends.
 */
import type { JwtService, SessionManager } from './types.js';

export interface RevokeUserDeps {
  jwt: Pick<JwtService, 'revokeAllUserTokens'>;
  sessions: Pick<SessionManager, 'terminateUserSessions'>;
}

/** Revokes every token of `userId` and ends every live session; returns how many sessions ended. */
export async function revokeUser(deps: RevokeUserDeps, userId: string, reason: string): Promise<number> {
  await deps.jwt.revokeAllUserTokens(userId, reason);
  return deps.sessions.terminateUserSessions({ userId, reason });
}
