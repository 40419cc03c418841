/**
 * The client-side cache of revocation checks (src/connection/tracking.ts): warm verifications cost no
 * round trip, and stay exact — a revoke through this instance is seen by the next verification, one
 * through another instance as soon as Redis's invalidation arrives, nothing survives a dropped
 * connection, and nothing is kept past the token's, the family's or the session's expiry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { RedisClient } from '../../src/connection/client.js';
import type { RedisClientOptions } from '../../src/connection/config.js';
import { DerivedCache, InvalidationHub } from '../../src/connection/tracking.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { login as loginFlow } from '../../src/services/login.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import { clientSideCacheFor, createRedisStores } from '../../src/stores/redis/index.js';
import { createKeySchema } from '../../src/stores/redis/keys.js';
import { MAX_CHECKS_PER_BROADCAST_CALL, MAX_CHECKS_PER_CALL } from '../../src/stores/redis/revocation.js';
import { USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import { ownRedisServer } from '../helpers/own-redis.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { TEST_SECRET } from '../services/backends.js';

const ACCESS_TTL_SECONDS = 900;

/**
 * Returns once every invalidation Redis queued for `redis`'s tracked connection before now has been
 * read: Redis writes them before the reply to a later command on that connection.
 */
async function pushesIn(redis: RedisClient): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: PING is not in the narrow read interface
  await (redis.tracking!.commands as any).ping();
}

const jtiOf = (
  svc: { jwt: { decodeVerified(token: string): { jti: string } } },
  l: { pair: { accessToken: string } },
) => svc.jwt.decodeVerified(l.pair.accessToken).jti;

/**
 * Makes Redis's invalidation pushes reach `redis`'s cache 200 ms late, so that only the client's
 * own local invalidation after each of its writes can make its next read exact.
 */
function delayPushes(redis: RedisClient): void {
  const tracking = redis.tracking!;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis's provider, reached through the reader
  const provider = (tracking.commands as any).clientSideCache as { invalidate(key: unknown): void };
  const invalidate = provider.invalidate;
  const invalidateLocal = tracking.invalidateLocal;
  let local = false;
  tracking.invalidateLocal = (keys) => {
    local = true;
    try {
      invalidateLocal.call(tracking, keys);
    } finally {
      local = false;
    }
  };
  provider.invalidate = function (this: unknown, key: unknown) {
    if (local) return invalidate.call(this, key);
    setTimeout(() => invalidate.call(this, key), 200);
  };
}

/**
 * The same suite in both tracking modes: `default` (Redis remembers each key the tracked connection
 * read) and `broadcast` (`CLIENT TRACKING … BCAST` over the key schema's tracked prefixes, what the
 * service uses): every guarantee holds in each.
 */
for (const mode of ['default', 'broadcast'] as const) {
  describe(`client-side cache of revocation checks (${mode} tracking)`, () => {
    const own = ownRedisServer();
    const prefix = uniquePrefix();

    async function instance(options: Partial<RedisClientOptions> = {}, clock?: ManualClock) {
      const redis = new RedisClient({
        url: own.server.url,
        keyPrefix: prefix,
        commandTimeoutMs: 2000,
        clientSideCache: clientSideCacheFor(prefix, mode),
        ...options,
      });
      await redis.connect();
      own.opened(redis);
      const stores = createRedisStores(redis, clock ? { clock } : {});
      const jwt = createJwtService({
        stores,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'optix-api',
        accessTokenTtlSeconds: ACCESS_TTL_SECONDS,
        ...(clock ? { clock } : {}),
      });
      const sessions = createSessionManager({
        stores,
        ...(clock ? { clock, sessionTimeoutMinutes: 5 } : {}),
      });
      return { redis, stores, jwt, sessions };
    }

    /** Calls of the revocation reads the server has answered so far. */
    async function revocationReads(): Promise<number> {
      const stats = await own.admin.info('commandstats');
      let total = 0;
      for (const cmd of ['get', 'mget', 'hmget', 'zscore']) {
        const line = stats[`cmdstat_${cmd}`];
        const m = typeof line === 'string' ? /calls=(\d+)/.exec(line) : null;
        total += m ? Number(m[1]) : 0;
      }
      return total;
    }

    async function login(svc: Awaited<ReturnType<typeof instance>>, userId = uniqueUserId()) {
      const { session, tokens: pair } = await loginFlow(svc, {
        userId,
        ipAddress: '10.2.0.1',
        userAgent: USER_AGENT,
      });
      return { userId, session, pair };
    }

    const rejected = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (err: { code?: string; reason?: string }) => `${err.code}:${err.reason ?? ''}`,
      );

    it('answers a warm verification without asking Redis; with the cache off every one asks', async () => {
      const cached = await instance();
      const { pair } = await login(cached);
      // Broadcasting mode pushes the login's own writes too; one may still be on its way and would
      // (rightly) spoil the first verdict. Default mode pushes only keys read, so none comes.
      if (mode === 'broadcast') await pushesIn(cached.redis);
      await cached.jwt.verifyToken(pair.accessToken);
      const before = await revocationReads();
      for (let i = 0; i < 500; i++) await cached.jwt.verifyToken(pair.accessToken);
      assert.equal((await revocationReads()) - before, 0, 'a warm verification sent a revocation read');

      const uncached = await instance({ clientSideCache: false });
      const other = await login(uncached);
      const start = await revocationReads();
      for (let i = 0; i < 50; i++) await uncached.jwt.verifyToken(other.pair.accessToken);
      // One MGET (blacklist entry and watermark), the family's HMGET and the session's ZSCORE per
      // verification, all inside revocation_read_batch.lua (commandstats counts a script's calls).
      assert.equal((await revocationReads()) - start, 50 * 3);
    });

    it(`tracks in ${mode} mode on the tracked connection`, async () => {
      const svc = await instance();
      // biome-ignore lint/suspicious/noExplicitAny: CLIENT TRACKINGINFO is not in the narrow read interface
      const info = (await (svc.redis.tracking!.commands as any).sendCommand([
        'CLIENT',
        'TRACKINGINFO',
      ])) as Record<string, unknown>;
      const flags = (info.flags as unknown[]).map(String);
      assert.ok(flags.includes('on'), `flags ${flags}`);
      assert.equal(flags.includes('bcast'), mode === 'broadcast', `flags ${flags}`);
      const expected = mode === 'broadcast' ? [...createKeySchema(prefix).trackedPrefixes].sort() : [];
      assert.deepEqual((info.prefixes as unknown[]).map(String).sort(), expected);
      if (mode === 'broadcast') {
        // Stores whose tracked keys the prefixes do not cover are refused, not trusted.
        assert.throws(() => createRedisStores(svc.redis, { keyPrefix: `${prefix}other:` }), {
          code: 'ERR_CONFIG',
          path: 'clientSideCache.broadcastPrefixes',
        });
      }
    });

    it('answers a query object for what it asks now: a changed query is not answered from its old verdict', async () => {
      const svc = await instance();
      const clean = await login(svc);
      const revoked = await login(svc);
      await svc.jwt.revokeAccessToken(revoked.pair.accessToken, 'logout');
      const claims = (l: Awaited<ReturnType<typeof login>>) => svc.jwt.decodeVerified(l.pair.accessToken);
      const asked = (c: ReturnType<typeof claims>) => ({
        jti: c.jti,
        userId: c.sub,
        issuedAtMs: c.iat_ms,
        familyId: c.fid,
        sessionId: c.sid,
        expiresAtMs: c.exp * 1000,
      });
      // A caller reusing one mutable object: the verdict kept for its first content must not answer
      // the second.
      const query = asked(claims(clean));
      assert.equal(await svc.stores.revocation.check(query), null);
      assert.equal(await svc.stores.revocation.check(query), null);
      Object.assign(query, asked(claims(revoked)));
      assert.equal(await svc.stores.revocation.check(query), 'blacklisted');
      // A frozen query (what the JWT service passes, one per token) is answered from the cache and
      // still sees a later revoke.
      const frozen = Object.freeze(asked(claims(clean)));
      assert.equal(await svc.stores.revocation.check(frozen), null);
      const before = await revocationReads();
      assert.equal(await svc.stores.revocation.check(frozen), null);
      assert.equal((await revocationReads()) - before, 0, 'a warm frozen query sent a revocation read');
      await svc.jwt.revokeAccessToken(clean.pair.accessToken, 'logout');
      assert.equal(await svc.stores.revocation.check(frozen), 'blacklisted');
    });

    it('sends the checks asked in one tick as one call, answers each for itself, and keeps no verdict a push spoiled in flight', async () => {
      const svc = await instance();
      const tracking = svc.redis.tracking! as { runScript: (...args: unknown[]) => Promise<unknown> };
      const realRun = tracking.runScript;
      let calls = 0;
      let duringRead: (() => Promise<void>) | null = null;
      tracking.runScript = async function (this: unknown, ...args: unknown[]) {
        calls++;
        const reply = await realRun.apply(this, args);
        // A write lands after Redis answered the read but before the reply is used.
        if (duringRead !== null) await duringRead();
        return reply;
      };
      const clean = await Promise.all(Array.from({ length: 6 }, () => login(svc)));
      const revoked = await login(svc);
      await svc.jwt.revokeAccessToken(revoked.pair.accessToken, 'logout');
      calls = 0;
      const answers = await Promise.all(
        [...clean, revoked].map((l) => rejected(svc.jwt.verifyToken(l.pair.accessToken))),
      );
      assert.deepEqual(answers, [...clean.map(() => null), 'ERR_TOKEN_REVOKED:blacklisted']);
      const perCall = mode === 'default' ? MAX_CHECKS_PER_CALL : MAX_CHECKS_PER_BROADCAST_CALL;
      assert.equal(calls, Math.ceil(7 / perCall), 'seven checks in one tick: one call per batch');

      // Another instance revokes a token while its first check is in flight; the push reaches this
      // instance before the reply is used (a read on the tracked connection is answered after it).
      const other = await instance();
      const target = await login(svc);
      duringRead = async () => {
        duringRead = null;
        await other.jwt.revokeAccessToken(target.pair.accessToken, 'logout');
        await svc.redis.tracking!.commands.get(`${prefix}no-such-key`);
      };
      // The read saw the token unrevoked: that answer stands for the check in flight…
      assert.equal(await rejected(svc.jwt.verifyToken(target.pair.accessToken)), null);
      // …but was not kept: the next verification reads again and sees the revoke.
      calls = 0;
      assert.equal(
        await rejected(svc.jwt.verifyToken(target.pair.accessToken)),
        'ERR_TOKEN_REVOKED:blacklisted',
      );
      assert.equal(calls, 1);

      // A failed call fails every check in it (closed).
      tracking.runScript = () => Promise.reject(new Error('connection lost'));
      const fresh = await Promise.all(Array.from({ length: 3 }, () => login(svc)));
      const failed = await Promise.all(fresh.map((l) => rejected(svc.jwt.verifyToken(l.pair.accessToken))));
      assert.deepEqual(
        failed,
        fresh.map(() => 'ERR_STORE_UNAVAILABLE:'),
      );
      tracking.runScript = realRun;
    });

    it('drops what it keeps when another connection writes any key kind it was read from, whatever the write', async () => {
      const svc = await instance();
      const keys = createKeySchema(prefix);
      const tracking = svc.redis.tracking! as { runScript: (...args: unknown[]) => Promise<unknown> };
      const realRun = tracking.runScript;
      let calls = 0;
      tracking.runScript = function (this: unknown, ...args: unknown[]) {
        calls++;
        return realRun.apply(this, args);
      };
      const raw = (args: string[]) =>
        // biome-ignore lint/suspicious/noExplicitAny: raw commands, not in the narrow interface
        own.admin.wrap('raw', () => (own.admin.commands as any).sendCommand(args));
      // Writes that change no verdict (only the invalidation can make the next check read again).
      const kinds: Array<[string, (l: Awaited<ReturnType<typeof login>>) => Promise<unknown>]> = [
        ['blacklist entry', (l) => raw(['SET', keys.blacklist(jtiOf(svc, l)), '{}', 'PX', '60000'])],
        ['revoke-all record', (l) => raw(['SET', keys.userWatermark(l.userId), '{}', 'PX', '60000'])],
        [
          'family',
          (l) => raw(['HSET', keys.family(svc.jwt.decodeVerified(l.pair.accessToken).fid!), 'x', '1']),
        ],
        ['user index', (l) => raw(['ZADD', keys.userSessionsOf(l.session.sessionId), '1', 'another'])],
      ];
      for (const [kind, write] of kinds) {
        const l = await login(svc);
        if (mode === 'broadcast') await pushesIn(svc.redis); // the login's own writes (see above)
        await svc.jwt.verifyToken(l.pair.accessToken);
        calls = 0;
        await svc.jwt.verifyToken(l.pair.accessToken);
        assert.equal(calls, 0, `${kind}: warm`);
        await write(l);
        const start = performance.now();
        while (calls === 0) {
          assert.ok(performance.now() - start < 1000, `${kind}: a write by another connection was not seen`);
          assert.equal(await rejected(svc.jwt.verifyToken(l.pair.accessToken)), null, kind);
          await new Promise((r) => setImmediate(r));
        }
      }
      tracking.runScript = realRun;
      // The decoded session (record + index) kept for validateSession: a write to its record.
      const l = await login(svc);
      if (mode === 'broadcast') await pushesIn(svc.redis);
      assert.ok(await svc.sessions.validateSession(l.session.sessionId));
      const reads = async () =>
        /calls=(\d+)/.exec(String((await own.admin.info('commandstats')).cmdstat_get))?.[1];
      const before = await reads();
      assert.ok(await svc.sessions.validateSession(l.session.sessionId));
      assert.equal(await reads(), before, 'warm session validation');
      await raw(['PEXPIRE', keys.session(l.session.sessionId), '3600000']);
      const start = performance.now();
      while ((await reads()) === before) {
        assert.ok(performance.now() - start < 1000, 'a write to the session record was not seen');
        assert.ok(await svc.sessions.validateSession(l.session.sessionId));
      }
    });

    it('sees every form of revoke made through the same instance at its next verification', async () => {
      const svc = await instance();
      delayPushes(svc.redis);
      const forms: Array<[string, (l: Awaited<ReturnType<typeof login>>) => Promise<unknown>, string]> = [
        ['jti', (l) => svc.jwt.revokeAccessToken(l.pair.accessToken, 'logout'), 'blacklisted'],
        ['user', (l) => svc.jwt.revokeAllUserTokens(l.userId, 'password_change'), 'user_revoked'],
        // A logout with the refresh token revokes the family and ends the session; the family goes
        // with the session (docs/data-model.md), so its tokens are refused as session_ended.
        ['family', (l) => svc.jwt.revokeRefreshToken(l.pair.refreshToken, 'logout'), 'session_ended'],
        ['session', (l) => svc.sessions.terminateSession(l.session.sessionId, 'logout'), 'session_ended'],
      ];
      for (const [form, revoke, reason] of forms) {
        for (let round = 0; round < 20; round++) {
          const l = await login(svc);
          await svc.jwt.verifyToken(l.pair.accessToken);
          await svc.jwt.verifyToken(l.pair.accessToken); // warm: answered from the cache
          // Verifications racing the revoke may pass; every one started after it resolved must not.
          const racing = Array.from({ length: 5 }, () => rejected(svc.jwt.verifyToken(l.pair.accessToken)));
          await revoke(l);
          assert.equal(
            await rejected(svc.jwt.verifyToken(l.pair.accessToken)),
            `ERR_TOKEN_REVOKED:${reason}`,
            `${form} revoke, round ${round}`,
          );
          await Promise.all(racing);
        }
      }
    });

    it('sees every form of revoke made through another instance within milliseconds', async () => {
      const a = await instance();
      const b = await instance();
      const delays: number[] = [];
      const forms: Array<(l: Awaited<ReturnType<typeof login>>) => Promise<unknown>> = [
        (l) => a.jwt.revokeAccessToken(l.pair.accessToken, 'logout'),
        (l) => a.jwt.revokeAllUserTokens(l.userId, 'password_change'),
        (l) => a.jwt.revokeRefreshToken(l.pair.refreshToken, 'logout'),
        (l) => a.sessions.terminateSession(l.session.sessionId, 'logout'),
      ];
      for (let round = 0; round < 25; round++) {
        for (const revoke of forms) {
          const l = await login(a);
          await b.jwt.verifyToken(l.pair.accessToken);
          await b.jwt.verifyToken(l.pair.accessToken);
          await revoke(l);
          const start = performance.now();
          // Bounded by the lease: past it nothing cached is used at all.
          while ((await rejected(b.jwt.verifyToken(l.pair.accessToken))) === null) {
            assert.ok(performance.now() - start < 1000, 'the other instance never saw the revoke');
            await new Promise((r) => setImmediate(r));
          }
          delays.push(performance.now() - start);
        }
      }
      delays.sort((x, y) => x - y);
      const at = (q: number) =>
        delays[Math.min(delays.length - 1, Math.floor(delays.length * q))]!.toFixed(2);
      console.log(
        `# revoke seen by the other instance (${delays.length}): p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`,
      );
    });

    it('answers a warm session validation in process, and sees a termination here at once and elsewhere within ms', async () => {
      const a = await instance();
      const b = await instance();
      delayPushes(a.redis);
      const reads = async () => {
        const stats = await own.admin.info('commandstats');
        return ['get', 'zscore', 'evalsha'].reduce((sum, cmd) => {
          const m = /calls=(\d+)/.exec(String(stats[`cmdstat_${cmd}`] ?? ''));
          return sum + (m ? Number(m[1]) : 0);
        }, 0);
      };
      const here = await login(a);
      assert.ok(await a.sessions.validateSession(here.session.sessionId));
      const before = await reads();
      for (let i = 0; i < 200; i++) assert.ok(await a.sessions.validateSession(here.session.sessionId));
      assert.equal((await reads()) - before, 0, 'a warm validation asked Redis');
      await a.sessions.terminateSession(here.session.sessionId, 'logout');
      assert.equal(
        await a.sessions.validateSession(here.session.sessionId),
        null,
        'terminated here, still valid here',
      );

      const delays: number[] = [];
      for (let round = 0; round < 30; round++) {
        const l = await login(a);
        assert.ok(await b.sessions.validateSession(l.session.sessionId));
        assert.ok(await b.sessions.validateSession(l.session.sessionId));
        await a.sessions.terminateSession(l.session.sessionId, 'logout');
        const start = performance.now();
        while ((await b.sessions.validateSession(l.session.sessionId)) !== null) {
          assert.ok(performance.now() - start < 1000, 'the other instance never saw the termination');
          await new Promise((r) => setImmediate(r));
        }
        delays.push(performance.now() - start);
      }
      delays.sort((x, y) => x - y);
      console.log(
        `# termination seen by the other instance: p50 ${delays[15]!.toFixed(2)} ms, max ${delays.at(-1)!.toFixed(2)} ms`,
      );
    });

    it('drops everything when the tracked connection drops, and misses no revoke made meanwhile', async () => {
      const a = await instance({ clientName: 'cache-a' });
      const b = await instance({ clientName: 'cache-b' });
      const l = await login(a);
      await b.jwt.verifyToken(l.pair.accessToken);
      await b.jwt.verifyToken(l.pair.accessToken);
      // Kill b's tracked connection: invalidations for it are lost from now until it reconnects.
      await own.admin.wrap('client kill', () =>
        // biome-ignore lint/suspicious/noExplicitAny: CLIENT KILL is not in the narrow command interface
        (own.admin.commands as any).sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']),
      );
      await a.jwt.revokeAccessToken(l.pair.accessToken, 'logout');
      assert.equal(await rejected(b.jwt.verifyToken(l.pair.accessToken)), 'ERR_TOKEN_REVOKED:blacklisted');
    });

    it('keeps no answer past the session expiry or the token exp (manual clock)', async () => {
      const clock = new ManualClock(Date.now());
      const svc = await instance({}, clock);
      const userId = uniqueUserId();
      const { session, tokens: pair } = await loginFlow(svc, {
        userId,
        ipAddress: '10.2.0.9',
        userAgent: USER_AGENT,
      });
      await svc.jwt.verifyToken(pair.accessToken);
      const before = await revocationReads();
      await svc.jwt.verifyToken(pair.accessToken);
      assert.equal((await revocationReads()) - before, 0);

      // Straight to the session's idle expiry (before the token's exp): the index score is now in
      // the past and Redis has not been told anything: the cached answer must not be used.
      const idleMs = session.expiresAt - clock.now();
      assert.ok(idleMs > 0 && idleMs < ACCESS_TTL_SECONDS * 1000, 'the session expires before the token');
      assert.ok(await svc.sessions.validateSession(session.sessionId));
      assert.ok(await svc.sessions.validateSession(session.sessionId), 'cached');
      clock.advance(idleMs + 1);
      assert.equal(await rejected(svc.jwt.verifyToken(pair.accessToken)), 'ERR_TOKEN_REVOKED:session_ended');
      assert.equal(
        await svc.sessions.validateSession(session.sessionId),
        null,
        'a cached session outlived its expiry',
      );

      // A verdict is also bounded by the token's exp given in the query: past it the checker reads
      // again (through the tracked connection).
      const checker = svc.stores.revocation;
      // One tracked read per check (revocation_read.lua: on a standalone server every key in one script).
      const tracking = svc.redis.tracking! as { runScript: (...args: unknown[]) => Promise<unknown> };
      const realRun = tracking.runScript;
      let reads = 0;
      tracking.runScript = function (this: unknown, ...args: unknown[]) {
        reads++;
        return realRun.apply(this, args);
      };
      // Minted before this instance began listening (the clock has moved on since): a first sight
      // the broadcast watch cannot answer, so the first check reads.
      const query = {
        jti: 'cache-exp-1',
        userId,
        issuedAtMs: clock.now() - 3_600_000,
        expiresAtMs: clock.now() + 5000,
      };
      assert.equal(await checker.check(query), null);
      assert.equal(reads, 1);
      assert.equal(await checker.check(query), null);
      assert.equal(reads, 1, 'the second check was not answered from the verdict cache');
      clock.advance(5000);
      assert.equal(await checker.check(query), null);
      assert.equal(reads, 2, 'a verdict was used past the token exp');
    });
  });
}

describe('DerivedCache', () => {
  it('drops an entry when any key it came from is invalidated, or everything on clear', () => {
    const hub = new InvalidationHub();
    const cache = new DerivedCache<string>(hub, 10);
    cache.begin(['k1', 'k2']).commit('a', 'A', 1000);
    cache.begin(['k2', 'k3']).commit('b', 'B', 1000);
    assert.equal(cache.get('a', 0), 'A');
    hub.emit('k1');
    assert.equal(cache.get('a', 0), undefined);
    assert.equal(cache.get('b', 0), 'B');
    hub.emit(null);
    assert.equal(cache.get('b', 0), undefined);
    assert.equal(cache.size, 0);
  });

  it('does not store a derivation whose key was invalidated while it was in flight', () => {
    const hub = new InvalidationHub();
    const cache = new DerivedCache<string>(hub, 10);
    const spoiled = cache.begin(['k1']);
    const clean = cache.begin(['k9']);
    hub.emit('k1');
    spoiled.commit('a', 'A', 1000);
    clean.commit('b', 'B', 1000);
    assert.equal(cache.get('a', 0), undefined);
    assert.equal(cache.get('b', 0), 'B');
    const cleared = cache.begin(['k2']);
    hub.emit(null);
    cleared.commit('c', 'C', 1000);
    assert.equal(cache.get('c', 0), undefined);
  });

  it('spoils a derivation whose key is invalidated after its read began, even once stored', () => {
    const hub = new InvalidationHub();
    const cache = new DerivedCache<string>(hub, 10);
    // Begun, then the reply stored, and only then the push for a write the read may have missed:
    // the write's number is above the derivation's start, so the stored fact is dropped.
    const since = cache.since();
    cache.set('a', 'A', 1000, ['k1', 'k2'], since);
    assert.equal(cache.get('a', 0), 'A');
    hub.emit('k2');
    assert.equal(cache.get('a', 0), undefined);
    // An invalidation before the read began does not spoil it.
    const later = cache.since();
    cache.set('b', 'B', 1000, ['k2'], later);
    assert.equal(cache.get('b', 0), 'B');
    // A lookup that found it valid does not hide a later invalidation.
    hub.emit('k9');
    assert.equal(cache.get('b', 0), 'B');
    hub.emit('k2');
    assert.equal(cache.get('b', 0), undefined);
    // Frozen objects are ids too (the revocation checker keys verdicts by the query itself).
    const query = Object.freeze({ jti: 'j' });
    cache.set(query, 'Q', 1000, ['k3'], cache.since());
    assert.equal(cache.get(query, 0), 'Q');
    assert.equal(cache.get(Object.freeze({ jti: 'j' }), 0), undefined, 'another object asks afresh');
  });

  it('prunes its record of invalidations by generation, never answering from a pruned one', () => {
    const hub = new InvalidationHub(2);
    const cache = new DerivedCache<string>(hub, 10);
    cache.set('old', 'O', 1000, ['k0'], cache.since());
    hub.emit('x1');
    hub.emit('x2'); // young: x1 x2
    cache.set('mid', 'M', 1000, ['k1'], cache.since());
    hub.emit('x3'); // rotates: old x1 x2, young x3
    assert.equal(cache.get('old', 0), 'O', 'nothing it depends on was dropped from the record yet');
    hub.emit('k1'); // young: x3 k1
    assert.equal(cache.get('mid', 0), undefined, 'an invalidation in the record spoils');
    cache.set('new', 'N', 1000, ['k2'], cache.since());
    hub.emit('x4'); // rotates: old x3 k1, young x4; x1 x2 dropped: the floor rises past them
    const beforeX5 = cache.since();
    hub.emit('x5');
    hub.emit('x6'); // rotates again: old x4 x5, young x6; x3 k1 dropped
    // `old` began before records that are gone: it may have missed one, so it is dropped.
    assert.equal(cache.get('old', 0), undefined);
    // `new` began after every dropped record: still answered.
    assert.equal(cache.get('new', 0), 'N');
    hub.emit('k2');
    assert.equal(cache.get('new', 0), undefined);
    cache.set('after', 'A', 1000, ['x5'], beforeX5);
    assert.equal(cache.get('after', 0), undefined, 'x5 was invalidated after the read began');
  });

  it('expires entries at validUntil and evicts the oldest when full', () => {
    const hub = new InvalidationHub();
    const cache = new DerivedCache<number>(hub, 3);
    for (let i = 0; i < 5; i++) cache.begin([`k${i}`]).commit(`id${i}`, i, 100);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('id0', 0), undefined);
    assert.equal(cache.get('id1', 0), undefined);
    assert.equal(cache.get('id4', 99), 4);
    assert.equal(cache.get('id4', 100), undefined);
    // The evicted entries' keys no longer point anywhere.
    hub.emit('k0');
    assert.equal(cache.get('id2', 0), 2);
  });

  it('keeps an entry under an object id as long as the object, judged like any other', () => {
    const hub = new InvalidationHub();
    const cache = new DerivedCache<number>(hub, 2);
    const queries = Array.from({ length: 5 }, (_, i) => Object.freeze({ i }));
    for (const [i, q] of queries.entries()) cache.begin([`k${i}`]).commit(q, i, 100);
    // Not evicted by the bound of string ids: each lives with its query object.
    assert.deepEqual(
      queries.map((q) => cache.get(q, 0)),
      [0, 1, 2, 3, 4],
    );
    assert.equal(cache.get(Object.freeze({ i: 0 }), 0), undefined, 'another object is another id');
    hub.emit('k1');
    assert.equal(cache.get(queries[1]!, 0), undefined, 'invalidated');
    assert.equal(cache.get(queries[2]!, 100), undefined, 'expired');
    hub.emit(null);
    assert.equal(cache.get(queries[0]!, 0), undefined, 'dropped with everything');
  });
});
