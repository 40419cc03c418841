/** `optix-sessions events <userId>`: the user's security events, newest first. */
import { assertUserId } from '../../core/ids.js';
import {
  type CliIo,
  CliError,
  EXIT,
  type GlobalOptions,
  iso,
  positiveInt,
  printJson,
  serviceFrom,
  table,
  withOptix,
} from '../context.js';
import type { SecurityEvent } from '../../core/types.js';

function timeOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new CliError(
      EXIT.USAGE,
      `${name} must be an ISO date or epoch milliseconds, got "${value.slice(0, 40)}"`,
    );
  return ms;
}

export async function eventsCommand(
  io: CliIo,
  userId: string,
  options: GlobalOptions & { limit?: string; since?: string; until?: string },
): Promise<number> {
  assertUserId(userId);
  const limit = positiveInt('--limit', options.limit, 50, 1000);
  const since = timeOption('--since', options.since);
  const until = timeOption('--until', options.until);
  const service = serviceFrom(io, options);
  if (service !== null) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (since !== undefined) query.set('since', String(since));
    if (until !== undefined) query.set('until', String(until));
    const { body } = await service.call<{ events: SecurityEvent[] }>(
      'GET',
      `/v1/admin/users/${encodeURIComponent(userId)}/security-events?${query}`,
    );
    return printEvents(io, userId, body.events, options);
  }
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    const events = await optix.sessions.listSecurityEvents(userId, {
      limit,
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
    });
    return printEvents(io, userId, events, options);
  });
}

function printEvents(
  io: CliIo,
  userId: string,
  events: readonly SecurityEvent[],
  options: GlobalOptions,
): number {
  {
    if (options.json) {
      printJson(io, events);
      return EXIT.OK;
    }
    if (events.length === 0) {
      io.stdout.write(`no security events for ${userId}\n`);
      return EXIT.OK;
    }
    const rows = [
      ['TIME', 'SEVERITY', 'TYPE', 'IP', 'DETAILS'],
      ...events.map((e) => [
        iso(e.timestamp),
        e.severity,
        e.type,
        e.ipAddress ?? '-',
        Object.entries(e.details)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ]),
    ];
    io.stdout.write(`${table(rows)}\n`);
    return EXIT.OK;
  }
}
