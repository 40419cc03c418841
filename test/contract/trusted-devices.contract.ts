import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeTrustedDevice, uniqueUserId } from '../helpers/fixtures.js';
import {
  assertExpires,
  assertRejectsAll,
  BAD_IDS,
  BAD_USER_IDS,
  type MakeStores,
  now,
  withStores,
} from './harness.js';

/** `TrustedDeviceStore`: a trust record per (user, device) that lives until `expiresAt`. */
export function trustedDevicesContract(name: string, makeStores: MakeStores): void {
  describe(`TrustedDeviceStore contract (${name})`, () => {
    it('trust stores the device and returns it; get returns it for its user only', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const device = makeTrustedDevice(userId, { deviceName: 'iPhone 13', deviceType: 'mobile' }, now(ctx));
        assert.deepEqual(await devices.trust(device), { device, evicted: [] });
        assert.deepEqual(await devices.get(userId, device.deviceId), device);
        assert.equal(
          await devices.get(uniqueUserId(), device.deviceId),
          null,
          "another user's lookup finds nothing",
        );
        assert.equal(await devices.get(userId, 'unknown-device'), null);
      }));

    it('listUserDevices lists the trusted devices, most recently trusted first', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const older = makeTrustedDevice(userId, { trustedAt: t - 5000 }, t);
        const newer = makeTrustedDevice(userId, { trustedAt: t }, t);
        const middle = makeTrustedDevice(userId, { trustedAt: t - 1000 }, t);
        for (const d of [newer, older, middle]) await devices.trust(d);
        await devices.trust(makeTrustedDevice(uniqueUserId(), {}, t));
        assert.deepEqual(await devices.listUserDevices(userId), [newer, middle, older]);
        assert.deepEqual(await devices.listUserDevices(uniqueUserId()), []);
      }));

    it('trust replaces the record of the same device', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const device = makeTrustedDevice(userId, {}, t);
        await devices.trust(device);
        const renewed = {
          ...device,
          deviceName: 'Renamed laptop',
          trustedAt: t + 1,
          expiresAt: t + 60 * 86_400_000,
        };
        assert.deepEqual(await devices.trust(renewed), { device: renewed, evicted: [] });
        assert.deepEqual(await devices.get(userId, device.deviceId), renewed);
        assert.deepEqual(await devices.listUserDevices(userId), [renewed]);
      }));

    it('with maxDevices, trusting one more evicts the trusts that end first, record and index entry', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const day = 86_400_000;
        // Trusts ending in 5, 3, 9 days: at a bound of 2, the 3-day one goes first.
        const five = makeTrustedDevice(userId, { expiresAt: t + 5 * day }, t);
        const three = makeTrustedDevice(userId, { expiresAt: t + 3 * day }, t);
        const nine = makeTrustedDevice(userId, { expiresAt: t + 9 * day }, t);
        assert.deepEqual((await devices.trust(five, { maxDevices: 2 })).evicted, []);
        assert.deepEqual((await devices.trust(three, { maxDevices: 2 })).evicted, []);
        assert.deepEqual((await devices.trust(nine, { maxDevices: 2 })).evicted, [three.deviceId]);
        assert.equal(await devices.get(userId, three.deviceId), null, 'the evicted record is gone');
        assert.deepEqual(
          (await devices.listUserDevices(userId)).map((d) => d.deviceId).sort(),
          [five.deviceId, nine.deviceId].sort(),
        );
        // Re-trusting a device already trusted does not count as one more.
        assert.deepEqual((await devices.trust({ ...five, trustedAt: t + 1 }, { maxDevices: 2 })).evicted, []);
        // The device being trusted is never its own victim, even when its trust ends first.
        const one = makeTrustedDevice(userId, { expiresAt: t + day }, t);
        assert.deepEqual((await devices.trust(one, { maxDevices: 2 })).evicted, [five.deviceId]);
        assert.deepEqual(
          (await devices.listUserDevices(userId)).map((d) => d.deviceId).sort(),
          [one.deviceId, nine.deviceId].sort(),
        );
        // A lower bound evicts several at once.
        const extra = makeTrustedDevice(userId, { expiresAt: t + 20 * day }, t);
        assert.deepEqual(
          (await devices.trust(extra, { maxDevices: 1 })).evicted.sort(),
          [one.deviceId, nine.deviceId].sort(),
        );
        assert.deepEqual(
          (await devices.listUserDevices(userId)).map((d) => d.deviceId),
          [extra.deviceId],
        );
        await assertRejectsAll(
          [0, -1, 1.5, Number.NaN],
          'ERR_INVALID_ARGUMENT',
          (maxDevices) => devices.trust(makeTrustedDevice(userId, {}, t), { maxDevices }),
          'trust.maxDevices',
        );
      }));

    it('concurrent trusts at the bound keep it exactly', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            devices.trust(makeTrustedDevice(userId, { expiresAt: t + (i + 1) * 60_000 }, t), {
              maxDevices: 5,
            }),
          ),
        );
        assert.equal((await devices.listUserDevices(userId)).length, 5);
      }));

    it('revoke removes trust and reports whether the device was trusted', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const device = makeTrustedDevice(userId, {}, t);
        const other = makeTrustedDevice(userId, { trustedAt: t - 1 }, t);
        await devices.trust(device);
        await devices.trust(other);
        assert.equal(
          await devices.revoke(uniqueUserId(), device.deviceId),
          false,
          "another user can't revoke it",
        );
        assert.equal(await devices.revoke(userId, device.deviceId), true);
        assert.equal(await devices.get(userId, device.deviceId), null);
        assert.deepEqual(await devices.listUserDevices(userId), [other]);
        assert.equal(await devices.revoke(userId, device.deviceId), false);
      }));

    it('trust ends at expiresAt: get, listUserDevices and revoke no longer see the device', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const device = makeTrustedDevice(userId, { expiresAt: t + 300 }, t);
        await devices.trust(device);
        await assertExpires(
          ctx,
          300,
          async () => (await devices.get(userId, device.deviceId)) !== null,
          'trusted device',
        );
        assert.deepEqual(await devices.listUserDevices(userId), []);
        assert.equal(await devices.revoke(userId, device.deviceId), false);
      }));

    it('rejects bad ids with ERR_INVALID_ID', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const valid = makeTrustedDevice(userId, {}, t);
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (bad) => devices.trust({ ...valid, userId: bad }),
          'trust.userId',
        );
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (bad) => devices.trust({ ...valid, deviceId: bad }),
          'trust.deviceId',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (bad) => devices.get(bad, valid.deviceId),
          'get.userId',
        );
        await assertRejectsAll(BAD_IDS, 'ERR_INVALID_ID', (bad) => devices.get(userId, bad), 'get.deviceId');
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (bad) => devices.listUserDevices(bad),
          'listUserDevices',
        );
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (bad) => devices.revoke(bad, valid.deviceId),
          'revoke.userId',
        );
        await assertRejectsAll(
          BAD_IDS,
          'ERR_INVALID_ID',
          (bad) => devices.revoke(userId, bad),
          'revoke.deviceId',
        );
        assert.deepEqual(await devices.listUserDevices(userId), []);
      }));

    it('trust refuses expiresAt <= now or past any date (ERR_INVALID_ARGUMENT), writing nothing', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const expired = [t, t - 1, 1e21].map((expiresAt) => makeTrustedDevice(userId, { expiresAt }, t));
        await assertRejectsAll(expired, 'ERR_INVALID_ARGUMENT', (d) => devices.trust(d), 'trust');
        for (const d of expired) assert.equal(await devices.get(userId, d.deviceId), null);
        assert.deepEqual(await devices.listUserDevices(userId), []);
      }));

    it("trust prunes the expired members of the user's device index", () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const expiring = makeTrustedDevice(userId, { expiresAt: t + 300 }, t);
        await devices.trust(expiring);
        await assertExpires(
          ctx,
          300,
          async () => (await devices.get(userId, expiring.deviceId)) !== null,
          'trusted device',
        );
        const fresh = makeTrustedDevice(userId, {}, now(ctx));
        await devices.trust(fresh);
        assert.equal((await ctx.stores.maintenance.cleanup()).trustedDeviceIndexEntries, 0);
        assert.deepEqual(await devices.listUserDevices(userId), [fresh]);
      }));
  });
}
