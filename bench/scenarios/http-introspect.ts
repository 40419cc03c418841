/**
 * HTTP introspect: `POST /v1/introspect` (RFC 7662) on the real service, listening on a port in its
 * own process. Peers: the Fastify hello-world and oidc-provider's introspection endpoint, each in its
 * own process, under the same load.
 *
 * The load comes from wrk (Debian's `wrk`: C, one thread, its Lua script below) when it is
 * installed, else from autocannon in this process. Load generator, servers and Redis share the
 * machine's cores, and the generator's own cost per request is taken from the servers: autocannon
 * spends about twice as much CPU on one of our POSTs (1000 different bodies) as on a bare GET,
 * which holds the POST side back on two cores. With wrk both sides run at the server's own pace;
 * the same pair under autocannon is measured in the same run for reference.
 */
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type ContenderResult, round, type Sample, summarize } from '../support/measure.js';
import { JWT_SECRET } from '../support/optix.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';
import { WRK_SCRIPT } from '../support/wrk.js';

const TOKENS = 1000;
export const SERVICE_KEY = 'bench-service-key-0123456789abcdef-0123456789';
const OIDC_CLIENT_ID = 'bench-introspector';
const OIDC_CLIENT_SECRET = 'bench-introspector-secret-0123456789abcdef';
/** RFC 6749 §2.3.1 client_secret_basic (id and secret are plain ASCII here). */
const OIDC_AUTHORIZATION = `Basic ${Buffer.from(`${OIDC_CLIENT_ID}:${OIDC_CLIENT_SECRET}`).toString('base64')}`;
const LOG_LEVEL = 'info';

const FLOOR_LABEL = 'bare node:http: key check, body parse, the same verification, nothing else';

const OIDC_LABEL =
  'oidc-provider: POST /token/introspection (opaque, in-memory adapter, client_secret_basic)';

export interface Child {
  process: ChildProcess;
  port: number;
  tokens: string[];
  stop(): Promise<void>;
}

/** Starts `bench/servers/<file>` in its own process; resolves with its port and tokens once it is ready. */
export function startChild(file: string, env: Record<string, string>): Promise<Child> {
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
  /** One run of `seconds` seconds; throws on any non-2xx answer or socket error. */
  run: (seconds: number) => Promise<Sample>;
}

/** True when `wrk` is on the PATH. */
function hasWrk(): boolean {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && `${r.stdout}${r.stderr}`.includes('wrk');
}

interface WrkRequest {
  method: 'GET' | 'POST';
  path: string;
  /** File of request bodies, one per line. */
  bodies?: string;
  authorization?: string;
  /** Content type of the bodies (default JSON). */
  contentType?: string;
}

/** One wrk run (1 thread, `connections` connections) against `port`. */
function wrk(
  script: string,
  port: number,
  connections: number,
  seconds: number,
  req: WrkRequest,
): Promise<Sample> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script];
  args.push(
    `http://127.0.0.1:${port}`,
    '--',
    req.method,
    req.path,
    req.bodies ?? '',
    req.authorization ?? '',
    req.contentType ?? '',
  );
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`));
        return;
      }
      const r = JSON.parse(line) as {
        requests: number;
        durationUs: number;
        errors: number;
        status: number;
        p50: number;
        p99: number;
        mean: number;
        max: number;
      };
      if (r.errors !== 0 || r.status !== 0) {
        reject(new Error(`port ${port}: ${r.status} non-2xx answers, ${r.errors} socket errors or timeouts`));
        return;
      }
      resolve({
        ops: r.requests,
        elapsedMs: round(r.durationUs / 1000, 1),
        opsPerSec: Math.round(r.requests / (r.durationUs / 1e6)),
        p50Us: r.p50,
        p99Us: r.p99,
        meanUs: round(r.mean, 1),
        maxUs: r.max,
      });
    });
  });
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
      `  setup: the service (NODE_ENV=production), two diagnostic variants, a bare node:http introspection and the hello-world, each in its own process`,
    );
    const children: Child[] = [];
    let scratch: string | null = null;
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
      // The least an introspection endpoint can do, no framework (a reference row: the ceiling).
      const floor = await launch('introspect-floor.ts', base);
      const oidc = await launch('oidc-provider.ts', {
        BENCH_TOKENS: String(TOKENS),
        BENCH_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
        BENCH_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
      });
      const oidcForms = oidc.tokens.map((token) => `token=${encodeURIComponent(token)}`);
      for (const body of oidcForms.slice(0, 10)) {
        const res = await fetch(`http://127.0.0.1:${oidc.port}/token/introspection`, {
          method: 'POST',
          headers: { authorization: OIDC_AUTHORIZATION, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        const json = (await res.json()) as { active?: boolean };
        if (res.status !== 200 || json.active !== true)
          throw new Error(`oidc-provider introspection answered ${res.status}`);
      }
      const headers = { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' };
      const bodies = optix.tokens.map((token) => JSON.stringify({ token }));
      // Every token answers active from every instance before anything is measured (and is seen once).
      for (const instance of [optix, quiet, bare, floor]) {
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
      const viaAutocannon = (options: () => autocannon.Options) => (duration: number) =>
        cannon({ ...options(), duration });
      const introspectAc = (port: number) =>
        viaAutocannon(() => ({ ...common(port, 0), requests: [{ ...cycling(), path: '/v1/introspect' }] }));
      const oursAc = introspectAc(optix.port);
      let nextForm = 0;
      const oidcAc = viaAutocannon(() => ({
        ...common(oidc.port, 0),
        requests: [
          {
            method: 'POST' as const,
            path: '/token/introspection',
            headers: {
              authorization: OIDC_AUTHORIZATION,
              'content-type': 'application/x-www-form-urlencoded',
            },
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              body: oidcForms[nextForm++ % oidcForms.length]!,
            }),
          },
        ],
      }));
      const helloGetAc = viaAutocannon(() => ({
        ...common(hello.port, 0),
        requests: [{ method: 'GET', path: '/' }],
      }));

      const withWrk = settings.httpLoad === 'wrk' || (settings.httpLoad === 'auto' && hasWrk());
      if (settings.httpLoad === 'wrk' && !hasWrk())
        throw new Error('--http-load wrk: wrk is not on the PATH');
      const generator = withWrk ? 'wrk' : 'autocannon';
      log(
        withWrk
          ? '  load: wrk (1 thread) for every row; the target pair again under autocannon for reference'
          : settings.httpLoad === 'autocannon'
            ? '  load: autocannon (--http-load autocannon)'
            : '  load: autocannon (wrk is not installed: apt-get install wrk for the lighter load generator)',
      );
      let targets: Target[];
      if (withWrk) {
        scratch = mkdtempSync(join(tmpdir(), 'optix-bench-wrk-'));
        const script = join(scratch, 'introspect.lua');
        const bodyFile = join(scratch, 'bodies.txt');
        writeFileSync(script, WRK_SCRIPT);
        writeFileSync(bodyFile, `${bodies.join('\n')}\n`);
        const formFile = join(scratch, 'forms.txt');
        writeFileSync(formFile, `${oidcForms.join('\n')}\n`);
        const introspect = (port: number) => (duration: number) =>
          wrk(script, port, settings.httpConnections, duration, {
            method: 'POST',
            path: '/v1/introspect',
            bodies: bodyFile,
            authorization: headers.authorization,
          });
        targets = [
          {
            id: 'ours',
            label: 'ours: POST /v1/introspect (service key, rate limit, verify)',
            role: 'ours',
            run: introspect(optix.port),
          },
          {
            id: 'hello-get',
            label: 'Fastify hello-world: GET /',
            role: 'peer',
            run: (d) => wrk(script, hello.port, settings.httpConnections, d, { method: 'GET', path: '/' }),
          },
          {
            id: 'hello-post',
            label: 'Fastify hello-world: POST / (same bodies and headers)',
            role: 'reference',
            run: (d) =>
              wrk(script, hello.port, settings.httpConnections, d, {
                method: 'POST',
                path: '/',
                bodies: bodyFile,
                authorization: headers.authorization,
              }),
          },
          {
            id: 'oidc-provider',
            label: OIDC_LABEL,
            role: 'peer',
            run: (d) =>
              wrk(script, oidc.port, settings.httpConnections, d, {
                method: 'POST',
                path: '/token/introspection',
                bodies: formFile,
                authorization: OIDC_AUTHORIZATION,
                contentType: 'application/x-www-form-urlencoded',
              }),
          },
          {
            id: 'ours-warn',
            label: 'ours, LOG_LEVEL=warn (diagnostic)',
            role: 'reference',
            run: introspect(quiet.port),
          },
          {
            id: 'bare-introspect',
            label: FLOOR_LABEL,
            role: 'reference',
            run: introspect(floor.port),
          },
          {
            id: 'ours-warn-no-limit',
            label: 'ours, LOG_LEVEL=warn, no rate limit (diagnostic)',
            role: 'reference',
            run: introspect(bare.port),
          },
          {
            id: 'ours-autocannon',
            label: 'ours, loaded by autocannon',
            role: 'reference',
            run: oursAc,
          },
          {
            id: 'hello-get-autocannon',
            label: 'Fastify hello-world: GET /, loaded by autocannon',
            role: 'reference',
            run: helloGetAc,
          },
        ];
      } else {
        targets = [
          {
            id: 'ours',
            label: 'ours: POST /v1/introspect (service key, rate limit, verify)',
            role: 'ours',
            run: oursAc,
          },
          { id: 'hello-get', label: 'Fastify hello-world: GET /', role: 'peer', run: helloGetAc },
          {
            id: 'hello-post',
            label: 'Fastify hello-world: POST / (same bodies and headers)',
            role: 'reference',
            run: viaAutocannon(() => ({ ...common(hello.port, 0), requests: [cycling()] })),
          },
          { id: 'oidc-provider', label: OIDC_LABEL, role: 'peer', run: oidcAc },
          {
            id: 'ours-warn',
            label: 'ours, LOG_LEVEL=warn (diagnostic)',
            role: 'reference',
            run: introspectAc(quiet.port),
          },
          { id: 'bare-introspect', label: FLOOR_LABEL, role: 'reference', run: introspectAc(floor.port) },
          {
            id: 'ours-warn-no-limit',
            label: 'ours, LOG_LEVEL=warn, no rate limit (diagnostic)',
            role: 'reference',
            run: introspectAc(bare.port),
          },
        ];
      }
      const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));
      const samples = new Map<string, Sample[]>(targets.map((t) => [t.id, []]));
      for (const t of targets) {
        const s = await t.run(seconds(settings.httpWarmupMs));
        log(`  warm-up  ${t.label.padEnd(60)} ${s.opsPerSec.toLocaleString('en-US').padStart(10)} req/s`);
      }
      for (let r = 0; r < settings.httpRounds; r++) {
        const order = r % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          const s = await t.run(seconds(settings.httpDurationMs));
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
          `${withWrk ? 'wrk (1 thread, its own process; the target pair also under autocannon in the parent process)' : 'autocannon (in the parent process)'} against the service started as in production (startServer, NODE_ENV=production, Redis backend, logs at "${LOG_LEVEL}" written to /dev/null), introspecting ${TOKENS} already-seen access tokens in turn: ` +
          'service-key check, introspection rate limit (per caller, in process), body validation, full verification, metrics, the response schema. ' +
          'Peers: the Fastify hello-world (no logger) in its own process, under the same load; oidc-provider (the most-used Node OAuth server) introspecting its own opaque client-credentials tokens (default in-memory adapter, client_secret_basic, form bodies) in its own process, under the same load.',
        settings: {
          loadGenerator: generator,
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
            id: 'bare-introspect/hello-get',
            label: 'bare node:http introspection / hello-world GET (the ceiling)',
            numerator: 'bare-introspect',
            denominator: 'hello-get',
          },
          {
            id: 'ours/oidc-provider',
            label: 'ours / oidc-provider introspection',
            numerator: 'ours',
            denominator: 'oidc-provider',
          },
          {
            id: 'ours/hello-post',
            label: 'ours / Fastify hello-world POST (same requests)',
            numerator: 'ours',
            denominator: 'hello-post',
          },
          ...(withWrk
            ? [
                {
                  id: 'ours-autocannon/hello-get-autocannon',
                  label: 'ours / hello-world GET, both loaded by autocannon',
                  numerator: 'ours-autocannon',
                  denominator: 'hello-get-autocannon',
                },
              ]
            : []),
        ]),
        notes: [
          'One 2-core machine runs the load generator, the server under test and (for ours) redis-server: the numbers are relative, not capacity.',
          withWrk
            ? 'Load: wrk, one thread, in its own process (it takes a few µs of CPU per request). The last two rows are the target pair loaded by autocannon instead, whose own CPU per request (about twice as much for our POSTs as for a bare GET) is taken from the same two cores.'
            : 'Load: autocannon in the bench process; its own CPU per request (about twice as much for our POSTs as for a bare GET) is taken from the same two cores. Install wrk (Debian: apt-get install wrk) for the lighter load generator.',
          'The target is checked against GET / (the canonical hello-world, the stricter baseline); POST / with the very same requests as ours is shown for reference.',
          "The bare node:http row (bench/servers/introspect-floor.ts) does only what an introspection cannot skip: the service-key check, reading and parsing the body, the same full verification through the same library and Redis (recording the session's use), the answer built once per token. No framework, request id, rate limit, schemas, metrics or logs: its ratio to the hello-world GET is the most any server built on node:http and this verification could reach here.",
          'The two diagnostic rows run the same service with request logs off (LOG_LEVEL=warn), then also without the introspection rate limit (its per-caller counter, in process): they show where the time goes, they are not the measured configuration.',
        ],
      };
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
    }
  },
};
