import type { CleanupStats } from './ports.js';

/** What `StoreMaintenance.cleanup` returns when it looked at nothing (every backend the same). */
export function skippedCleanup(reason: 'lock_held' | 'not_due'): CleanupStats {
  return {
    sessionIndexEntries: 0,
    deviceIndexEntries: 0,
    blacklistIndexEntries: 0,
    trustedDeviceIndexEntries: 0,
    securityEventIndexEntries: 0,
    scanned: 0,
    durationMs: 0,
    skipped: true,
    skippedBecause: reason,
  };
}
