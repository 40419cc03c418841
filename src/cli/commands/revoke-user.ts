/** `optix-sessions revoke-user <userId>`: every token stops verifying (O(1)), every session ends. */
import { assertUserId } from '../../core/ids.js';
import { assertReason } from '../../core/validate.js';
import { type CliIo, EXIT, type GlobalOptions, printJson, withOptix } from '../context.js';

export async function revokeUserCommand(
  io: CliIo,
  userId: string,
  options: GlobalOptions & { reason?: string },
): Promise<number> {
  assertUserId(userId);
  const reason = options.reason ?? 'operator_cli';
  assertReason(reason); // before connecting: a refused reason leaves nothing half done
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    await optix.jwt.revokeAllUserTokens(userId, reason);
    const ended = await optix.sessions.terminateUserSessions({ userId, reason });
    if (options.json) printJson(io, { userId, sessionsEnded: ended, tokensRevoked: true });
    else io.stdout.write(`revoked every token of ${userId}; ended ${ended} session(s)\n`);
    return EXIT.OK;
  });
}
