import { InvalidArgumentError } from '../errors.js';
import { assertId, assertUserId } from '../ids.js';
import type { TrustDeviceOptions, TrustDeviceResult, TrustedDeviceStore } from '../ports.js';
import type { TrustedDevice } from '../types.js';
import { assertFiniteNumber, assertNonEmptyString, assertObject } from '../validate.js';
import type { CheckContext } from './context.js';

/** `TrustedDeviceStore` with every argument checked before the backend sees it. */
export class CheckedTrustedDevices implements TrustedDeviceStore {
  readonly #inner: TrustedDeviceStore;
  readonly #ctx: CheckContext;

  constructor(inner: TrustedDeviceStore, ctx: CheckContext) {
    this.#inner = inner;
    this.#ctx = ctx;
  }

  async trust(device: TrustedDevice, options: TrustDeviceOptions = {}): Promise<TrustDeviceResult> {
    assertObject('device', device);
    assertUserId(device.userId);
    assertId('deviceId', device.deviceId);
    assertNonEmptyString('device.fingerprintHash', device.fingerprintHash);
    assertFiniteNumber('device.trustedAt', device.trustedAt);
    assertFiniteNumber('device.expiresAt', device.expiresAt);
    assertObject('options', options);
    const { maxDevices } = options;
    if (maxDevices !== undefined && (!Number.isSafeInteger(maxDevices) || maxDevices < 1)) {
      throw new InvalidArgumentError('maxDevices', 'must be an integer of at least 1');
    }
    if (device.expiresAt <= this.#ctx.clock.now()) {
      throw new InvalidArgumentError('device.expiresAt', 'must be in the future');
    }
    return this.#inner.trust(device, options);
  }

  async get(userId: string, deviceId: string): Promise<TrustedDevice | null> {
    assertUserId(userId);
    assertId('deviceId', deviceId);
    return this.#inner.get(userId, deviceId);
  }

  async listUserDevices(userId: string): Promise<TrustedDevice[]> {
    assertUserId(userId);
    return this.#inner.listUserDevices(userId);
  }

  async revoke(userId: string, deviceId: string): Promise<boolean> {
    assertUserId(userId);
    assertId('deviceId', deviceId);
    return this.#inner.revoke(userId, deviceId);
  }
}
