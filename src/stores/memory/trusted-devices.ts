import type { TrustDeviceOptions, TrustDeviceResult, TrustedDeviceStore } from '../../core/ports.js';
import type { TrustedDevice } from '../../core/types.js';
import { indexAdd, indexRemove, type MemoryState } from './state.js';

/** The record key of a trusted device: ids never contain NUL, so the pair is unambiguous. */
/** The key of a trust in `MemoryState.trustedDevices`. */
export function deviceKey(userId: string, deviceId: string): string {
  return `${userId}\0${deviceId}`;
}

/** Most recently trusted first, then by id. */
function byTrustedAtDesc(a: TrustedDevice, b: TrustedDevice): number {
  return b.trustedAt - a.trustedAt || (a.deviceId < b.deviceId ? 1 : a.deviceId > b.deviceId ? -1 : 0);
}

/**
 * In-memory `TrustedDeviceStore`: records that expire at `expiresAt`, and a per-user index.
 * Arguments are checked by `CheckedTrustedDevices` (`core/checked/`) before they get here.
 */
export class MemoryTrustedDevices implements TrustedDeviceStore {
  readonly #state: MemoryState;

  constructor(state: MemoryState) {
    this.#state = state;
  }

  async trust(device: TrustedDevice, options: TrustDeviceOptions = {}): Promise<TrustDeviceResult> {
    const maxDevices = options.maxDevices ?? Number.POSITIVE_INFINITY;
    const state = this.#state;
    const now = state.now();
    pruneUserDevices(state, device.userId, now);
    state.trustedDevices.set(deviceKey(device.userId, device.deviceId), {
      value: { ...device },
      expiresAt: device.expiresAt,
    });
    indexAdd(state.userTrustedDevices, device.userId, device.deviceId, device.expiresAt);
    // Beyond the bound, the trusts that end first go (as ZRANGE orders: score, then id).
    const evicted: string[] = [];
    const index = state.userTrustedDevices.get(device.userId)!;
    if (index.size > maxDevices) {
      const byExpiry = [...index]
        .filter(([id]) => id !== device.deviceId)
        .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [id] of byExpiry.slice(0, index.size - maxDevices)) {
        index.delete(id);
        state.trustedDevices.delete(deviceKey(device.userId, id));
        evicted.push(id);
      }
    }
    return { device: { ...device }, evicted };
  }

  async get(userId: string, deviceId: string): Promise<TrustedDevice | null> {
    const device = this.#state.read(this.#state.trustedDevices, deviceKey(userId, deviceId));
    return device === undefined ? null : { ...device };
  }

  async listUserDevices(userId: string): Promise<TrustedDevice[]> {
    const state = this.#state;
    const now = state.now();
    const devices: TrustedDevice[] = [];
    for (const deviceId of state.userTrustedDevices.get(userId)?.keys() ?? []) {
      const device = state.read(state.trustedDevices, deviceKey(userId, deviceId), now);
      if (device !== undefined) devices.push({ ...device });
    }
    return devices.sort(byTrustedAtDesc);
  }

  async revoke(userId: string, deviceId: string): Promise<boolean> {
    const state = this.#state;
    const key = deviceKey(userId, deviceId);
    const trusted = state.read(state.trustedDevices, key) !== undefined;
    state.trustedDevices.delete(key);
    indexRemove(state.userTrustedDevices, userId, deviceId);
    return trusted;
  }
}

/** Removes from the user's device index every member whose trust has ended. Returns the count. */
export function pruneUserDevices(state: MemoryState, userId: string, now = state.now()): number {
  const index = state.userTrustedDevices.get(userId);
  if (index === undefined) return 0;
  let removed = 0;
  for (const [deviceId, expiresAt] of index) {
    if (
      expiresAt <= now ||
      state.read(state.trustedDevices, deviceKey(userId, deviceId), now) === undefined
    ) {
      index.delete(deviceId);
      removed++;
    }
  }
  if (index.size === 0) state.userTrustedDevices.delete(userId);
  return removed;
}

/** Prunes every user's device index and drops expired device records. */
export function cleanupTrustedDeviceIndexes(state: MemoryState): { removed: number; scanned: number } {
  const now = state.now();
  let removed = 0;
  let scanned = 0;
  for (const [userId, index] of [...state.userTrustedDevices]) {
    scanned += index.size;
    removed += pruneUserDevices(state, userId, now);
  }
  for (const key of [...state.trustedDevices.keys()]) state.read(state.trustedDevices, key, now);
  return { removed, scanned };
}
