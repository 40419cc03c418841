import { skippedCleanup } from '../../core/cleanup.js';
import type { CleanupRunOptions, CleanupStats, StoreMaintenance, StoreStats } from '../../core/ports.js';
import { cleanupEventIndexes } from './security-events.js';
import { cleanupSessionIndexes } from './session-store.js';
import type { MemoryState } from './state.js';
import { cleanupTokenIndexes } from './token-blacklist.js';
import { cleanupTrustedDeviceIndexes } from './trusted-devices.js';

/** In-memory `StoreMaintenance`: counts and prunes the shared state. */
export class MemoryStoreMaintenance implements StoreMaintenance {
  readonly #state: MemoryState;
  /** When the schedule (`notWithinMs`) next lets a round start, by the store's clock. */
  #dueAt = Number.NEGATIVE_INFINITY;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async stats(onProgress?: (scanned: number) => void): Promise<StoreStats> {
    const state = this.#state;
    const now = state.now();
    let scanned = 0;
    const live = <V>(map: Map<string, { value: V; expiresAt: number }>): V[] => {
      const values: V[] = [];
      for (const key of [...map.keys()]) {
        const value = state.read(map, key, now);
        if (value !== undefined) values.push(value);
      }
      scanned += map.size;
      onProgress?.(scanned);
      return values;
    };
    const families = live(state.families);
    return {
      sessions: live(state.sessions).length,
      blacklistEntries: live(state.blacklist).length,
      families: families.length,
      revokedFamilies: families.filter((record) => record.family.revoked).length,
      trustedDevices: live(state.trustedDevices).length,
      securityEvents: live(state.securityEvents).length,
    };
  }

  async cleanup(
    onProgress?: (scanned: number, total: number | null) => void,
    options: CleanupRunOptions = {},
  ): Promise<CleanupStats> {
    const state = this.#state;
    const started = state.now();
    if (options.notWithinMs !== undefined) {
      if (started < this.#dueAt) return skippedCleanup('not_due');
      this.#dueAt = started + options.notWithinMs;
    }
    // One round runs to its end without yielding (no await): rounds never overlap, no lock needed.
    const sizeOf = (indexes: Map<string, Map<string, number>>): number => {
      let size = 0;
      for (const index of indexes.values()) size += index.size;
      return size;
    };
    const total =
      sizeOf(state.userSessions) +
      sizeOf(state.deviceSessions) +
      state.blacklistIndex.size +
      state.revokedFamilies.size +
      sizeOf(state.userTrustedDevices) +
      sizeOf(state.userSecurityEvents);
    let scanned = 0;
    // Each index family is one step; progress is reported after each.
    const step = <T extends { scanned: number }>(run: () => T): T => {
      const result = run();
      scanned += result.scanned;
      onProgress?.(scanned, Math.max(total, scanned));
      return result;
    };
    const sessions = step(() => cleanupSessionIndexes(state));
    const tokens = step(() => cleanupTokenIndexes(state));
    const devices = step(() => cleanupTrustedDeviceIndexes(state));
    const events = step(() => cleanupEventIndexes(state));
    // Records that no index points at (families, watermarks) are dropped once expired.
    const now = state.now();
    for (const familyId of [...state.families.keys()]) state.read(state.families, familyId, now);
    for (const userId of [...state.watermarks.keys()]) state.read(state.watermarks, userId, now);
    return {
      sessionIndexEntries: sessions.userIndexEntries,
      deviceIndexEntries: sessions.deviceIndexEntries,
      blacklistIndexEntries: tokens.removed,
      trustedDeviceIndexEntries: devices.removed,
      securityEventIndexEntries: events.removed,
      scanned,
      durationMs: Math.max(0, state.now() - started),
    };
  }
}
