/**
 * Instance B of the revocation-propagation bench (bench/support/propagation.ts), in its own
 * process: its own composition root on the bench's Redis, the client-side cache on, as a gateway
 * runs. For each sample the parent (instance A) sends a token; B verifies it twice (now cached),
 * answers `armed`, then verifies it again and again, one call per turn of the event loop
 * (`setImmediate`), until a verification fails, and reports when that one started, on the clock
 * both processes share (`now()`). Event mode instead sleeps and verifies on the turn after each
 * invalidation push (a gateway that is not spinning).
 *
 * Loaded (`load` message): B also verifies warm tokens of its own users at a steady rate, paced by
 * a 1 ms timer that makes up for lost time (a stalled gateway finds its requests queued).
 *
 * It also records, for the parent to line up against the samples: its garbage collections
 * (PerformanceObserver 'gc'), the lease `PING`s of its tracked connection, the arrival of each
 * invalidation push, and its main thread's run and run-queue wait times (/proc schedstat).
 *
 * Environment: BENCH_REDIS_URL.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { createInstance, now, probeTracking, schedstat } from '../support/instance.js';
import { USER_AGENT, ipAddress } from '../support/payload.js';
import type { ChildMessage, ParentMessage, PollMode } from '../support/propagation-protocol.js';

const url = process.env.BENCH_REDIS_URL;
if (!url) throw new Error('BENCH_REDIS_URL is required');
const optix = await createInstance(url);

const send = (message: ChildMessage) => process.send!(message);

// --- probes -------------------------------------------------------------------------------------
const gcs: Array<[start: number, durationMs: number, kind: number]> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    // biome-ignore lint/suspicious/noExplicitAny: `detail.kind` (Node ≥ 16) is not in the entry's type
    const kind = Number((e as any).detail?.kind ?? 0);
    gcs.push([performance.timeOrigin + e.startTime, e.duration, kind]);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const pings: Array<[sentAt: number, answeredAt: number]> = [];
let lastPushAt = 0;
const probed = probeTracking(
  optix,
  (at) => {
    lastPushAt = at;
    onPushed?.();
  },
  (sentAt, answeredAt) => pings.push([sentAt, answeredAt]),
);

// --- the polls of one sample --------------------------------------------------------------------
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Event mode: called (on the next turn) when an invalidation push reaches the cache provider. */
let onPushed: (() => void) | null = null;

/** A gap between two polls longer than this is recorded (ms): the loop was held (GC, the scheduler). */
const GAP_MS = 0.2;

async function watch(id: number, token: string, timeoutMs: number, mode: PollMode): Promise<void> {
  // Two verifications: the first may be a first sight (a read of Redis), the second is answered
  // from the cache, so the polls below start warm.
  await optix.jwt.verifyToken(token);
  await optix.jwt.verifyToken(token);
  const sched0 = schedstat();
  const armedAt = now();
  lastPushAt = 0;
  let polls = 0;
  let lastOkAt = armedAt;
  let previousStart = armedAt;
  let maxGapMs = 0;
  const gaps: number[] = [];
  /** One verification; true once it failed (and the sample is reported). */
  const poll = async (): Promise<boolean> => {
    const start = now();
    const gap = start - previousStart;
    if (gap > maxGapMs) maxGapMs = gap;
    if (gap > GAP_MS && mode === 'immediate') gaps.push(previousStart, start);
    previousStart = start;
    polls++;
    try {
      await optix.jwt.verifyToken(token);
      lastOkAt = start;
      return false;
    } catch (err) {
      const sched1 = schedstat();
      const e = err as { code?: string; reason?: string };
      send({
        type: 'seen',
        id,
        armedAt,
        firstFailAt: start,
        failedAt: now(),
        lastOkAt,
        pushAt: lastPushAt,
        polls,
        maxGapMs,
        gapBeforeFailMs: gap,
        gaps,
        error: `${e.code ?? 'unknown'}:${e.reason ?? ''}`,
        runMs: sched0 && sched1 ? sched1.runMs - sched0.runMs : null,
        waitMs: sched0 && sched1 ? sched1.waitMs - sched0.waitMs : null,
      });
      return true;
    }
  };
  send({ type: 'armed', id, armedAt });
  if (mode === 'event') {
    // B sleeps (in epoll, as an idle gateway does) and verifies again on the turn after each
    // invalidation push, and every 5 ms in case a push is missed; `gaps` then means nothing.
    await new Promise<void>((resolve) => {
      let busy = false;
      const again = () => {
        if (busy) return;
        busy = true;
        void poll().then((done) => {
          busy = false;
          if (done || now() - armedAt > timeoutMs) {
            if (!done) send({ type: 'timeout', id, armedAt, lastOkAt, polls });
            clearInterval(timer);
            onPushed = null;
            resolve();
          }
        });
      };
      const timer = setInterval(again, 5);
      onPushed = () => setImmediate(again);
    });
    return;
  }
  for (;;) {
    if (await poll()) return;
    if (previousStart - armedAt > timeoutMs) {
      send({ type: 'timeout', id, armedAt, lastOkAt, polls });
      return;
    }
    await turn();
  }
}

// --- load: warm verifications of other tokens at a steady rate --------------------------------
let loadTimer: NodeJS.Timeout | undefined;
let loadTokens: string[] = [];
let loadIssued = 0;
let loadDone = 0;
let loadFailed = 0;
let loadLagMaxMs = 0;

async function prepareLoad(users: number): Promise<void> {
  const tokens: string[] = [];
  for (let i = 0; i < users; i++) {
    const { tokens: pair } = await optix.login({
      userId: `prop-load-${process.pid}-${i}`,
      ipAddress: ipAddress(i),
      userAgent: USER_AGENT,
    });
    tokens.push(pair.accessToken);
  }
  for (const t of tokens) await optix.jwt.verifyToken(t);
  loadTokens = tokens;
}

function startLoad(ratePerSec: number): void {
  const startedAt = now();
  loadIssued = 0;
  const ok = () => {
    loadDone++;
  };
  const failed = () => {
    loadFailed++;
  };
  let lastTick = startedAt;
  loadTimer = setInterval(() => {
    const t = now();
    if (t - lastTick > loadLagMaxMs) loadLagMaxMs = t - lastTick;
    lastTick = t;
    // Owed since the start, at most one second of backlog at once.
    const owed = Math.min(Math.floor(((t - startedAt) * ratePerSec) / 1000) - loadIssued, ratePerSec);
    for (let k = 0; k < owed; k++) {
      const token = loadTokens[(loadIssued + k) % loadTokens.length]!;
      optix.jwt.verifyToken(token).then(ok, failed);
    }
    if (owed > 0) loadIssued += owed;
  }, 1);
}

function stopLoad(): void {
  clearInterval(loadTimer);
  loadTimer = undefined;
}

// --- messages -----------------------------------------------------------------------------------
let cpuAtMark = process.cpuUsage();
let markedAt = now();

process.on('message', (raw) => {
  const message = raw as ParentMessage;
  switch (message.type) {
    case 'clock':
      send({ type: 'clock', t0: message.t0, tB: now() });
      break;
    case 'arm':
      void watch(message.id, message.token, message.timeoutMs, message.mode).catch((err: unknown) =>
        send({ type: 'error', id: message.id, message: String((err as Error)?.stack ?? err) }),
      );
      break;
    case 'prepare-load':
      void prepareLoad(message.users).then(
        () => send({ type: 'load-ready', tokens: loadTokens.length }),
        (err: unknown) => send({ type: 'error', id: -1, message: String((err as Error)?.stack ?? err) }),
      );
      break;
    case 'load':
      if (message.ratePerSec > 0) startLoad(message.ratePerSec);
      else stopLoad();
      break;
    case 'mark':
      cpuAtMark = process.cpuUsage();
      markedAt = now();
      gcs.length = 0;
      pings.length = 0;
      loadDone = 0;
      loadFailed = 0;
      loadLagMaxMs = 0;
      send({ type: 'marked' });
      break;
    case 'report': {
      const cpu = process.cpuUsage(cpuAtMark);
      send({
        type: 'report',
        wallMs: now() - markedAt,
        cpuMs: (cpu.user + cpu.system) / 1000,
        gcs: gcs.slice(),
        pings: pings.slice(),
        probed,
        load: { done: loadDone, failed: loadFailed, timerLagMaxMs: loadLagMaxMs },
      });
      break;
    }
    case 'stop':
      stopLoad();
      gcObserver.disconnect();
      void optix.close().finally(() => process.exit(0));
      break;
  }
});

send({ type: 'ready', pid: process.pid, probed });
