/**
 * The worst-case Redis bytes one user can hold (docs/data-model.md, "What one user can hold"):
 * the bound's terms, shared by `user-bytes.test.ts` and `family-bounds.test.ts`.
 */

/**
 * The bound's terms, in bytes (`MEMORY USAGE … SAMPLES 0` on Redis 7.0, jemalloc), each measured
 * with its fields at their largest and rounded up; docs/data-model.md states the same numbers.
 */
export const USER_BYTES = {
  /** A live session: its record (1,656), its members in the user index and its device index. */
  session: 2_100,
  /** A trusted device: its record (760) and its index member. */
  device: 900,
  /** A security event: its record (2,168 with a 1024-character user agent) and its index member. */
  event: 2_400,
  /**
   * A live session's refresh family (1,088 after a rotation, without claims) and its entry in the
   * user's family index (~125). Deleted with its session: one per live session, not per login.
   */
  family: 1_300,
  /** A revoked access token's blacklist entry (424) and its index member, for the token's life. */
  revokedToken: 500,
  /** Index keys themselves, the watermark and rate-limit counters. */
  fixed: 8_000,
} as const;

/** sessions × (S + F) + devices × D + events × E + revoked tokens × B + K. */
export function userBoundBytes(limits: {
  sessions: number;
  devices: number;
  events: number;
  revokedTokens: number;
}): number {
  return (
    limits.sessions * (USER_BYTES.session + USER_BYTES.family) +
    limits.devices * USER_BYTES.device +
    limits.events * USER_BYTES.event +
    limits.revokedTokens * USER_BYTES.revokedToken +
    USER_BYTES.fixed
  );
}
