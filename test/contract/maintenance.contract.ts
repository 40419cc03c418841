import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newUserScopedId } from '../../src/core/ids.js';
import { makeSession, makeTrustedDevice, uniqueJti, uniqueUserId } from '../helpers/fixtures.js';
import { type MakeStores, now, passTime, setupFamily, withStores } from './harness.js';

const NOTHING_PRUNED = {
  sessionIndexEntries: 0,
  deviceIndexEntries: 0,
  blacklistIndexEntries: 0,
  trustedDeviceIndexEntries: 0,
  securityEventIndexEntries: 0,
};

/** `StoreMaintenance`: counts over the whole store and the index sweeper. */
export function maintenanceContract(name: string, makeStores: MakeStores): void {
  describe(`StoreMaintenance contract (${name})`, () => {
    it('stats of an empty store are all zero', () =>
      withStores(makeStores, async (ctx) => {
        assert.deepEqual(await ctx.stores.maintenance.stats(), {
          sessions: 0,
          blacklistEntries: 0,
          families: 0,
          revokedFamilies: 0,
          trustedDevices: 0,
          securityEvents: 0,
        });
      }));

    it('stats counts live records by kind', () =>
      withStores(makeStores, async (ctx) => {
        const { stores } = ctx;
        const userId = uniqueUserId();
        const t = now(ctx);
        await setupFamily(ctx, userId);
        const revoked = await setupFamily(ctx, userId);
        await stores.tokenBlacklist.blacklistTokenFamily({
          familyId: revoked.family.familyId,
          ttlSeconds: 600,
          reason: 'admin',
        });
        await stores.tokenBlacklist.blacklistTokenFamily({
          familyId: newUserScopedId(uniqueUserId()),
          ttlSeconds: 600,
          reason: 'tombstone',
        });
        for (let i = 0; i < 3; i++) {
          await stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 600, reason: 'x' });
        }
        await stores.trustedDevices.trust(makeTrustedDevice(userId, {}, t));
        await stores.securityEvents.record({ type: 'session_created', userId });
        await stores.securityEvents.record({ type: 'token_revoked', userId: null });
        assert.deepEqual(await stores.maintenance.stats(), {
          sessions: 2,
          blacklistEntries: 3,
          families: 3,
          revokedFamilies: 2,
          trustedDevices: 1,
          securityEvents: 2,
        });
      }));

    it('with notWithinMs a round runs at most once per interval (the fleet schedule), then again', () =>
      withStores(makeStores, async (ctx) => {
        const m = ctx.stores.maintenance;
        const first = await m.cleanup(undefined, { notWithinMs: 400 });
        assert.equal(first.skipped, undefined);
        const second = await m.cleanup(undefined, { notWithinMs: 400 });
        assert.equal(second.skipped, true);
        assert.equal(second.skippedBecause, 'not_due');
        assert.equal(second.scanned, 0);
        assert.equal((await m.cleanup()).skipped, undefined, 'without notWithinMs the round runs');
        await passTime(ctx, 400);
        let third = await m.cleanup(undefined, { notWithinMs: 400 });
        // On real time the schedule key may outlive its PX by Redis's expiry granularity.
        for (let i = 0; third.skipped && !ctx.clock && i < 40; i++) {
          await passTime(ctx, 50);
          third = await m.cleanup(undefined, { notWithinMs: 400 });
        }
        assert.equal(third.skipped, undefined);
      }));

    it('cleanup of a store with nothing expired prunes nothing', () =>
      withStores(makeStores, async (ctx) => {
        const { stores } = ctx;
        const userId = uniqueUserId();
        await setupFamily(ctx, userId);
        await stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 600, reason: 'x' });
        await stores.securityEvents.record({ type: 'session_created', userId });
        const result = await stores.maintenance.cleanup();
        assert.deepEqual(
          {
            sessionIndexEntries: result.sessionIndexEntries,
            deviceIndexEntries: result.deviceIndexEntries,
            blacklistIndexEntries: result.blacklistIndexEntries,
            trustedDeviceIndexEntries: result.trustedDeviceIndexEntries,
            securityEventIndexEntries: result.securityEventIndexEntries,
          },
          NOTHING_PRUNED,
        );
        assert.equal((await stores.maintenance.stats()).sessions, 1);
      }));

    it('cleanup prunes expired members of every index, keeps live ones and reports progress', () =>
      withStores(
        makeStores,
        async (ctx) => {
          const { stores } = ctx;
          const userId = uniqueUserId();
          const t = now(ctx);
          const expiringSession = makeSession(userId, { expiresAt: t + 300 }, t);
          const lastingSession = makeSession(userId, {}, t);
          await stores.sessionStore.createSession(expiringSession);
          await stores.sessionStore.createSession(lastingSession);
          const lastingJti = uniqueJti();
          await stores.tokenBlacklist.blacklistToken({ jti: uniqueJti(), ttlSeconds: 1, reason: 'x' });
          await stores.tokenBlacklist.blacklistToken({ jti: lastingJti, ttlSeconds: 3600, reason: 'x' });
          const expiringDevice = makeTrustedDevice(userId, { expiresAt: t + 300 }, t);
          const lastingDevice = makeTrustedDevice(userId, {}, t);
          await stores.trustedDevices.trust(expiringDevice);
          await stores.trustedDevices.trust(lastingDevice);
          await stores.securityEvents.record({ type: 'session_created', userId });

          await passTime(ctx, 1000);
          const progress: Array<[number, number | null]> = [];
          const result = await stores.maintenance.cleanup((scanned, total) =>
            progress.push([scanned, total]),
          );
          assert.deepEqual(
            {
              sessionIndexEntries: result.sessionIndexEntries,
              deviceIndexEntries: result.deviceIndexEntries,
              blacklistIndexEntries: result.blacklistIndexEntries,
              trustedDeviceIndexEntries: result.trustedDeviceIndexEntries,
              securityEventIndexEntries: result.securityEventIndexEntries,
            },
            {
              sessionIndexEntries: 1,
              deviceIndexEntries: 1,
              blacklistIndexEntries: 1,
              trustedDeviceIndexEntries: 1,
              securityEventIndexEntries: 1,
            },
          );
          assert.ok(Number.isInteger(result.scanned) && result.scanned > 0, `scanned: ${result.scanned}`);
          assert.ok(result.durationMs >= 0);
          assert.ok(progress.length >= 1, 'onProgress is called');
          for (let i = 0; i < progress.length; i++) {
            const [scanned, total] = progress[i]!;
            assert.ok(Number.isInteger(scanned) && scanned >= 0);
            assert.ok(total === null || (Number.isInteger(total) && total >= 0));
            if (i > 0) assert.ok(scanned >= progress[i - 1]![0], 'scanned never goes back');
          }

          const again = await stores.maintenance.cleanup();
          assert.equal(
            again.sessionIndexEntries +
              again.deviceIndexEntries +
              again.blacklistIndexEntries +
              again.trustedDeviceIndexEntries +
              again.securityEventIndexEntries,
            0,
            'a second pass finds nothing',
          );
          assert.deepEqual(await stores.sessionStore.getUserSessions(userId), [lastingSession]);
          assert.deepEqual(await stores.sessionStore.getDeviceSessions(lastingSession.deviceId!), [
            lastingSession,
          ]);
          assert.equal(await stores.tokenBlacklist.isBlacklisted(lastingJti), true);
          assert.deepEqual(await stores.trustedDevices.listUserDevices(userId), [lastingDevice]);
          assert.deepEqual(await stores.securityEvents.listUserEvents(userId), []);
          const stats = await stores.maintenance.stats();
          assert.equal(stats.sessions, 1);
          assert.equal(stats.blacklistEntries, 1);
          assert.equal(stats.trustedDevices, 1);
          assert.equal(stats.securityEvents, 0);
        },
        { securityEventTtlSeconds: 1 },
      ));
  });
}
