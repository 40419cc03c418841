import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserScopedId, newUserScopedId, userTag } from '../../src/core/ids.js';
import type { SecurityEvent } from '../../src/core/types.js';
import { DAY_MS, makeIp, USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import {
  assertExpires,
  assertRejectsAll,
  BAD_USER_IDS,
  badScopedIds,
  type MakeStores,
  now,
  withStores,
} from './harness.js';

const eventIds = (events: readonly SecurityEvent[]) => events.map((e) => e.eventId);

/** `SecurityEventStore`: the audit trail, per-user index newest first, retention and bound. */
export function securityEventsContract(name: string, makeStores: MakeStores): void {
  describe(`SecurityEventStore contract (${name})`, () => {
    it('record fills in the id, the time and the defaults; get returns the event', () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const before = now(ctx);
        const event = await events.record({ type: 'session_created', userId });
        const after = now(ctx);
        assert.equal(
          ctx.stores.ids.parse('eventId', event.eventId).tag,
          userTag(userId),
          "the id is in the user's slot",
        );
        assert.ok(!event.eventId.startsWith(userTag(userId)), 'the id does not show the plain tag');
        assert.ok(event.timestamp >= before && event.timestamp <= after, 'timestamp is the time of the call');
        assert.deepEqual(event, {
          eventId: event.eventId,
          type: 'session_created',
          userId,
          severity: 'info',
          timestamp: event.timestamp,
          sessionId: null,
          ipAddress: null,
          userAgent: null,
          details: {},
        });
        assert.deepEqual(await events.get(event.eventId), event);
      }));

    it('record keeps every given field', () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const input = {
          type: 'token_reuse_detected',
          userId,
          severity: 'critical' as const,
          timestamp: now(ctx) - 1000,
          sessionId: newUserScopedId(userId),
          ipAddress: makeIp(),
          userAgent: USER_AGENT,
          details: { familyId: newUserScopedId(userId), generation: 3, mfa: true, note: null },
        };
        const event = await events.record(input);
        assert.deepEqual(event, { ...input, eventId: event.eventId });
        assert.deepEqual(await events.get(event.eventId), event);
        assert.deepEqual(await events.listUserEvents(userId), [event]);
      }));

    it("an event without a user gets an id of its own and is in no user's list", () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const event = await events.record({ type: 'token_revoked', userId: null, severity: 'warning' });
        assert.equal(event.userId, null);
        assert.ok(isUserScopedId(event.eventId), event.eventId);
        assert.deepEqual(await events.get(event.eventId), event);
      }));

    it('get returns null for an unknown event', () =>
      withStores(makeStores, async (ctx) => {
        assert.equal(await ctx.stores.securityEvents.get(newUserScopedId(uniqueUserId())), null);
      }));

    it("listUserEvents returns the user's events newest first, and no other user's", () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const t = now(ctx);
        const recorded: SecurityEvent[] = [];
        for (const age of [2000, 0, 4000, 1000, 3000]) {
          recorded.push(await events.record({ type: 'session_created', userId, timestamp: t - age }));
        }
        await events.record({ type: 'session_created', userId: uniqueUserId(), timestamp: t });
        const listed = await events.listUserEvents(userId);
        assert.deepEqual(
          listed.map((e) => e.timestamp),
          [t, t - 1000, t - 2000, t - 3000, t - 4000],
        );
        assert.deepEqual(
          listed,
          [...recorded].sort((a, b) => b.timestamp - a.timestamp),
        );
        assert.deepEqual(await events.listUserEvents(uniqueUserId()), []);
      }));

    it('since and until are inclusive bounds on timestamp', () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const t = now(ctx);
        for (const age of [0, 1000, 2000, 3000, 4000]) {
          await events.record({ type: 'session_created', userId, timestamp: t - age });
        }
        const stamps = async (options: { since?: number; until?: number }) =>
          (await events.listUserEvents(userId, options)).map((e) => e.timestamp);
        assert.deepEqual(await stamps({ since: t - 3000, until: t - 1000 }), [t - 1000, t - 2000, t - 3000]);
        assert.deepEqual(await stamps({ since: t - 1000 }), [t, t - 1000]);
        assert.deepEqual(await stamps({ until: t - 3000 }), [t - 3000, t - 4000]);
        assert.deepEqual(await stamps({ since: t - 2000, until: t - 2000 }), [t - 2000]);
        assert.deepEqual(await stamps({ since: t - 1000, until: t - 2000 }), []);
      }));

    it('limit defaults to 50 and returns the newest', () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const t = now(ctx);
        await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            events.record({ type: 'session_created', userId, timestamp: t - i }),
          ),
        );
        const listed = await events.listUserEvents(userId);
        assert.equal(listed.length, 50);
        assert.deepEqual(
          listed.map((e) => e.timestamp),
          Array.from({ length: 50 }, (_, i) => t - i),
        );
        const seven = await events.listUserEvents(userId, { limit: 7 });
        assert.deepEqual(eventIds(seven), eventIds(listed.slice(0, 7)));
        assert.equal((await events.listUserEvents(userId, { limit: 1000 })).length, 60);
      }));

    it('events live for the retention (securityEventTtlSeconds)', () =>
      withStores(
        makeStores,
        async (ctx) => {
          const events = ctx.stores.securityEvents;
          const userId = uniqueUserId();
          const event = await events.record({ type: 'session_created', userId });
          assert.deepEqual(eventIds(await events.listUserEvents(userId)), [event.eventId]);
          await assertExpires(
            ctx,
            1000,
            async () => (await events.get(event.eventId)) !== null,
            'security event',
          );
          assert.deepEqual(await events.listUserEvents(userId), []);
        },
        { securityEventTtlSeconds: 1 },
      ));

    it('the retention defaults to 90 days', () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const event = await events.record({ type: 'session_created', userId });
        if (ctx.clock) {
          await assertExpires(
            ctx,
            90 * DAY_MS,
            async () => (await events.get(event.eventId)) !== null,
            'event',
          );
          assert.deepEqual(await events.listUserEvents(userId), []);
        } else {
          // On real time 90 days cannot pass; the 1 s retention test covers expiry itself.
          assert.deepEqual(await events.get(event.eventId), event);
        }
      }));

    it("the user's index keeps only the newest maxEventsPerUser events", () =>
      withStores(
        makeStores,
        async (ctx) => {
          const events = ctx.stores.securityEvents;
          const userId = uniqueUserId();
          const t = now(ctx);
          const recorded = [];
          for (const age of [4000, 3000, 2000, 1000, 0]) {
            recorded.push(await events.record({ type: 'session_created', userId, timestamp: t - age }));
          }
          const stamps = async (options: { since?: number; until?: number } = {}) =>
            (await events.listUserEvents(userId, options)).map((e) => e.timestamp);
          assert.deepEqual(await stamps(), [t, t - 1000, t - 2000]);
          assert.deepEqual(await stamps({ until: t - 3000 }), []);
          // Trimmed with their index entries: no record outlives it.
          assert.equal(await events.get(recorded[0]!.eventId), null);
          assert.equal(await events.get(recorded[1]!.eventId), null);
          assert.deepEqual(await events.get(recorded[2]!.eventId), recorded[2]);
          // An event older than every kept one, at the bound, is trimmed at once: not kept at all.
          const older = await events.record({ type: 'session_created', userId, timestamp: t - 9000 });
          assert.equal(await events.get(older.eventId), null);
          assert.deepEqual(await stamps(), [t, t - 1000, t - 2000]);
        },
        { maxEventsPerUser: 3 },
      ));

    it("by default the user's index is bounded to 1000 events", () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        const userId = uniqueUserId();
        const t = now(ctx);
        await Promise.all(
          Array.from({ length: 1001 }, (_, i) =>
            events.record({ type: 'session_created', userId, timestamp: t - 1000 + i }),
          ),
        );
        assert.deepEqual(
          await events.listUserEvents(userId, { until: t - 1000 }),
          [],
          'the oldest was trimmed',
        );
        const listed = await events.listUserEvents(userId, { limit: 1000 });
        assert.equal(listed.length, 1000);
        assert.equal(listed[0]!.timestamp, t);
        assert.equal(listed[999]!.timestamp, t - 999);
      }));

    it('rejects bad ids with ERR_INVALID_ID', () =>
      withStores(makeStores, async (ctx) => {
        const events = ctx.stores.securityEvents;
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (userId) => events.record({ type: 'session_created', userId }),
          'record.userId',
        );
        await assertRejectsAll(badScopedIds(), 'ERR_INVALID_ID', (id) => events.get(id), 'get');
        await assertRejectsAll(
          BAD_USER_IDS,
          'ERR_INVALID_ID',
          (id) => events.listUserEvents(id),
          'listUserEvents',
        );
      }));

    it('limit is capped at 1000; a limit below 1 or not an integer is refused (ERR_INVALID_ARGUMENT)', () =>
      withStores(
        makeStores,
        async (ctx) => {
          const events = ctx.stores.securityEvents;
          const userId = uniqueUserId();
          const t = now(ctx);
          await Promise.all(
            Array.from({ length: 1100 }, (_, i) =>
              events.record({ type: 'session_created', userId, timestamp: t - i }),
            ),
          );
          const listed = await events.listUserEvents(userId, { limit: 5000 });
          assert.equal(listed.length, 1000, 'at most 1000, whatever the limit asked');
          assert.equal(listed[0]!.timestamp, t, 'the newest first');
          await assertRejectsAll(
            [0, -1, 1.5, Number.NaN],
            'ERR_INVALID_ARGUMENT',
            (limit) => events.listUserEvents(userId, { limit }),
            'listUserEvents.limit',
          );
          await assertRejectsAll(
            ['loud'],
            'ERR_INVALID_ARGUMENT',
            (severity) => events.record({ type: 'x', userId, severity: severity as 'info' }),
            'record.severity',
          );
        },
        { maxEventsPerUser: 2000 },
      ));

    it("record prunes the user's event index of events past the retention", () =>
      withStores(
        makeStores,
        async (ctx) => {
          const events = ctx.stores.securityEvents;
          const userId = uniqueUserId();
          const old = await events.record({ type: 'session_created', userId });
          await assertExpires(ctx, 1000, async () => (await events.get(old.eventId)) !== null, 'event');
          const fresh = await events.record({ type: 'session_created', userId });
          assert.equal((await ctx.stores.maintenance.cleanup()).securityEventIndexEntries, 0);
          assert.deepEqual(eventIds(await events.listUserEvents(userId)), [fresh.eventId]);
        },
        { securityEventTtlSeconds: 1 },
      ));
  });
}
