/**
 * Scale (issue 6, "Scale"): 1M sessions across 200k users, through the public API, on redis-servers
 * this script spawns on spare ports (never 6379).
 *
 *   npm run scale                         # the full run (a few minutes on 2 cores, ~1.5 GB of Redis)
 *   npx tsx scripts/scale.ts --sessions=100000 --users=20000     # a smaller run
 *
 * 1. Two servers: A filled with 10k sessions (2k users), B with 1M (200k users), both 5 sessions per
 *    user on their own devices, `createSession` from many concurrent callers (node-redis pipelines).
 * 2. Latency of createSession (a new user's login, maxSessions 5), getSession (validate) and
 *    getUserSessions (list), one call at a time, A and B alternating call by call so both see the
 *    same machine load: p50/p99 at 10k and at 1M, and the ratio. During these calls the slow log
 *    records every command of 250 µs or more (named, scripts by file name), this process's GC pauses
 *    are recorded, and the hypervisor's steal time (/proc/stat) is reported.
 * 3. Revoke-all on B for users holding 1, 10, 100 and 1000 sessions: `revokeAllUserTokens` (the
 *    watermark) and `terminateUserSessions` (ends every session), with the Redis commands each one
 *    runs (INFO commandstats, commands inside scripts included).
 * 4. Cleanup on B: 1M blacklisted tokens are added, then the stores' clock jumps 13 h so every
 *    session and token has expired, and `maintenance.cleanup()` sweeps them. Redis runs with
 *    `slowlog-log-slower-than 5000` and `latency-monitor-threshold 1`: the slow log, LATENCY LATEST
 *    and LATENCY HISTOGRAM show the longest command. Then every remaining key is given a 1 ms TTL
 *    and Redis's own expiry removes them (the `expire-cycle` latency event).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { createJwtService, createSessionManager, RedisClient } from '../src/index.js';
import type { Clock } from '../src/core/clock.js';
import { createRedisStores } from '../src/stores/redis/index.js';
import { SCRIPTS } from '../src/stores/redis/lua/index.js';
import {
  type Admin,
  type BenchRedis,
  fmt,
  info,
  makeLogin,
  makeSession,
  makeUserId,
  quantile,
  runPool,
  startBenchRedis,
  usedMemory,
  BENCH_IDS,
} from './lib/bench-redis.js';

function option(name: string, fallback: string): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return Number(hit === undefined ? fallback : hit.slice(name.length + 3));
}

const BIG_SESSIONS = option('sessions', '1000000');
const BIG_USERS = option('users', '200000');
const SMALL_SESSIONS = option('small-sessions', '10000');
const BLACKLISTED = option('blacklisted', String(BIG_SESSIONS));
const CONCURRENCY = option('concurrency', '256');
const ROUNDS = option('rounds', '10');
const SAMPLES = option('samples', '300');
const PER_USER = Math.round(BIG_SESSIONS / BIG_USERS);
const SLOW_US = 5000;
/**
 * Real-time priority for the redis-servers (`chrt -f`, when allowed; `--rt=0` to skip), so that on a
 * machine shared with other work the numbers measure the store rather than the neighbours: both
 * servers during the latency and revoke-all timings — pinned to the same CPU so that neither is
 * nearer the client than the other, the client to the other CPUs; one call at a time keeps them
 * under one core together — and the 1M
 * server during the cleanup and expiry phases, where the slow log
 * then measures commands, not time Redis spent runnable but descheduled (`schedstat` shows how long
 * it waited). The fills run at normal priority.
 */
let RT = option('rt', '1') === 1;

const CPUS = availableParallelism();

/** Restricts a process (all its threads) to `cpus` (`taskset -a -p -c`); ignored when not allowed. */
function pin(pid: number, cpus: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  } catch {
    // Not allowed or no taskset: placement stays the scheduler's.
  }
}

/** SCHED_FIFO (priority 10) on, or back to SCHED_OTHER; false when not allowed. */
function realtime(pid: number, on: boolean): boolean {
  if (!RT) return false;
  try {
    execFileSync('chrt', on ? ['-a', '-f', '-p', '10', String(pid)] : ['-a', '-o', '-p', '0', String(pid)], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    RT = false;
    console.log('(chrt refused: everything keeps its normal priority; run-queue waits count as latency)');
    return false;
  }
}
/**
 * `--rt-client=1`: this process under SCHED_FIFO too during the timings. Off by default: `chrt -a`
 * makes every thread of node FIFO on one CPU, where a thread spinning for another (V8's GC helpers)
 * is never preempted; on 2026-11-26 the latency phase crawled that way (a 17 s run did not end in
 * 10 minutes) where it had run fine the day before.
 */
const RT_CLIENT = option('rt-client', '0') === 1;
/**
 * `--csc=0`: the clients without their client-side cache (every read goes to Redis), to see what
 * the cache's own work adds to the latencies at 1M, where most reads are of keys it has not seen.
 */
const CLIENT_SIDE_CACHE = option('csc', '1') === 1;
/** `--hz=100`: Redis's `hz` during the expiry phase (default: the server's, 10). */
const HZ = option('hz', '0');

/** Real time plus an offset the script moves forward to expire everything at once. */
class JumpClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

const log = (line: string) => console.log(line);
const progress = (what: string, total: number, started: number) => (done: number) => {
  const s = (performance.now() - started) / 1000;
  process.stderr.write(`  ${what}: ${done}/${total} (${fmt(s)} s, ${Math.round(done / s)}/s)\n`);
};

interface Side {
  name: string;
  redis: BenchRedis;
  client: RedisClient;
  stores: ReturnType<typeof createRedisStores>;
  users: string[];
  sessionIds: string[];
}

async function openSide(name: string, clock: Clock): Promise<Side> {
  const redis = await startBenchRedis([
    '--slowlog-log-slower-than',
    String(SLOW_US),
    '--slowlog-max-len',
    '10000',
    '--latency-monitor-threshold',
    '1',
  ]);
  const client = new RedisClient({
    url: redis.url,
    commandTimeoutMs: 60_000,
    keyPrefix: 'optix:',
    ...(CLIENT_SIDE_CACHE ? {} : { clientSideCache: false as const }),
  });
  await client.connect();
  const stores = createRedisStores(client, { keyPrefix: 'optix:', clock, ids: BENCH_IDS });
  return { name, redis, client, stores, users: [], sessionIds: [] };
}

/** Replaces the side's client with a fresh one (both sides then time calls from the same state). */
async function reconnect(side: Side, clock: Clock): Promise<void> {
  await side.client.close();
  side.client = new RedisClient({
    url: side.redis.url,
    commandTimeoutMs: 60_000,
    keyPrefix: 'optix:',
    ...(CLIENT_SIDE_CACHE ? {} : { clientSideCache: false as const }),
  });
  await side.client.connect();
  side.stores = createRedisStores(side.client, { keyPrefix: 'optix:', clock, ids: BENCH_IDS });
}

async function fill(side: Side, sessions: number, clock: Clock): Promise<number> {
  const users = Math.ceil(sessions / PER_USER);
  side.users = Array.from({ length: users }, makeUserId);
  side.sessionIds = new Array<string>(sessions);
  const started = performance.now();
  await runPool(
    sessions,
    CONCURRENCY,
    async (i) => {
      const userId = side.users[Math.floor(i / PER_USER)]!;
      const session = makeSession(userId, makeLogin(), clock.now());
      side.sessionIds[i] = session.sessionId;
      await side.stores.sessionStore.createSession(session, { maxSessions: PER_USER });
    },
    progress(`fill ${side.name}`, sessions, started),
    Math.max(10_000, Math.floor(sessions / 10)),
  );
  return (performance.now() - started) / 1000;
}

type Op = 'create' | 'validate' | 'list';

/** One timed call of `op` on `side`, in ms. */
/** When the last timed call of `timeOne` started (performance.now()), for the GC overlap check. */
let lastStart = 0;

async function timeOne(side: Side, op: Op, clock: Clock): Promise<number> {
  const store = side.stores.sessionStore;
  const pick = <T>(a: readonly T[]) => a[Math.floor(Math.random() * a.length)]!;
  if (op === 'create') {
    const session = makeSession(makeUserId(), makeLogin(), clock.now());
    const t = performance.now();
    lastStart = t;
    await store.createSession(session, { maxSessions: PER_USER });
    const ms = performance.now() - t;
    await store.deleteSession(session.sessionId); // untimed: keeps the count where it was
    return ms;
  }
  if (op === 'validate') {
    const id = pick(side.sessionIds);
    const t = performance.now();
    lastStart = t;
    const s = await store.getSession(id);
    const ms = performance.now() - t;
    if (s === null) throw new Error(`session ${id} not found on ${side.name}`);
    return ms;
  }
  const userId = pick(side.users);
  const t = performance.now();
  lastStart = t;
  const list = await store.getUserSessions(userId);
  const ms = performance.now() - t;
  if (list.length !== PER_USER) throw new Error(`${userId} on ${side.name}: ${list.length} sessions`);
  return ms;
}

/**
 * `n` calls of `op` on each side, one at a time, alternating A and B call by call (ABBA…), so a
 * burst of load from elsewhere on the machine hits both sides alike.
 */
/** One timed call: which side (0 = A, 1 = B), when it started and how long it took (ms). */
interface TimedCall {
  side: 0 | 1;
  op: Op;
  start: number;
  ms: number;
}

async function samplePairs(
  a: Side,
  b: Side,
  op: Op,
  n: number,
  clock: Clock,
  calls?: TimedCall[],
): Promise<[number[], number[]]> {
  const out: [number[], number[]] = [[], []];
  for (let i = 0; i < n; i++) {
    const order = i % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
    for (const k of order) {
      const ms = await timeOne(k === 0 ? a : b, op, clock);
      out[k].push(ms);
      calls?.push({ side: k, op, start: lastStart, ms });
    }
  }
  return out;
}

/**
 * How many of the slow calls (above A's pooled p99 for their operation) a garbage collection of
 * this process overlapped, per side, and the pooled p99 ratio without the overlapped calls.
 */
function gcOverlap(calls: TimedCall[], gcs: PerformanceEntry[], ops: readonly Op[]): string[] {
  const overlapped = (c: TimedCall) =>
    gcs.some((g) => g.startTime < c.start + c.ms && g.startTime + g.duration > c.start);
  const lines: string[] = [];
  for (const op of ops) {
    const mine = calls.filter((c) => c.op === op);
    const sideMs = (k: 0 | 1, keep: (c: TimedCall) => boolean) =>
      mine
        .filter((c) => c.side === k && keep(c))
        .map((c) => c.ms)
        .sort((x, y) => x - y);
    const limit = quantile(
      sideMs(0, () => true),
      0.99,
    );
    const slow = [0, 1].map((k) => mine.filter((c) => c.side === k && c.ms > limit));
    const withGc = slow.map((list) => list.filter(overlapped).length);
    const clean = (c: TimedCall) => !overlapped(c);
    const ratio = quantile(sideMs(1, clean), 0.99) / quantile(sideMs(0, clean), 0.99);
    lines.push(
      `${op}: calls over A's p99 (${fmt(limit, 3)} ms): A ${slow[0]!.length} (${withGc[0]} overlapped by a GC), ` +
        `B ${slow[1]!.length} (${withGc[1]}); p99 1M/10k without the GC-overlapped calls ${fmt(ratio, 2)}`,
    );
  }
  return lines;
}

/** Seconds the process has run on a CPU and waited runnable on a run queue (/proc/<pid>/schedstat). */
function schedstat(pid: number): { cpu: number; waited: number } {
  try {
    const [cpu, waited] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { cpu: (cpu ?? 0) / 1e9, waited: (waited ?? 0) / 1e9 };
  } catch {
    return { cpu: Number.NaN, waited: Number.NaN };
  }
}

/**
 * CPU time the hypervisor gave to other guests while this VM wanted it ("steal", /proc/stat), in
 * ms, for every CPU together and for `cpu`. Time a command spends stolen counts as its own in the
 * slow log, although no other process on this machine was running.
 */
function steal(cpu: number): { all: number; one: number } {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const ticks = (name: string) =>
      Number(
        lines
          .find((l) => l.startsWith(`${name} `))
          ?.trim()
          .split(/\s+/)[8] ?? Number.NaN,
      );
    // USER_HZ is 100 on Linux: a tick is 10 ms.
    return { all: ticks('cpu') * 10, one: ticks(`cpu${cpu}`) * 10 };
  } catch {
    return { all: Number.NaN, one: Number.NaN };
  }
}

/** Steal since `before`; `cpu` names Redis's CPU when it is pinned to one (null: not pinned). */
function stolenSince(before: { all: number; one: number }, cpu: number | null): string {
  const now = steal(cpu ?? 0);
  const one = cpu === null ? '' : `, ${fmt(now.one - before.one, 0)} ms on Redis's CPU ${cpu}`;
  return `hypervisor steal: ${fmt(now.all - before.all, 0)} ms on all CPUs${one}`;
}

async function commandCalls(admin: Admin): Promise<number> {
  const stats = await info(admin, 'commandstats');
  let calls = 0;
  for (const [k, v] of Object.entries(stats)) {
    if (!k.startsWith('cmdstat_') || k === 'cmdstat_info' || k === 'cmdstat_config') continue;
    calls += Number(/calls=(\d+)/.exec(v)?.[1] ?? 0);
  }
  return calls;
}

/** The slow log's entries: [id, timestamp, duration µs, [command, args…], …]. */
async function slowlog(admin: Admin): Promise<Array<{ us: number; command: string }>> {
  const raw = (await admin.sendCommand(['SLOWLOG', 'GET', '10000'])) as unknown[];
  return raw.map((e) => {
    const entry = e as [number, number, number, string[]];
    return { us: Number(entry[2]), command: entry[3].slice(0, 3).join(' ').slice(0, 120) };
  });
}

/** The threshold of the slow log during the latency phase, µs. */
const LATENCY_SLOW_US = 250;
const SCRIPT_NAMES = new Map(Object.values(SCRIPTS).map((script) => [script.sha1, script.name]));

/** Slow-log entries counted by command (a script by its name), with the longest: `evalsha session_create: 3 (max 712 µs)`. */
function slowByName(entries: Array<{ us: number; command: string }>): string {
  if (entries.length === 0) return 'none';
  const groups = new Map<string, { n: number; max: number }>();
  for (const e of entries) {
    const [command = '?', sha = ''] = e.command.split(' ');
    const name =
      command.toLowerCase() === 'evalsha'
        ? `evalsha ${SCRIPT_NAMES.get(sha) ?? sha.slice(0, 8)}`
        : command.toLowerCase();
    const g = groups.get(name) ?? { n: 0, max: 0 };
    g.n += 1;
    g.max = Math.max(g.max, e.us);
    groups.set(name, g);
  }
  return [...groups]
    .sort((x, y) => y[1].n - x[1].n)
    .map(([name, g]) => `${name}: ${g.n} (max ${g.max} µs)`)
    .join('; ');
}

/** The slowest entries, e.g. `14237 µs SCAN 0 MATCH`. */
function slowest(entries: Array<{ us: number; command: string }>, n = 5): string {
  return [...entries]
    .sort((x, y) => y.us - x.us)
    .slice(0, n)
    .map((e) => `${e.us} µs ${e.command}`)
    .join('; ');
}

/** LATENCY LATEST as `event: max ms`. */
async function latencyLatest(admin: Admin): Promise<string> {
  const raw = (await admin.sendCommand(['LATENCY', 'LATEST'])) as unknown[];
  if (raw.length === 0) return 'none ≥ 1 ms';
  return raw
    .map((e) => {
      const [event, , , max] = e as [string, number, number, number];
      return `${event}: max ${max} ms`;
    })
    .join(', ');
}

/** The slowest bucket of each command in LATENCY HISTOGRAM: "cmd ≤ N µs (count calls, k over ~1 ms)". */
async function histogramMax(admin: Admin): Promise<{ worstUs: number; lines: string[] }> {
  const raw = (await admin.sendCommand(['LATENCY', 'HISTOGRAM'])) as unknown;
  const lines: string[] = [];
  let worstUs = 0;
  // RESP2: [name, [calls, n, histogram_usec, [bucket, cumulative, …]], …]; RESP3: a map.
  const entries: Array<[string, unknown]> =
    raw instanceof Map
      ? [...raw.entries()].map(([k, v]) => [String(k), v])
      : Array.isArray(raw)
        ? raw.flatMap((v, i) => (i % 2 === 0 ? [[String(v), raw[i + 1]] as [string, unknown]] : []))
        : Object.entries(raw as Record<string, unknown>);
  for (const [name, body] of entries) {
    const flat: unknown[] =
      body instanceof Map
        ? [...body.entries()].flat()
        : Array.isArray(body)
          ? body
          : Object.entries(body as object).flat();
    const calls = Number(flat[flat.indexOf('calls') + 1]);
    const histo = flat[flat.indexOf('histogram_usec') + 1];
    const buckets: unknown[] =
      histo instanceof Map
        ? [...histo.entries()].flat()
        : Array.isArray(histo)
          ? histo
          : Object.entries(histo as object).flat();
    // Buckets are cumulative: `bucket → calls at or under it`.
    let top = 0;
    let underMs = 0;
    for (let i = 0; i < buckets.length; i += 2) {
      const bucket = Number(buckets[i]);
      top = Math.max(top, bucket);
      if (bucket <= 1100) underMs = Math.max(underMs, Number(buckets[i + 1]));
    }
    worstUs = Math.max(worstUs, top);
    lines.push(`${name} ≤ ${top} µs (${calls} calls, ${calls - underMs} over ~1 ms)`);
  }
  lines.sort((a, b) => Number(/≤ (\d+)/.exec(b)?.[1]) - Number(/≤ (\d+)/.exec(a)?.[1]));
  return { worstUs, lines };
}

async function resetStats(admin: Admin): Promise<void> {
  await admin.sendCommand(['CONFIG', 'RESETSTAT']);
  await admin.sendCommand(['SLOWLOG', 'RESET']);
  await admin.sendCommand(['LATENCY', 'RESET']);
}

async function main(): Promise<void> {
  const clock = new JumpClock();
  const started = performance.now();
  const a = await openSide('A (10k)', clock);
  const b = await openSide('B (1M)', clock);
  const server = await info(b.redis.admin, 'server');
  log(
    `# scale: redis ${server.redis_version}, node ${process.version}` +
      (CLIENT_SIDE_CACHE ? '' : '; client-side cache off (--csc=0)'),
  );
  log(
    `${BIG_SESSIONS} sessions across ${BIG_USERS} users (${PER_USER} each, each on its own device); ` +
      `comparison server with ${SMALL_SESSIONS}`,
  );
  try {
    // 1. Fill.
    const smallSeconds = await fill(a, SMALL_SESSIONS, clock);
    await resetStats(b.redis.admin);
    const fillSched = schedstat(b.redis.server.process.pid);
    const bigSeconds = await fill(b, BIG_SESSIONS, clock);
    const fillSchedAfter = schedstat(b.redis.server.process.pid);
    const fillSlow = await slowlog(b.redis.admin);
    const bigMemory = await usedMemory(b.redis.admin);
    log('');
    log('## fill');
    log(
      `A: ${SMALL_SESSIONS} in ${fmt(smallSeconds)} s; B: ${BIG_SESSIONS} in ${fmt(bigSeconds)} s ` +
        `(${Math.round(BIG_SESSIONS / bigSeconds)} creates/s, concurrency ${CONCURRENCY})`,
    );
    log(
      `B: ${await b.redis.admin.dbSize()} keys, used_memory ${fmt(bigMemory / 2 ** 20)} MiB ` +
        `(${fmt(bigMemory / BIG_SESSIONS)} bytes/session incl. the server's baseline); ` +
        `commands over 5 ms during the fill: ${fillSlow.length}` +
        (fillSlow.length ? ` (slowest: ${slowest(fillSlow, 3)})` : '') +
        `; redis-server (normal priority) ran ${fmt(fillSchedAfter.cpu - fillSched.cpu)} s on a CPU and ` +
        `waited ${fmt(fillSchedAfter.waited - fillSched.waited)} s runnable for one`,
    );

    // 2. Latency at 10k vs 1M, A and B alternating call by call, each through a fresh client.
    await reconnect(a, clock);
    await reconnect(b, clock);
    // Both servers on the same CPU (they are never busy at once: one call at a time), so neither is
    // nearer this client's CPU than the other; this process on another CPU when there is one.
    for (const pid of [a.redis.server.process.pid, b.redis.server.process.pid]) {
      realtime(pid, true);
      pin(pid, String(CPUS - 1));
    }
    if (CPUS > 1) pin(process.pid, `0-${CPUS - 2}`);
    if (RT_CLIENT) realtime(process.pid, true);
    const ops: Op[] = ['create', 'validate', 'list'];
    const results = new Map<string, [number[], number[]]>();
    const roundP99 = new Map<string, [number[], number[]]>();
    for (const op of ops) await samplePairs(a, b, op, 200, clock); // warm-up
    await Promise.all([resetStats(a.redis.admin), resetStats(b.redis.admin)]);
    // The slow log catches every command of LATENCY_SLOW_US or more during the timed calls, named
    // (scripts by their file name), to tell which ones make the tail.
    for (const side of [a, b])
      await side.redis.admin.configSet('slowlog-log-slower-than', String(LATENCY_SLOW_US));
    // This process's garbage collections during the timed calls, to tell its pauses from Redis's.
    const calls: TimedCall[] = [];
    const gcs: PerformanceEntry[] = [];
    const latencySteal = steal(CPUS - 1);
    const gcObserver = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
    gcObserver.observe({ entryTypes: ['gc'] });
    for (let r = 0; r < ROUNDS; r++) {
      for (const op of ops) {
        const [small, big] = await samplePairs(a, b, op, SAMPLES, clock, calls);
        const p99s = roundP99.get(op) ?? [[], []];
        p99s[0].push(
          quantile(
            [...small].sort((x, y) => x - y),
            0.99,
          ),
        );
        p99s[1].push(
          quantile(
            [...big].sort((x, y) => x - y),
            0.99,
          ),
        );
        roundP99.set(op, p99s);
        const sofar = results.get(op) ?? [[], []];
        results.set(op, [
          [...sofar[0], ...small],
          [...sofar[1], ...big],
        ]);
      }
      process.stderr.write(`  latency round ${r + 1}/${ROUNDS}\n`);
    }
    await new Promise((resolve) => setImmediate(resolve)); // the observer's last batch
    gcObserver.disconnect();
    log('');
    log(
      `## latency, one call at a time (${ROUNDS * SAMPLES} calls each, A and B alternating call by call), ms`,
    );
    log(
      "| operation | p50 10k | p50 1M | ratio | p99 10k | p99 1M | ratio | median of the rounds' p99: 10k | 1M | ratio |",
    );
    log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const label: Record<Op, string> = {
      create: 'createSession',
      validate: 'getSession (validate)',
      list: 'getUserSessions (list)',
    };
    for (const op of ops) {
      const small = [...results.get(op)![0]].sort((x, y) => x - y);
      const big = [...results.get(op)![1]].sort((x, y) => x - y);
      const [s50, b50, s99, b99] = [
        quantile(small, 0.5),
        quantile(big, 0.5),
        quantile(small, 0.99),
        quantile(big, 0.99),
      ];
      const [r10k, r1m] = roundP99.get(op)!.map((v) =>
        quantile(
          [...v].sort((x, y) => x - y),
          0.5,
        ),
      ) as [number, number];
      log(
        `| ${label[op]} | ${fmt(s50, 3)} | ${fmt(b50, 3)} | ${fmt(b50 / s50, 2)} | ${fmt(s99, 3)} | ${fmt(b99, 3)} | ${fmt(b99 / s99, 2)} | ${fmt(r10k, 3)} | ${fmt(r1m, 3)} | ${fmt(r1m / r10k, 2)} |`,
      );
    }
    const gcMs = gcs.map((g) => g.duration).sort((x, y) => x - y);
    log(
      `garbage collections in this process during the timed calls: ${gcs.length}, ` +
        `${fmt(
          gcMs.reduce((x, y) => x + y, 0),
          1,
        )} ms in all, ${gcMs.filter((d) => d >= 1).length} of 1 ms or more, ` +
        `longest ${fmt(gcMs.at(-1) ?? 0, 2)} ms`,
    );
    for (const line of gcOverlap(calls, gcs, ops)) log(`- ${line}`);
    log(`during the timed calls, ${stolenSince(latencySteal, CPUS - 1)}`);
    for (const side of [a, b]) {
      const h = await histogramMax(side.redis.admin);
      log(
        `server side, ${side.name}: ${h.lines.slice(0, 3).join('; ')}; LATENCY LATEST: ${await latencyLatest(side.redis.admin)}`,
      );
      log(
        `  commands of ${LATENCY_SLOW_US} µs or more on ${side.name}: ${slowByName(await slowlog(side.redis.admin))}`,
      );
      await side.redis.admin.configSet('slowlog-log-slower-than', String(SLOW_US));
    }
    await a.client.close();
    await a.redis.stop();

    // 3. Revoke-all by the number of sessions the user holds.
    const jwt = createJwtService({
      stores: b.stores,
      keys: [{ kid: 'scale', alg: 'HS256', secret: 'scale-secret-0123456789abcdef-0123456789abcdef' }],
      issuer: 'optix-sessions',
      audience: 'optix',
      clock,
    });
    const manager = createSessionManager({ stores: b.stores, clock });
    const userWith = async (n: number): Promise<string> => {
      const userId = makeUserId();
      const login = makeLogin();
      await runPool(n, 64, () =>
        b.stores.sessionStore.createSession(makeSession(userId, login, clock.now())),
      );
      return userId;
    };
    log('');
    log('## revoke-all on B (1M sessions), by the sessions the user holds');
    log(
      '| sessions | revokeAllUserTokens p50 ms | Redis commands | terminateUserSessions p50 ms | Redis commands |',
    );
    log('|---:|---:|---:|---:|---:|');
    for (let i = 0; i < 200; i++) await jwt.revokeAllUserTokens(b.users[i]!, 'warm-up');
    for (const n of [1, 10, 100, 1000]) {
      const users = await Promise.all(Array.from({ length: n >= 1000 ? 5 : 20 }, () => userWith(n)));
      const revokeMs: number[] = [];
      const before = await commandCalls(b.redis.admin);
      for (let i = 0; i < 100; i++) {
        const t = performance.now();
        await jwt.revokeAllUserTokens(users[i % users.length]!, 'scale');
        revokeMs.push(performance.now() - t);
      }
      const revokeCommands = ((await commandCalls(b.redis.admin)) - before - 1) / 100;
      const terminateMs: number[] = [];
      const before2 = await commandCalls(b.redis.admin);
      for (const userId of users) {
        const t = performance.now();
        const ended = await manager.terminateUserSessions({ userId, reason: 'scale' });
        terminateMs.push(performance.now() - t);
        if (ended !== n) throw new Error(`terminated ${ended} of ${n}`);
      }
      const terminateCommands = ((await commandCalls(b.redis.admin)) - before2 - 1) / users.length;
      revokeMs.sort((x, y) => x - y);
      terminateMs.sort((x, y) => x - y);
      log(
        `| ${n} | ${fmt(quantile(revokeMs, 0.5), 3)} | ${fmt(revokeCommands, 1)} | ` +
          `${fmt(quantile(terminateMs, 0.5), 2)} | ${fmt(terminateCommands, 1)} |`,
      );
    }

    // 4. Cleanup of 1M expired sessions and 1M expired blacklist entries (the fill at normal priority).
    realtime(b.redis.server.process.pid, false);
    if (RT_CLIENT) realtime(process.pid, false);
    pin(b.redis.server.process.pid, `0-${CPUS - 1}`);
    pin(process.pid, `0-${CPUS - 1}`);
    const blStarted = performance.now();
    const chunk = 1000;
    await runPool(
      Math.ceil(BLACKLISTED / chunk),
      16,
      (i) =>
        b.stores.tokenBlacklist.blacklistAllUserTokens({
          userId: b.users[i % b.users.length]!,
          tokenJtis: Array.from(
            { length: Math.min(chunk, BLACKLISTED - i * chunk) },
            (_, j) => `jti-${i}-${j}`,
          ),
          ttlSeconds: 900,
          reason: 'scale',
        }),
      progress('blacklist', Math.ceil(BLACKLISTED / chunk), blStarted),
      100,
    );
    log('');
    log('## cleanup of expired entries on B');
    log(
      `${BLACKLISTED} blacklisted tokens added in ${fmt((performance.now() - blStarted) / 1000)} s; ` +
        `${await b.redis.admin.dbSize()} keys, used_memory ${fmt((await usedMemory(b.redis.admin)) / 2 ** 20)} MiB`,
    );
    clock.offset += 13 * 60 * 60_000; // past every session's absolute expiry and every token's
    const redisPid = b.redis.server.process.pid;
    realtime(redisPid, true);
    await resetStats(b.redis.admin);
    const schedBefore = schedstat(redisPid);
    const cleanSteal = steal(0);
    const cleanStarted = performance.now();
    let lastReport = cleanStarted;
    const stats = await b.stores.maintenance.cleanup((scanned) => {
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        process.stderr.write(
          `  cleanup: ${scanned} index members looked at (${fmt((lastReport - cleanStarted) / 1000)} s)\n`,
        );
      }
    });
    const cleanSeconds = (performance.now() - cleanStarted) / 1000;
    const schedAfter = schedstat(redisPid);
    const slow = await slowlog(b.redis.admin);
    const histo = await histogramMax(b.redis.admin);
    log(`maintenance.cleanup(): ${fmt(cleanSeconds)} s, ${JSON.stringify(stats)}`);
    log(
      `redis-server (${RT ? 'SCHED_FIFO' : 'normal priority'}) ran ${fmt(schedAfter.cpu - schedBefore.cpu)} s on a CPU and waited ` +
        `${fmt(schedAfter.waited - schedBefore.waited)} s runnable for one (other processes on the machine); ` +
        stolenSince(cleanSteal, null),
    );
    log(
      `commands over ${SLOW_US / 1000} ms (SLOWLOG): ${slow.length}` +
        (slow.length ? `; slowest: ${slowest(slow)}` : ''),
    );
    log(`LATENCY LATEST (events ≥ 1 ms): ${await latencyLatest(b.redis.admin)}`);
    log(`LATENCY HISTOGRAM, slowest bucket per command: ${histo.lines.slice(0, 6).join('; ')}`);
    log(
      `longest command during cleanup: ≤ ${histo.worstUs} µs (histogram bucket)` +
        (slow.length ? `, ${Math.max(...slow.map((e) => e.us))} µs (slow log)` : ''),
    );
    const left = await b.redis.admin.dbSize();
    log(
      `keys left after the sweep: ${left} (records and blacklist entries wait for Redis's TTL; indexes are empty)`,
    );

    // 5. Redis's own expiry of what is left, all at once.
    let cursor = '0';
    do {
      const reply = await b.redis.admin.scan(cursor, { COUNT: 5000 });
      cursor = String(reply.cursor);
      await Promise.all(reply.keys.map((k) => b.redis.admin.pExpire(k, 1)));
    } while (cursor !== '0');
    if (HZ > 0) await b.redis.admin.configSet('hz', String(HZ));
    const hz = (await b.redis.admin.configGet('hz')).hz;
    await resetStats(b.redis.admin);
    const expStarted = performance.now();
    while ((await b.redis.admin.dbSize()) > 0 && performance.now() - expStarted < 300_000) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const expSlow = await slowlog(b.redis.admin);
    log(
      `Redis's active expiry (hz ${hz}) of those ${left} keys (each given a 1 ms TTL): ` +
        `${fmt((performance.now() - expStarted) / 1000)} s; LATENCY LATEST: ${await latencyLatest(b.redis.admin)}; ` +
        `commands over 5 ms: ${expSlow.length}`,
    );
    log('');
    log(`total ${fmt((performance.now() - started) / 1000)} s`);
  } finally {
    await a.client.close().catch(() => {});
    await a.redis.stop().catch(() => {});
    await b.client.close().catch(() => {});
    await b.redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
