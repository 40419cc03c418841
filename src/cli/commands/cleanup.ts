/**
 * `optix-sessions cleanup`: prunes expired entries from every index now (the guide's manual
 * cleanup). A progress bar on a terminal, a one-line summary otherwise.
 */
import cliProgress from 'cli-progress';
import { createKeySchema } from '../../stores/redis/keys.js';
import { type CliIo, CliError, EXIT, type GlobalOptions, printJson, withOptix } from '../context.js';

export async function cleanupCommand(io: CliIo, options: GlobalOptions): Promise<number> {
  return withOptix(io, { ...options, requireRedis: true }, async (optix) => {
    const redis = optix.redis!;
    const lockKey = createKeySchema(optix.config.redis?.keyPrefix ?? redis.keyPrefix).cleanupLock();
    if ((await redis.wrap('exists', () => redis.commands.exists(lockKey))) > 0) {
      throw new CliError(
        EXIT.TEMPFAIL,
        'another instance is sweeping right now (cleanup lock held); try again later',
      );
    }
    // The keyspace size bounds what one pass looks at; the bar grows if the estimate was low.
    const keyspace = await redis.info('keyspace');
    const db = `db${redis.options.url.database}`;
    const estimate = Number(/keys=(\d+)/.exec(String(keyspace[db] ?? ''))?.[1] ?? 0);
    const bar =
      io.isTTY && !options.json
        ? new cliProgress.SingleBar(
            {
              format: 'cleanup [{bar}] {value}/{total} keys scanned',
              hideCursor: true,
              clearOnComplete: false,
              // Drawn on the command's stderr (a terminal: `io.isTTY`), not on process.stderr.
              stream: terminalStream(io.stderr),
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    let total = Math.max(1, estimate);
    bar?.start(total, 0);
    const tokens = await optix.jwt.cleanupExpiredTokens();
    const stats = await optix.sessions.cleanupExpiredSessions((scanned) => {
      if (!bar) return;
      if (scanned > total) {
        total = scanned;
        bar.setTotal(total);
      }
      bar.update(scanned);
    });
    if (stats.skipped) {
      // Another sweep took the lock after the check above: nothing was looked at.
      bar?.stop();
      throw new CliError(
        EXIT.TEMPFAIL,
        'another instance is sweeping right now (cleanup lock held); try again later',
      );
    }
    if (bar) {
      bar.setTotal(Math.max(1, stats.scanned));
      bar.update(stats.scanned);
      bar.stop();
    }
    if (options.json) {
      printJson(io, { jwt: tokens, sessions: stats });
      return EXIT.OK;
    }
    const removed =
      stats.sessionIndexEntries +
      stats.deviceIndexEntries +
      stats.blacklistIndexEntries +
      stats.trustedDeviceIndexEntries +
      stats.securityEventIndexEntries +
      tokens.blacklistIndexEntries;
    io.stdout.write(
      `cleanup completed: scanned ${stats.scanned} keys in ${stats.durationMs + tokens.durationMs} ms, removed ${removed} expired index entries ` +
        `(sessions ${stats.sessionIndexEntries}, devices ${stats.deviceIndexEntries}, blacklist ${stats.blacklistIndexEntries + tokens.blacklistIndexEntries}, ` +
        `trusted devices ${stats.trustedDeviceIndexEntries}, security events ${stats.securityEventIndexEntries})\n`,
    );
    return EXIT.OK;
  });
}

/** `io.stderr` as the terminal stream cli-progress draws on (cursor moves are written to it). */
function terminalStream(out: CliIo['stderr']): NodeJS.WritableStream {
  const columns = (out as { columns?: unknown }).columns;
  return {
    isTTY: true,
    columns: typeof columns === 'number' && columns > 0 ? columns : 80,
    write: (chunk: string) => {
      out.write(chunk);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
}
