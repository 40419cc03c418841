/** `optix-sessions revoke-user <userId>`: every token stops verifying (O(1)), every session ends. */
import { assertUserId } from '../../core/ids.js';
import { assertReason } from '../../core/validate.js';
import { type CliIo, EXIT, type GlobalOptions, printJson, serviceFrom, withOptix } from '../context.js';

/** The answer, also when there was nothing to end (exit 0 either way: the watermark is raised). */
function report(io: CliIo, userId: string, ended: number, options: GlobalOptions): number {
  if (options.json) printJson(io, { userId, sessionsEnded: ended, tokensRevoked: true });
  else if (ended === 0) {
    io.stdout.write(
      `nothing to end: ${userId} has no live session; any token issued to ${userId} before now is revoked anyway\n`,
    );
  } else io.stdout.write(`revoked every token of ${userId}; ended ${ended} session(s)\n`);
  return EXIT.OK;
}

export async function revokeUserCommand(
  io: CliIo,
  userId: string,
  options: GlobalOptions & { reason?: string },
): Promise<number> {
  assertUserId(userId);
  const reason = options.reason ?? 'operator_cli';
  assertReason(reason); // before connecting: a refused reason leaves nothing half done
  const service = serviceFrom(io, options);
  if (service !== null) {
    // The service records its own reason (`admin_revoke_user`).
    const { body } = await service.call<{ ended: number }>(
      'DELETE',
      `/v1/admin/users/${encodeURIComponent(userId)}/sessions`,
    );
    return report(io, userId, body.ended, options);
  }
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    const ended = await optix.revokeUser(userId, reason);
    return report(io, userId, ended, options);
  });
}
