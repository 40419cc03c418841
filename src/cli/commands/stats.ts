/** `optix-sessions stats`: live record counts plus Redis INFO memory/clients/stats/keyspace. */
import {
  type CliIo,
  EXIT,
  type GlobalOptions,
  keyspaceBar,
  printJson,
  table,
  withOptix,
} from '../context.js';

export async function statsCommand(io: CliIo, options: GlobalOptions): Promise<number> {
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    // A full SCAN of the prefix: on a terminal, a bar against the keyspace's size.
    const bar = io.isTTY && !options.json ? await keyspaceBar(io, optix.redis!, 'stats') : null;
    const stats = await optix.stats((scanned) => bar?.update(scanned));
    bar?.stop();
    if (options.json) {
      printJson(io, stats);
      return EXIT.OK;
    }
    const s = stats.store;
    const rows: string[][] = [
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
      // An evicted blacklist entry or watermark silently un-revokes tokens (README, "Memory").
      const eviction = await optix.redis!.checkEvictionPolicy();
      if (!eviction.safe) rows.push(['WARNING', eviction.message]);
    }
    io.stdout.write(`${table(rows)}\n`);
    return EXIT.OK;
  });
}
