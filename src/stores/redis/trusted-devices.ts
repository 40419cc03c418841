import { StoreBusyError, StoreUnavailableError } from '../../core/errors.js';
import { assertId } from '../../core/ids.js';
import type { TrustDeviceOptions, TrustDeviceResult, TrustedDeviceStore } from '../../core/ports.js';
import type { TrustedDevice } from '../../core/types.js';
import { chunks, INDEX_TTL_SLACK_MS, type RedisStoreContext, scanKeys } from './context.js';
import { byTrustedAtDesc, decodeTrustedDevice, encodeTrustedDevice } from './records.js';
import { msUntil } from './validate.js';
import { deviceRevoke } from './lua/device_revoke.js';
import { deviceTrust } from './lua/device_trust.js';

const BATCH = 500;
/** Calls of `trust` when concurrent trusts keep changing which devices the bound evicts. */
const MAX_TRUST_ATTEMPTS = 8;
/** `maxDevices` when none is given: no practical bound. */
const UNBOUNDED = 1_000_000_000;

function isValidDeviceId(id: string): boolean {
  try {
    assertId('deviceId', id);
    return true;
  } catch {
    return false;
  }
}

/**
 * `TrustedDeviceStore` on Redis: `trusted:device:{tag}.<deviceId>` STRING JSON (`PX` = until
 * `expiresAt`) and `user:trusted:{tag}` ZSET deviceId → expiresAt, both on the user's slot and
 * changed together by one script. Arguments are checked by `CheckedTrustedDevices`
 * (`core/checked/`) before they get here.
 */
export class RedisTrustedDevices implements TrustedDeviceStore {
  readonly #ctx: RedisStoreContext;

  constructor(ctx: RedisStoreContext) {
    this.#ctx = ctx;
  }

  async trust(device: TrustedDevice, options: TrustDeviceOptions = {}): Promise<TrustDeviceResult> {
    const { client, keys, clock } = this.#ctx;
    const keyList = [
      keys.trustedDevice(device.userId, device.deviceId),
      keys.userTrustedDevices(device.userId),
    ];
    const maxDevices = options.maxDevices ?? UNBOUNDED;
    const now = clock.now();
    // Under memory pressure a device trust waits: the memory left is kept for revocations.
    if (this.#ctx.admission !== null && !this.#ctx.admission.admit('device_trust')) {
      throw new StoreBusyError('device trust');
    }
    const json = encodeTrustedDevice(device);
    // Every record the script may delete is passed in KEYS (Cluster routing): the first call names
    // none; when the bound needs victims the script writes nothing and names them, and the next
    // call passes their records. A concurrent trust can change the victims in between: retry.
    let candidates: string[] = [];
    for (let attempt = 0; attempt < MAX_TRUST_ATTEMPTS; attempt++) {
      const reply = await deviceTrust(client.runScript.bind(client), {
        recordKey: keyList[0]!,
        userIndexKey: keyList[1]!,
        now,
        deviceId: device.deviceId,
        recordJson: json,
        ttlMs: msUntil(device.expiresAt, now),
        expiresAt: device.expiresAt,
        indexTtlSlackMs: INDEX_TTL_SLACK_MS,
        maxDevices,
        candidates: candidates.map((id) => ({ deviceId: id, key: keys.trustedDevice(device.userId, id) })),
      });
      if (reply.status === 'written') return { device: { ...device }, evicted: reply.evicted };
      const ids = reply.others;
      candidates = ids.filter((id) => isValidDeviceId(id));
      // A member that is not a device id has no record: drop it from the index.
      const junk = ids.filter((id) => !candidates.includes(id));
      if (junk.length > 0) await client.wrap('zRem', () => client.commands.zRem(keyList[1]!, junk));
    }
    throw new StoreUnavailableError('device_trust: the device index kept changing; retry');
  }

  async get(userId: string, deviceId: string): Promise<TrustedDevice | null> {
    const { client, keys, clock } = this.#ctx;
    const key = keys.trustedDevice(userId, deviceId);
    const device = decodeTrustedDevice(await client.wrap('get', () => client.commands.get(key)));
    return device !== null && device.expiresAt > clock.now() ? device : null;
  }

  async listUserDevices(userId: string): Promise<TrustedDevice[]> {
    const { client, keys, clock } = this.#ctx;
    const index = keys.userTrustedDevices(userId);
    const now = clock.now();
    const ids = await client.wrap('zRange', () =>
      client.commands.zRange(index, `(${now}`, '+inf', { BY: 'SCORE' }),
    );
    const devices: TrustedDevice[] = [];
    for (const batch of chunks(ids, BATCH)) {
      const recordKeys: string[] = [];
      for (const deviceId of batch) {
        try {
          recordKeys.push(keys.trustedDevice(userId, deviceId));
        } catch {
          // not a valid device id: ignore the member (cleanup removes it)
        }
      }
      if (recordKeys.length === 0) continue;
      // One user's records share a slot: one MGET per batch.
      const jsons = await client.wrap('mGet', () => client.commands.mGet(recordKeys));
      for (const json of jsons) {
        const device = decodeTrustedDevice(json);
        if (device !== null && device.expiresAt > now) devices.push(device);
      }
    }
    return devices.sort(byTrustedAtDesc);
  }

  async revoke(userId: string, deviceId: string): Promise<boolean> {
    const { client, keys, clock } = this.#ctx;
    const json = await deviceRevoke(client.runScript.bind(client), {
      recordKey: keys.trustedDevice(userId, deviceId),
      userIndexKey: keys.userTrustedDevices(userId),
      deviceId,
    });
    const device = decodeTrustedDevice(json);
    return device !== null && device.expiresAt > clock.now();
  }
}

/**
 * Prunes every user's trusted-device index (bounded `SCAN`) of members whose trust has ended.
 * A member's score is its record's expiry and both are written by one script, so members whose
 * score is still ahead have their record: scores alone decide. Returns the members removed and
 * looked at.
 */
export async function cleanupTrustedDeviceIndexes(
  ctx: RedisStoreContext,
  onStep?: (scanned: number) => void,
): Promise<{ removed: number; scanned: number }> {
  const { client, keys, clock } = ctx;
  let removed = 0;
  let scanned = 0;
  for await (const batch of scanKeys(ctx, keys.patterns.userTrustedDevices)) {
    for (const index of batch) {
      const now = clock.now();
      scanned += await client.wrap('zCard', () => client.commands.zCard(index));
      removed += await client.wrap('zRemRangeByScore', () =>
        client.commands.zRemRangeByScore(index, '-inf', now),
      );
      onStep?.(scanned);
    }
  }
  return { removed, scanned };
}
