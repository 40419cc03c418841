/**
 * The real server process, started as a user would (`node --import tsx src/server.ts`) on a free
 * port: health and docs, graceful shutdown, refusals with readable errors, two processes sharing one
 * Redis, and the README's curl flow run against it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { appendCapturedLog, recordSecrets } from '../helpers/log-capture.js';
import { freePort } from '../helpers/ports.js';
import { killGroup, trackGroup } from '../helpers/service-process.js';
import { getTestRedisUrl, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const serverEntry = join(root, 'src/server.ts');
const tsx = import.meta.resolve('tsx');
// A working directory without a .env, so only the variables given here apply.
const cwd = mkdtempSync(join(tmpdir(), 'optix-server-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

const README_KEY = 'optix-dev-service-key-0123456789abcdef';
const TWO_PROCESS_SECRET = 'two-process-secret-0123456789abcdef-0123456789';
recordSecrets(README_KEY, TWO_PROCESS_SECRET, 'hunter2-secret');

interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
});

/**
 * Starts the server. Its stdout (the pino log; stderr carries the dev-mode banner, which prints the
 * generated key on purpose) goes to the suite-wide log capture when it exits.
 */
function startProcess(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', tsx, serverEntry], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      appendCapturedLog(out);
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitHealthy(base: string, proc: Proc, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (proc.child.exitCode !== null)
      throw new Error(`server exited early: ${proc.stderr()}\n${proc.stdout()}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no /healthz within ${timeoutMs} ms: ${proc.stderr()}`);
}

async function stopProcess(proc: Proc): Promise<number | null> {
  proc.child.kill('SIGTERM');
  return proc.exited;
}

describe('the server process', () => {
  test('with nothing set: serves /healthz and /docs/json on the port, prints the dev key once, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = startProcess({ PORT: String(port) });
    const ms = await waitHealthy(base, proc);
    assert.ok(ms < 15_000);
    const health = await fetch(`${base}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const docs = await fetch(`${base}/docs/json`);
    assert.equal(docs.status, 200);
    const spec = (await docs.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(spec.openapi, '3.1.0');
    assert.ok('/v1/sessions' in spec.paths);
    const ui = await fetch(`${base}/docs`);
    assert.equal(ui.status, 200);
    await ui.arrayBuffer(); // read to the end (an unread body can hold the graceful stop)

    // The generated service key is printed once (stderr banner) and works; logs never carry it.
    const key = /Service key for this process[^\n]*\n\s+(dev-\S+)/.exec(proc.stderr())?.[1];
    assert.ok(key, proc.stderr());
    assert.match(proc.stderr(), /DEVELOPMENT MODE/);
    const create = await fetch(`${base}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'proc-user', ipAddress: '203.0.113.5', userAgent: 'test' }),
    });
    assert.equal(create.status, 201);
    const { accessToken, refreshToken, session } = (await create.json()) as Record<string, string> & {
      session: { sessionId: string };
    };
    recordSecrets(key, accessToken, refreshToken, session.sessionId);

    assert.equal(await stopProcess(proc), 0);
    const logs = proc.stdout();
    assert.match(logs, /"msg":"server_listening"/);
    assert.match(logs, /"msg":"shutdown_completed"/);
    for (const secret of [key, accessToken!, refreshToken!, session.sessionId]) {
      assert.ok(!logs.includes(secret), 'a secret reached the logs');
    }
    assert.equal(proc.stderr().split(key).length - 1, 1, 'the key is printed exactly once');
  });

  test('NODE_ENV=production without REDIS_URL, a secret and service keys refuses to start (exit 78)', async () => {
    const proc = startProcess({ NODE_ENV: 'production', PORT: '0' });
    assert.equal(await proc.exited, 78);
    const err = proc.stderr();
    assert.match(err, /configuration error/);
    for (const name of ['REDIS_URL', 'JWT_SECRET', 'SERVICE_API_KEYS']) assert.match(err, new RegExp(name));
  });

  test('TRUST_PROXY=true in production refuses to start (exit 78), naming the variable', async () => {
    const proc = startProcess({
      NODE_ENV: 'production',
      PORT: '0',
      REDIS_URL: 'redis://127.0.0.1:1/0',
      JWT_SECRET: TWO_PROCESS_SECRET,
      SERVICE_API_KEYS: README_KEY,
      TRUST_PROXY: 'true',
    });
    assert.equal(await proc.exited, 78);
    assert.match(proc.stderr(), /TRUST_PROXY/);
  });

  test('a bad REDIS_URL is named without its password (exit 78); an unreachable Redis exits 69', async () => {
    const bad = startProcess({ REDIS_URL: 'redis://:hunter2-secret@localhost:99999/0', PORT: '0' });
    assert.equal(await bad.exited, 78);
    assert.match(bad.stderr(), /REDIS_URL/);
    assert.ok(!bad.stderr().includes('hunter2-secret'));

    const port = await freePort();
    const down = startProcess({
      REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}/0`,
      REDIS_CONNECT_TIMEOUT_MS: '500',
      PORT: '0',
    });
    assert.equal(await down.exited, 69);
    assert.match(down.stderr(), /cannot connect to Redis/);
    assert.ok(!down.stderr().includes('hunter2-secret'));
    assert.ok(!down.stdout().includes('hunter2-secret'));
  });
});

describe('two server processes sharing one Redis', () => {
  test('a token revoked through one is active:false at the other', async (t) => {
    const redisUrl = await getTestRedisUrl();
    const shared = {
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: uniquePrefix(),
      JWT_SECRET: TWO_PROCESS_SECRET,
      SERVICE_API_KEYS: README_KEY,
      LOG_LEVEL: 'debug',
    };
    const [p1, p2] = await Promise.all([freePort(), freePort()]);
    const a = startProcess({ ...shared, PORT: String(p1) });
    const b = startProcess({ ...shared, PORT: String(p2) });
    const baseA = `http://127.0.0.1:${p1}`;
    const baseB = `http://127.0.0.1:${p2}`;
    try {
      await Promise.all([waitHealthy(baseA, a), waitHealthy(baseB, b)]);
      const auth = { authorization: `Bearer ${README_KEY}`, 'content-type': 'application/json' };
      const created = await fetch(`${baseA}/v1/sessions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ userId: 'bob', ipAddress: '203.0.113.8', userAgent: 'test' }),
      });
      assert.equal(created.status, 201);
      const { accessToken, refreshToken, session } = (await created.json()) as {
        accessToken: string;
        refreshToken: string;
        session: { sessionId: string };
      };
      recordSecrets(accessToken, refreshToken, session.sessionId);
      const introspectAtB = async () =>
        (
          await fetch(`${baseB}/v1/introspect`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ token: accessToken }),
          })
        ).json();
      assert.equal(((await introspectAtB()) as { active: boolean }).active, true);

      const revoked = await fetch(`${baseA}/v1/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${accessToken}`,
      });
      assert.equal(revoked.status, 200);
      const started = performance.now();
      assert.deepEqual(await introspectAtB(), { active: false });
      const seenMs = performance.now() - started;
      assert.ok(seenMs < 1000, `seen after ${seenMs} ms`);
      t.diagnostic(
        `the first introspection at B after the revoke at A returned: inactive, in ${seenMs.toFixed(1)} ms`,
      );
    } finally {
      assert.equal(await stopProcess(a), 0);
      assert.equal(await stopProcess(b), 0);
    }
  });
});

describe('a Redis that evicts', () => {
  test('allkeys-lru is reported at start-up as a danger to revocations', async () => {
    const redis = await startRedisServer({
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    try {
      const port = await freePort();
      const proc = startProcess({ PORT: String(port), REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
      await waitHealthy(`http://127.0.0.1:${port}`, proc);
      for (let i = 0; i < 50 && !proc.stdout().includes('redis_eviction_policy_unsafe'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(
        proc.stdout(),
        /redis_eviction_policy_unsafe: maxmemory-policy allkeys-lru can evict revocation/,
      );
      assert.equal(await stopProcess(proc), 0);
    } finally {
      await redis.stop();
    }
  });
});

describe("the README's curl flow", () => {
  test('scripts/readme-flow.sh is the README block verbatim', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const script = readFileSync(join(root, 'scripts/readme-flow.sh'), 'utf8');
    const fromScript = /# --- README flow begin ---\n([\s\S]*?)# --- README flow end ---/.exec(script)?.[1];
    const fromReadme = /<!-- readme-flow -->\n```bash\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(fromScript, 'markers in the script');
    assert.ok(fromReadme, 'a ```bash block after <!-- readme-flow --> in the README');
    assert.equal(fromReadme, fromScript);
    assert.match(readme, new RegExp(`SERVICE_API_KEYS=${README_KEY} npm start`));
  });

  test('runs as written against a started server', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = startProcess({ PORT: String(port), SERVICE_API_KEYS: README_KEY, LOG_LEVEL: 'debug' });
    try {
      await waitHealthy(base, proc);
      const flow = spawn('bash', [join(root, 'scripts/readme-flow.sh')], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', OPTIX_URL: base },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      flow.stdout.on('data', (c: Buffer) => (out += c.toString()));
      flow.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => flow.once('exit', resolve));
      assert.equal(code, 0, err);
      const lines = out.trim().split('\n');
      assert.equal(lines.length, 4, out);
      const sessions = JSON.parse(lines[0]!) as {
        sessions: Array<{ userId: string; current: boolean; sessionId: string }>;
      };
      recordSecrets(...sessions.sessions.map((s) => s.sessionId));
      assert.equal(sessions.sessions[0]?.userId, 'alice');
      assert.equal((JSON.parse(lines[1]!) as { active: boolean; sub: string }).active, true);
      assert.equal(lines[2], '{}');
      assert.equal(lines[3], '{"active":false}');
    } finally {
      assert.equal(await stopProcess(proc), 0);
    }
  });
});

/** Every process descended from `pid` (from /proc: Linux, as CI). */
function descendants(pid: number): Array<{ pid: number; cmdline: string }> {
  const all: Array<{ pid: number; ppid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      all.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  const found: Array<{ pid: number; cmdline: string }> = [];
  const walk = (parent: number) => {
    for (const p of all.filter((x) => x.ppid === parent)) {
      found.push(p);
      walk(p.pid);
    }
  };
  walk(pid);
  return found;
}

describe('the Quickstart command', () => {
  test('`npm start` (as the README says) serves /healthz and /docs within 15 s and stops cleanly', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // The repository root, as a user runs it; its own process group so a failure can end it all.
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    trackGroup(npm.pid!);
    let out = '';
    let err = '';
    npm.stdout.on('data', (c: Buffer) => (out += c.toString()));
    npm.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    const proc: Proc = { child: npm, stdout: () => out, stderr: () => err, exited };
    try {
      const ms = await waitHealthy(base, proc);
      assert.ok(ms < 15_000, `/healthz after ${ms} ms`);
      const docs = await fetch(`${base}/docs`);
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger/i);
      const spec = await fetch(`${base}/docs/json`);
      assert.equal(spec.status, 200);
      // Read to the end: an unread body can hold the connection busy, and a graceful stop waits
      // for busy connections (up to its 10 s deadline, then exits 1).
      assert.ok((await spec.arrayBuffer()).byteLength > 0);
      assert.match(err, /DEVELOPMENT MODE/);
      // SIGTERM to the pid that was started (npm): `npm start` execs node, and npm passes the
      // signal on, so the server drains and npm exits 0 (test/http/start-ways.test.ts covers the
      // other start commands and Ctrl-C).
      assert.equal(
        descendants(npm.pid!).some((p) => /node_modules\/\.bin\/tsx |tsx\/dist\/cli|sh -c /.test(p.cmdline)),
        false,
        `only node under npm: ${JSON.stringify(descendants(npm.pid!))}`,
      );
      process.kill(npm.pid!, 'SIGTERM');
      assert.equal(await exited, 0, err);
      assert.match(out, /"msg":"shutdown_completed"/);
    } finally {
      appendCapturedLog(out);
      killGroup(npm.pid!);
    }
  });
});

/** Reads from a raw HTTP connection until `done(text)` holds (or fails after `timeoutMs`). */
function reader(socket: Socket) {
  let text = '';
  const waiters = new Set<() => void>();
  socket.on('data', (c: Buffer) => {
    text += c.toString('utf8');
    for (const w of waiters) w();
  });
  return {
    take(): string {
      const t = text;
      text = '';
      return t;
    },
    until(done: (t: string) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(text)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} within ${timeoutMs} ms; got: ${text}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

describe('graceful shutdown', () => {
  test('SIGTERM: stops accepting at once, lets the request in flight finish (201), then exits 0', async () => {
    const port = await freePort();
    const proc = startProcess({ PORT: String(port), SERVICE_API_KEYS: README_KEY, LOG_LEVEL: 'debug' });
    await waitHealthy(`http://127.0.0.1:${port}`, proc);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const http = reader(socket);
    try {
      // A first request proves the server owns this keep-alive connection.
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await http.until((t) => t.includes('{"status":"ok"}'), 'the /healthz answer');
      http.take();
      // The next request is in flight: the server has read its headers (and said 100 Continue)
      // but not its body.
      const body = JSON.stringify({ userId: 'drain-user', ipAddress: '203.0.113.77', userAgent: 'drain' });
      socket.write(
        'POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\n' +
          `Authorization: Bearer ${README_KEY}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
      );
      await http.until((t) => t.startsWith('HTTP/1.1 100 Continue'), '100 Continue');
      http.take();

      proc.child.kill('SIGTERM');
      // New connections are refused while the request is still open.
      const deadline = Date.now() + 5000;
      for (;;) {
        const probe = connect(port, '127.0.0.1');
        const outcome = await new Promise<string>((resolve) => {
          probe.once('connect', () => resolve('accepted'));
          probe.once('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
        });
        probe.destroy();
        if (outcome === 'ECONNREFUSED') break;
        assert.ok(Date.now() < deadline, `still accepting connections 5 s after SIGTERM (${outcome})`);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(proc.child.exitCode, null, 'still running: a request is in flight');

      socket.write(body);
      await http.until((t) => /\r\n\r\n[\s\S]*"refreshToken"[\s\S]*\}$/.test(t), 'the 201 answer');
      const answer = http.take();
      assert.match(answer, /^HTTP\/1\.1 201 /);
      const created = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        accessToken: string;
        refreshToken: string;
        session: { sessionId: string };
      };
      recordSecrets(created.accessToken, created.refreshToken, created.session.sessionId);
      socket.end();
      assert.equal(await proc.exited, 0, proc.stderr());
      const logs = proc.stdout();
      assert.ok(
        logs.indexOf('"msg":"shutdown_started"') < logs.indexOf('"route":"/v1/sessions","statusCode":201'),
        'the request completed after the shutdown began',
      );
      assert.match(logs, /"msg":"shutdown_completed"/);
    } finally {
      socket.destroy();
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
  });
});
