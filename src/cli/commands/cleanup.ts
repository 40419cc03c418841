/**
 * `optix-sessions cleanup`: prunes expired entries from every index now (the guide's manual
 * cleanup). A progress bar on a terminal, a one-line summary otherwise.
 */
import {
  type CliIo,
  CliError,
  EXIT,
  type GlobalOptions,
  keyspaceBar,
  printJson,
  serviceFrom,
  withOptix,
} from '../context.js';
import type { CleanupStats } from '../../core/ports.js';
import { tokenCleanupStats } from '../../services/cleanup.js';

const LOCK_HELD = 'another instance is sweeping right now (cleanup lock held); try again later';

function summary(
  io: CliIo,
  options: GlobalOptions,
  stats: CleanupStats,
  tokens: { blacklistIndexEntries: number; durationMs: number },
): number {
  if (options.json) {
    printJson(io, { jwt: tokens, sessions: stats });
    return EXIT.OK;
  }
  // One locked round: the token-index share (`tokens`) is already counted in `stats`.
  const removed =
    stats.sessionIndexEntries +
    stats.deviceIndexEntries +
    stats.blacklistIndexEntries +
    stats.trustedDeviceIndexEntries +
    stats.securityEventIndexEntries;
  io.stdout.write(
    `cleanup completed: scanned ${stats.scanned} keys in ${stats.durationMs} ms, removed ${removed} expired index entries ` +
      `(sessions ${stats.sessionIndexEntries}, devices ${stats.deviceIndexEntries}, blacklist ${stats.blacklistIndexEntries}, ` +
      `trusted devices ${stats.trustedDeviceIndexEntries}, security events ${stats.securityEventIndexEntries})\n`,
  );
  return EXIT.OK;
}

export async function cleanupCommand(io: CliIo, options: GlobalOptions): Promise<number> {
  const service = serviceFrom(io, options);
  if (service !== null) {
    const { body } = await service.call<{
      skipped: boolean;
      jwt: { blacklistIndexEntries: number; durationMs: number } | null;
      sessions: CleanupStats;
    }>('POST', '/v1/admin/cleanup');
    if (body.skipped || body.jwt === null) throw new CliError(EXIT.TEMPFAIL, LOCK_HELD);
    return summary(io, options, body.sessions, body.jwt);
  }
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    // The keyspace size bounds what one pass looks at; the bar grows if the estimate was low.
    const bar = io.isTTY && !options.json ? await keyspaceBar(io, optix, 'cleanup') : null;
    const outcome = await optix.cleanup({ onProgress: (scanned) => bar?.update(scanned) });
    if (outcome.status === 'skipped') {
      // Another sweep holds the lock: nothing was looked at.
      bar?.stop();
      throw new CliError(EXIT.TEMPFAIL, LOCK_HELD);
    }
    bar?.stop(outcome.stats.scanned);
    return summary(io, options, outcome.stats, tokenCleanupStats(outcome.stats));
  });
}
