/**
 * HTTP introspect: `POST /v1/introspect` (RFC 7662) on the real service, listening on a port in its
 * own process, loaded by autocannon from this process. Peer: the Fastify hello-world, in its own
 * process, under the same autocannon settings.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type ContenderResult, round, type Sample, summarize } from '../support/measure.js';
import { JWT_SECRET } from '../support/optix.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';

const TOKENS = 1000;
const SERVICE_KEY = 'bench-service-key-0123456789abcdef-0123456789';
const LOG_LEVEL = 'info';

interface Child {
  process: ChildProcess;
  port: number;
  tokens: string[];
  stop(): Promise<void>;
}

function startChild(file: string, env: Record<string, string>): Promise<Child> {
  const path = fileURLToPath(new URL(`../servers/${file}`, import.meta.url));
  const child = fork(path, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.send('stop');
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${file} was not ready within 120 s`));
    }, 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (code ${code}) before it was ready`));
    });
    child.once('message', (m: unknown) => {
      clearTimeout(timer);
      const msg = m as { type: string; port: number; tokens: string[] };
      resolve({ process: child, port: msg.port, tokens: msg.tokens, stop });
    });
  });
}

interface Target {
  id: string;
  label: string;
  role: ContenderResult['role'];
  options: () => autocannon.Options;
}

/**
 * One autocannon run. Latencies are taken from its `response` events into a perf_hooks histogram
 * (autocannon's own histogram keeps whole milliseconds).
 */
async function cannon(options: autocannon.Options): Promise<Sample> {
  const histogram = createHistogram({ lowest: 1, highest: 120_000_000_000, figures: 3 });
  // Without a callback autocannon returns its event emitter, made thenable (its types say Promise).
  const instance = autocannon(options) as unknown as EventEmitter & PromiseLike<autocannon.Result>;
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) histogram.record(Math.max(1, Math.round(ms * 1e6)));
  });
  const r = await instance;
  if (r.non2xx !== 0 || r.errors !== 0) {
    throw new Error(
      `${options.url}: ${r.non2xx} non-2xx answers, ${r.errors} errors (${JSON.stringify(r.statusCodeStats)})`,
    );
  }
  return {
    ops: r['2xx'],
    elapsedMs: round(r.duration * 1000, 1),
    opsPerSec: Math.round(r['2xx'] / r.duration),
    p50Us: round(histogram.percentile(50) / 1000, 1),
    p99Us: round(histogram.percentile(99) / 1000, 1),
    meanUs: round(histogram.mean / 1000, 1),
    maxUs: round(histogram.max / 1000, 1),
  };
}

export const scenario: Scenario = {
  name: 'http-introspect',
  aliases: ['http', 'introspect'],
  title: 'HTTP: POST /v1/introspect on the running service',
  async run({ redis, settings, log }) {
    log(
      `  setup: the service (NODE_ENV=production), two diagnostic variants and the hello-world, each in its own process`,
    );
    const children: Child[] = [];
    const base = { BENCH_REDIS_URL: redis.url, BENCH_SERVICE_KEY: SERVICE_KEY, BENCH_JWT_SECRET: JWT_SECRET };
    const launch = async (file: string, env: Record<string, string>) => {
      const child = await startChild(file, env);
      children.push(child);
      return child;
    };
    try {
      // The first one makes the tokens; the variants share its Redis, secret and key prefix.
      const optix = await launch('optix-app.ts', {
        ...base,
        BENCH_TOKENS: String(TOKENS),
        BENCH_LOG_LEVEL: LOG_LEVEL,
      });
      const quiet = await launch('optix-app.ts', { ...base, BENCH_TOKENS: '0', BENCH_LOG_LEVEL: 'warn' });
      const bare = await launch('optix-app.ts', {
        ...base,
        BENCH_TOKENS: '0',
        BENCH_LOG_LEVEL: 'warn',
        BENCH_RATE_LIMIT_PER_MINUTE: '0',
      });
      const hello = await launch('hello-world.ts', {});
      const headers = { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' };
      const bodies = optix.tokens.map((token) => JSON.stringify({ token }));
      // Every token answers active from every instance before anything is measured (and is seen once).
      for (const instance of [optix, quiet, bare]) {
        for (const body of bodies) {
          const res = await fetch(`http://127.0.0.1:${instance.port}/v1/introspect`, {
            method: 'POST',
            headers,
            body,
          });
          const json = (await res.json()) as { active?: boolean };
          if (res.status !== 200 || json.active !== true)
            throw new Error(`introspect answered ${res.status}`);
        }
      }
      let next = 0;
      const cycling = () => ({
        method: 'POST' as const,
        path: '/',
        headers,
        setupRequest: (req: autocannon.Request) => ({ ...req, body: bodies[next++ % bodies.length]! }),
      });
      const common = (port: number, duration: number) => ({
        url: `http://127.0.0.1:${port}`,
        connections: settings.httpConnections,
        pipelining: 1,
        duration,
      });
      // The target pair (ours, hello GET) runs back to back in every round, whichever the direction.
      const targets: Target[] = [
        {
          id: 'ours',
          label: 'ours: POST /v1/introspect (service key, rate limit, verify)',
          role: 'ours',
          options: () => ({ ...common(optix.port, 0), requests: [{ ...cycling(), path: '/v1/introspect' }] }),
        },
        {
          id: 'hello-get',
          label: 'Fastify hello-world: GET /',
          role: 'peer',
          options: () => ({ ...common(hello.port, 0), requests: [{ method: 'GET', path: '/' }] }),
        },
        {
          id: 'hello-post',
          label: 'Fastify hello-world: POST / (same bodies and headers)',
          role: 'reference',
          options: () => ({ ...common(hello.port, 0), requests: [cycling()] }),
        },
        {
          id: 'ours-warn',
          label: 'ours, LOG_LEVEL=warn (diagnostic)',
          role: 'reference',
          options: () => ({ ...common(quiet.port, 0), requests: [{ ...cycling(), path: '/v1/introspect' }] }),
        },
        {
          id: 'ours-warn-no-limit',
          label: 'ours, LOG_LEVEL=warn, no rate limit (diagnostic)',
          role: 'reference',
          options: () => ({ ...common(bare.port, 0), requests: [{ ...cycling(), path: '/v1/introspect' }] }),
        },
      ];
      const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));
      const samples = new Map<string, Sample[]>(targets.map((t) => [t.id, []]));
      for (const t of targets) {
        const s = await cannon({ ...t.options(), duration: seconds(settings.httpWarmupMs) });
        log(`  warm-up  ${t.label.padEnd(60)} ${s.opsPerSec.toLocaleString('en-US').padStart(10)} req/s`);
      }
      for (let r = 0; r < settings.httpRounds; r++) {
        const order = r % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          const s = await cannon({ ...t.options(), duration: seconds(settings.httpDurationMs) });
          samples.get(t.id)!.push(s);
          log(
            `  round ${r + 1}  ${t.label.padEnd(60)} ${s.opsPerSec.toLocaleString('en-US').padStart(10)} req/s  p50 ${s.p50Us} µs  p99 ${s.p99Us} µs`,
          );
        }
      }
      const results = targets.map((t) => summarize(t, samples.get(t.id)!));
      return {
        scenario: 'http-introspect',
        title: 'HTTP: POST /v1/introspect on the running service',
        measures:
          `autocannon (in the parent process) against the service started as in production (startServer, NODE_ENV=production, Redis backend, logs at "${LOG_LEVEL}" written to /dev/null), introspecting ${TOKENS} already-seen access tokens in turn: ` +
          'service-key check, rate limiter (Redis counter), body validation, full verification, metrics, the response schema. ' +
          'Peer: the Fastify hello-world (no logger) in its own process, same autocannon settings.',
        settings: {
          connections: settings.httpConnections,
          pipelining: 1,
          durationSeconds: seconds(settings.httpDurationMs),
          warmupSeconds: seconds(settings.httpWarmupMs),
          rounds: settings.httpRounds,
          tokens: TOKENS,
          logLevel: LOG_LEVEL,
          rateLimitIntrospectPerMinute: 10_000_000,
        },
        results,
        ratios: ratios(results, [
          {
            id: 'ours/hello-get',
            label: 'ours / Fastify hello-world GET',
            numerator: 'ours',
            denominator: 'hello-get',
            target: { min: 0.6 },
          },
          {
            id: 'ours-warn/hello-get',
            label: 'ours (LOG_LEVEL=warn) / hello-world GET',
            numerator: 'ours-warn',
            denominator: 'hello-get',
          },
          {
            id: 'ours-warn-no-limit/hello-get',
            label: 'ours (warn, no rate limit) / hello-world GET',
            numerator: 'ours-warn-no-limit',
            denominator: 'hello-get',
          },
          {
            id: 'ours/hello-post',
            label: 'ours / Fastify hello-world POST (same requests)',
            numerator: 'ours',
            denominator: 'hello-post',
          },
        ]),
        notes: [
          'One 2-core machine runs the load generator, the server under test and (for ours) redis-server: the numbers are relative, not capacity.',
          'The target is checked against GET / (the canonical hello-world, the stricter baseline); POST / with the very same requests as ours is shown for reference.',
          'The two diagnostic rows run the same service with request logs off (LOG_LEVEL=warn), then also without the introspection rate limit (its Redis counter per request): they show where the time goes, they are not the measured configuration.',
        ],
      };
    } finally {
      await Promise.all(children.map((c) => c.stop()));
    }
  },
};
