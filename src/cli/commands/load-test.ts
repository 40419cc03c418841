/**
 * `optix-sessions load-test`: the guide's load test — N operations at a concurrency — reporting
 * ops/s and latency percentiles. Scenarios:
 *   set      the guide's loop: `SET loadtest:<run>:<i> value_<i> EX 60` (Redis only)
 *   verify       full verification of tokens never verified before: signature, claims and every
 *                revocation check read from the store (a distinct token per operation)
 *   verify-warm  one token verified again and again: after the first call, what a token already
 *                seen costs (verified-token cache, revocation answered in process)
 *   session      create a session and end it (the write path: scripts, indexes, events)
 */
import { randomBytes } from 'node:crypto';
import type { Optix } from '../../container.js';
import { describeError } from '../../redis/errors.js';
import {
  type CliIo,
  CliError,
  EXIT,
  type GlobalOptions,
  positiveInt,
  printJson,
  progressBar,
  withOptix,
} from '../context.js';

export const SCENARIOS = ['set', 'verify', 'verify-warm', 'session'] as const;

/**
 * Distinct tokens the `verify` scenario mints before it starts timing (a run of more operations
 * verifies them again in turn, and says so: `distinctTokens`).
 */
export const MAX_DISTINCT_TOKENS = 200_000;
/** Sessions (of as many users) the `verify` tokens are spread over. */
const VERIFY_SESSIONS = 100;
export type Scenario = (typeof SCENARIOS)[number];

export interface LoadTestResult {
  scenario: Scenario;
  backend: 'memory' | 'redis';
  ops: number;
  concurrency: number;
  /** Tokens verified (`verify`, `verify-warm`): each distinct one is checked in full at first sight. */
  distinctTokens: number | null;
  errors: number;
  firstError: string | null;
  durationMs: number;
  opsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] ?? 0;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Runs `ops` operations of `scenario`, `concurrency` at a time. */
export async function runLoadTest(
  optix: Optix,
  input: { scenario: Scenario; ops: number; concurrency: number; onProgress?: (done: number) => void },
): Promise<LoadTestResult> {
  const run = randomBytes(6).toString('hex');
  let op: (i: number) => Promise<unknown>;
  let after: () => Promise<void> = async () => undefined;
  let distinctTokens: number | null = null;
  if (input.scenario === 'set') {
    const redis = optix.redis;
    if (redis === null)
      throw new CliError(EXIT.USAGE, 'the set scenario needs Redis (REDIS_URL); try --scenario verify');
    op = (i) => redis.set(`loadtest:${run}:${i}`, `value_${i}`, { ttlSeconds: 60 });
  } else if (input.scenario === 'verify') {
    // A distinct token per operation, minted before the clock starts: none is in the verified-token
    // cache and each one's jti key is new to the client-side cache, so every operation checks the
    // signature and claims and reads its revocation from the store (as the first request of each
    // new token does). The tokens are spread over VERIFY_SESSIONS sessions of as many users.
    const sessions = await Promise.all(
      Array.from({ length: Math.min(VERIFY_SESSIONS, input.ops) }, (_, u) =>
        optix.sessions.createSession({
          userId: `loadtest-${run}-${u}`,
          ipAddress: '127.0.0.1',
          userAgent: 'optix-sessions load-test',
        }),
      ),
    );
    distinctTokens = Math.min(input.ops, MAX_DISTINCT_TOKENS);
    const tokens: string[] = new Array(distinctTokens);
    for (let i = 0; i < distinctTokens; i++) {
      const s = sessions[i % sessions.length]!;
      tokens[i] = (await optix.jwt.createAccessToken({ userId: s.userId, sessionId: s.sessionId })).token;
    }
    op = (i) => optix.jwt.verifyToken(tokens[i % tokens.length]!);
    after = async () => {
      for (const s of sessions) await optix.sessions.terminateSession(s.sessionId, 'load_test_done');
    };
  } else if (input.scenario === 'verify-warm') {
    distinctTokens = 1;
    const userId = `loadtest-${run}`;
    const session = await optix.sessions.createSession({
      userId,
      ipAddress: '127.0.0.1',
      userAgent: 'optix-sessions load-test',
    });
    const pair = await optix.jwt.issueTokenPair({ userId, sessionId: session.sessionId });
    op = () => optix.jwt.verifyToken(pair.accessToken);
    after = async () => {
      await optix.jwt.revokeRefreshToken(pair.refreshToken, 'load_test_done');
    };
  } else {
    op = async (i) => {
      const userId = `loadtest-${run}-${i % 1000}`;
      const s = await optix.sessions.createSession({
        userId,
        ipAddress: '127.0.0.1',
        userAgent: 'optix-sessions load-test',
      });
      await optix.sessions.terminateSession(s.sessionId, 'load_test');
    };
  }

  const latencies = new Float64Array(input.ops);
  let next = 0;
  let errors = 0;
  let firstError: string | null = null;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= input.ops) return;
      const t0 = performance.now();
      try {
        await op(i);
      } catch (err) {
        errors++;
        firstError ??= describeError(err);
      }
      latencies[i] = performance.now() - t0;
      input.onProgress?.(++done);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(input.concurrency, input.ops) }, worker));
  const durationMs = performance.now() - started;
  await after();
  latencies.sort();
  return {
    scenario: input.scenario,
    backend: optix.backend,
    ops: input.ops,
    concurrency: input.concurrency,
    distinctTokens,
    errors,
    firstError,
    durationMs: round(durationMs),
    opsPerSec: Math.round((input.ops / durationMs) * 1000),
    latencyMs: {
      p50: round(percentile(latencies, 0.5)),
      p99: round(percentile(latencies, 0.99)),
      max: round(latencies[latencies.length - 1] ?? 0),
    },
  };
}

export async function loadTestCommand(
  io: CliIo,
  options: GlobalOptions & { ops?: string; concurrency?: string; scenario?: string },
): Promise<number> {
  const ops = positiveInt('--ops', options.ops, 10_000, 10_000_000);
  const concurrency = positiveInt('--concurrency', options.concurrency, 50, 10_000);
  if (options.scenario !== undefined && !(SCENARIOS as readonly string[]).includes(options.scenario)) {
    throw new CliError(EXIT.USAGE, `--scenario must be one of ${SCENARIOS.join(', ')}`);
  }
  return withOptix(io, options, async (optix) => {
    const scenario = (options.scenario as Scenario | undefined) ?? (optix.redis ? 'set' : 'verify');
    if (!options.json) {
      io.stderr.write(`load-test: ${ops} × ${scenario} at concurrency ${concurrency} on ${optix.backend}…\n`);
    }
    // Progress: a bar on a terminal; otherwise a line every 2 s (a long run is never silent).
    const bar = io.isTTY && !options.json ? progressBar(io, 'load-test', ops, 'ops') : null;
    let lastLine = performance.now();
    const onProgress = (done: number) => {
      if (bar) {
        if (done % 100 === 0 || done === ops) bar.update(done);
        return;
      }
      if (options.json || performance.now() - lastLine < 2000) return;
      lastLine = performance.now();
      io.stderr.write(`load-test: ${done}/${ops} ops\n`);
    };
    const r = await runLoadTest(optix, { scenario, ops, concurrency, onProgress });
    bar?.stop(ops);
    if (options.json) printJson(io, r);
    else {
      io.stdout.write(
        `${r.scenario}: ${r.ops} ops in ${(r.durationMs / 1000).toFixed(2)} s = ${r.opsPerSec} ops/s (concurrency ${r.concurrency}, ${r.backend})\n` +
          (r.distinctTokens === null
            ? ''
            : `tokens: ${r.distinctTokens} distinct${r.distinctTokens === 1 ? ' (verified again and again: cached after the first call)' : r.distinctTokens < r.ops ? ' (then verified again in turn)' : ' (each verified once, in full)'}\n`) +
          `latency p50 ${r.latencyMs.p50.toFixed(3)} ms, p99 ${r.latencyMs.p99.toFixed(3)} ms, max ${r.latencyMs.max.toFixed(3)} ms\n` +
          `errors ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ''}\n`,
      );
    }
    return r.errors === 0 ? EXIT.OK : EXIT.FAILURE;
  });
}
