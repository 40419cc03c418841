/**
 * Cross-instance revocation latency, measured across two processes (issue 17: "cross-instance
 * revocation stays <= 5 ms p99").
 *
 * Instance A is this process (its own composition root); instance B is a child process
 * (bench/servers/propagation-peer.ts, another composition root) on the same Redis, both with the
 * client-side cache on, as the service runs. Per sample: A logs a user in (untimed), B verifies
 * the access token twice (now warm: answered in process) and starts polling verification once per
 * turn of its event loop; A revokes with one of the four forms, in turn (the jti, everything of the
 * user, the refresh family, the session); B reports the start of its first verification that
 * failed. Both processes stamp times with `performance.timeOrigin + performance.now()`;
 *
 *   delay = start of B's first failing verification − the moment A's revoke call resolved.
 *
 * It can be negative: Redis writes the invalidation to B's socket before A's reply, so B may see
 * the revoke before A knows it is done. The clocks of the two processes are compared by IPC round
 * trips before the samples (the offset is reported, not applied).
 *
 * Two conditions: `idle` (B does nothing else) and `loaded` (B also answers warm verifications of
 * other tokens at a steady rate, and A runs a login storm beside the revokes). For the outliers, it
 * records what else happened in the window: B's garbage collections, B's lease PINGs, when the
 * invalidation push reached B's cache provider, the gap in B's poll loop, and how long B's, A's and
 * Redis's main threads waited for a CPU (/proc/<pid>/schedstat); and, for the whole condition, how
 * much CPU the machine spent outside the three processes (other work on a shared machine).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Optix } from '../../src/container.js';
import { createInstance, now, schedstat } from './instance.js';
import { round } from './measure.js';
import { USER_AGENT, ipAddress } from './payload.js';
import type {
  ChildMessage,
  ChildReport,
  ParentMessage,
  PollMode,
  SeenMessage,
} from './propagation-protocol.js';

export const FORMS = ['jti', 'user', 'family', 'session'] as const;
export type RevokeForm = (typeof FORMS)[number];

/** The goal of issue 17 for the p99 of `delay` (ms). */
export const GOAL_P99_MS = 5;

export interface PropagationSettings {
  /** Samples per condition (the forms in turn). */
  samples: number;
  /** Loaded condition: B's warm verifications of other tokens per second. */
  loadRatePerSec: number;
  /** Loaded condition: B's own users whose tokens it keeps verifying. */
  loadUsers: number;
  /** Loaded condition: A's logins in flight beside the revokes. */
  stormConcurrency: number;
  /** A sample whose revoke B has not seen after this long counts as missed (ms). */
  timeoutMs: number;
  /** How B polls (see `PollMode`), each mode a run of every condition: a tight loop, or asleep until a push. */
  modes: PollMode[];
  /** Node options of B's process (e.g. GC flags), before `--import tsx`. */
  bNodeOptions: string[];
  /**
   * Scheduling priority of B's process (nice, -20..19; below 0 needs root), or null to leave it.
   * A diagnostic: on a machine shared with other work, a higher priority shows how much of B's
   * delay is waiting for a CPU.
   */
  bNice: number | null;
}

export const DEFAULT_PROPAGATION: PropagationSettings = {
  samples: 4000,
  loadRatePerSec: 20_000,
  loadUsers: 2000,
  stormConcurrency: 8,
  timeoutMs: 3000,
  modes: ['immediate', 'event'],
  bNodeOptions: [],
  bNice: null,
};

export type Condition = 'idle' | 'loaded';

export interface Quantiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  min: number;
  mean: number;
}

/** One sample, times in ms. */
export interface PropagationSample {
  form: RevokeForm;
  /** B's first failing verification start − A's revoke resolved. */
  delayMs: number;
  /** A's revoke call, from call to resolution. */
  revokeMs: number;
  /** Arrival of the invalidation push at B − A's revoke resolved (null: not probed/seen). */
  pushAfterResolveMs: number | null;
  /** B's first failing verification start − the push's arrival. */
  afterPushMs: number | null;
  polls: number;
  maxGapMs: number;
  gapBeforeFailMs: number;
  /** B's garbage collection overlapping the delay [A's revoke resolved, B's failing poll]. */
  gcMs: number;
  /** Gaps of B's poll loop over 0.2 ms overlapping the delay (GC, or B not on a CPU). */
  stallMs: number;
  /** A lease PING of B was in flight or answered during the delay. */
  pingInWindow: boolean;
  /** Run-queue wait of B's main thread between armed and the failure (ms). */
  bWaitMs: number | null;
  /** Run-queue wait of A's and Redis's main threads from A's revoke call to B's report (ms). */
  aWaitMs: number | null;
  redisWaitMs: number | null;
  error: string;
}

export interface ConditionResult {
  condition: Condition;
  samples: number;
  missed: number;
  overall: Quantiles;
  byForm: Record<RevokeForm, Quantiles>;
  /** p99 ≤ GOAL_P99_MS. */
  met: boolean;
  components: { revokeMs: Quantiles; pushAfterResolveMs: Quantiles | null; afterPushMs: Quantiles | null };
  /** Revokes B saw before A's call resolved (delay < 0). */
  negative: number;
  clockOffsetMs: { estimate: number; rttMs: number };
  elapsedS: number;
  loadAverage: { start: number[]; end: number[]; max1m: number };
  cpu: {
    /** CPU time of the whole machine while the condition ran, in cores (2 = both cores busy). */
    machineCores: number;
    /** …of the bench process (A), its child (B) and its redis-server, all threads. */
    aCores: number;
    bCores: number;
    redisCores: number;
    /** The rest: other work on the machine. */
    otherCores: number;
    /** Steal: time the hypervisor gave this VM's CPUs to others. */
    stealCores: number;
  };
  b: {
    gcCount: number;
    gcTotalMs: number;
    gcMaxMs: number;
    leasePings: number;
    leasePingMaxMs: number;
    /** Loaded: B's warm verifications answered per second, failures, its pacing timer's worst lag. */
    loadPerSec?: number;
    loadFailed?: number;
    loadTimerLagMaxMs?: number;
    probed: boolean;
  };
  storm?: { logins: number; perSec: number };
  /** All samples (the base rates), those over 1 ms and over 5 ms: how many had each companion. */
  outliers: Record<'all' | 'over1ms' | 'over5ms', OutlierCounts>;
  /** The slowest samples, with what happened around them. */
  slowest: PropagationSample[];
  /** B's GCs by kind (V8's flags: 1 scavenge, 2 mark-sweep-compact, 4 incremental marking, 8 weak callbacks). */
  gcByKind: Record<string, { count: number; totalMs: number; maxMs: number }>;
  mode: PollMode;
  /** Redis's own side of the run (null: no admin connection). */
  redis: RedisSide | null;
}

export interface RedisSide {
  /** `LATENCY LATEST` with a 1 ms threshold: events in Redis that took ≥ 1 ms (name → max ms). */
  latencyEventsMaxMs: Record<string, number>;
  /** `INFO commandstats`: calls and µs per call of the commands the run sent. */
  commands: Record<string, { calls: number; usecPerCall: number }>;
}

/** Resets (before a run) or reads (after it) Redis's latency monitor and command statistics. */
async function redisSide(
  command: RunOptions['redisCommand'],
  step: 'reset' | 'read',
): Promise<RedisSide | null> {
  if (!command) return null;
  if (step === 'reset') {
    await command('CONFIG SET latency-monitor-threshold 1');
    await command('LATENCY RESET');
    await command('CONFIG RESETSTAT');
    return null;
  }
  // node-redis's reply, [[event, time, latest, max], …], arrives here flattened by commas.
  const latest = (await command('LATENCY LATEST')).split(',');
  const latencyEventsMaxMs: Record<string, number> = {};
  for (let i = 0; i + 3 < latest.length; i += 4) latencyEventsMaxMs[latest[i]!] = Number(latest[i + 3]);
  const commands: RedisSide['commands'] = {};
  for (const m of (await command('INFO commandstats')).matchAll(
    /cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/g,
  )) {
    commands[m[1]!] = { calls: Number(m[2]), usecPerCall: Number(m[3]) };
  }
  return { latencyEventsMaxMs, commands };
}

export interface OutlierCounts {
  count: number;
  /** B collected garbage for ≥ 0.5 ms during the delay. */
  bGc: number;
  /** B's poll loop was held ≥ 0.5 ms during the delay other than by GC (B not on a CPU). */
  bStall: number;
  /** B's main thread waited ≥ 0.5 ms for a CPU between armed and the failure (run queue). */
  bRunQueue: number;
  /** Redis's main thread waited ≥ 0.5 ms for a CPU (A's call to B's report). */
  redisRunQueue: number;
  /** The push reached B ≥ 1 ms after A's revoke resolved. */
  pushLate: number;
  /** B's loop did not turn for ≥ 1 ms just before the failing poll. */
  loopGap: number;
  /** A lease PING during the delay. */
  leasePing: number;
  /** None of GC, stall, run-queue waits, a late push, a loop gap. */
  unexplained: number;
}

export function quantiles(values: readonly number[]): Quantiles {
  const s = [...values].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
  const r = (v: number) => round(v, 3);
  return {
    n: s.length,
    p50: r(at(0.5)),
    p90: r(at(0.9)),
    p99: r(at(0.99)),
    p999: r(at(0.999)),
    max: r(s.at(-1) ?? Number.NaN),
    min: r(s[0] ?? Number.NaN),
    mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
  };
}

/** utime + stime of a whole process, all threads (ms); null when /proc is not there. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state(0) ... utime(11) stime(12), in clock ticks (USER_HZ = 100 on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** The machine's busy and steal time across all CPUs (ms) from /proc/stat. */
function machineCpuMs(): { busy: number; steal: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, ...f] = line.trim().split(/\s+/);
    const n = f.map(Number);
    const [user, nice, system, , , irq, softirq, steal] = n as [number, ...number[]];
    const busy = user + nice! + system! + irq! + softirq!;
    return { busy: (busy * 1000) / 100, steal: (steal! * 1000) / 100 };
  } catch {
    return null;
  }
}

class Peer {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<string, (m: ChildMessage) => void>();
  readonly #exited: Promise<void>;
  #failure: Error | null = null;
  pid = 0;
  probed = false;

  constructor(redisUrl: string, nodeOptions: readonly string[]) {
    const path = fileURLToPath(new URL('../servers/propagation-peer.ts', import.meta.url));
    this.#child = fork(path, [], {
      execArgv: [...nodeOptions, '--import', 'tsx'],
      env: { ...process.env, BENCH_REDIS_URL: redisUrl },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.on('message', (raw) => {
      const m = raw as ChildMessage;
      if (m.type === 'error') this.#failure = new Error(`instance B: ${m.message}`);
      const key =
        'id' in m && m.type !== 'armed' ? `result:${m.id}` : 'id' in m ? `${m.type}:${m.id}` : m.type;
      const waiter =
        this.#waiting.get(key) ?? (m.type === 'error' ? [...this.#waiting.values()][0] : undefined);
      if (waiter) {
        this.#waiting.delete(key);
        waiter(m);
      }
    });
    this.#child.once('exit', (code) => {
      this.#failure ??= new Error(`instance B exited (${code})`);
      for (const w of this.#waiting.values()) w({ type: 'error', id: -1, message: this.#failure.message });
      this.#waiting.clear();
    });
  }

  /** Resolves with the next message of `key` (`ready`, `armed:<id>`, `result:<id>`, …). */
  next<M extends ChildMessage>(key: string): Promise<M> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#waiting.set(key, (m) => (m.type === 'error' ? reject(new Error(m.message)) : resolve(m as M)));
    });
  }

  send(message: ParentMessage): void {
    this.#child.send(message);
  }

  async request<M extends ChildMessage>(message: ParentMessage, key: string): Promise<M> {
    const reply = this.next<M>(key);
    this.send(message);
    return reply;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** NTP-style: the offset of B's clock from A's, from the round trip with the least delay. */
async function clockOffset(peer: Peer, rounds = 200) {
  let best = { rttMs: Number.POSITIVE_INFINITY, estimate: 0 };
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    const m = await peer.request<{ type: 'clock'; t0: number; tB: number }>({ type: 'clock', t0 }, 'clock');
    const t1 = now();
    if (t1 - t0 < best.rttMs) best = { rttMs: t1 - t0, estimate: m.tB - (t0 + t1) / 2 };
  }
  return { estimate: round(best.estimate, 3), rttMs: round(best.rttMs, 3) };
}

function revoke(a: Optix, form: RevokeForm, l: Awaited<ReturnType<Optix['login']>>, userId: string) {
  switch (form) {
    case 'jti':
      return a.jwt.revokeAccessToken(l.tokens.accessToken, 'logout');
    case 'user':
      return a.jwt.revokeAllUserTokens(userId, 'password_change');
    case 'family':
      return a.jwt.revokeRefreshToken(l.tokens.refreshToken, 'logout');
    case 'session':
      return a.sessions.terminateSession(l.session.sessionId, 'logout');
  }
}

const GC_KINDS: Record<number, string> = {
  1: 'scavenge',
  2: 'mark-sweep-compact',
  4: 'incremental-marking',
  8: 'weak-callbacks',
};

function gcByKind(gcs: ChildReport['gcs']): ConditionResult['gcByKind'] {
  const out: ConditionResult['gcByKind'] = {};
  for (const [, duration, kind] of gcs) {
    const name = GC_KINDS[kind] ?? `kind-${kind}`;
    const e = out[name] ?? { count: 0, totalMs: 0, maxMs: 0 };
    out[name] = e;
    e.count++;
    e.totalMs = round(e.totalMs + duration, 2);
    e.maxMs = round(Math.max(e.maxMs, duration), 2);
  }
  return out;
}

function overlapMs(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

function countOutliers(samples: readonly PropagationSample[], overMs: number): OutlierCounts {
  const c: OutlierCounts = {
    count: 0,
    bGc: 0,
    bStall: 0,
    bRunQueue: 0,
    redisRunQueue: 0,
    pushLate: 0,
    loopGap: 0,
    leasePing: 0,
    unexplained: 0,
  };
  for (const s of samples) {
    if (s.delayMs <= overMs) continue;
    c.count++;
    const gc = s.gcMs >= 0.5;
    const stall = s.stallMs - s.gcMs >= 0.5;
    const bq = (s.bWaitMs ?? 0) >= 0.5;
    const rq = (s.redisWaitMs ?? 0) >= 0.5;
    const late = (s.pushAfterResolveMs ?? 0) >= 1;
    const gap = s.gapBeforeFailMs >= 1;
    if (gc) c.bGc++;
    if (stall) c.bStall++;
    if (bq) c.bRunQueue++;
    if (rq) c.redisRunQueue++;
    if (late) c.pushLate++;
    if (gap) c.loopGap++;
    if (s.pingInWindow) c.leasePing++;
    if (!gc && !stall && !bq && !rq && !late && !gap) c.unexplained++;
  }
  return c;
}

export interface RunOptions {
  redisUrl: string;
  redisPid: number;
  conditions: readonly Condition[];
  settings: PropagationSettings;
  log: (line: string) => void;
  /** Sends one command to the bench's Redis (admin connection): latency monitor and commandstats per run. */
  redisCommand?: (line: string) => Promise<string>;
}

/** Runs each condition with a fresh child (instance B) and this process as instance A. */
export async function measurePropagation(options: RunOptions): Promise<ConditionResult[]> {
  const { log } = options;
  const a = await createInstance(options.redisUrl);
  const results: ConditionResult[] = [];
  try {
    for (const mode of options.settings.modes)
      for (const condition of options.conditions) {
        const peer = new Peer(options.redisUrl, options.settings.bNodeOptions);
        try {
          const ready = await peer.next<{ type: 'ready'; pid: number; probed: boolean }>('ready');
          peer.pid = ready.pid;
          // Every thread of B (GC helpers, libuv) takes the priority: setPriority is per thread on Linux.
          if (options.settings.bNice !== null) {
            for (const tid of readdirSync(`/proc/${ready.pid}/task`))
              os.setPriority(Number(tid), options.settings.bNice);
          }
          peer.probed = ready.probed;
          results.push(await runCondition(a, peer, condition, mode, options));
        } finally {
          await peer.stop();
        }
        const r = results.at(-1)!;
        log(
          `  ${condition}, ${mode} polls: p50 ${r.overall.p50} ms, p99 ${r.overall.p99} ms, p99.9 ${r.overall.p999} ms, max ${r.overall.max} ms (${r.samples} samples, ${r.missed} missed)`,
        );
      }
  } finally {
    await a.close();
  }
  return results;
}

async function runCondition(a: Optix, peer: Peer, condition: Condition, mode: PollMode, options: RunOptions) {
  const { settings, log, redisPid } = options;
  const loaded = condition === 'loaded';
  const tag = `${process.pid}-${condition}-${Date.now().toString(36)}`;
  log(`  ${condition}, ${mode} polls: instance B is pid ${peer.pid}; comparing clocks`);
  const offset = await clockOffset(peer);
  log(`  clock of B − clock of A: ${offset.estimate} ms (best IPC round trip ${offset.rttMs} ms)`);

  let storming = false;
  let stormLogins = 0;
  const stormWorkers: Promise<void>[] = [];
  if (loaded) {
    log(`  loaded: B logs in ${settings.loadUsers} users and keeps verifying their tokens`);
    await peer.request({ type: 'prepare-load', users: settings.loadUsers }, 'load-ready');
    peer.send({ type: 'load', ratePerSec: settings.loadRatePerSec });
    storming = true;
    for (let w = 0; w < settings.stormConcurrency; w++) {
      stormWorkers.push(
        (async () => {
          // 500 users per worker, reused: the cap of 5 sessions evicts the oldest, so Redis stays small
          // and the storm includes evictions, as a market-open storm of re-logins would.
          for (let i = 0; storming; i++) {
            await a.login({
              userId: `prop-storm-${tag}-${w}-${i % 500}`,
              ipAddress: ipAddress(i),
              userAgent: USER_AGENT,
            });
            stormLogins++;
          }
        })(),
      );
    }
    // Let the load settle (JIT, connection buffers) before the first sample.
    await new Promise((r) => setTimeout(r, 1000));
  }
  // Warm-up samples (not kept): JIT of both sides' paths.
  const warmup = Math.min(200, Math.ceil(settings.samples / 10));

  await peer.request({ type: 'mark' }, 'marked');
  await redisSide(options.redisCommand, 'reset');
  stormLogins = 0;
  const loadStart = os.loadavg();
  let maxLoad1m = loadStart[0]!;
  const loadTimer = setInterval(() => {
    maxLoad1m = Math.max(maxLoad1m, os.loadavg()[0]!);
  }, 1000);
  loadTimer.unref();
  const cpu0 = {
    m: machineCpuMs(),
    a: processCpuMs(process.pid),
    b: processCpuMs(peer.pid),
    r: processCpuMs(redisPid),
  };
  const started = now();

  const samples: PropagationSample[] = [];
  const windows: Array<{ s: PropagationSample; from: number; to: number }> = [];
  let missed = 0;
  const total = warmup + settings.samples;
  for (let i = 0; i < total; i++) {
    const form = FORMS[i % FORMS.length]!;
    const userId = `prop-${tag}-${i}`;
    const l = await a.login({ userId, ipAddress: ipAddress(i), userAgent: USER_AGENT });
    await peer.request(
      { type: 'arm', id: i, token: l.tokens.accessToken, timeoutMs: settings.timeoutMs, mode },
      `armed:${i}`,
    );
    const result = peer.next<SeenMessage | Extract<ChildMessage, { type: 'timeout' }>>(`result:${i}`);
    const a0 = schedstat();
    const r0 = schedstat(redisPid);
    const calledAt = now();
    await revoke(a, form, l, userId);
    const resolvedAt = now();
    const seen = await result;
    const a1 = schedstat();
    const r1 = schedstat(redisPid);
    if (i < warmup) continue;
    if (seen.type !== 'seen') {
      missed++;
      log(`  sample ${i} (${form}): B did not see the revoke within ${settings.timeoutMs} ms`);
      continue;
    }
    const s: PropagationSample = {
      form,
      delayMs: round(seen.firstFailAt - resolvedAt, 4),
      revokeMs: round(resolvedAt - calledAt, 4),
      pushAfterResolveMs: seen.pushAt > 0 ? round(seen.pushAt - resolvedAt, 4) : null,
      afterPushMs: seen.pushAt > 0 ? round(seen.firstFailAt - seen.pushAt, 4) : null,
      polls: seen.polls,
      maxGapMs: round(seen.maxGapMs, 4),
      gapBeforeFailMs: round(seen.gapBeforeFailMs, 4),
      gcMs: 0,
      stallMs: 0,
      pingInWindow: false,
      bWaitMs: seen.waitMs === null ? null : round(seen.waitMs, 4),
      aWaitMs: a0 && a1 ? round(a1.waitMs - a0.waitMs, 4) : null,
      redisWaitMs: r0 && r1 ? round(r1.waitMs - r0.waitMs, 4) : null,
      error: seen.error,
    };
    samples.push(s);
    for (let g = 0; g + 1 < seen.gaps.length; g += 2) {
      s.stallMs += overlapMs(resolvedAt, seen.firstFailAt, seen.gaps[g]!, seen.gaps[g + 1]!);
    }
    s.stallMs = round(s.stallMs, 4);
    windows.push({ s, from: resolvedAt, to: seen.firstFailAt });
    if ((i - warmup + 1) % 1000 === 0) log(`  ${condition}: ${i - warmup + 1}/${settings.samples}`);
  }

  const elapsedMs = now() - started;
  const cpu1 = {
    m: machineCpuMs(),
    a: processCpuMs(process.pid),
    b: processCpuMs(peer.pid),
    r: processCpuMs(redisPid),
  };
  clearInterval(loadTimer);
  const report = await peer.request<ChildReport>({ type: 'report' }, 'report');
  if (loaded) {
    storming = false;
    await Promise.all(stormWorkers);
    peer.send({ type: 'load', ratePerSec: 0 });
  }

  // What else happened in each sample's window: B's GCs and lease PINGs.
  for (const w of windows) {
    for (const [start, duration] of report.gcs) w.s.gcMs += overlapMs(w.from, w.to, start, start + duration);
    w.s.gcMs = round(w.s.gcMs, 4);
    w.s.pingInWindow = report.pings.some(
      ([sent, answered]) => overlapMs(w.from, w.to, sent, Number.isNaN(answered) ? w.to : answered) > 0,
    );
  }

  const byForm = Object.fromEntries(
    FORMS.map((f) => [f, quantiles(samples.filter((s) => s.form === f).map((s) => s.delayMs))]),
  ) as Record<RevokeForm, Quantiles>;
  const overall = quantiles(samples.map((s) => s.delayMs));
  const pushes = samples.filter((s) => s.pushAfterResolveMs !== null);
  const cores = (x0: number | null | undefined, x1: number | null | undefined) =>
    x0 == null || x1 == null ? Number.NaN : round((x1 - x0) / elapsedMs, 3);
  const machineCores = cores(cpu0.m?.busy, cpu1.m?.busy);
  const aCores = cores(cpu0.a, cpu1.a);
  const bCores = cores(cpu0.b, cpu1.b);
  const redisCores = cores(cpu0.r, cpu1.r);
  const gcDurations = report.gcs.map(([, d]) => d);
  const pingTimes = report.pings.filter(([, t]) => !Number.isNaN(t)).map(([s, t]) => t - s);
  return {
    condition,
    samples: samples.length,
    missed,
    overall,
    byForm,
    met: missed === 0 && overall.p99 <= GOAL_P99_MS,
    components: {
      revokeMs: quantiles(samples.map((s) => s.revokeMs)),
      pushAfterResolveMs: pushes.length ? quantiles(pushes.map((s) => s.pushAfterResolveMs!)) : null,
      afterPushMs: pushes.length ? quantiles(pushes.map((s) => s.afterPushMs!)) : null,
    },
    negative: samples.filter((s) => s.delayMs < 0).length,
    clockOffsetMs: offset,
    elapsedS: round(elapsedMs / 1000, 1),
    loadAverage: {
      start: loadStart.map((v) => round(v, 2)),
      end: os.loadavg().map((v) => round(v, 2)),
      max1m: round(maxLoad1m, 2),
    },
    cpu: {
      machineCores,
      aCores,
      bCores,
      redisCores,
      otherCores: round(machineCores - aCores - bCores - redisCores, 3),
      stealCores: cores(cpu0.m?.steal, cpu1.m?.steal),
    },
    b: {
      gcCount: report.gcs.length,
      gcTotalMs: round(
        gcDurations.reduce((x, y) => x + y, 0),
        1,
      ),
      gcMaxMs: round(Math.max(0, ...gcDurations), 2),
      leasePings: report.pings.length,
      leasePingMaxMs: round(Math.max(0, ...pingTimes), 2),
      ...(loaded
        ? {
            loadPerSec: Math.round((report.load.done * 1000) / report.wallMs),
            loadFailed: report.load.failed,
            loadTimerLagMaxMs: round(report.load.timerLagMaxMs, 2),
          }
        : {}),
      probed: report.probed,
    },
    ...(loaded
      ? { storm: { logins: stormLogins, perSec: Math.round((stormLogins * 1000) / elapsedMs) } }
      : {}),
    outliers: {
      all: countOutliers(samples, Number.NEGATIVE_INFINITY),
      over1ms: countOutliers(samples, 1),
      over5ms: countOutliers(samples, GOAL_P99_MS),
    },
    gcByKind: gcByKind(report.gcs),
    mode,
    redis: await redisSide(options.redisCommand, 'read'),
    slowest: [...samples].sort((x, y) => y.delayMs - x.delayMs).slice(0, 10),
  } satisfies ConditionResult;
}

const fmtQ = (q: Quantiles) =>
  `${String(q.n).padStart(5)} ${[q.p50, q.p90, q.p99, q.p999, q.max].map((v) => v.toFixed(3).padStart(8)).join(' ')}`;

export function printPropagation(results: readonly ConditionResult[], log: (line: string) => void): void {
  for (const r of results) {
    log('');
    log(
      `  ${r.condition}, ${r.mode} polls: ${r.samples} samples in ${r.elapsedS} s, ${r.missed} missed, ${r.negative} seen before A's call resolved; p99 goal ≤ ${GOAL_P99_MS} ms: ${r.met ? 'MET' : 'MISSED'}`,
    );
    log(`    ${'delay (ms)'.padEnd(26)}     n      p50      p90      p99    p99.9      max`);
    log(`    ${'all forms'.padEnd(26)} ${fmtQ(r.overall)}`);
    for (const f of FORMS) log(`    ${f.padEnd(26)} ${fmtQ(r.byForm[f])}`);
    log(`    ${"A's revoke call".padEnd(26)} ${fmtQ(r.components.revokeMs)}`);
    if (r.components.pushAfterResolveMs)
      log(`    ${'push at B − A resolved'.padEnd(26)} ${fmtQ(r.components.pushAfterResolveMs)}`);
    if (r.components.afterPushMs)
      log(`    ${'B failing poll − push'.padEnd(26)} ${fmtQ(r.components.afterPushMs)}`);
    log(
      `    machine: load ${r.loadAverage.start[0]} → ${r.loadAverage.end[0]} (max ${r.loadAverage.max1m}); CPU cores busy ${r.cpu.machineCores} (A ${r.cpu.aCores}, B ${r.cpu.bCores}, redis ${r.cpu.redisCores}, other ${r.cpu.otherCores}, steal ${r.cpu.stealCores}); clock B−A ${r.clockOffsetMs.estimate} ms`,
    );
    log(
      `    B (${r.mode} polls): ${r.b.gcCount} GCs (${r.b.gcTotalMs} ms, longest ${r.b.gcMaxMs} ms; ${Object.entries(
        r.gcByKind,
      )
        .map(([k, v]) => `${k} ${v.count}× max ${v.maxMs}`)
        .join(', ')}), ${r.b.leasePings} lease PINGs (slowest ${r.b.leasePingMaxMs} ms)` +
        (r.b.loadPerSec !== undefined
          ? `, ${r.b.loadPerSec} warm verifications/s (${r.b.loadFailed} failed, pacing lag max ${r.b.loadTimerLagMaxMs} ms)`
          : '') +
        (r.storm ? `; A's login storm ${r.storm.perSec}/s` : ''),
    );
    for (const [label, c] of Object.entries(r.outliers)) {
      log(
        `    ${label}: ${c.count} samples — B GC ${c.bGc}, B stalled ${c.bStall}, B run-queue ${c.bRunQueue}, redis run-queue ${c.redisRunQueue}, push late ${c.pushLate}, loop gap ${c.loopGap}, lease PING ${c.leasePing}, none of these ${c.unexplained}`,
      );
    }
    log(
      '    slowest: delay | push−resolved | poll−push | gap | B gc | B stall | B wait | redis wait | A wait | ping',
    );
    for (const s of r.slowest.slice(0, 5)) {
      log(
        `      ${s.form.padEnd(7)} ${s.delayMs.toFixed(2).padStart(7)} | ${String(s.pushAfterResolveMs?.toFixed(2)).padStart(6)} | ${String(s.afterPushMs?.toFixed(2)).padStart(6)} | ${s.gapBeforeFailMs.toFixed(2).padStart(6)} | ${s.gcMs.toFixed(2).padStart(5)} | ${s.stallMs.toFixed(2).padStart(6)} | ${String(s.bWaitMs?.toFixed(2)).padStart(6)} | ${String(s.redisWaitMs?.toFixed(2)).padStart(6)} | ${String(s.aWaitMs?.toFixed(2)).padStart(6)} | ${s.pingInWindow}`,
      );
    }
  }
}
