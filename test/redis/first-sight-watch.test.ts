/**
 * First sight by watch (`firstSight: 'watch'`, broadcasting tracking, standalone Redis): a token
 * minted after an instance began listening, whose user and session it already knows, is verified
 * with no Redis command — and still refused for every form of revoke made anywhere before its first
 * sight, for a revoke made before the instance listened, and after the tracked connection dropped.
 * Against a real redis-server; reads are counted with `INFO commandstats`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisClient } from '../../src/connection/client.js';
import type { RedisClientOptions } from '../../src/connection/config.js';
import { RevocationWatch } from '../../src/connection/tracking.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { login as loginFlow } from '../../src/services/login.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import {
  clientSideCacheFor,
  createRedisStores,
  type RedisStoresOptions,
} from '../../src/stores/redis/index.js';
import { USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import { ownRedisServer } from '../helpers/own-redis.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { TEST_SECRET } from '../services/backends.js';

describe('first sight by watch (broadcast tracking, standalone)', () => {
  const own = ownRedisServer();
  const prefix = uniquePrefix();

  async function instance(
    options: Partial<RedisClientOptions> = {},
    storeOptions: RedisStoresOptions = {},
    refreshTokenTtlSeconds = 3600,
  ) {
    const redis = new RedisClient({
      url: own.server.url,
      keyPrefix: prefix,
      commandTimeoutMs: 2000,
      clientSideCache: clientSideCacheFor(prefix, 'broadcast'),
      ...options,
    });
    await redis.connect();
    own.opened(redis);
    // Same machine, one clock: no skew allowance, so tokens minted right after start count.
    const stores = createRedisStores(redis, { maxClockSkewMs: 0, ...storeOptions });
    const jwt = createJwtService({
      stores,
      keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
      issuer: 'optix-test',
      audience: 'optix-api',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds,
      refreshGraceSeconds: 0,
    });
    const sessions = createSessionManager({ stores });
    return { redis, stores, jwt, sessions };
  }
  type Instance = Awaited<ReturnType<typeof instance>>;

  /** Calls of the commands a revocation check reads with, as the server counted them. */
  async function reads(): Promise<number> {
    const stats = await own.admin.info('commandstats');
    let total = 0;
    for (const cmd of ['get', 'mget', 'hmget', 'zscore', 'evalsha', 'eval', 'exists']) {
      const m = /calls=(\d+)/.exec(String(stats[`cmdstat_${cmd}`] ?? ''));
      total += m ? Number(m[1]) : 0;
    }
    return total;
  }

  /** Once every push Redis queued for `svc`'s tracked connection before now has been read. */
  async function pushesIn(svc: Instance): Promise<void> {
    // biome-ignore lint/suspicious/noExplicitAny: PING is not in the narrow read interface
    await (svc.redis.tracking!.commands as any).ping();
  }

  async function login(svc: Instance, userId = uniqueUserId()) {
    const { session, tokens } = await loginFlow(svc, {
      userId,
      ipAddress: '10.3.0.1',
      userAgent: USER_AGENT,
    });
    return { userId, session, pair: tokens };
  }

  /** A new token of the same user and session (a new family, as a second device's login would). */
  async function another(svc: Instance, l: Awaited<ReturnType<typeof login>>) {
    return svc.jwt.issueTokenPair({ userId: l.userId, sessionId: l.session.sessionId });
  }

  /** An operator's revoke of the token's family by id (no session ends). */
  function revokeFamily(svc: Instance, accessToken: string) {
    const familyId = svc.jwt.decodeVerified(accessToken).fid!;
    return svc.stores.tokenBlacklist.blacklistTokenFamily({ familyId, ttlSeconds: 3600, reason: 'admin' });
  }

  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (err: { code?: string; reason?: string }) => `${err.code}:${err.reason ?? ''}`,
    );

  it('verifies a new token of a user and session it knows with no Redis command; with firstSight read it reads', async () => {
    const gateway = await instance();
    const reader = await instance({}, { firstSight: 'read' });
    const issuer = await instance();
    const l = await login(issuer);
    // The first token of a session it has never seen: read (and its user and session learnt).
    await gateway.jwt.verifyToken(l.pair.accessToken);
    await reader.jwt.verifyToken(l.pair.accessToken);
    const fresh = [];
    for (let i = 0; i < 20; i++) fresh.push(await another(issuer, l));
    const refreshed = await issuer.jwt.refreshTokens(l.pair.refreshToken);
    fresh.push(refreshed);
    await pushesIn(gateway);
    const before = await reads();
    for (const pair of fresh) {
      const verified = await gateway.jwt.verifyToken(pair.accessToken);
      assert.equal(verified.revocationChecked, true);
    }
    assert.equal((await reads()) - before, 0, 'a first sight by watch asked Redis');
    const beforeRead = await reads();
    for (const pair of fresh) await reader.jwt.verifyToken(pair.accessToken);
    assert.ok((await reads()) - beforeRead >= 1, "firstSight 'read' answered without reading");
  });

  it('keeps answering by watch on the instance that rotates: its refreshes do not count as revokes', async () => {
    const svc = await instance();
    const l = await login(svc);
    await svc.jwt.verifyToken(l.pair.accessToken); // user and session now known
    let refreshToken = l.pair.refreshToken;
    let extra = 0;
    for (let i = 0; i < 20; i++) {
      const pair = await svc.jwt.refreshTokens(refreshToken);
      refreshToken = pair.refreshToken;
      const before = await reads();
      assert.equal((await svc.jwt.verifyToken(pair.accessToken)).revocationChecked, true);
      extra += (await reads()) - before;
    }
    assert.equal(extra, 0, 'a first sight after a rotation on the same instance asked Redis');
    // Reuse through this instance is still seen by its next first sight, push or not.
    const next = await svc.jwt.refreshTokens(refreshToken);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await assert.rejects(svc.jwt.refreshTokens(refreshToken), { code: 'ERR_REFRESH_REUSED' });
    assert.match(await outcome(svc.jwt.verifyToken(next.accessToken)), /^ERR_TOKEN_REVOKED:/);
  });

  it('refuses at first sight a token revoked elsewhere in any form before it was first seen', async () => {
    const gateway = await instance();
    const issuer = await instance();
    type Login = Awaited<ReturnType<typeof login>>;
    const forms: Array<
      [string, (l: Login, pair: { accessToken: string; refreshToken: string }) => Promise<unknown>, string]
    > = [
      ['jti', (_l, pair) => issuer.jwt.revokeAccessToken(pair.accessToken, 'logout'), 'blacklisted'],
      ['family by id', (_l, pair) => revokeFamily(issuer, pair.accessToken), 'family_revoked'],
      [
        'family by refresh token',
        (_l, pair) => issuer.jwt.revokeRefreshToken(pair.refreshToken, 'logout'),
        'family_revoked',
      ],
      ['user', (l) => issuer.jwt.revokeAllUserTokens(l.userId, 'password_change'), 'user_revoked'],
      ['session', (l) => issuer.sessions.terminateSession(l.session.sessionId, 'logout'), 'session_ended'],
      [
        'reuse',
        async (_l, pair) => {
          await issuer.jwt.refreshTokens(pair.refreshToken);
          await new Promise((resolve) => setTimeout(resolve, 5));
          // Presented again (no grace window here): reuse revokes the family and ends the session.
          await assert.rejects(issuer.jwt.refreshTokens(pair.refreshToken), { code: 'ERR_REFRESH_REUSED' });
        },
        'family_revoked',
      ],
    ];
    for (const [form, revoke, reason] of forms) {
      for (let round = 0; round < 10; round++) {
        const l = await login(issuer);
        await gateway.jwt.verifyToken(l.pair.accessToken); // user and session now known
        const pair = await another(issuer, l);
        const bystander = await another(issuer, l);
        await revoke(l, pair);
        await pushesIn(gateway);
        const got = await outcome(gateway.jwt.verifyToken(pair.accessToken));
        // A logout with the refresh token also ends the session (and drops the family with it).
        const also = form === 'family by refresh token' ? 'ERR_TOKEN_REVOKED:session_ended' : null;
        assert.ok(got === `ERR_TOKEN_REVOKED:${reason}` || got === also, `${form}, round ${round}: ${got}`);
        if (form === 'jti' || form === 'family by id') {
          // Another token of the same user and session, untouched: still accepted at first sight.
          assert.equal(await outcome(gateway.jwt.verifyToken(bystander.accessToken)), 'accepted', form);
        }
      }
    }
  });

  it('reads a token minted before it began listening (a revoke it could not have heard)', async () => {
    const issuer = await instance();
    const l = await login(issuer);
    const early = await another(issuer, l);
    await issuer.jwt.revokeAccessToken(early.accessToken, 'logout');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const gateway = await instance();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The user and session become known through a token minted after it started listening.
    const late = await another(issuer, l);
    assert.equal(await outcome(gateway.jwt.verifyToken(late.accessToken)), 'accepted');
    assert.equal(await outcome(gateway.jwt.verifyToken(early.accessToken)), 'ERR_TOKEN_REVOKED:blacklisted');
  });

  it('forgets what it heard when the tracked connection drops: a revoke made meanwhile is read', async () => {
    const gateway = await instance({ clientName: 'watch-gateway' });
    const issuer = await instance();
    const l = await login(issuer);
    await gateway.jwt.verifyToken(l.pair.accessToken);
    const pair = await another(issuer, l);
    const { jti } = issuer.jwt.decodeVerified(pair.accessToken);
    const list = String(
      // biome-ignore lint/suspicious/noExplicitAny: CLIENT LIST is not in the narrow command interface
      await own.admin.wrap('client list', () => (own.admin.commands as any).sendCommand(['CLIENT', 'LIST'])),
    );
    const tracked = /id=(\d+) [^\n]*name=watch-gateway:tracking/.exec(list)?.[1];
    assert.ok(tracked, 'the gateway has a tracked connection');
    // The kill and the revoke in one transaction: the write's push can only have gone to the
    // connection that is already closed, so the gateway never hears it.
    const entry = JSON.stringify({
      userId: l.userId,
      reason: 'logout',
      revokedAt: Date.now(),
      expiresAt: Date.now() + 900_000,
    });
    const exec = await own.admin.wrap('multi', () =>
      // biome-ignore lint/suspicious/noExplicitAny: MULTI is not in the narrow command interface
      (own.admin.commands as any)
        .multi()
        .addCommand(['CLIENT', 'KILL', 'ID', tracked])
        .addCommand(['SET', `${prefix}token:blacklist:${jti}`, entry, 'PX', '900000'])
        .exec(),
    );
    assert.deepEqual(exec, [1, 'OK']);
    // Once the gateway has seen its connection close (as it would any push: the same window) and
    // reconnected, what it heard before no longer counts.
    await pushesIn(gateway);
    // Its user and session known again (everything cached was dropped with the connection)...
    assert.equal(await outcome(gateway.jwt.verifyToken(l.pair.accessToken)), 'accepted');
    // ...the token minted before the drop is still read, not answered from what was heard.
    assert.equal(await outcome(gateway.jwt.verifyToken(pair.accessToken)), 'ERR_TOKEN_REVOKED:blacklisted');
  });

  it('answers nothing by watch once the lease lapses on a hung server: first sights fail closed', async () => {
    const LEASE_MS = 300;
    const DEADLINE_MS = 300;
    const gateway = await instance({
      commandTimeoutMs: DEADLINE_MS,
      retryOnTimeout: false,
      clientSideCache: { ...clientSideCacheFor(prefix, 'broadcast'), leaseMs: LEASE_MS },
    });
    const issuer = await instance();
    const l = await login(issuer);
    await gateway.jwt.verifyToken(l.pair.accessToken);
    const unseen = [];
    for (let i = 0; i < 200; i++) unseen.push((await another(issuer, l)).accessToken);
    assert.equal(await outcome(gateway.jwt.verifyToken(unseen.pop()!)), 'accepted', 'by watch');
    own.server.process.kill('SIGSTOP'); // connections stay open, nothing answers, nothing is pushed
    try {
      const stoppedAt = performance.now();
      let last = 'accepted';
      while (last === 'accepted' && unseen.length > 0) {
        last = await outcome(gateway.jwt.verifyToken(unseen.pop()!));
        if (last === 'accepted') await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const answeredFor = performance.now() - stoppedAt;
      assert.match(last, /^ERR_STORE_(UNAVAILABLE|TIMEOUT):$/);
      // The lease is judged from the last answered PING's send time: at most one lease (and a
      // renewal interval) after the stop, then every first sight reads, and fails closed.
      assert.ok(
        answeredFor < LEASE_MS + DEADLINE_MS + 200,
        `answered by watch for ${answeredFor.toFixed(0)} ms`,
      );
      assert.match(
        await outcome(gateway.jwt.verifyToken(unseen.pop()!)),
        /^ERR_STORE_(UNAVAILABLE|TIMEOUT):$/,
      );
    } finally {
      own.server.process.kill('SIGCONT');
    }
  });

  it('holds under concurrency: revokes racing first sights on another instance are all seen once pushed', async () => {
    const gateway = await instance();
    const issuer = await instance();
    const logins = await Promise.all(Array.from({ length: 20 }, () => login(issuer)));
    await Promise.all(logins.map((l) => gateway.jwt.verifyToken(l.pair.accessToken)));
    const pairs = await Promise.all(
      logins.flatMap((l) => Array.from({ length: 10 }, () => another(issuer, l))),
    );
    const revoked = new Set<string>();
    // Half revoked (jti or family, alternately) while the gateway verifies all of them.
    const revokes = pairs.map(async (pair, i) => {
      if (i % 2 === 1) return;
      if (i % 4 === 0) await issuer.jwt.revokeAccessToken(pair.accessToken, 'logout');
      else await revokeFamily(issuer, pair.accessToken);
      revoked.add(pair.accessToken);
    });
    const racing = pairs.map((pair) => outcome(gateway.jwt.verifyToken(pair.accessToken)));
    await Promise.all([...revokes, ...racing]);
    await pushesIn(gateway);
    for (const pair of pairs) {
      const got = await outcome(gateway.jwt.verifyToken(pair.accessToken));
      if (revoked.has(pair.accessToken))
        assert.match(got, /^ERR_TOKEN_REVOKED:(blacklisted|family_revoked)$/);
      else assert.equal(got, 'accepted');
    }
  });

  it('mints no access token that outlives its family', async () => {
    const svc = await instance({}, {}, 60);
    const l = await login(svc);
    for (const pair of [l.pair, await svc.jwt.refreshTokens(l.pair.refreshToken)]) {
      const claims = svc.jwt.decodeVerified(pair.accessToken);
      assert.ok(claims.exp - claims.iat <= 60, `exp ${claims.exp - claims.iat} s after iat`);
      assert.equal(pair.expiresIn, claims.exp - claims.iat);
    }
  });
});

describe('RevocationWatch', () => {
  it('knows nothing until listening is proven, then answers per key from then on', () => {
    let now = 1_000;
    const watch = new RevocationWatch(['p:bl:', 'p:fr:'], () => now, 4);
    assert.equal(watch.unwrittenSince('p:bl:a', 5_000), false, 'not listening yet');
    watch.listening();
    assert.equal(watch.since, 1_000);
    assert.equal(watch.unwrittenSince('p:bl:a', 999), false, 'minted before listening began');
    assert.equal(watch.unwrittenSince('p:bl:a', 1_000), true);
    watch.note('p:bl:a');
    watch.note('p:other:b'); // not a watched prefix: ignored
    assert.equal(watch.unwrittenSince('p:bl:a', 2_000), false, 'heard');
    assert.equal(watch.unwrittenSince('p:other:b', 2_000), true);
    now = 3_000;
    watch.listening(); // a later proof does not move `since`
    assert.equal(watch.since, 1_000);
  });

  it('moves since to now when it forgets keys, and to unknown when the stream breaks', () => {
    let now = 1_000;
    const watch = new RevocationWatch(['p:bl:'], () => now, 2);
    watch.listening();
    watch.note('p:bl:1');
    watch.note('p:bl:2');
    assert.equal(watch.since, 1_000);
    now = 2_000;
    watch.note('p:bl:3'); // a rotation (counted as forgetting, whatever the old generation held)
    assert.equal(watch.since, 2_000, 'what was forgotten was heard before now');
    watch.note('p:bl:4');
    now = 3_000;
    watch.note('p:bl:5'); // rotation: 1 and 2 forgotten
    assert.equal(watch.since, 3_000);
    assert.equal(watch.unwrittenSince('p:bl:1', 2_500), false);
    assert.equal(watch.unwrittenSince('p:bl:9', 3_000), true);
    watch.reset();
    assert.equal(watch.since, Number.POSITIVE_INFINITY);
    assert.equal(watch.unwrittenSince('p:bl:9', 10_000), false);
    now = 4_000;
    watch.listening();
    assert.equal(watch.since, 4_000);
  });
});
