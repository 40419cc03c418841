/**
 * The fuzzed service: a real container and HTTP app (memory or Redis) configured like production
 * with three keys — an EdDSA signing key, a retired HS256 key and a verify-only ES256 key — on a
 * manual clock, plus the credentials the fuzzer needs:
 *
 * - a bystander user (one session per key, a trusted device) whose credentials must survive
 *   every case: hostile input may never revoke them;
 * - a pool of dead credentials, each dead for another reason (expired access token, expired refresh
 *   family, not yet valid, blacklisted, family revoked, session ended, refresh reuse detected,
 *   logged out, user-wide revoke), which must never be accepted;
 * - a fresh victim per case (`newVictim`), whose state the model in model.ts follows.
 *
 * Logs go (at debug level) to the suite-wide capture and to a scanner that checks them for every
 * secret of the world after each case.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Env, loadConfig } from '../../src/config/load.js';
import type { OptixConfig } from '../../src/config/types.js';
import { createOptix, type Optix } from '../../src/container.js';
import { ManualClock } from '../../src/core/clock.js';
import { buildApp, type OptixApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { login as libraryLogin } from '../../src/services/login.js';
import type { JwtService, TokenPair } from '../../src/services/types.js';
import { logDestination, recordSecrets, secretParts } from '../helpers/log-capture.js';
import { LeakScanner } from './leaks.js';
import type { KeyMaterial, TokenPools } from './tokens.js';

export type Alg = 'ed' | 'es' | 'hs';
export const ALGS: readonly Alg[] = ['ed', 'es', 'hs'];

export interface Creds {
  userId: string;
  sessionId: string;
  familyId: string;
  access: string;
  refresh: string;
  jti: string;
  /** A device the user trusts (victims only). */
  deviceId?: string;
}

export interface WorldOptions {
  backend: 'memory' | 'redis';
  /** Required for `redis`: a throwaway server (never the shared 6379). */
  redisUrl?: string;
}

export interface World {
  readonly backend: 'memory' | 'redis';
  readonly app: OptixApp;
  readonly optix: Optix;
  readonly config: OptixConfig;
  readonly clock: ManualClock;
  readonly keys: KeyMaterial;
  readonly serviceKeys: readonly [string, string];
  readonly bystander: { creds: Creds[]; userId: string; deviceId: string };
  readonly dead: {
    access: string[];
    refresh: string[];
    /** Ended sessions. */
    sessionIds: string[];
    /** Live sessions of the dead pool's users (their access token died another way). */
    liveSessionIds: string[];
    userIds: string[];
    fatal: TokenPools['fatalRefs'];
    fatal2: TokenPools['fatalRefs2'];
  };
  /** Every id the bystander owns (the fuzzer may not name them where that would revoke it). */
  newVictim(alg: Alg): Promise<Creds>;
  /** A fresh, valid user id no one has used. */
  freshUserId(prefix?: string): string;
  /** Remembers secrets (suite-wide log check and the world's own scanner). */
  secret(...values: Array<string | null | undefined>): void;
  /** Log text written since the last call, checked for every secret so far. */
  checkLogs(): { leaks: string[]; bytes: number };
  close(): Promise<void>;
}

const ISSUER = 'optix-fuzz';
const AUDIENCE = 'optix-fuzz-api';
const ACCESS_TTL = 900;
const REFRESH_TTL = 86_400;
const DAY_MS = 86_400_000;

function keyPair(type: 'ed25519' | 'p256') {
  const { privateKey, publicKey } =
    type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

let counter = 0;

/** Builds a world. Close it. */
export async function buildWorld(options: WorldOptions): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'optix-fuzz-'));
  const ed = { kid: 'ed-active', ...keyPair('ed25519') };
  const es = { kid: 'es-old', ...keyPair('p256') };
  const hs = { kid: 'hs-old', secret: `fuzz-hs-secret-${randomBytes(24).toString('base64url')}` };
  const keys: KeyMaterial = {
    ed,
    es,
    hs,
    foreignEd: keyPair('ed25519'),
    foreignEs: keyPair('p256'),
  };
  writeFileSync(join(dir, 'ed.pem'), ed.privateKeyPem);
  writeFileSync(join(dir, 'es.pub.pem'), es.publicKeyPem);
  const serviceKeys = [
    `fuzz-service-key-${randomBytes(18).toString('base64url')}`,
    `fuzz-service-key-${randomBytes(18).toString('base64url')}`,
  ] as const;

  const env: Env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    SERVICE_API_KEYS: serviceKeys.join(','),
    JWT_PRIVATE_KEY_FILE: join(dir, 'ed.pem'),
    JWT_ALG: 'EdDSA',
    JWT_KID: ed.kid,
    JWT_PREVIOUS_KEYS: `HS256:${hs.kid}:${hs.secret},ES256:${es.kid}:${join(dir, 'es.pub.pem')}`,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TTL),
    REFRESH_TOKEN_TTL_SECONDS: String(REFRESH_TTL),
    REFRESH_GRACE_SECONDS: '10',
    SESSION_IDLE_TIMEOUT_MINUTES: '7200',
    SESSION_ABSOLUTE_TIMEOUT_MINUTES: '7200',
    MAX_SESSIONS_PER_USER: '5',
    // On (the plugin and its store run), never reached.
    RATE_LIMIT_REFRESH_PER_MINUTE: '1000000',
    RATE_LIMIT_REVOKE_PER_MINUTE: '1000000',
    RATE_LIMIT_INTROSPECT_PER_MINUTE: '10000000',
    CLEANUP_INTERVAL_SECONDS: '0',
    ...(options.backend === 'redis'
      ? {
          REDIS_URL: options.redisUrl ?? '',
          REDIS_KEY_PREFIX: `fz${randomBytes(5).toString('hex')}:`,
          // Input handling is under test, not latency: a loaded machine must not turn into 503s.
          REDIS_COMMAND_TIMEOUT_MS: '10000',
        }
      : {}),
  };
  if (options.backend === 'redis' && !options.redisUrl) throw new Error('buildWorld: redisUrl is required');
  const config = loadConfig(env);
  rmSync(dir, { recursive: true, force: true });

  const scanner = new LeakScanner();
  const secret = (...values: Array<string | null | undefined>) => {
    recordSecrets(...values);
    for (const v of values) if (typeof v === 'string') scanner.add(...secretParts(v));
  };
  secret(...serviceKeys, hs.secret);

  let logText = '';
  const logger = createLogger({
    level: config.logLevel,
    destination: logDestination((chunk) => {
      logText += chunk;
    }),
  });
  const start = Date.now() - 3 * DAY_MS;
  const clock = new ManualClock(start);
  const optix = await createOptix(config, { clock, logger });
  let app: OptixApp;
  try {
    app = await buildApp(optix, { logger, metrics: createMetrics({ defaultMetrics: false }) });
    await app.ready();
  } catch (err) {
    await optix.close();
    throw err;
  }

  // Services signing with the retired keys, over the same stores: genuine tokens of every key.
  const minterOf = (key: { kid: string; alg: 'HS256'; secret: string } | typeof es): JwtService =>
    createJwtService({
      stores: optix.stores,
      keys: [
        'secret' in key
          ? { kid: key.kid, alg: 'HS256', secret: key.secret }
          : { kid: key.kid, alg: 'ES256', privateKeyPem: key.privateKeyPem },
      ],
      issuer: ISSUER,
      audience: AUDIENCE,
      accessTokenTtlSeconds: ACCESS_TTL,
      refreshTokenTtlSeconds: REFRESH_TTL,
      refreshGraceSeconds: 10,
      clock,
    });
  const minters: Record<Alg, JwtService> = {
    ed: optix.jwt,
    es: minterOf(es),
    hs: minterOf({ kid: hs.kid, alg: 'HS256', secret: hs.secret }),
  };

  const freshUserId = (prefix = 'u') => `${prefix}-${++counter}-${randomBytes(6).toString('base64url')}`;

  const credsOf = (userId: string, sessionId: string, pair: TokenPair): Creds => {
    const familyId = pair.refreshToken.slice(0, pair.refreshToken.lastIndexOf('.'));
    secret(pair.accessToken, pair.refreshToken, sessionId);
    return {
      userId,
      sessionId,
      familyId,
      access: pair.accessToken,
      refresh: pair.refreshToken,
      jti: pair.record.jti,
    };
  };
  const login = async (alg: Alg, userId = freshUserId(alg)): Promise<Creds> => {
    // The library's login, with this algorithm's minter issuing the pair.
    const { session, tokens: pair } = await libraryLogin(
      { sessions: optix.sessions, jwt: minters[alg] },
      {
        userId,
        ipAddress: '198.51.100.7',
        userAgent: 'optix-fuzz/1.0',
        // MFA-verified on a device of its own: POST /v1/me/devices trusts that device.
        deviceFingerprint: `fp-${randomBytes(8).toString('hex')}`,
        mfaVerified: true,
        email: `${userId}@example.com`,
        roles: ['user'],
        permissions: ['read'],
      },
    );
    return credsOf(userId, session.sessionId, pair);
  };

  const dead: World['dead'] = {
    access: [],
    refresh: [],
    sessionIds: [],
    liveSessionIds: [],
    userIds: [],
    fatal: { revokedJti: '', revokedJtiSub: '', endedSid: '', endedSidSub: '' },
    fatal2: { revokedFid: '', revokedFidSub: '', watermarkedSub: '' },
  };
  const bury = (c: Creds, what: { access?: boolean; refresh?: boolean; sessionLive?: boolean }) => {
    if (what.access) dead.access.push(c.access);
    if (what.refresh) dead.refresh.push(c.refresh);
    (what.sessionLive ? dead.liveSessionIds : dead.sessionIds).push(c.sessionId);
    dead.userIds.push(c.userId);
  };

  try {
    // 3 days ago: a refresh family (24 h) that will have expired; its session (5 days) has not.
    bury(await login('ed', freshUserId('expired-refresh')), {
      access: true,
      refresh: true,
      sessionLive: true,
    });
    // 2 hours ago: an access token (15 min) that will have expired.
    clock.set(start + 3 * DAY_MS - 2 * 3_600_000);
    bury(await login('hs', freshUserId('expired-access')), { access: true, sessionLive: true });
    clock.set(start + 3 * DAY_MS);
    // An hour ahead: a token issued in the future.
    clock.advance(3_600_000);
    const future = await optix.jwt.createAccessToken({ userId: freshUserId('future') });
    secret(future.token);
    dead.access.push(future.token);
    clock.advance(-3_600_000);

    // Blacklisted (RFC 7009 on the access token).
    const revoked = await login('hs', freshUserId('revoked-access'));
    await optix.jwt.revokeAccessToken(revoked.access, 'fuzz_setup');
    bury(revoked, { access: true, sessionLive: true });
    dead.fatal.revokedJti = revoked.jti;
    dead.fatal.revokedJtiSub = revoked.userId;
    // Family revoked (RFC 7009 on the refresh token): its access token and session die too.
    const family = await login('es', freshUserId('revoked-family'));
    await optix.jwt.revokeRefreshToken(family.refresh, 'fuzz_setup');
    bury(family, { access: true, refresh: true });
    dead.fatal2.revokedFid = family.familyId;
    dead.fatal2.revokedFidSub = family.userId;
    // Session ended by an operator.
    const ended = await login('ed', freshUserId('session-ended'));
    await optix.sessions.terminateSession(ended.sessionId, 'fuzz_setup');
    bury(ended, { access: true, refresh: true });
    dead.fatal.endedSid = ended.sessionId;
    dead.fatal.endedSidSub = ended.userId;
    // Refresh reuse: rotated, then the parent presented after the grace window.
    const reused = await login('hs', freshUserId('reused'));
    const child = await optix.jwt.refreshTokens(reused.refresh);
    secret(child.accessToken, child.refreshToken);
    clock.advance(11_000);
    await optix.jwt.refreshTokens(reused.refresh).then(
      () => {
        throw new Error('fuzz world: refresh reuse was not detected');
      },
      () => undefined,
    );
    bury(reused, { access: true, refresh: true });
    dead.access.push(child.accessToken);
    dead.refresh.push(child.refreshToken);
    // Logged out through the API.
    const loggedOut = await login('es', freshUserId('logged-out'));
    const logout = await app.inject({
      method: 'POST',
      url: '/v1/me/logout',
      headers: { authorization: `Bearer ${loggedOut.access}` },
    });
    if (logout.statusCode !== 204) throw new Error(`fuzz world: logout answered ${logout.statusCode}`);
    bury(loggedOut, { access: true, refresh: true });
    // Last: a user-wide revoke (its watermark is the newest moment of the world).
    const userId = freshUserId('revoked-user');
    const a = await login('ed', userId);
    const b = await login('es', userId);
    await optix.jwt.revokeAllUserTokens(userId, 'fuzz_setup');
    // The watermark kills the tokens; the sessions stay (admin revoke-all also ends them).
    bury(a, { access: true, refresh: true, sessionLive: true });
    bury(b, { access: true, refresh: true, sessionLive: true });
    dead.fatal2.watermarkedSub = userId;
  } catch (err) {
    await app.close();
    throw err;
  }

  const bystanderId = freshUserId('bystander');
  const bystanderCreds: Creds[] = [];
  for (const alg of ALGS) bystanderCreds.push(await login(alg, bystanderId));
  const device = await optix.sessions.trustDevice({
    userId: bystanderId,
    deviceFingerprint: `fp-${randomBytes(16).toString('hex')}`,
    deviceName: 'Bystander laptop',
    deviceType: 'desktop',
  });

  let closed = false;
  return {
    backend: options.backend,
    app,
    optix,
    config,
    clock,
    keys,
    serviceKeys,
    bystander: { creds: bystanderCreds, userId: bystanderId, deviceId: device.deviceId },
    dead,
    async newVictim(alg) {
      const creds = await login(alg, freshUserId('victim'));
      const device = await optix.sessions.trustDevice({
        userId: creds.userId,
        deviceFingerprint: `fp-${randomBytes(8).toString('hex')}`,
        deviceName: 'Victim phone',
        deviceType: 'mobile',
      });
      return { ...creds, deviceId: device.deviceId };
    },
    freshUserId,
    secret,
    checkLogs() {
      const text = logText;
      logText = '';
      return { leaks: scanner.scan(text), bytes: text.length };
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** The pools a token recipe resolves against, for one victim. */
export function poolsFor(world: World, victim: { access: string[]; refresh: string[] }): TokenPools {
  return {
    victimAccess: victim.access,
    victimRefresh: victim.refresh,
    bystanderAccess: world.bystander.creds.map((c) => c.access),
    bystanderRefresh: world.bystander.creds.map((c) => c.refresh),
    deadAccess: world.dead.access,
    deadRefresh: world.dead.refresh,
    fatalRefs: world.dead.fatal,
    fatalRefs2: world.dead.fatal2,
    keys: world.keys,
    issuer: ISSUER,
    audience: AUDIENCE,
    nowSeconds: Math.floor(world.clock.now() / 1000),
  };
}
