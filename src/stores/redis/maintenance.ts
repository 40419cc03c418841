import { skippedCleanup } from '../../core/cleanup.js';
import { randomToken } from '../../core/ids.js';
import type { CleanupRunOptions, CleanupStats, StoreMaintenance, StoreStats } from '../../core/ports.js';
import { type RedisStoreContext, scanKeys } from './context.js';
import { cleanupEventIndexes } from './security-events.js';
import { cleanupSessionIndexes } from './session-store.js';
import { cleanupTokenIndexes } from './token-blacklist.js';
import { cleanupTrustedDeviceIndexes } from './trusted-devices.js';
import { lockRelease } from './lua/lock_release.js';

/** How long one sweeper holds the cleanup lock before another instance may take over, in ms. */
const CLEANUP_LOCK_MS = 10 * 60_000;

/**
 * `StoreMaintenance` on Redis: bounded `SCAN`s (`COUNT 500`, never `KEYS`) and index pruning in
 * batches of 500 members. `cleanup` holds a lock (`maintenance:cleanup_lock`, `SET NX PX`) so one
 * sweeper runs at a time across instances; a second caller gets empty stats back at once. With
 * `notWithinMs` it first claims the schedule key (`maintenance:cleanup_schedule`, `SET NX PX`).
 */
export class RedisStoreMaintenance implements StoreMaintenance {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  /**
   * Counts records by kind in one `SCAN` pass over the key prefix. Keys are counted as they exist
   * in Redis (each expires by its TTL); `revokedFamilies` counts the families among them whose
   * `revoked` field is set (one `HGET` each, pipelined).
   */
  async stats(onProgress?: (scanned: number) => void): Promise<StoreStats> {
    const { client, keys, clock } = this.#ctx;
    const { commands } = client;
    const stats: StoreStats = {
      sessions: 0,
      blacklistEntries: 0,
      families: 0,
      revokedFamilies: 0,
      trustedDevices: 0,
      securityEvents: 0,
    };
    const kinds: Array<[prefix: string, field: keyof StoreStats]> = [
      [stripGlob(keys.patterns.session), 'sessions'],
      [stripGlob(keys.patterns.blacklist), 'blacklistEntries'],
      [stripGlob(keys.patterns.family), 'families'],
      [stripGlob(keys.patterns.trustedDevice), 'trustedDevices'],
      [stripGlob(keys.patterns.securityEvent), 'securityEvents'],
    ];
    const familyPrefix = stripGlob(keys.patterns.family);
    let scanned = 0;
    for await (const batch of scanKeys(this.#ctx, `${keys.prefix}*`)) {
      scanned += batch.length;
      onProgress?.(scanned);
      const families: string[] = [];
      for (const key of batch) {
        const kind = kinds.find(([prefix]) => key.startsWith(prefix));
        if (kind === undefined) continue;
        stats[kind[1]]++;
        if (key.startsWith(familyPrefix)) families.push(key);
      }
      if (families.length === 0) continue;
      const now = clock.now();
      const revoked = await Promise.all(
        families.map(async (key) => {
          const [flag, expiresAt] = await Promise.all([
            client.wrap('hGet', () => commands.hGet(key, 'revoked')),
            client.wrap('hGet', () => commands.hGet(key, 'expiresAt')),
          ]);
          return flag === '1' && Number(expiresAt) > now;
        }),
      );
      stats.revokedFamilies += revoked.filter(Boolean).length;
    }
    return stats;
  }

  async cleanup(
    onProgress?: (scanned: number, total: number | null) => void,
    options: CleanupRunOptions = {},
  ): Promise<CleanupStats> {
    const ctx = this.#ctx;
    const { client, keys } = ctx;
    const started = performance.now();
    const token = randomToken();
    if (options.notWithinMs !== undefined) {
      // The fleet's schedule: whoever sets it sweeps this interval; it expires by itself.
      const due = await client.wrap('set', () =>
        client.commands.set(keys.cleanupSchedule(), token, {
          expiration: { type: 'PX', value: options.notWithinMs! },
          condition: 'NX',
        }),
      );
      if (due === null) return skippedCleanup('not_due');
    }
    const lockKey = keys.cleanupLock();
    const acquired = await client.wrap('set', () =>
      client.commands.set(lockKey, token, {
        expiration: { type: 'PX', value: CLEANUP_LOCK_MS },
        condition: 'NX',
      }),
    );
    if (acquired === null) return skippedCleanup('lock_held');
    try {
      let base = 0;
      const progress = (scanned: number) => onProgress?.(base + scanned, null);
      const sessions = await cleanupSessionIndexes(ctx, progress);
      base += sessions.scanned;
      const tokens = await cleanupTokenIndexes(ctx);
      base += tokens.scanned;
      progress(0);
      const devices = await cleanupTrustedDeviceIndexes(ctx, progress);
      base += devices.scanned;
      const events = await cleanupEventIndexes(ctx, progress);
      base += events.scanned;
      progress(0);
      return {
        sessionIndexEntries: sessions.userIndexEntries,
        deviceIndexEntries: sessions.deviceIndexEntries,
        blacklistIndexEntries: tokens.removed,
        trustedDeviceIndexEntries: devices.removed,
        securityEventIndexEntries: events.removed,
        scanned: base,
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      await lockRelease(client.runScript.bind(client), { lockKey, token });
    }
  }
}

/** `prefix:kind:*` → `prefix:kind:` (the patterns end with one `*`). */
function stripGlob(pattern: string): string {
  return pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
}
