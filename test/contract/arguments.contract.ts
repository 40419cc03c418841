/**
 * Every argument check of every port, on every backend. The checks are made once, above the
 * backends (`src/core/checked/`); this suite holds each backend's factory to them, so a backend
 * handed out without its checked facade, or a check that only one backend makes, fails here.
 * (Bad ids and TTLs are also covered port by port in the other suites.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClaimsRevocationQuery } from '../../src/core/checked/revocation.js';
import { newUserScopedId } from '../../src/core/ids.js';
import type { RevocationQuery } from '../../src/core/ports.js';
import type { SecuritySeverity } from '../../src/core/types.js';
import {
  makeSession,
  makeTrustedDevice,
  uniqueDeviceId,
  uniqueJti,
  uniqueUserId,
} from '../helpers/fixtures.js';
import {
  assertRejectsAll,
  BAD_TTLS,
  type MakeStores,
  newTokenHash,
  now,
  setupFamily,
  withStores,
} from './harness.js';

/** Numbers no timestamp or duration may be: not finite, or past what a `Date` (and Redis) holds. */
const BAD_NUMBERS: readonly unknown[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e22,
  -1e22,
  '5',
  null,
];
/** What no reason, hash or event type may be. */
const BAD_STRINGS: readonly unknown[] = ['', 5, null, undefined];
/** What no count bound (`maxSessions`, `maxDevices`, `limit`) may be. */
const BAD_COUNTS: readonly unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3'];

// The checks are about values the types forbid (JavaScript callers, JSON input): cast freely.
// biome-ignore lint/suspicious/noExplicitAny: deliberately ill-typed arguments
type Any = any;

export function argumentsContract(name: string, makeStores: MakeStores): void {
  describe(`Argument checks of every port (${name})`, () => {
    it('TokenBlacklist: input objects, reasons, jti lists and watermarks are checked before any write', () =>
      withStores(makeStores, async (ctx) => {
        const blacklist = ctx.stores.tokenBlacklist;
        const userId = uniqueUserId();
        const jti = uniqueJti();
        const arg = 'ERR_INVALID_ARGUMENT';
        await assertRejectsAll(
          [undefined, null, 'x'],
          arg,
          (v) => blacklist.blacklistToken(v as Any),
          'input',
        );
        await assertRejectsAll(
          BAD_STRINGS,
          arg,
          (reason) => blacklist.blacklistToken({ jti, ttlSeconds: 60, reason } as Any),
          'blacklistToken.reason',
        );
        assert.equal(await blacklist.getEntry(jti), null, 'nothing was written');
        await assertRejectsAll(
          [undefined, null, 'a,b', { length: 1, 0: jti }],
          arg,
          (tokenJtis) =>
            blacklist.blacklistAllUserTokens({ userId, tokenJtis, ttlSeconds: 60, reason: 'x' } as Any),
          'blacklistAllUserTokens.tokenJtis',
        );
        await assertRejectsAll(
          BAD_TTLS,
          arg,
          (ttlSeconds) =>
            blacklist.blacklistAllUserTokens({ userId, tokenJtis: [jti], ttlSeconds, reason: 'x' }),
          'blacklistAllUserTokens.ttlSeconds',
        );
        await assertRejectsAll(
          BAD_STRINGS,
          arg,
          (reason) =>
            blacklist.blacklistAllUserTokens({ userId, tokenJtis: [jti], ttlSeconds: 60, reason } as Any),
          'blacklistAllUserTokens.reason',
        );
        assert.equal(await blacklist.getEntry(jti), null, 'nothing was written');

        const familyId = newUserScopedId(userId);
        await assertRejectsAll(
          BAD_TTLS,
          arg,
          (ttlSeconds) => blacklist.blacklistTokenFamily({ familyId, ttlSeconds, reason: 'x' }),
          'blacklistTokenFamily.ttlSeconds',
        );
        await assertRejectsAll(
          BAD_STRINGS,
          arg,
          (reason) => blacklist.blacklistTokenFamily({ familyId, ttlSeconds: 60, reason } as Any),
          'blacklistTokenFamily.reason',
        );
        assert.equal(await blacklist.isFamilyRevoked(familyId), false, 'no tombstone was written');

        await assertRejectsAll(
          BAD_NUMBERS,
          arg,
          (beforeMs) => blacklist.revokeUserTokensBefore({ userId, beforeMs, ttlSeconds: 60 } as Any),
          'revokeUserTokensBefore.beforeMs',
        );
        await assertRejectsAll(
          BAD_TTLS,
          arg,
          (ttlSeconds) => blacklist.revokeUserTokensBefore({ userId, beforeMs: now(ctx), ttlSeconds }),
          'revokeUserTokensBefore.ttlSeconds',
        );
        assert.equal(await blacklist.getUserGeneration(userId), 0, 'the generation did not move');
        assert.equal(await blacklist.getUserWatermark(userId), null, 'no watermark was written');
      }));

    it('SessionStore: session fields, options and "in the future" are checked before any write', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        const userId = uniqueUserId();
        const t = now(ctx);
        const arg = 'ERR_INVALID_ARGUMENT';
        const session = makeSession(userId, {}, t);
        await assertRejectsAll([undefined, null, 'x'], arg, (v) => store.createSession(v as Any), 'session');
        for (const field of ['createdAt', 'expiresAt', 'absoluteExpiresAt'] as const) {
          await assertRejectsAll(
            BAD_NUMBERS,
            arg,
            (value) => store.createSession({ ...session, [field]: value } as Any),
            `createSession.${field}`,
          );
        }
        await assertRejectsAll(
          BAD_COUNTS,
          arg,
          (maxSessions) => store.createSession(session, { maxSessions } as Any),
          'createSession.maxSessions',
        );
        await assertRejectsAll(
          ['oldest', '', 'DENY'],
          arg,
          (onLimit) => store.createSession(session, { onLimit } as Any),
          'createSession.onLimit',
        );
        await assertRejectsAll([null, 'x'], arg, (o) => store.createSession(session, o as Any), 'options');
        assert.equal(await store.getSession(session.sessionId), null, 'nothing was written');
        assert.deepEqual(await store.getUserSessions(userId), []);

        await store.createSession(session);
        await assertRejectsAll(
          BAD_NUMBERS,
          arg,
          (ifLastActivityAtOrBefore) =>
            store.updateSession({ ...session, lastActivity: t + 1 }, { ifLastActivityAtOrBefore } as Any),
          'updateSession.ifLastActivityAtOrBefore',
        );
        await assertRejectsAll(
          [t, t - 1],
          arg,
          (expiresAt) => store.updateSession({ ...session, expiresAt }, { extendTtl: true }),
          'updateSession.expiresAt',
        );
        await assertRejectsAll(
          [session.absoluteExpiresAt + 1],
          arg,
          (expiresAt) => store.updateSession({ ...session, expiresAt }),
          'updateSession.expiresAt past absoluteExpiresAt',
        );
        assert.deepEqual(await store.getSession(session.sessionId), session, 'the session is unchanged');

        // A session that has ended is judged the same way: the check comes before the store.
        await store.deleteSession(session.sessionId);
        await assertRejectsAll(
          [t],
          arg,
          (expiresAt) => store.updateSession({ ...session, expiresAt }, { extendTtl: true }),
          'updateSession.expiresAt of an ended session',
        );
        await assertRejectsAll(
          [newUserScopedId(uniqueUserId())],
          'ERR_INVALID_ID',
          (newId) => store.rotateSessionId(session.sessionId, newId),
          'rotateSessionId to another user tag',
        );
      }));

    it('TrustedDeviceStore: fingerprint hash, times, maxDevices and "in the future" are checked before any write', () =>
      withStores(makeStores, async (ctx) => {
        const devices = ctx.stores.trustedDevices;
        const userId = uniqueUserId();
        const t = now(ctx);
        const arg = 'ERR_INVALID_ARGUMENT';
        const device = makeTrustedDevice(userId, {}, t);
        await assertRejectsAll([undefined, null, 'x'], arg, (v) => devices.trust(v as Any), 'device');
        await assertRejectsAll(
          BAD_STRINGS,
          arg,
          (fingerprintHash) => devices.trust({ ...device, fingerprintHash } as Any),
          'trust.fingerprintHash',
        );
        for (const field of ['trustedAt', 'expiresAt'] as const) {
          await assertRejectsAll(
            BAD_NUMBERS,
            arg,
            (value) => devices.trust({ ...device, [field]: value } as Any),
            `trust.${field}`,
          );
        }
        await assertRejectsAll(
          BAD_COUNTS,
          arg,
          (maxDevices) => devices.trust(device, { maxDevices } as Any),
          'trust.maxDevices',
        );
        await assertRejectsAll(
          [t, t - 1],
          arg,
          (expiresAt) => devices.trust({ ...device, expiresAt }),
          'expiresAt',
        );
        assert.equal(await devices.get(userId, device.deviceId), null, 'nothing was written');
        assert.deepEqual(await devices.listUserDevices(userId), []);
        await assertRejectsAll(
          ['a:b', ''],
          'ERR_INVALID_ID',
          (deviceId) => devices.revoke(userId, deviceId),
          'revoke.deviceId',
        );
      }));

    it('SecurityEventStore: type, severity, timestamp and list bounds are checked; severity defaults to info', () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const arg = 'ERR_INVALID_ARGUMENT';
        await assertRejectsAll([undefined, null, 'x'], arg, (v) => events.record(v as Any), 'event');
        await assertRejectsAll(
          BAD_STRINGS,
          arg,
          (type) => events.record({ type, userId } as Any),
          'record.type',
        );
        await assertRejectsAll(
          ['fatal', 'INFO', '', 5],
          arg,
          (severity) => events.record({ type: 'x', userId, severity } as Any),
          'record.severity',
        );
        await assertRejectsAll(
          BAD_NUMBERS.filter((v) => v !== null),
          arg,
          (timestamp) => events.record({ type: 'x', userId, timestamp } as Any),
          'record.timestamp',
        );
        assert.deepEqual(await events.listUserEvents(userId), [], 'nothing was written');
        for (const field of ['since', 'until'] as const) {
          await assertRejectsAll(
            BAD_NUMBERS.filter((v) => v !== null),
            arg,
            (value) => events.listUserEvents(userId, { [field]: value } as Any),
            `listUserEvents.${field}`,
          );
        }
        await assertRejectsAll(
          BAD_COUNTS,
          arg,
          (limit) => events.listUserEvents(userId, { limit } as Any),
          'listUserEvents.limit',
        );
        const recorded = await events.record({ type: 'session_created', userId });
        assert.equal(recorded.severity, 'info' satisfies SecuritySeverity);
        assert.equal((await events.get(recorded.eventId))?.severity, 'info');
        const listed = await events.listUserEvents(userId);
        assert.deepEqual(
          listed.map((e) => e.eventId),
          [recorded.eventId],
        );
      }));

    it('RefreshFamilyStore: hashes, claims, reasons, child blob and graceMs are checked before any write', () =>
      withStores(makeStores, async (ctx) => {
        const families = ctx.stores.refreshFamilies;
        const userId = uniqueUserId();
        const arg = 'ERR_INVALID_ARGUMENT';
        const session = makeSession(userId, {}, now(ctx));
        await ctx.stores.sessionStore.createSession(session);
        const valid = {
          familyId: newUserScopedId(userId),
          userId,
          sessionId: session.sessionId,
          tokenHash: newTokenHash(),
          ttlSeconds: 3600,
        };
        await assertRejectsAll([undefined, null], arg, (v) => families.create(v as Any), 'create input');
        await assertRejectsAll(
          BAD_STRINGS,
          arg,
          (tokenHash) => families.create({ ...valid, tokenHash } as Any),
          'create.tokenHash',
        );
        await assertRejectsAll(
          [5, {}, true],
          arg,
          (claims) => families.create({ ...valid, claims } as Any),
          'create.claims',
        );
        assert.equal(await families.get(valid.familyId), null, 'nothing was written');

        const { family, tokenHash } = await setupFamily(ctx, userId);
        const rotation = {
          familyId: family.familyId,
          presentedHash: tokenHash,
          nextHash: newTokenHash(),
          childBlob: 'child',
          graceMs: 1000,
        };
        await assertRejectsAll([undefined, null], arg, (v) => families.rotate(v as Any), 'rotate input');
        for (const field of ['presentedHash', 'nextHash'] as const) {
          await assertRejectsAll(
            BAD_STRINGS,
            arg,
            (value) => families.rotate({ ...rotation, [field]: value } as Any),
            `rotate.${field}`,
          );
        }
        await assertRejectsAll(
          [5, null, undefined],
          arg,
          (childBlob) => families.rotate({ ...rotation, childBlob } as Any),
          'rotate.childBlob',
        );
        await assertRejectsAll(
          [...BAD_NUMBERS, -1],
          arg,
          (graceMs) => families.rotate({ ...rotation, graceMs } as Any),
          'rotate.graceMs',
        );
        for (const field of ['presentedHash', 'reason'] as const) {
          await assertRejectsAll(
            BAD_STRINGS,
            arg,
            (value) =>
              families.revokeWithToken({
                familyId: family.familyId,
                presentedHash: tokenHash,
                reason: 'x',
                [field]: value,
              } as Any),
            `revokeWithToken.${field}`,
          );
        }
        const after = await families.get(family.familyId);
        assert.equal(after?.generation, 0, 'nothing rotated');
        assert.equal(after?.revoked, false, 'nothing revoked');
      }));

    it('RevocationChecker: issuedAtMs, userGeneration and expiresAtMs are checked (on every backend)', () =>
      withStores(makeStores, async (ctx) => {
        const { revocation } = ctx.stores;
        const userId = uniqueUserId();
        const { family, session } = await setupFamily(ctx, userId);
        const query: RevocationQuery = {
          jti: uniqueJti(),
          userId,
          issuedAtMs: now(ctx),
          familyId: family.familyId,
          sessionId: session.sessionId,
        };
        const arg = 'ERR_INVALID_ARGUMENT';
        await assertRejectsAll([undefined, null], arg, (v) => revocation.check(v as Any), 'query');
        for (const field of ['issuedAtMs', 'userGeneration', 'expiresAtMs'] as const) {
          await assertRejectsAll(
            BAD_NUMBERS,
            arg,
            (value) => revocation.check({ ...query, [field]: value } as Any),
            `check.${field}`,
          );
          // A frozen query is checked too (the checker may remember a frozen query it has checked).
          await assertRejectsAll(
            BAD_NUMBERS,
            arg,
            (value) => revocation.check(Object.freeze({ ...query, [field]: value }) as Any),
            `check(frozen).${field}`,
          );
        }
        assert.equal(await revocation.check({ ...query, expiresAtMs: now(ctx) + 60_000 }), null);
        const frozen = Object.freeze({ ...query });
        assert.equal(await revocation.check(frozen), null);
        assert.equal(await revocation.check(frozen), null, 'a frozen query asked twice');
        // A query the JWT service built from claims it checked is answered without a second check;
        // an object that only looks like one is checked like any other.
        const claimed = new ClaimsRevocationQuery(
          query.jti,
          userId,
          now(ctx),
          undefined,
          family.familyId,
          session.sessionId,
          now(ctx) + 60_000,
        );
        assert.equal(await revocation.check(claimed), null);
        await assertRejectsAll(
          BAD_NUMBERS,
          arg,
          (value) => revocation.check(Object.freeze({ ...claimed, issuedAtMs: value }) as Any),
          'check(look-alike).issuedAtMs',
        );
      }));

    it('HandoffStore: the payload must be a string; nothing is stored otherwise', () =>
      withStores(makeStores, async (ctx) => {
        const { handoffs } = ctx.stores;
        const codeHash = newTokenHash().slice(0, 43);
        await assertRejectsAll(
          [undefined, null],
          'ERR_INVALID_ARGUMENT',
          (v) => handoffs.put(v as Any),
          'input',
        );
        await assertRejectsAll(
          [5, null, undefined, { p: 1 }],
          'ERR_INVALID_ARGUMENT',
          (payload) => handoffs.put({ codeHash, payload, ttlSeconds: 60 } as Any),
          'put.payload',
        );
        assert.equal(await handoffs.take(codeHash), null, 'nothing was stored');
      }));

    it('device ids and session ids of the read methods are checked as the writes check them', () =>
      withStores(makeStores, async (ctx) => {
        const store = ctx.stores.sessionStore;
        await assertRejectsAll(
          ['a:b', '', '{x}'],
          'ERR_INVALID_ID',
          (id) => store.getDeviceSessions(id),
          'device',
        );
        assert.deepEqual(await store.getDeviceSessions(uniqueDeviceId()), []);
        await assertRejectsAll(['plain'], 'ERR_INVALID_ID', (id) => store.getSession(id), 'getSession');
        await assertRejectsAll(
          ['plain'],
          'ERR_INVALID_ID',
          (exceptSessionId) => store.deleteUserSessions(uniqueUserId(), { exceptSessionId }),
          'deleteUserSessions.exceptSessionId',
        );
      }));
  });
}
