/**
 * Steady load through the library while a fault happens, with a ledger of what was acknowledged and
 * the invariants checked on every answer:
 *
 * - a revoked token (its jti, its family, its user's revoke-all or its ended session acknowledged
 *   before the verification started) is never accepted, nor an ended session validated, nor a
 *   revoked family refreshed;
 * - no user has more live sessions than the cap, and each user's index equals the live sessions;
 * - no refresh family forks: one parent token never yields two different accepted children.
 *
 * Workers run logins, verifications, session validations, refreshes (some presented twice at once)
 * and revocations concurrently, each awaited, for a bounded time. Every operation is timed, so the
 * outage (first and last store failure, fail-fast latency) can be read from the record afterwards.
 */
import { randomInt } from 'node:crypto';
import type { GuideStores } from '../../src/core/ports.js';
import { RedisClient } from '../../src/connection/client.js';
import type { RedisClientOptions } from '../../src/connection/config.js';
import { createKeySchema } from '../../src/stores/redis/keys.js';
import { createRedisStores } from '../../src/stores/redis/index.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import type { JwtService, SessionManager } from '../../src/services/types.js';
import { USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { delay } from './harness.js';

const SECRET = 'topology-test-secret-0123456789abcdef-012345';
export const SESSION_CAP = 3;

/** One library instance (what one service process holds). */
export interface Instance {
  redis: RedisClient;
  stores: GuideStores;
  jwt: JwtService;
  sessions: SessionManager;
  keyPrefix: string;
}

/** Builds and connects an instance; `keyPrefix` shared by instances that should see each other. */
export async function connectInstance(
  options: RedisClientOptions,
  keyPrefix = uniquePrefix(),
): Promise<Instance> {
  const redis = new RedisClient({ keyPrefix, ...options });
  await redis.connect();
  const stores = createRedisStores(redis);
  return {
    redis,
    stores,
    keyPrefix,
    jwt: createJwtService({
      stores,
      keys: [{ kid: 'hs-1', alg: 'HS256', secret: SECRET }],
      issuer: 'optix-test',
      audience: 'optix-api',
    }),
    sessions: createSessionManager({ stores, maxSessionsPerUser: SESSION_CAP }),
  };
}

type OpKind =
  | 'login'
  | 'verify'
  | 'validate'
  | 'refresh'
  | 'revoke'
  | 'terminate'
  | 'revokeAll'
  | 'revokeFamily';

/** One operation as it happened (times from `performance.now()`). */
export interface OpRecord {
  kind: OpKind;
  start: number;
  end: number;
  /** `ok`, a store failure (the fault), or a domain answer (revoked, reuse…: not a failure). */
  outcome: 'ok' | 'store' | 'domain';
  code?: string;
}

interface TokenEntry {
  accessToken: string;
  refreshToken: string;
  jti: string;
  userId: string;
  sessionId: string;
  familyId: string;
  /** `iat_ms` of the access token. */
  issuedAtMs: number;
  /** performance.now() at which the login that created the family was acknowledged. */
  familyAckedAt: number;
}

interface SessionEntry {
  userId: string;
  hot: boolean;
  ackedAt: number;
  /** performance.now() at which its termination was acknowledged. */
  endedAt?: number;
  /**
   * Something may have ended it without an acknowledgement we saw: a terminate or family revoke
   * that was tried (a failed call may still have been applied), or a refresh of its family that
   * failed (reuse ends the session). Not counted as lost when gone.
   */
  mayHaveEnded?: boolean;
}

/** What was acknowledged, and what went wrong. */
export class Ledger {
  readonly sessions = new Map<string, SessionEntry>();
  readonly tokens: TokenEntry[] = [];
  /** jti → ack time of its revocation. */
  readonly revokedJtis = new Map<string, { at: number; userId: string }>();
  /** familyId → ack time of its revocation. */
  readonly revokedFamilies = new Map<string, number>();
  /** userId → revoke-all calls: start (wall clock ms and performance.now()) and ack time. */
  readonly revokeAlls = new Map<
    string,
    Array<{ startedWallMs: number; startedAt: number; ackedAt: number }>
  >();
  /** parent refresh token → accepted children. */
  readonly children = new Map<string, Set<string>>();
  readonly ops: OpRecord[] = [];
  readonly violations: string[] = [];
  /**
   * Violations whose cause may have been undone by a failover, each with a check that tells
   * whether Redis lost that acknowledged revocation (see `explainByLoss`).
   */
  readonly suspects: Array<{ what: string; lost: (stores: GuideStores) => Promise<boolean> }> = [];
  readonly unexpected: string[] = [];
  reuseDetections = 0;

  violation(what: string, lost?: (stores: GuideStores) => Promise<boolean>): void {
    if (lost !== undefined) this.suspects.push({ what, lost });
    if (this.violations.length < 50) this.violations.push(what);
    else this.violations.length++;
  }
}

/** When the ledger's revocation behind `why` (as `mustRefuse` names it) was acknowledged. */
function ackOf(ledger: Ledger, entry: TokenEntry, why: string): number | undefined {
  switch (why) {
    case 'blacklisted':
      return ledger.revokedJtis.get(entry.jti)?.at;
    case 'family revoked':
      return ledger.revokedFamilies.get(entry.familyId);
    case 'session ended':
      return ledger.sessions.get(entry.sessionId)?.endedAt;
    default:
      return undefined;
  }
}

/**
 * Whether the failover lost the revocation behind `why`: Redis no longer holds it, or the load
 * made it again after the violation (so the first one, which the violation saw, was gone).
 */
function revocationLost(ledger: Ledger, entry: TokenEntry, why: string) {
  const seenAck = ackOf(ledger, entry, why);
  return async (stores: GuideStores): Promise<boolean> => {
    const now = ackOf(ledger, entry, why);
    if (seenAck !== undefined && now !== undefined && now > seenAck) return true;
    switch (why) {
      case 'blacklisted':
        return !(await stores.tokenBlacklist.isBlacklisted(entry.jti));
      case 'family revoked': {
        // A revoked family whose session ended is deleted: still refused, not lost.
        const family = await stores.refreshFamilies.get(entry.familyId);
        return family !== null && !family.revoked;
      }
      case 'session ended':
        return (await stores.sessionStore.getSession(entry.sessionId)) !== null;
      case 'user revoke-all': {
        const mark = await stores.tokenBlacklist.getUserWatermark(entry.userId);
        return mark === null || mark <= entry.issuedAtMs;
      }
      default:
        return false;
    }
  };
}

/**
 * After a master was killed: splits the violations into those explained by a revocation Redis
 * lost (acknowledged by the old master, not on its replica when it took over: replication is
 * asynchronous) and the rest. Only the rest are defects of ours.
 */
export async function explainByLoss(
  stores: GuideStores,
  ledger: Ledger,
): Promise<{ explained: number; unexplained: string[] }> {
  const suspects = new Set(ledger.suspects.map((s) => s.what));
  const unexplained = ledger.violations.filter((v) => !suspects.has(v));
  let explained = 0;
  for (const s of ledger.suspects) {
    if (await s.lost(stores)) explained++;
    else unexplained.push(`${s.what} (and Redis still holds that revocation)`);
  }
  return { explained, unexplained };
}

const STORE_CODES = new Set(['ERR_STORE_UNAVAILABLE', 'ERR_STORE_TIMEOUT']);
const DOMAIN_CODES = new Set([
  'ERR_TOKEN_REVOKED',
  'ERR_REFRESH_INVALID',
  'ERR_REFRESH_REUSED',
  'ERR_REFRESH_REVOKED',
  'ERR_SESSION_NOT_FOUND',
  'ERR_SESSION_LIMIT',
]);

function pick<T>(items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[randomInt(items.length)];
}

/** Why `entry` must be refused by a verification that started at `start`, if it must. */
function mustRefuse(ledger: Ledger, entry: TokenEntry, start: number): string | null {
  const jti = ledger.revokedJtis.get(entry.jti);
  if (jti !== undefined && jti.at < start) return 'blacklisted';
  const fam = ledger.revokedFamilies.get(entry.familyId);
  if (fam !== undefined && fam < start) return 'family revoked';
  const session = ledger.sessions.get(entry.sessionId);
  if (session?.endedAt !== undefined && session.endedAt < start) return 'session ended';
  for (const r of ledger.revokeAlls.get(entry.userId) ?? []) {
    if (r.ackedAt < start && entry.issuedAtMs < r.startedWallMs) return 'user revoke-all';
  }
  return null;
}

/** Why a refresh of `entry`'s family that started at `start` must fail, if it must. */
function mustRefuseRefresh(ledger: Ledger, entry: TokenEntry, start: number): string | null {
  const fam = ledger.revokedFamilies.get(entry.familyId);
  if (fam !== undefined && fam < start) return 'family revoked';
  const session = ledger.sessions.get(entry.sessionId);
  if (session?.endedAt !== undefined && session.endedAt < start) return 'session ended';
  for (const r of ledger.revokeAlls.get(entry.userId) ?? []) {
    if (r.ackedAt < start && entry.familyAckedAt < r.startedAt) {
      return 'user revoke-all';
    }
  }
  return null;
}

export interface LoadOptions {
  /** Instances to spread operations over (e.g. two service processes). */
  instances: readonly Instance[];
  /** Concurrent workers (default 12). */
  workers?: number;
  /** Users that log in again and again (the session cap bites). Default 6. */
  hotUsers?: number;
}

/** A running load; `stop()` ends it and resolves once every worker has finished its operation. */
export interface Load {
  readonly ledger: Ledger;
  readonly hotUsers: readonly string[];
  stop(): Promise<void>;
}

/** Starts the workers. */
export function startLoad(options: LoadOptions): Load {
  const ledger = new Ledger();
  const hotUsers = Array.from({ length: options.hotUsers ?? 6 }, () => uniqueUserId());
  let running = true;
  const instance = () => pick(options.instances)!;

  async function timed(kind: OpKind, fn: () => Promise<void>): Promise<void> {
    const start = performance.now();
    const rec: OpRecord = { kind, start, end: 0, outcome: 'ok' };
    try {
      await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== undefined && STORE_CODES.has(code)) rec.outcome = 'store';
      else if (code !== undefined && DOMAIN_CODES.has(code)) rec.outcome = 'domain';
      else {
        rec.outcome = 'domain';
        if (ledger.unexpected.length < 20) ledger.unexpected.push(`${kind}: ${String(err)}`);
      }
      if (code !== undefined) rec.code = code;
      if (code === 'ERR_REFRESH_REUSED') ledger.reuseDetections++;
    }
    rec.end = performance.now();
    ledger.ops.push(rec);
  }

  async function login(): Promise<void> {
    const hot = randomInt(2) === 0;
    const userId = hot ? pick(hotUsers)! : uniqueUserId();
    const inst = instance();
    await timed('login', async () => {
      const session = await inst.sessions.createSession({
        userId,
        ipAddress: '203.0.113.7',
        userAgent: USER_AGENT,
      });
      ledger.sessions.set(session.sessionId, { userId, hot, ackedAt: performance.now() });
      const pair = await inst.jwt.issueTokenPair({ userId, sessionId: session.sessionId });
      const payload = inst.jwt.decodeVerified(pair.accessToken);
      ledger.tokens.push({
        accessToken: pair.accessToken,
        refreshToken: pair.refreshToken,
        jti: payload.jti,
        userId,
        sessionId: session.sessionId,
        familyId: payload.fid!,
        issuedAtMs: payload.iat_ms,
        familyAckedAt: performance.now(),
      });
    });
  }

  async function verify(): Promise<void> {
    const entry = pick(ledger.tokens);
    if (!entry) return;
    const start = performance.now();
    await timed('verify', async () => {
      await instance().jwt.verifyToken(entry.accessToken);
      const why = mustRefuse(ledger, entry, start);
      if (why) {
        ledger.violation(
          `verify accepted a token whose ${why} was acknowledged before (jti ${entry.jti})`,
          revocationLost(ledger, entry, why),
        );
      }
    });
  }

  async function validate(): Promise<void> {
    const ids = [...ledger.sessions.keys()];
    const id = pick(ids.slice(-200));
    if (!id) return;
    const start = performance.now();
    await timed('validate', async () => {
      const s = await instance().sessions.validateSession(id);
      const entry = ledger.sessions.get(id)!;
      if (s !== null && entry.endedAt !== undefined && entry.endedAt < start) {
        ledger.violation(
          `validateSession accepted a session whose end was acknowledged before (${id})`,
          async (stores) => (await stores.sessionStore.getSession(id)) !== null,
        );
      }
    });
  }

  async function refresh(): Promise<void> {
    const entry = pick(ledger.tokens.slice(-200));
    if (!entry) return;
    const start = performance.now();
    const inst = instance();
    const twice = randomInt(4) === 0;
    const accept = async (pair: { accessToken: string; refreshToken: string }) => {
      const set = ledger.children.get(entry.refreshToken) ?? new Set<string>();
      set.add(pair.refreshToken);
      ledger.children.set(entry.refreshToken, set);
      if (set.size === 2) ledger.violation('a refresh family forked: two children accepted for one parent');
      const why = mustRefuseRefresh(ledger, entry, start);
      if (why) {
        ledger.violation(
          `refresh accepted although its ${why} was acknowledged before (family ${entry.familyId})`,
          revocationLost(ledger, entry, why),
        );
      }
      const payload = inst.jwt.decodeVerified(pair.accessToken);
      if (!ledger.tokens.some((t) => t.refreshToken === pair.refreshToken)) {
        ledger.tokens.push({
          ...entry,
          accessToken: pair.accessToken,
          refreshToken: pair.refreshToken,
          jti: payload.jti,
          issuedAtMs: payload.iat_ms,
        });
      }
    };
    const one = () =>
      timed('refresh', async () => {
        try {
          await accept(await inst.jwt.refreshTokens(entry.refreshToken));
        } catch (err) {
          const session = ledger.sessions.get(entry.sessionId);
          if (session) session.mayHaveEnded = true;
          throw err;
        }
      });
    await Promise.all(twice ? [one(), one()] : [one()]);
  }

  async function revoke(): Promise<void> {
    const entry = pick(ledger.tokens);
    if (!entry) return;
    await timed('revoke', async () => {
      if (await instance().jwt.revokeAccessToken(entry.accessToken, 'logout')) {
        ledger.revokedJtis.set(entry.jti, { at: performance.now(), userId: entry.userId });
      }
    });
  }

  async function terminate(): Promise<void> {
    const id = pick([...ledger.sessions.keys()].slice(-200));
    if (!id) return;
    const entry = ledger.sessions.get(id)!;
    entry.mayHaveEnded = true;
    await timed('terminate', async () => {
      await instance().sessions.terminateSession(id, 'logout');
      entry.endedAt ??= performance.now();
    });
  }

  async function revokeAll(): Promise<void> {
    const entry = pick(ledger.tokens);
    if (!entry) return;
    const startedWallMs = Date.now();
    const startedAt = performance.now();
    await timed('revokeAll', async () => {
      await instance().jwt.revokeAllUserTokens(entry.userId, 'password_change');
      const list = ledger.revokeAlls.get(entry.userId) ?? [];
      list.push({ startedWallMs, startedAt, ackedAt: performance.now() });
      ledger.revokeAlls.set(entry.userId, list);
    });
  }

  async function revokeFamily(): Promise<void> {
    const entry = pick(ledger.tokens);
    if (!entry) return;
    const session = ledger.sessions.get(entry.sessionId);
    if (session) session.mayHaveEnded = true;
    await timed('revokeFamily', async () => {
      // Any token of the family names it; a stale one is refused without revoking (forged/old).
      const current = [...ledger.tokens].reverse().find((t) => t.familyId === entry.familyId)!;
      if (await instance().jwt.revokeRefreshToken(current.refreshToken, 'logout')) {
        ledger.revokedFamilies.set(entry.familyId, performance.now());
      }
    });
  }

  const mix: Array<[number, () => Promise<void>]> = [
    [25, login],
    [35, verify],
    [15, validate],
    [14, refresh],
    [4, revoke],
    [3, terminate],
    [1, revokeAll],
    [3, revokeFamily],
  ];
  const total = mix.reduce((n, [w]) => n + w, 0);
  async function worker(): Promise<void> {
    while (running) {
      let r = randomInt(total);
      for (const [weight, op] of mix) {
        if (r < weight) {
          await op();
          break;
        }
        r -= weight;
      }
      // Yield so timers (deadlines, the fault's own steps) run on time under load.
      await delay(1);
    }
  }
  const workers = Array.from({ length: options.workers ?? 12 }, () => worker());
  return {
    ledger,
    hotUsers,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** When operations failed around a fault at `faultAt` (performance.now()). */
export interface OutageReport {
  /** Operations by outcome. */
  ok: number;
  storeFailures: number;
  domain: number;
  /** ms from the fault to the end of the last store failure (0 when none). */
  lastFailureAfterFaultMs: number;
  /** ms from the fault to the start of the last operation that failed: every later one succeeded. */
  resumedAfterFaultMs: number;
  /** ms from the fault to the first success of an operation started after it. */
  firstSuccessAfterFaultMs: number | null;
  /** Slowest store failure, ms, by operation kind. */
  slowestFailureMs: Partial<Record<OpKind, number>>;
}

export function outage(ledger: Ledger, faultAt: number): OutageReport {
  const ops = ledger.ops;
  const failures = ops.filter((o) => o.outcome === 'store');
  const slowest: Partial<Record<OpKind, number>> = {};
  for (const f of failures) slowest[f.kind] = Math.max(slowest[f.kind] ?? 0, f.end - f.start);
  const after = ops.filter((o) => o.start >= faultAt && o.outcome === 'ok').sort((a, b) => a.end - b.end);
  const lastFailure = failures.reduce((m, f) => Math.max(m, f.end), faultAt);
  const lastFailedStart = failures.reduce((m, f) => Math.max(m, f.start), faultAt);
  return {
    ok: ops.filter((o) => o.outcome === 'ok').length,
    storeFailures: failures.length,
    domain: ops.filter((o) => o.outcome === 'domain').length,
    lastFailureAfterFaultMs: Math.round(lastFailure - faultAt),
    resumedAfterFaultMs: Math.round(lastFailedStart - faultAt),
    firstSuccessAfterFaultMs: after[0] ? Math.round(after[0].end - faultAt) : null,
    slowestFailureMs: Object.fromEntries(Object.entries(slowest).map(([k, v]) => [k, Math.round(v)])),
  };
}

/** ms from `since` to the first success of an operation that started after `since`. */
export function firstSuccessAfter(ledger: Ledger, since: number): number | null {
  const ok = ledger.ops.filter((o) => o.start >= since && o.outcome === 'ok').sort((a, b) => a.end - b.end);
  return ok[0] ? Math.round(ok[0].end - since) : null;
}

/** The state checks after the load: cap, index = live sessions, forks. */
export interface StateReport {
  usersOverCap: number;
  /** Users whose index names a session the store does not return as live, or the reverse. */
  indexMismatches: number;
  /**
   * Records of evicted sessions left behind when step 3 of `createSession` (the DEL after the
   * script) failed: out of the index, so dead and never returned; the sweeper deletes them.
   */
  orphanRecords: number;
  forks: number;
  details: string[];
}

/**
 * For every user of the ledger, reads the session index through `admin` (a client on the same
 * Redis) and asks the store about each indexed or known session: the live indexed members must be
 * exactly the sessions the store returns, with a record behind each, at most `SESSION_CAP` of them.
 */
export async function checkState(
  admin: RedisClient,
  stores: GuideStores,
  keyPrefix: string,
  ledger: Ledger,
): Promise<StateReport> {
  const keys = createKeySchema(keyPrefix);
  const byUser = new Map<string, Set<string>>();
  for (const [id, s] of ledger.sessions) {
    const set = byUser.get(s.userId) ?? new Set<string>();
    set.add(id);
    byUser.set(s.userId, set);
  }
  const report: StateReport = {
    usersOverCap: 0,
    indexMismatches: 0,
    orphanRecords: 0,
    forks: 0,
    details: [],
  };
  const now = Date.now();
  const c = admin.commands;
  await Promise.all(
    [...byUser].map(async ([userId, known]) => {
      const indexed = await admin.wrap('zRange', () =>
        c.zRange(keys.userSessions(userId), `(${now}`, '+inf', { BY: 'SCORE' }),
      );
      const candidates = [...new Set([...known, ...indexed])];
      const live: string[] = [];
      await Promise.all(
        candidates.map(async (id) => {
          const [session, record] = await Promise.all([
            stores.sessionStore.getSession(id),
            admin.wrap('exists', () => c.exists(keys.session(id))),
          ]);
          if (session !== null) {
            live.push(id);
            if (record !== 1) report.details.push(`${id}: returned as live without a record`);
          } else if (record === 1 && !indexed.includes(id)) {
            report.orphanRecords++;
          } else if (record !== 1 && indexed.includes(id)) {
            report.details.push(`${id}: indexed without a record`);
          }
        }),
      );
      if (indexed.length > SESSION_CAP) {
        report.usersOverCap++;
        report.details.push(`${userId}: ${indexed.length} live sessions > cap ${SESSION_CAP}`);
      }
      const a = [...indexed].sort().join(',');
      const b = live.sort().join(',');
      if (a !== b) {
        report.indexMismatches++;
        if (report.details.length < 10) report.details.push(`${userId}: index [${a}] vs live [${b}]`);
      }
    }),
  );
  for (const set of ledger.children.values()) if (set.size > 1) report.forks++;
  return report;
}

/** Acknowledged writes missing after a restart. */
export interface LossReport {
  sessionsChecked: number;
  sessionsLost: number;
  blacklistChecked: number;
  blacklistLost: number;
  watermarksChecked: number;
  watermarksLost: number;
  familyRevocationsChecked: number;
  familyRevocationsLost: number;
}

/**
 * Every acknowledged write still there: sessions of users who logged in once and never ended it
 * (a hot user's session may have been evicted by the cap, legitimately), blacklist entries,
 * revoke-all watermarks and family revocations. `before`: only writes acknowledged before it.
 */
export async function checkLoss(
  stores: GuideStores,
  ledger: Ledger,
  before = Number.POSITIVE_INFINITY,
): Promise<LossReport> {
  const r: LossReport = {
    sessionsChecked: 0,
    sessionsLost: 0,
    blacklistChecked: 0,
    blacklistLost: 0,
    watermarksChecked: 0,
    watermarksLost: 0,
    familyRevocationsChecked: 0,
    familyRevocationsLost: 0,
  };
  const checks: Array<Promise<void>> = [];
  const run = async (fn: () => Promise<void>) => {
    checks.push(fn());
    if (checks.length >= 64) await Promise.all(checks.splice(0));
  };
  for (const [id, s] of ledger.sessions) {
    if (s.hot || s.endedAt !== undefined || s.mayHaveEnded || s.ackedAt >= before) continue;
    r.sessionsChecked++;
    await run(async () => {
      if ((await stores.sessionStore.getSession(id)) === null) r.sessionsLost++;
    });
  }
  for (const [jti, v] of ledger.revokedJtis) {
    if (v.at >= before) continue;
    r.blacklistChecked++;
    await run(async () => {
      if (!(await stores.tokenBlacklist.isBlacklisted(jti))) r.blacklistLost++;
    });
  }
  for (const [userId, list] of ledger.revokeAlls) {
    const acked = list.filter((x) => x.ackedAt < before);
    if (acked.length === 0) continue;
    const needed = Math.max(...acked.map((x) => x.startedWallMs));
    r.watermarksChecked++;
    await run(async () => {
      const mark = await stores.tokenBlacklist.getUserWatermark(userId);
      if (mark === null || mark < needed) r.watermarksLost++;
    });
  }
  for (const [familyId, at] of ledger.revokedFamilies) {
    if (at >= before) continue;
    r.familyRevocationsChecked++;
    await run(async () => {
      // Lost only if the family is back unrevoked: a revoked family whose session has ended is
      // deleted (refused as unknown, docs/data-model.md), which is not a loss.
      const family = await stores.refreshFamilies.get(familyId);
      if (family !== null && !family.revoked) r.familyRevocationsLost++;
    });
  }
  await Promise.all(checks);
  return r;
}

/** Operations per kind that succeeded: shows the load really ran every kind. */
export function okByKind(ledger: Ledger): Partial<Record<OpKind, number>> {
  const out: Partial<Record<OpKind, number>> = {};
  for (const o of ledger.ops) if (o.outcome === 'ok') out[o.kind] = (out[o.kind] ?? 0) + 1;
  return out;
}
