/**
 * `npx tsx bench/profile.ts <path> [--ops N] [--profile FILE] [--peer] [--tracking broadcast|default]`:
 * the client CPU one operation of a Redis path costs, in process, 64 in flight, against a throwaway redis-server
 * (`process.cpuUsage` of this process, so Redis's own work is not in it; steadier than wall time
 * on a busy machine), and with `--profile` a CPU profile of the timed phase (`.cpuprofile`, Chrome
 * DevTools format, sampled every 100 µs; `node bench/support/cpuprofile.mjs FILE` summarises it).
 * `--peer` measures the scenario's peer the same way (fast-jwt + ioredis EXISTS, connect-redis
 * set, the hand-rolled rotation), so the two CPU costs can be compared in one run.
 *
 * Paths: first-sight (verifyToken on fresh tokens), create (createSession, new user and device),
 * create-floor and create-floor-no-events (the login's `session_create` call alone, replayed by a
 * bare client: what a login costs Redis, with and without its two events; `bench/support/login-script.ts`),
 * refresh (refreshTokens), validate (validateSession, warm), warm-verify (verifyToken of tokens seen
 * before, recording the session's use as `POST /v1/introspect` does). docs/performance.md quotes them.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { clientSideCacheFor, createJwtService, login } from '../src/index.js';
import { captureLoginCall, loginReplayer } from './support/login-script.js';
import { Ring } from './support/measure.js';
import {
  AUDIENCE,
  createOurSide,
  ISSUER,
  JWT_KID,
  JWT_SECRET,
  KEY_PREFIX,
  pastStartUpWindow,
} from './support/optix.js';
import { expressSession, expressSessionId, IDLE_MS, sessionInput } from './support/payload.js';
import {
  blacklistKey,
  connectIoredis,
  connectRedisStore,
  fastJwtSigner,
  fastJwtVerifier,
} from './support/peers.js';
import { startRedis } from './support/redis.js';
import { createSessions, issueAccessTokens } from './support/tokens.js';

const IN_FLIGHT = 64;
const args = process.argv.slice(2);
const path = args[0] ?? 'first-sight';
const option = (name: string) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const OPS = Number(option('--ops') ?? 20_000);
const profileFile = option('--profile') ?? null;
// The client-side cache's tracking mode (the service's default: broadcast).
const peer = args.includes('--peer');

type Op = (i: number) => Promise<unknown>;

const tracking = option('--tracking') ?? 'broadcast';
if (tracking !== 'broadcast' && tracking !== 'default') throw new Error('--tracking broadcast|default');

const server = await startRedis();
const our = await createOurSide(server.url, { clientSideCache: clientSideCacheFor(KEY_PREFIX, tracking) });
const io = await connectIoredis(server.url);
const store = await connectRedisStore(server.url, IDLE_MS / 1000);

/** Builds the operation (setup untimed). */
async function prepare(): Promise<{ ours: Op; theirs: Op }> {
  if (path === 'first-sight') {
    const sessions = await createSessions(our, 'pf', 1000);
    await pastStartUpWindow(our);
    // Two pools: the warm-up and the timed phase each see tokens never seen before.
    const warm = await issueAccessTokens(our, sessions, 4000);
    const timed = await issueAccessTokens(our, sessions, OPS);
    const verify = fastJwtVerifier({ cache: false });
    let pool = warm;
    const ours: Op = async (i) => {
      const { revocationChecked } = await our.jwt.verifyToken(pool[i % pool.length]!);
      if (!revocationChecked) throw new Error('revocation was not checked');
    };
    const theirs: Op = async (i) => {
      const claims = verify(pool[i % pool.length]!) as { jti: string };
      if ((await io.exists(blacklistKey(claims.jti))) !== 0) throw new Error('blacklisted');
    };
    phaseHooks.push(() => {
      pool = timed;
    });
    return { ours, theirs };
  }
  if (path === 'create' || path === 'create-floor' || path === 'create-floor-no-events') {
    let n = 0;
    const theirs: Op = (i) =>
      store.store.set(expressSessionId(), expressSession(`pc-${n++}`, i) as never) as Promise<unknown>;
    if (path === 'create')
      return { ours: (i) => our.sessions.createSession(sessionInput(`pc-${n++}`, i)), theirs };
    // The login's script call alone (the ceiling), with or without its events.
    const call = await captureLoginCall(our, 'pf-template');
    const replay = await loginReplayer(server.url, call, path === 'create-floor' ? 'full' : 'without-events');
    closers.push(replay.close);
    return { ours: () => replay.login(), theirs };
  }
  if (path === 'refresh') {
    const slots: { rt: string }[] = [];
    const theirSlots: { rt: string }[] = [];
    for (let i = 0; i < 2000; i++) {
      const { session, tokens } = await login(our, { ...sessionInput(`pr-${i}`, i), roles: ['trader'] });
      slots.push({ rt: tokens.refreshToken });
      const rt = randomBytes(32).toString('base64url');
      await io.set(
        `refresh:${rt}`,
        JSON.stringify({ sub: session.userId, sid: session.sessionId }),
        'EX',
        3600,
      );
      theirSlots.push({ rt });
    }
    const ring = new Ring(slots);
    const theirRing = new Ring(theirSlots);
    const sign = fastJwtSigner();
    return {
      async ours() {
        const slot = ring.shift();
        slot.rt = (await our.jwt.refreshTokens(slot.rt, { ipAddress: '203.0.113.7' })).refreshToken;
        ring.push(slot);
      },
      async theirs() {
        const slot = theirRing.shift();
        const record = await io.getdel(`refresh:${slot.rt}`);
        if (record === null) throw new Error('refresh token not found');
        const next = randomBytes(32).toString('base64url');
        await io.set(`refresh:${next}`, record, 'EX', 3600);
        sign({ ...JSON.parse(record), jti: randomBytes(16).toString('base64url') });
        slot.rt = next;
        theirRing.push(slot);
      },
    };
  }
  if (path === 'validate') {
    const sessions = await createSessions(our, 'pv', 1000);
    const ids = sessions.map((s) => s.sessionId);
    return {
      ours: (i) => our.sessions.validateSession(ids[i % ids.length]!, { endpoint: `/e/${i % 7}` }),
      theirs: (i) => store.client.get(`sess:${ids[i % ids.length]}`),
    };
  }
  if (path === 'warm-verify') {
    const sessions = await createSessions(our, 'pw', 1000);
    const tokens = await issueAccessTokens(our, sessions, 1000);
    // The service's JWT service records uses through the session manager (the bench's does not).
    const jwt = createJwtService({
      stores: our.stores,
      keys: [{ kid: JWT_KID, alg: 'HS256', secret: JWT_SECRET }],
      activeKid: JWT_KID,
      issuer: ISSUER,
      audience: AUDIENCE,
      sessions: our.sessions,
    });
    const verify = fastJwtVerifier({ cache: false });
    const introspection = Object.freeze({ recordActivity: Object.freeze({ endpoint: '/v1/introspect' }) });
    return {
      async ours(i) {
        const { revocationChecked } = await jwt.verifyToken(tokens[i % tokens.length]!, introspection);
        if (!revocationChecked) throw new Error('revocation was not checked');
      },
      async theirs(i) {
        const claims = verify(tokens[i % tokens.length]!) as { jti: string };
        if ((await io.exists(blacklistKey(claims.jti))) !== 0) throw new Error('blacklisted');
      },
    };
  }
  throw new Error(
    `unknown path ${path}: first-sight, create, create-floor, create-floor-no-events, refresh, validate, warm-verify`,
  );
}

const phaseHooks: (() => void)[] = [];
const closers: (() => Promise<unknown>)[] = [];

/** used_cpu_sys + used_cpu_user of the server, in µs. */
function serverCpuUs(info: string): number {
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
}

/** Each command of the timed phase: calls per op and µs per call (`INFO commandstats`). */
function commandStats(info: string, ops: number): string {
  const out: string[] = [];
  for (const m of info.matchAll(/^cmdstat_([a-z|_]+):calls=(\d+),usec=(\d+),usec_per_call=([0-9.]+)/gm)) {
    if (m[1] === 'info' || m[1] === 'config|resetstat') continue;
    out.push(`${m[1]} ${(Number(m[2]) / ops).toFixed(3)}/op ${m[4]} µs/call`);
  }
  return out.join(', ');
}

async function run(op: Op, count: number): Promise<{ ms: number; cpuUs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await op(next++);
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuUs: (cpu.user + cpu.system) / count };
}

try {
  const { ours, theirs } = await prepare();
  const op = peer ? theirs : ours;
  await run(op, Math.min(4000, OPS)); // warm-up (JIT, scripts loaded)
  for (const hook of phaseHooks) hook();
  // Redis's own side of the timed phase: its CPU (INFO cpu) and each command's µs (commandstats).
  await io.call('CONFIG', 'RESETSTAT');
  const serverCpu0 = serverCpuUs(await io.info('cpu'));
  const inspector = new Session();
  if (profileFile !== null) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
  }
  const { ms, cpuUs } = await run(op, OPS);
  if (profileFile !== null) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
  }
  const serverUs = (serverCpuUs(await io.info('cpu')) - serverCpu0) / OPS;
  console.log(
    `${path}${peer ? ' (peer)' : ''}: ${OPS} ops in ${ms.toFixed(0)} ms (${Math.round((OPS * 1000) / ms)}/s); client CPU ${cpuUs.toFixed(1)} µs per op; server CPU ${serverUs.toFixed(1)} µs per op`,
  );
  console.log(`  redis: ${commandStats(await io.info('commandstats'), OPS)}`);
} finally {
  for (const close of closers) await close();
  io.disconnect();
  await store.close();
  await our.close();
  await server.stop();
}
