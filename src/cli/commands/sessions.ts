/** `optix-sessions sessions list <userId>` and `sessions revoke <sessionId>`. */
import { assertUserId } from '../../core/ids.js';
import {
  type CliIo,
  CliError,
  EXIT,
  type GlobalOptions,
  iso,
  printJson,
  serviceFrom,
  table,
  withOptix,
} from '../context.js';
import type { Session } from '../../core/types.js';

export async function sessionsListCommand(
  io: CliIo,
  userId: string,
  options: GlobalOptions,
): Promise<number> {
  assertUserId(userId);
  const service = serviceFrom(io, options);
  if (service !== null) {
    const { body } = await service.call<{ sessions: Session[] }>(
      'GET',
      `/v1/admin/users/${encodeURIComponent(userId)}/sessions`,
    );
    return printSessions(io, userId, body.sessions, options);
  }
  return withOptix(io, { ...options, requireRedis: true }, async (optix) =>
    printSessions(io, userId, await optix.sessions.listUserSessions(userId), options),
  );
}

function printSessions(
  io: CliIo,
  userId: string,
  sessions: readonly Session[],
  options: GlobalOptions,
): number {
  {
    if (options.json) {
      printJson(
        io,
        sessions.map(({ deviceFingerprint: _omit, ...s }) => s),
      );
      return EXIT.OK;
    }
    if (sessions.length === 0) {
      io.stdout.write(`no live sessions for ${userId}\n`);
      return EXIT.OK;
    }
    const rows = [
      ['SESSION', 'CREATED', 'LAST ACTIVITY', 'EXPIRES', 'IP', 'DEVICE', 'MFA'],
      ...sessions.map((s) => [
        s.sessionId,
        iso(s.createdAt),
        iso(s.lastActivity),
        iso(Math.min(s.expiresAt, s.absoluteExpiresAt)),
        s.ipAddress,
        s.deviceId ?? '-',
        s.mfaVerified ? 'yes' : 'no',
      ]),
    ];
    io.stdout.write(`${table(rows)}\n${sessions.length} live session(s)\n`);
    return EXIT.OK;
  }
}

export async function sessionsRevokeCommand(
  io: CliIo,
  sessionId: string,
  options: GlobalOptions & { reason?: string },
): Promise<number> {
  // Sealed ids open only with the deployment's secret: checked where it is known.
  const service = serviceFrom(io, options);
  if (service !== null) {
    // The service records its own reason (`admin_terminated`); 404 → exit 3.
    await service.call('DELETE', `/v1/admin/sessions/${encodeURIComponent(sessionId)}`);
    if (options.json) printJson(io, { ended: true });
    else io.stdout.write('session ended; its tokens no longer verify\n');
    return EXIT.OK;
  }
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    // Sealed ids open only with the deployment's secret, read at connect.
    optix.stores.ids.parse('sessionId', sessionId);
    const ended = await optix.sessions.terminateSession(sessionId, options.reason ?? 'operator_cli');
    if (!ended) throw new CliError(EXIT.NOT_FOUND, 'no such live session');
    if (options.json) printJson(io, { ended: true });
    else io.stdout.write('session ended; its tokens no longer verify\n');
    return EXIT.OK;
  });
}
