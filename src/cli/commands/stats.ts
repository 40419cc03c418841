/** `optix-sessions stats`: live record counts plus Redis INFO memory/clients/stats/keyspace. */
import type { OptixStats, RedisInfoSummary } from '../../container.js';
import {
  type CliIo,
  serviceFrom,
  EXIT,
  type GlobalOptions,
  iso,
  keyspaceBar,
  printJson,
  table,
  withOptix,
} from '../context.js';

export async function statsCommand(io: CliIo, options: GlobalOptions): Promise<number> {
  const service = serviceFrom(io, options);
  if (service !== null) {
    const { body } = await service.call<OptixStats>('GET', '/v1/admin/stats');
    const policy = body.redis?.maxmemoryPolicy ?? null;
    // The service's INFO shows the policy; anything but noeviction can silently un-revoke.
    const warning =
      policy !== null && policy !== 'noeviction'
        ? `maxmemory-policy is ${policy}: Redis may evict revocation entries (set noeviction)`
        : null;
    return printStats(io, options, { ...body }, warning);
  }
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    // A full SCAN of the prefix: on a terminal, a bar against the keyspace's size.
    const bar = io.isTTY && !options.json ? await keyspaceBar(io, optix, 'stats') : null;
    const stats = await optix.stats((scanned) => bar?.update(scanned));
    bar?.stop();
    if (options.json) return printStats(io, options, stats, null);
    // An evicted blacklist entry or watermark silently un-revokes tokens (README, "Memory").
    const eviction = await optix.redis!.checkEvictionPolicy();
    return printStats(io, options, stats, eviction.safe ? null : eviction.message);
  });
}

function printStats(io: CliIo, options: GlobalOptions, stats: OptixStats, warning: string | null): number {
  if (options.json) {
    printJson(io, stats);
    return EXIT.OK;
  }
  const s = stats.store;
  const rows: string[][] = [
    ['backend', stats.backend],
    ['live sessions', String(s.sessions)],
    ['blacklist entries', String(s.blacklistEntries)],
    ['refresh families', String(s.families)],
    ['revoked families', String(s.revokedFamilies)],
    ['trusted devices', String(s.trustedDevices)],
    ['security events', String(s.securityEvents)],
  ];
  const r = stats.redis;
  if (r) {
    const hitRate =
      r.keyspaceHits !== null && r.keyspaceMisses !== null && r.keyspaceHits + r.keyspaceMisses > 0
        ? `${((100 * r.keyspaceHits) / (r.keyspaceHits + r.keyspaceMisses)).toFixed(1)} %`
        : '-';
    rows.push(
      ['', ''],
      ['used memory', r.usedMemoryHuman ?? '-'],
      ['maxmemory policy', r.maxmemoryPolicy ?? '-'],
      ['connected clients', String(r.connectedClients ?? '-')],
      ['ops/s', String(r.opsPerSec ?? '-')],
      ['hit rate', hitRate],
      ['expired keys', String(r.expiredKeys ?? '-')],
      ['evicted keys', String(r.evictedKeys ?? '-')],
      ...Object.entries(r.keyspace).map(([db, v]) => [`keyspace ${db}`, v]),
    );
    if (warning !== null) rows.push(['WARNING', warning]);
  }
  io.stdout.write(`${table(rows)}\n`);
  if (r) io.stdout.write(slowlogText(r.slowlog));
  return EXIT.OK;
}

/** The SLOWLOG block of `stats` (arguments are never shown: they hold ids). */
export function slowlogText(slowlog: RedisInfoSummary['slowlog']): string {
  if (slowlog.error !== null) return `\nslowlog: unavailable (${slowlog.error})\n`;
  if (slowlog.entries.length === 0) return '\nslowlog: empty (no command over slowlog-log-slower-than)\n';
  const rows = [
    ['TIME', 'MICROS', 'COMMAND', 'ARGS', 'CLIENT'],
    ...slowlog.entries.map((e) => [
      iso(e.timestamp),
      String(e.durationMicros),
      e.script !== null
        ? `${e.command} ${e.script}`
        : e.scriptSha1 !== null
          ? `${e.command} ${e.scriptSha1.slice(0, 12)}`
          : e.command,
      String(e.argumentCount),
      [e.clientName || '-', e.node].filter(Boolean).join(' '),
    ]),
  ];
  return `\nslowlog (SLOWLOG GET ${slowlog.entries.length}, newest first):\n${table(rows)}\n`;
}
