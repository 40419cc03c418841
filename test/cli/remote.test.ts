/**
 * The CLI against a running service (`--url` + a service key), over a real server process on the
 * quickstart's in-memory backend; `health` checks something real; `revoke-user` with nothing to
 * end says so; refused connections fail fast; misspelt env-file variables are reported.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { run } from '../../src/cli/main.js';
import { unknownVariableWarnings } from '../../src/config/env-file.js';
import { appendCapturedLog, recordSecrets } from '../helpers/log-capture.js';
import { freePort } from '../helpers/ports.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';

const KEY = 'remote-cli-service-key-0123456789abcdef';
const JWT_SECRET = 'remote-cli-secret-0123456789abcdef-0123456789';
recordSecrets(KEY, JWT_SECRET);
const serverEntry = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'optix-remote-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

interface Result {
  code: number;
  out: string;
  err: string;
  ms: number;
}

async function cli(env: Record<string, string>, ...argv: string[]): Promise<Result> {
  let out = '';
  let err = '';
  const started = performance.now();
  const code = await run(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { JWT_SECRET, LOG_LEVEL: 'silent', ...env },
    isTTY: false,
  });
  return { code, out, err, ms: performance.now() - started };
}

describe('optix-sessions --url against a running in-memory service', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // tsx resolved from here: the process runs in a directory without node_modules (and no .env).
  const child: ChildProcess = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), serverEntry], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: cwd,
      PORT: String(port),
      SERVICE_API_KEYS: KEY,
      JWT_SECRET,
      CLEANUP_INTERVAL_SECONDS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout?.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    appendCapturedLog(logs);
  });
  // Ready when /healthz answers (polled; the process takes a few seconds to compile and start).
  let ready = false;
  for (let i = 0; i < 300 && !ready && child.exitCode === null; i++) {
    ready = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(ready, `the service did not start: ${logs}`);
  const remote = { OPTIX_SERVICE_KEY: KEY };
  const url = ['--url', base];

  async function login(userId: string): Promise<string> {
    const res = await fetch(`${base}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, ipAddress: '203.0.113.8', userAgent: 'remote-cli' }),
    });
    assert.equal(res.status, 201);
    const body = (await res.json()) as {
      session: { sessionId: string };
      accessToken: string;
      refreshToken: string;
    };
    recordSecrets(body.session.sessionId, body.accessToken, body.refreshToken);
    return body.session.sessionId;
  }

  test('health: --url checks /readyz; with neither REDIS_URL nor --url it checks HOST:PORT', async () => {
    const viaUrl = await cli({}, ...url, 'health');
    assert.equal(viaUrl.code, 0, viaUrl.err);
    assert.match(viaUrl.out, new RegExp(`^healthy: service ${base}\\n  status ready, backend memory`));
    const viaPort = await cli({ PORT: String(port) }, 'health');
    assert.equal(viaPort.code, 0, viaPort.err);
    assert.match(viaPort.out, /^healthy: service http:\/\/127\.0\.0\.1:/);
  });

  test('health with no server running: unhealthy, exit 69, at once', async () => {
    const nobody = await freePort();
    const r = await cli({ PORT: String(nobody) }, 'health');
    assert.equal(r.code, 69, r.out + r.err);
    assert.match(r.err, /cannot reach the service at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    assert.ok(r.ms < 2000, `${r.ms} ms`);
    assert.equal(r.out, '', 'never "healthy"');
  });

  test('stats, sessions list/revoke, events, revoke-user, cleanup through the admin API', async () => {
    const sessionId = await login('remote-alice');
    const stats = await cli(remote, ...url, 'stats');
    assert.equal(stats.code, 0, stats.err);
    assert.match(stats.out, /backend\s+memory/);
    assert.match(stats.out, /live sessions\s+1/);

    const list = await cli(remote, ...url, 'sessions', 'list', 'remote-alice');
    assert.equal(list.code, 0, list.err);
    assert.ok(list.out.includes(sessionId));
    assert.match(list.out, /1 live session\(s\)/);

    const events = await cli(remote, ...url, 'events', 'remote-alice', '--limit', '5', '--json');
    assert.equal(events.code, 0, events.err);
    assert.ok((JSON.parse(events.out) as Array<{ type: string }>).some((e) => e.type === 'session_created'));

    const revoke = await cli(remote, ...url, 'sessions', 'revoke', sessionId);
    assert.equal(revoke.code, 0, revoke.err);
    const again = await cli(remote, ...url, 'sessions', 'revoke', sessionId);
    assert.equal(again.code, 3, again.err);

    const nothing = await cli(remote, ...url, 'revoke-user', 'remote-alice');
    assert.equal(nothing.code, 0, nothing.err);
    assert.match(nothing.out, /^nothing to end: remote-alice has no live session/);

    await login('remote-bob');
    await login('remote-bob');
    const two = await cli(remote, ...url, 'revoke-user', 'remote-bob');
    assert.equal(two.code, 0, two.err);
    assert.match(two.out, /ended 2 session\(s\)/);

    const cleanup = await cli(remote, ...url, 'cleanup');
    assert.equal(cleanup.code, 0, cleanup.err);
    assert.match(cleanup.out, /^cleanup completed: scanned \d+ keys/);
  });

  test('a wrong key → 77, no key → 78, --service-key works, a bad --url → 2', async () => {
    const wrong = await cli(
      { OPTIX_SERVICE_KEY: 'not-the-key-0123456789abcdef-0123456789' },
      ...url,
      'stats',
    );
    assert.equal(wrong.code, 77, wrong.err);
    assert.match(wrong.err, /refused the service key/);
    const none = await cli({}, ...url, 'stats');
    assert.equal(none.code, 78, none.err);
    assert.match(none.err, /OPTIX_SERVICE_KEY/);
    const flag = await cli({}, ...url, '--service-key', KEY, 'stats');
    assert.equal(flag.code, 0, flag.err);
    const bad = await cli(remote, '--url', 'ftp://x', 'stats');
    assert.equal(bad.code, 2, bad.err);
  });

  test('without --url, a command that needs the store points at --url', async () => {
    const r = await cli({}, 'stats');
    assert.equal(r.code, 78);
    assert.match(r.err, /--url/);
  });
});

describe('direct Redis', async () => {
  const env = { REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() };

  test('revoke-user of a user with nothing to end says so and exits 0', async () => {
    const r = await cli(env, 'revoke-user', 'nobody-here');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^nothing to end: nobody-here has no live session/);
  });

  test('a refused Redis connection fails at once, not after REDIS_CONNECT_TIMEOUT_MS', async () => {
    const port = await freePort();
    const r = await cli(
      { REDIS_URL: `redis://127.0.0.1:${port}/0`, REDIS_CONNECT_TIMEOUT_MS: '5000' },
      'sessions',
      'list',
      'x',
    );
    assert.equal(r.code, 69, r.err);
    assert.match(r.err, /connection refused/);
    assert.ok(r.ms < 1500, `${r.ms} ms`);
  });
});

describe('misspelt variables in the env file', () => {
  test('unknownVariableWarnings: our prefixes and near misses, with a suggestion', () => {
    assert.deepEqual(
      unknownVariableWarnings(['REDIS_ULR', 'PROT', 'HOSTNAME', 'OTEL_RESOURCE_ATTRIBUTES', 'PORT']),
      [
        'unknown variable REDIS_ULR (did you mean REDIS_URL?): ignored',
        'unknown variable PROT (did you mean PORT?): ignored',
      ],
    );
    assert.deepEqual(unknownVariableWarnings(['JWT_SECRETS']), [
      'unknown variable JWT_SECRETS (did you mean JWT_SECRET?): ignored',
    ]);
    assert.deepEqual(unknownVariableWarnings(['EDITOR', 'PATH', 'JWT_SECRET']), []);
  });

  test('the CLI reports REDIS_ULR= in --config-file on stderr', async () => {
    const file = join(cwd, 'typo.env');
    writeFileSync(file, 'REDIS_ULR=redis://127.0.0.1:6379/0\n');
    const r = await cli({}, '--config-file', file, 'stats');
    assert.match(
      r.err,
      /warning: .*typo\.env: unknown variable REDIS_ULR \(did you mean REDIS_URL\?\): ignored/,
    );
    assert.equal(r.code, 78); // and with REDIS_URL unset, stats still says why it cannot run
  });
});
