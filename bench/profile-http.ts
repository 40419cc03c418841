/**
 * `npx tsx bench/profile-http.ts [--rounds N] [--seconds S] [--profile FILE] [--only a,b] [--app DIR]`:
 * the server CPU one HTTP request costs, for `POST /v1/introspect` on the real service
 * (`bench/servers/optix-app.ts`, as the http-introspect scenario starts it) and for the Fastify
 * hello-world `GET /` and `POST /` (same bodies and headers as ours), each loaded by wrk (1 thread,
 * 64 connections) in turn, rounds alternated. The CPU is the server process's own (utime + stime
 * from `/proc/<pid>/stat`; each round also prints the kernel's share, stime: sockets and loopback TCP), so the load generator and Redis are not in it: on a shared 2-core
 * machine it is much steadier than requests per second, and at 64 connections the server process
 * is the bottleneck, so hello CPU ÷ our CPU approximates the throughput ratio.
 *
 * `--profile FILE` writes a CPU profile of our service during one more run (`.cpuprofile`,
 * sampled every 100 µs; `node bench/support/cpuprofile.mjs FILE` summarises it). `--app DIR`
 * adds a second service row started from another checkout's `bench/servers/optix-app.ts` (e.g. an
 * export of the base commit with `node_modules` linked), to compare builds in one run.
 * `--env K=V` (repeatable) is passed to our service (e.g. `BENCH_LOG_LEVEL=warn`).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JWT_SECRET } from './support/optix.js';
import { startRedis } from './support/redis.js';
import { WRK_SCRIPT } from './support/wrk.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const ROUNDS = Number(option('--rounds') ?? 3);
const SECONDS = Number(option('--seconds') ?? 4);
const CONNECTIONS = Number(option('--connections') ?? 64);
const profileFile = option('--profile') ?? null;
const otherApp = option('--app') ?? null;
const only = option('--only')?.split(',') ?? null;
const extraEnv: Record<string, string> = {};
/** `--server id=FILE`: another server, loaded like ours (its own process, BENCH_TOKENS=0). */
const extraServers: { id: string; file: string }[] = [];
args.forEach((a, i) => {
  const [k, ...v] = (args[i + 1] ?? '').split('=');
  if (a === '--env' && k) extraEnv[k] = v.join('=');
  if (a === '--server' && k) extraServers.push({ id: k, file: resolve(v.join('=')) });
});
const TOKENS = 1000;
const SERVICE_KEY = 'bench-service-key-0123456789abcdef-0123456789';
const HOOK = fileURLToPath(new URL('./support/inspector-hook.mjs', import.meta.url));

interface Server {
  child: ChildProcess;
  port: number;
  tokens: string[];
}

function start(file: string, env: Record<string, string>): Promise<Server> {
  const child = fork(file, [], {
    execArgv: ['--import', 'tsx', '--import', HOOK],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolvePromise, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited (${code})`)));
    child.once('message', (m: unknown) => {
      const msg = m as { port: number; tokens: string[] };
      resolvePromise({ child, port: msg.port, tokens: msg.tokens });
    });
  });
}

/** utime + stime of `pid`, in µs. */
/** The process's CPU time so far (µs): user and system (the kernel's: sockets, loopback TCP). */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5) (clock ticks of 10 ms); fields[0] here is field 3.
  return { user: (Number(fields[11]) * 1e6) / 100, system: (Number(fields[12]) * 1e6) / 100 };
}

function wrk(
  script: string,
  port: number,
  seconds: number,
  method: string,
  path: string,
  bodies: string,
  auth: string,
): Promise<{ requests: number; durationUs: number }> {
  const a = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, `http://127.0.0.1:${port}`];
  a.push('--', method, path, bodies, auth);
  return new Promise((res, rej) => {
    const child = spawn('wrk', a, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (line === undefined) return rej(new Error(`wrk: ${out}`));
      const r = JSON.parse(line) as { requests: number; durationUs: number; errors: number; status: number };
      if (r.errors !== 0 || r.status !== 0)
        return rej(new Error(`wrk: ${r.status} non-2xx, ${r.errors} errors`));
      res(r);
    });
  });
}

const redis = await startRedis();
const scratch = mkdtempSync(join(tmpdir(), 'optix-profile-http-'));
const servers: Server[] = [];
try {
  const base = {
    BENCH_REDIS_URL: redis.url,
    BENCH_SERVICE_KEY: SERVICE_KEY,
    BENCH_JWT_SECRET: JWT_SECRET,
    BENCH_LOG_LEVEL: 'info',
  };
  const here = fileURLToPath(new URL('./servers/', import.meta.url));
  const ours = await start(join(here, 'optix-app.ts'), {
    ...base,
    BENCH_TOKENS: String(TOKENS),
    ...extraEnv,
  });
  servers.push(ours);
  const other =
    otherApp === null
      ? null
      : await start(resolve(otherApp, 'bench/servers/optix-app.ts'), {
          ...base,
          BENCH_TOKENS: '0',
          ...extraEnv,
        });
  if (other) servers.push(other);
  const extras: { id: string; server: Server }[] = [];
  for (const e of extraServers) {
    const server = await start(e.file, { ...base, BENCH_TOKENS: '0', ...extraEnv });
    servers.push(server);
    extras.push({ id: e.id, server });
  }
  const hello = await start(join(here, 'hello-world.ts'), {});
  servers.push(hello);
  const auth = `Bearer ${SERVICE_KEY}`;
  const bodies = ours.tokens.map((token) => JSON.stringify({ token }));
  for (const s of [ours, ...(other ? [other] : []), ...extras.map((e) => e.server)]) {
    for (const body of bodies) {
      const res = await fetch(`http://127.0.0.1:${s.port}/v1/introspect`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body,
      });
      const json = (await res.json()) as { active?: boolean };
      if (res.status !== 200 || json.active !== true) throw new Error(`introspect answered ${res.status}`);
    }
  }
  const script = join(scratch, 'load.lua');
  const bodyFile = join(scratch, 'bodies.txt');
  writeFileSync(script, WRK_SCRIPT);
  writeFileSync(bodyFile, `${bodies.join('\n')}\n`);

  type Row = { id: string; server: Server; method: string; path: string; bodies: string; auth: string };
  const rows: Row[] = [
    { id: 'ours', server: ours, method: 'POST', path: '/v1/introspect', bodies: bodyFile, auth },
    ...(other
      ? [{ id: 'other-app', server: other, method: 'POST', path: '/v1/introspect', bodies: bodyFile, auth }]
      : []),
    ...extras.map((e) => ({
      id: e.id,
      server: e.server,
      method: 'POST',
      path: '/v1/introspect',
      bodies: bodyFile,
      auth,
    })),
    { id: 'hello-get', server: hello, method: 'GET', path: '/', bodies: '', auth: '' },
    { id: 'hello-post', server: hello, method: 'POST', path: '/', bodies: bodyFile, auth },
  ].filter((r) => only === null || only.includes(r.id));
  const measure = async (row: Row, seconds: number) => {
    const pid = row.server.child.pid!;
    const before = cpuTimes(pid);
    const r = await wrk(script, row.server.port, seconds, row.method, row.path, row.bodies, row.auth);
    const after = cpuTimes(pid);
    const system = after.system - before.system;
    const used = after.user - before.user + system;
    return {
      rps: r.requests / (r.durationUs / 1e6),
      usPerReq: used / r.requests,
      sysPerReq: system / r.requests,
      util: used / r.durationUs,
    };
  };
  for (const row of rows) await measure(row, 1);
  const results = new Map<string, number[]>(rows.map((r) => [r.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const m = await measure(row, SECONDS);
      results.get(row.id)!.push(m.usPerReq);
      console.log(
        `round ${round + 1} ${row.id.padEnd(10)} ${Math.round(m.rps).toString().padStart(7)} req/s  ${m.usPerReq.toFixed(1).padStart(6)} µs CPU/req (kernel ${m.sysPerReq.toFixed(1)})  util ${m.util.toFixed(2)}  load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log('median server CPU µs per request:');
  for (const [id, xs] of results)
    console.log(`  ${id.padEnd(10)} ${median(xs).toFixed(1)}  (${xs.map((x) => x.toFixed(1)).join(' ')})`);
  const g = results.get('hello-get');
  const o = results.get('ours');
  if (g?.length && o?.length) console.log(`  hello-get / ours = ${(median(g) / median(o)).toFixed(2)}×`);
  const oa = results.get('other-app');
  if (oa?.length && o?.length) console.log(`  other-app / ours = ${(median(oa) / median(o)).toFixed(2)}×`);

  // Per-round ratios (rows of one round ran seconds apart): steadier than a ratio of medians.
  const perRound = (num: number[], den: number[]) => {
    const r = num.map((x, i) => x / den[i]!);
    return `${median(r).toFixed(2)}× (rounds: ${r.map((x) => x.toFixed(2)).join(' ')})`;
  };
  if (g?.length && o?.length) console.log(`  per round: hello-get / ours ${perRound(g, o)}`);
  if (oa?.length && o?.length) console.log(`  per round: other-app / ours ${perRound(oa, o)}`);
  for (const [id, xs] of results) {
    if (id !== 'ours' && id !== 'hello-get' && g?.length)
      console.log(`  hello-get / ${id} = ${(median(g) / median(xs)).toFixed(2)}×`);
  }

  if (profileFile !== null) {
    const profiled = option('--profile-row') ?? 'ours';
    const row = rows.find((r) => r.id === profiled)!;
    const target = row.server;
    const send = (msg: object, reply: string) =>
      new Promise<void>((res) => {
        const on = (m: unknown) => {
          if ((m as { type?: string }).type === reply) {
            target.child.off('message', on);
            res();
          }
        };
        target.child.on('message', on);
        target.child.send(msg);
      });
    await send({ type: 'profile-start' }, 'profile-started');
    const m = await measure(row, SECONDS);
    await send({ type: 'profile-stop', file: resolve(profileFile) }, 'profile-written');
    console.log(
      `profile of ${profiled} (${Math.round(m.rps)} req/s, ${m.usPerReq.toFixed(1)} µs/req) → ${profileFile}`,
    );
  }
} finally {
  for (const s of servers) {
    if (s.child.exitCode === null) {
      s.child.send('stop');
      await new Promise((r) => {
        const t = setTimeout(() => {
          s.child.kill('SIGKILL');
          r(null);
        }, 5000);
        s.child.once('exit', () => {
          clearTimeout(t);
          r(null);
        });
      });
    }
  }
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
}
