/**
 * A day in the life of the service, as its clients live it: many simulated users on two instances
 * that share one store, driven through HTTP (Fastify's `inject`, the whole request cycle) on one
 * injected clock, so simulated hours pass in seconds.
 *
 * The clients are the real ones: a login service that creates sessions (and, on a password change,
 * revokes everything of the user and logs them in again at once), apps that refresh their access
 * token before it expires, an API gateway that introspects every API call, users who go idle for
 * shorter and longer than the idle timeout, log out, log out their other devices, a thief who
 * replays a copied refresh token, an operator who ends sessions, and one hostile account that
 * floods everything a user can call.
 *
 * After each simulated hour the invariants are checked and counted:
 * - `unexpectedLogouts`: a client whose session should be alive (used within the idle timeout, not
 *   past its absolute end, not revoked) found its token inactive or its refresh refused;
 * - `deadCredentialsAccepted`: an access or refresh token that was revoked, replaced by a logout,
 *   stolen and detected, or expired, was accepted by either instance;
 * - `sessionsOverCap`: a user with more live sessions than `MAX_SESSIONS_PER_USER`;
 * - `serverErrors`: any 5xx answer;
 * - `bytesOverBound` (Redis only): a user whose keys (grouped by the hash tag every key of one user
 *   carries) take more than the stated bound (`MEMORY USAGE`).
 *
 * Time: the rate limiters count real seconds, and simulated hours pass in real seconds, so the
 * simulation turns the HTTP rate limits off (they are tested on their own); everything else runs
 * with production defaults except the idle timeout, which stays at its default of 30 minutes.
 */
import { createClient } from '@redis/client';
import { ManualClock } from '../../src/core/clock.js';
import { userTag } from '../../src/core/ids.js';
import { loadConfig } from '../../src/config/load.js';
import { createOptix, type Optix } from '../../src/container.js';
import { buildApp, type OptixApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';

export interface SimulationOptions {
  /** Redis URL shared by both instances; `null` runs both on one in-memory container (one process). */
  redisUrl: string | null;
  keyPrefix?: string;
  /** Ordinary users (the hostile account comes on top). */
  users: number;
  /** Simulated hours. */
  hours: number;
  /** Seed of the pseudo-random choices (same seed, same day). */
  seed?: number;
  /** Extra environment for both instances (e.g. a shorter idle timeout). */
  env?: Record<string, string>;
  /** Called after each simulated hour with the counts so far. */
  onHour?: (report: HourReport) => void;
}

export interface Counts {
  requests: number;
  logins: number;
  refreshes: number;
  introspections: number;
  revocations: number;
  expectedLogouts: number;
  theftsDetected: number;
  unexpectedLogouts: number;
  deadCredentialsAccepted: number;
  sessionsOverCap: number;
  serverErrors: number;
  bytesOverBound: number;
  loginsRefused: number;
  /** How many times each scenario was played. */
  scenarios: Record<Scenario, number>;
}

export interface HourReport {
  hour: number;
  counts: Counts;
  /**
   * Redis bytes of the heaviest user (the hostile one, as a rule), of the hostile account, and the
   * mean, by hash tag (null on memory).
   */
  bytes: { max: number; mean: number; users: number; hostile: number } | null;
}

export interface SimulationResult {
  counts: Counts;
  hours: HourReport[];
  /** A readable line for each violation (at most 50). */
  violations: string[];
}

/** The invariant counters: any non-zero one fails the run. */
export const VIOLATION_KEYS = [
  'unexpectedLogouts',
  'deadCredentialsAccepted',
  'sessionsOverCap',
  'serverErrors',
  'bytesOverBound',
  'loginsRefused',
] as const satisfies ReadonlyArray<keyof Counts>;

/**
 * The bound docs/data-model.md states ("What one user can hold"), with the default caps: sessions
 * (each with its refresh family, which ends with it), trusted devices and security events by count,
 * plus the revoked access tokens (kept one access-token life). No term grows with logins.
 */
export function statedUserBytesBound(revoked15min: number): number {
  return 5 * (2_100 + 1_300) + 20 * 900 + 1000 * 2_400 + revoked15min * 500 + 8_000;
}

const SERVICE_KEY = 'simulation-service-key-0123456789abcdef';
const MINUTE = 60_000;
const IDLE_MINUTES = 30;
const ACCESS_TTL_MINUTES = 15;
const MAX_SESSIONS = 5;

interface Instance {
  name: string;
  app: OptixApp;
  optix: Optix;
}

interface Credentials {
  sessionId: string;
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  /** When the session was created (absolute timeout counts from here). */
  createdAt: number;
  /** Last use that slides the idle timeout. */
  lastUsedAt: number;
}

interface Client {
  userId: string;
  device: string;
  ip: string;
  creds: Credentials | null;
  /** Simulated time until which this client does nothing. */
  idleUntil: number;
  /** True while its session may legitimately have ended (revoked elsewhere, idle past the timeout). */
  mayBeEnded: boolean;
}

type Scenario =
  | 'idleShort'
  | 'idleLong'
  | 'logout'
  | 'logoutOthers'
  | 'passwordChange'
  | 'theft'
  | 'operatorEnd';
export const SCENARIOS: readonly Scenario[] = [
  'idleShort',
  'idleLong',
  'logout',
  'logoutOthers',
  'passwordChange',
  'theft',
  'operatorEnd',
];

/** What a client does this minute: mostly API calls, now and then one of the scenarios. */
function chooseEvent(r: number, devices: number): Scenario | 'api' {
  if (r < 0.004) return 'idleShort';
  if (r < 0.006) return 'idleLong';
  if (r < 0.0075) return 'logout';
  if (r < 0.0085 && devices > 1) return 'logoutOthers';
  if (r < 0.0093) return 'passwordChange';
  if (r < 0.0099) return 'theft';
  if (r < 0.0102) return 'operatorEnd';
  return 'api';
}

interface DeadCredential {
  kind: 'access' | 'refresh';
  token: string;
  why: string;
}

/** mulberry32: a small seeded PRNG, so a run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const random = prng(options.seed ?? 1);
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 6, 0, 0));
  const keyPrefix = options.keyPrefix ?? `sim${Math.floor(Math.random() * 1e9).toString(36)}:`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    SERVICE_API_KEYS: SERVICE_KEY,
    JWT_SECRET: 'simulation-jwt-secret-0123456789abcdef-0123456789',
    LOG_LEVEL: 'silent',
    CLEANUP_INTERVAL_SECONDS: '0',
    SESSION_IDLE_TIMEOUT_MINUTES: String(IDLE_MINUTES),
    ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TTL_MINUTES * 60),
    MAX_SESSIONS_PER_USER: String(MAX_SESSIONS),
    RATE_LIMIT_REFRESH_PER_MINUTE: '0',
    RATE_LIMIT_REVOKE_PER_MINUTE: '0',
    RATE_LIMIT_INTROSPECT_PER_MINUTE: '0',
    RATE_LIMIT_ME_WRITES_PER_MINUTE: '0',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl, REDIS_KEY_PREFIX: keyPrefix } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: 'silent' });
  const instances: Instance[] = [];
  const shared = options.redisUrl === null ? await createOptix(config, { clock, logger }) : null;
  for (const name of ['A', 'B']) {
    const optix = shared ?? (await createOptix(config, { clock, logger }));
    const app = await buildApp(optix, { logger });
    await app.ready();
    instances.push({ name, app, optix });
  }
  // A plain client of our own for the byte count (SCAN + MEMORY USAGE) and the clean-up.
  const admin = options.redisUrl ? createClient({ url: options.redisUrl }) : null;
  await admin?.connect();

  const counts: Counts = {
    requests: 0,
    logins: 0,
    refreshes: 0,
    introspections: 0,
    revocations: 0,
    expectedLogouts: 0,
    theftsDetected: 0,
    unexpectedLogouts: 0,
    deadCredentialsAccepted: 0,
    sessionsOverCap: 0,
    serverErrors: 0,
    bytesOverBound: 0,
    loginsRefused: 0,
    scenarios: Object.fromEntries(SCENARIOS.map((k) => [k, 0])) as Record<Scenario, number>,
  };
  const violations: string[] = [];
  const violation = (key: (typeof VIOLATION_KEYS)[number], text: string) => {
    counts[key]++;
    if (violations.length < 50) violations.push(`[${new Date(clock.now()).toISOString()}] ${key}: ${text}`);
  };
  const dead: DeadCredential[] = [];
  /** Logins of each user (all within the refresh lifetime) and access tokens it revoked. */
  const revokesByUser = new Map<string, number[]>();
  const bury = (c: Credentials | null, why: string) => {
    if (c === null) return;
    dead.push({ kind: 'access', token: c.accessToken, why }, { kind: 'refresh', token: c.refreshToken, why });
  };

  const pick = () => instances[random() < 0.5 ? 0 : 1]!;
  async function call(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    opts: { auth?: string; body?: unknown; ip?: string; at?: Instance } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const at = opts.at ?? pick();
    counts.requests++;
    const res = await at.app.inject({
      method,
      url,
      ...(opts.ip ? { remoteAddress: opts.ip } : {}),
      headers: opts.auth ? { authorization: `Bearer ${opts.auth}` } : {},
      ...(opts.body !== undefined ? { payload: opts.body as Record<string, unknown> } : {}),
    });
    let body: Record<string, unknown> = {};
    try {
      body = res.body === '' ? {} : (JSON.parse(res.body) as Record<string, unknown>);
    } catch {
      // not JSON
    }
    if (res.statusCode >= 500)
      violation('serverErrors', `${method} ${url} at ${at.name}: ${res.statusCode} ${res.body}`);
    return { status: res.statusCode, body };
  }

  async function login(client: Client, at?: Instance): Promise<boolean> {
    const res = await call('POST', '/v1/sessions', {
      auth: SERVICE_KEY,
      ...(at ? { at } : {}),
      body: {
        userId: client.userId,
        ipAddress: client.ip,
        userAgent: `sim/${client.device}`,
        deviceId: client.device,
      },
    });
    if (res.status !== 201) {
      violation(
        'loginsRefused',
        `${client.userId}/${client.device}: ${res.status} ${JSON.stringify(res.body)}`,
      );
      client.creds = null;
      return false;
    }
    counts.logins++;
    const now = clock.now();
    client.creds = {
      sessionId: (res.body.session as { sessionId: string }).sessionId,
      accessToken: res.body.accessToken as string,
      refreshToken: res.body.refreshToken as string,
      accessExpiresAt: now + (res.body.expiresIn as number) * 1000,
      createdAt: now,
      lastUsedAt: now,
    };
    client.mayBeEnded = false;
    return true;
  }

  /** The model's verdict: must this client's session still be alive? */
  const mustBeAlive = (client: Client) => {
    const c = client.creds;
    if (c === null || client.mayBeEnded) return false;
    const now = clock.now();
    // One minute of slack on each side: activity is recorded at most once a minute.
    return now - c.lastUsedAt < (IDLE_MINUTES - 2) * MINUTE && now - c.createdAt < 11 * 60 * MINUTE;
  };
  /** Certainly ended by time alone (idle or absolute), whatever the write interval. */
  const mustBeEndedByTime = (c: Credentials) => {
    const now = clock.now();
    return now - c.lastUsedAt > (IDLE_MINUTES + 2) * MINUTE || now - c.createdAt > 12 * 60 * MINUTE + MINUTE;
  };

  async function refresh(client: Client): Promise<boolean> {
    const c = client.creds!;
    const alive = mustBeAlive(client);
    const endedByTime = mustBeEndedByTime(c);
    const res = await call('POST', '/v1/token/refresh', {
      ip: client.ip,
      body: { refreshToken: c.refreshToken },
    });
    counts.refreshes++;
    if (res.status === 200) {
      if (endedByTime)
        violation(
          'deadCredentialsAccepted',
          `${client.userId}: refresh accepted ${Math.round((clock.now() - c.lastUsedAt) / MINUTE)} min after last use`,
        );
      const now = clock.now();
      client.creds = {
        ...c,
        accessToken: res.body.accessToken as string,
        refreshToken: res.body.refreshToken as string,
        accessExpiresAt: now + (res.body.expiresIn as number) * 1000,
        lastUsedAt: now,
      };
      return true;
    }
    if (alive)
      violation(
        'unexpectedLogouts',
        `${client.userId}/${client.device}: refresh refused ${res.status} ${JSON.stringify(res.body)}`,
      );
    else counts.expectedLogouts++;
    bury(c, 'session ended');
    client.creds = null;
    return false;
  }

  /** One API call through the gateway: it introspects the access token first. */
  /** As an app does before it calls anything: a fresh access token, or false when logged out. */
  async function ensureFresh(client: Client): Promise<boolean> {
    if (client.creds === null) return false;
    return client.creds.accessExpiresAt - clock.now() >= 2 * MINUTE || (await refresh(client));
  }

  async function apiCall(client: Client): Promise<void> {
    if (!(await ensureFresh(client))) return;
    const c = client.creds!;
    const alive = mustBeAlive(client);
    const res = await call('POST', '/v1/introspect', { auth: SERVICE_KEY, body: { token: c.accessToken } });
    counts.introspections++;
    if (res.body.active === true) {
      if (mustBeEndedByTime(c))
        violation(
          'deadCredentialsAccepted',
          `${client.userId}: access token active ${Math.round((clock.now() - c.lastUsedAt) / MINUTE)} min after last use`,
        );
      c.lastUsedAt = clock.now();
      return;
    }
    if (alive) violation('unexpectedLogouts', `${client.userId}/${client.device}: introspection inactive`);
    // The app notices and tries its refresh token, as a real one would.
    await refresh(client);
  }

  // ---- the population
  const clients: Client[] = [];
  const users: Array<{ id: string; devices: Client[] }> = [];
  for (let u = 0; u < options.users; u++) {
    const id = `sim-user-${u}`;
    const devices = ['desktop', 'phone'].slice(0, random() < 0.5 ? 2 : 1).map((device, d) => ({
      userId: id,
      device,
      ip: `198.51.${u % 250}.${d + 1}`,
      creds: null,
      idleUntil: clock.now() + Math.floor(random() * 60) * MINUTE,
      mayBeEnded: false,
    }));
    users.push({ id, devices });
    clients.push(...devices);
  }
  // Every scenario is played at least once in the first hour (by the first users that have a second
  // device where it needs one), whatever the seed; the rest of the day is left to chance.
  const forced = new Map<Client, { at: number; kind: Scenario }>();
  {
    const start = clock.now();
    SCENARIOS.forEach((kind, i) => {
      const owner = users.find(
        (u) => !forced.has(u.devices[0]!) && (kind !== 'logoutOthers' || u.devices.length > 1),
      );
      if (owner === undefined) return;
      owner.devices[0]!.idleUntil = 0;
      forced.set(owner.devices[0]!, { at: start + (15 + 5 * i) * MINUTE, kind });
    });
  }
  const hostile: Client = {
    userId: 'sim-hostile',
    device: 'bot',
    ip: '203.0.113.66',
    creds: null,
    idleUntil: 0,
    mayBeEnded: false,
  };

  /** One minute of one client's life. */
  async function tick(client: Client, user: { id: string; devices: Client[] }): Promise<void> {
    const now = clock.now();
    if (now < client.idleUntil) return;
    if (client.creds === null) {
      await login(client);
      return;
    }
    const due = forced.get(client);
    if (due !== undefined && due.at <= now) forced.delete(client);
    const kind = due !== undefined && due.at <= now ? due.kind : chooseEvent(random(), user.devices.length);
    if (kind !== 'api') counts.scenarios[kind]++;
    switch (kind) {
      case 'idleShort':
        // Idle shorter than the timeout: must come back logged in.
        client.idleUntil = now + (5 + Math.floor(random() * 15)) * MINUTE;
        return;
      case 'idleLong':
        // Idle longer than the timeout: must come back logged out (the refresh is refused).
        client.idleUntil = now + (IDLE_MINUTES + 15 + Math.floor(random() * 60)) * MINUTE;
        client.mayBeEnded = true;
        return;
      case 'logout': {
        if (!(await ensureFresh(client))) return;
        const c = client.creds!;
        const res = await call('POST', '/v1/me/logout', { auth: c.accessToken });
        if (res.status === 204) {
          bury(c, 'logout');
          client.creds = null;
          client.idleUntil = now + 30 * MINUTE;
        } else if (mustBeAlive(client))
          violation('unexpectedLogouts', `${client.userId}: logout refused ${res.status}`);
        return;
      }
      case 'logoutOthers': {
        if (!(await ensureFresh(client))) return;
        const res = await call('POST', '/v1/me/logout-others', { auth: client.creds!.accessToken });
        if (res.status === 200) {
          for (const other of user.devices) {
            if (other === client || other.creds === null) continue;
            bury(other.creds, 'logout-others');
            other.mayBeEnded = true;
          }
        } else if (mustBeAlive(client))
          violation('unexpectedLogouts', `${client.userId}: logout-others refused ${res.status}`);
        return;
      }
      case 'passwordChange': {
        // Password change: the login service revokes everything at one instance, logs in at the other.
        const [a, b] = random() < 0.5 ? [instances[0]!, instances[1]!] : [instances[1]!, instances[0]!];
        const res = await call('DELETE', `/v1/admin/users/${encodeURIComponent(user.id)}/sessions`, {
          auth: SERVICE_KEY,
          at: a,
        });
        counts.revocations++;
        if (res.status !== 200) return;
        for (const d of user.devices) {
          bury(d.creds, 'password change');
          if (d !== client) d.mayBeEnded = true;
        }
        if (await login(client, b)) {
          // The new token must be accepted at once, on both instances.
          for (const at of instances) {
            const intro = await call('POST', '/v1/introspect', {
              auth: SERVICE_KEY,
              at,
              body: { token: client.creds!.accessToken },
            });
            if (intro.body.active !== true)
              violation(
                'unexpectedLogouts',
                `${client.userId}: new login after revoke-all inactive at ${at.name}`,
              );
          }
        }
        return;
      }
      case 'theft': {
        // Theft: the refresh token is copied; the app rotates it; the thief replays the copy later.
        const stolen = client.creds.refreshToken;
        if (!(await refresh(client))) return;
        // The replay comes two minutes later, well past the grace window.
        pendingThefts.push({ client, stolen, sessionId: client.creds!.sessionId, at: now + 2 * MINUTE });
        return;
      }
      case 'operatorEnd': {
        // An operator ends this session.
        const c = client.creds;
        const res = await call('DELETE', `/v1/admin/sessions/${encodeURIComponent(c.sessionId)}`, {
          auth: SERVICE_KEY,
        });
        counts.revocations++;
        if (res.status === 204) {
          bury(c, 'ended by an operator');
          client.mayBeEnded = true;
        }
        return;
      }
      default:
        await apiCall(client);
    }
  }

  const pendingThefts: Array<{ client: Client; stolen: string; sessionId: string; at: number }> = [];
  async function replayThefts(): Promise<void> {
    const due = pendingThefts.filter((t) => t.at <= clock.now());
    for (const t of due) {
      pendingThefts.splice(pendingThefts.indexOf(t), 1);
      const res = await call('POST', '/v1/token/refresh', {
        ip: '192.0.2.66',
        body: { refreshToken: t.stolen },
      });
      if (res.status === 200) {
        violation(
          'deadCredentialsAccepted',
          `${t.client.userId}: a replayed, already rotated refresh token was accepted`,
        );
        continue;
      }
      counts.theftsDetected++;
      // The family is revoked: the victim's current tokens are dead too, and it must log in again.
      if (t.client.creds !== null && t.client.creds.sessionId === t.sessionId) {
        bury(t.client.creds, 'refresh family revoked after theft');
        t.client.mayBeEnded = true;
      }
      dead.push({ kind: 'refresh', token: t.stolen, why: 'stolen and replayed' });
    }
  }

  /** A hostile account: floods logins, device trusts, logout-others and revokes each minute. */
  async function hostileTick(): Promise<void> {
    for (let i = 0; i < 3; i++) await login(hostile);
    const c = hostile.creds;
    if (c === null) return;
    for (let i = 0; i < 3; i++) {
      await call('POST', '/v1/me/devices', {
        auth: c.accessToken,
        body: {
          deviceFingerprint: `fp-${clock.now()}-${i}-${random()}`,
          deviceName: 'x',
          deviceType: 'bot',
          durationDays: 365,
        },
      });
    }
    await call('POST', '/v1/me/logout-others', { auth: c.accessToken });
    await call('POST', '/v1/revoke', { ip: hostile.ip, body: { token: c.accessToken } });
    await call('POST', '/v1/revoke', { ip: hostile.ip, body: { token: c.accessToken } });
    revokesByUser.set(hostile.userId, [...(revokesByUser.get(hostile.userId) ?? []), clock.now()]);
    hostile.creds = null;
  }

  async function checkHour(hour: number): Promise<HourReport> {
    // Dead credentials stay dead, on both instances.
    const sample = dead.length > 400 ? dead.filter(() => random() < 400 / dead.length) : dead;
    for (const d of sample) {
      for (const at of instances) {
        if (d.kind === 'access') {
          const res = await call('POST', '/v1/introspect', {
            auth: SERVICE_KEY,
            at,
            body: { token: d.token },
          });
          if (res.body.active === true)
            violation('deadCredentialsAccepted', `access token (${d.why}) active at ${at.name}`);
        } else {
          const res = await call('POST', '/v1/token/refresh', {
            at,
            ip: '192.0.2.1',
            body: { refreshToken: d.token },
          });
          if (res.status === 200)
            violation('deadCredentialsAccepted', `refresh token (${d.why}) accepted at ${at.name}`);
        }
      }
    }
    // No user over the cap.
    for (const u of [...users.map((x) => x.id), hostile.userId]) {
      const res = await call('GET', `/v1/admin/users/${encodeURIComponent(u)}/sessions`, {
        auth: SERVICE_KEY,
      });
      const n = (res.body.sessions as unknown[] | undefined)?.length ?? 0;
      if (n > MAX_SESSIONS) violation('sessionsOverCap', `${u} has ${n} live sessions`);
    }
    let bytes: HourReport['bytes'] = null;
    if (admin !== null) {
      const perTag = new Map<string, number>();
      for await (const batch of admin.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) {
        for (const key of batch as string[]) {
          const tag = /\{([^}]*)\}/.exec(key)?.[1];
          if (tag === undefined) continue;
          const size = Number((await admin.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])) ?? 0);
          perTag.set(tag, (perTag.get(tag) ?? 0) + size);
        }
      }
      const sizes = [...perTag.values()];
      const max = Math.max(0, ...sizes);
      const mean = sizes.length === 0 ? 0 : sizes.reduce((a, b) => a + b, 0) / sizes.length;
      bytes = {
        max,
        mean: Math.round(mean),
        users: sizes.length,
        hostile: perTag.get(userTag(hostile.userId)) ?? 0,
      };
      // Keys carry the user's plain slot tag (src/core/ids.ts) as their hash tag.
      for (const u of [...users.map((x) => x.id), hostile.userId]) {
        const size = perTag.get(userTag(u)) ?? 0;
        const bound = statedUserBytesBound(
          (revokesByUser.get(u) ?? []).filter((t) => t > clock.now() - ACCESS_TTL_MINUTES * MINUTE).length,
        );
        if (size > bound) violation('bytesOverBound', `${u} holds ${size} B (stated bound ${bound})`);
      }
    }
    return { hour, counts: { ...counts, scenarios: { ...counts.scenarios } }, bytes };
  }

  const hours: HourReport[] = [];
  try {
    for (let hour = 1; hour <= options.hours; hour++) {
      for (let minute = 0; minute < 60; minute++) {
        clock.advance(MINUTE);
        // Users act at once; the devices of one user one after the other (a user's own events
        // within one minute are ordered, so the model knows what each device should see).
        await Promise.all(
          users.map(async (u) => {
            for (const d of u.devices) await tick(d, u);
          }),
        );
        await replayThefts();
        await hostileTick();
      }
      const report = await checkHour(hour);
      hours.push(report);
      options.onHour?.(report);
    }
  } finally {
    for (const i of instances) await i.app.close();
    await shared?.close();
    if (admin !== null) {
      for await (const batch of admin.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) {
        if ((batch as string[]).length > 0) for (const k of batch as string[]) await admin.del(k);
      }
      await admin.quit();
    }
  }
  return { counts, hours, violations };
}
