/**
 * The operator CLI, driven in-process through `run(argv, io)` against a spawned redis-server, plus
 * the `bin` as a user runs it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { run } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createOptix, type Optix } from '../../src/container.js';
import { parseRedisUrl } from '../../src/connection/config.js';
import { createKeySchema } from '../../src/stores/redis/keys.js';
import { freePort } from '../helpers/ports.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';

const JWT_SECRET = 'cli-test-secret-0123456789abcdef-0123456789';

interface Result {
  code: number;
  out: string;
  err: string;
}

function cli(env: Record<string, string>, options: { isTTY?: boolean } = {}) {
  return async (...argv: string[]): Promise<Result> => {
    let out = '';
    let err = '';
    const code = await run(argv, {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: { JWT_SECRET, LOG_LEVEL: 'silent', ...env },
      isTTY: options.isTTY ?? false,
    });
    return { code, out, err };
  };
}

describe('optix-sessions (in-process)', () => {
  let env: Record<string, string>;
  let sh: ReturnType<typeof cli>;
  let optix: Optix;

  before(async () => {
    const url = await getTestRedisUrl();
    env = { REDIS_URL: url, REDIS_KEY_PREFIX: uniquePrefix() };
    sh = cli(env);
    optix = await createOptix(loadConfig({ ...env, JWT_SECRET }));
  });
  after(() => optix?.close());

  async function login(userId: string) {
    const { session, tokens: pair } = await optix.login({
      userId,
      ipAddress: '203.0.113.4',
      userAgent: 'cli-test',
    });
    return { session, pair };
  }

  test('--help works on every command and exits 0', async () => {
    for (const argv of [
      ['--help'],
      ['help'],
      ['serve', '--help'],
      ['health', '--help'],
      ['stats', '--help'],
      ['cleanup', '--help'],
      ['sessions', '--help'],
      ['sessions', 'list', '--help'],
      ['sessions', 'revoke', '--help'],
      ['revoke-user', '--help'],
      ['events', '--help'],
      ['load-test', '--help'],
    ]) {
      const r = await sh(...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.out, /Usage: optix-sessions/, argv.join(' '));
      assert.match(r.out, /Exit codes:/, `${argv.join(' ')} lists the exit codes`);
    }
    const top = await sh('--help');
    assert.match(top.out, /Exit codes:/);
    for (const cmd of [
      'serve',
      'health',
      'stats',
      'cleanup',
      'sessions',
      'revoke-user',
      'events',
      'load-test',
    ]) {
      assert.match(top.out, new RegExp(`\\n  ${cmd}\\b`));
    }
  });

  test('--config-file is read by every command, serve --redis-url included (a bad file is exit 78)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optix-cli-'));
    try {
      const file = join(dir, 'bad.env');
      writeFileSync(file, 'LOG_LEVEL=bogus\n');
      // `env` has no LOG_LEVEL of its own here, so the file's bad value must be what stops it.
      const bare = cli({ REDIS_URL: env.REDIS_URL! });
      const noLevel = async (...argv: string[]) => {
        let err = '';
        const code = await run(argv, {
          stdout: { write: () => true },
          stderr: { write: (s: string) => (err += s) },
          env: { JWT_SECRET, REDIS_URL: env.REDIS_URL! },
          isTTY: false,
        });
        return { code, err };
      };
      for (const argv of [
        ['--config-file', file, 'health'],
        ['--config-file', file, 'serve'],
        ['--config-file', file, '--redis-url', 'redis://127.0.0.1:1/0', 'serve'],
        ['--env-file', file, 'health'],
      ]) {
        const r = await noLevel(...argv);
        assert.equal(r.code, 78, `${argv.join(' ')} → ${r.code} ${r.err}`);
        // (serve writes its configuration error to the process's stderr, as `npm start` does)
        if (!argv.includes('serve')) assert.match(r.err, /LOG_LEVEL/);
      }
      const missing = await bare('--config-file', join(dir, 'nope.env'), 'health');
      assert.equal(missing.code, 78);
      assert.match(missing.err, /cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an id that starts with "-" is an id, not an option (one session id in 64 does)', async () => {
    // Sealed ids are base64url, their first part fixed per user: find a user whose ids start with "-".
    let dashed: Awaited<ReturnType<typeof login>> | null = null;
    for (let i = 0; i < 2000 && dashed === null; i++) {
      const l = await login(`cli-dash-${i}`);
      if (l.session.sessionId.startsWith('-')) dashed = l;
      else await optix.sessions.terminateSession(l.session.sessionId, 'test');
    }
    assert.ok(dashed !== null, 'no session id starting with "-" in 2000 users');
    const id = dashed.session.sessionId;
    const first = await sh('sessions', 'revoke', id, '--json');
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(JSON.parse(first.out), { ended: true });
    assert.equal(await optix.sessions.getSession(id), null);
    const again = await sh('sessions', 'revoke', '--reason', 'twice', id);
    assert.equal(again.code, 3, again.err);
    // `-V…` was read as --version: the version printed, exit 0, nothing revoked.
    const versionLike = await cli({ OPTIX_SERVICE_KEY: 'k'.repeat(40) })(
      '--url',
      'http://127.0.0.1:1',
      'sessions',
      'revoke',
      `-V${id.slice(2)}`,
    );
    assert.equal(versionLike.code, 69, versionLike.out + versionLike.err);
    assert.match(versionLike.err, /cannot reach the service/);
    // A misspelt long option is still one.
    const bogus = await sh('sessions', 'revoke', '--bogus');
    assert.equal(bogus.code, 2);
    assert.match(bogus.err, /unknown option '--bogus'/);
  });

  test('usage errors exit 2 with a hint', async () => {
    for (const argv of [
      [],
      ['frobnicate'],
      ['sessions', 'list'],
      ['events'],
      ['load-test', '--scenario', 'nope'],
      ['health', '--bogus'],
    ]) {
      const r = await sh(...argv);
      assert.equal(r.code, 2, `${argv.join(' ')} → ${r.code} ${r.err}`);
    }
    assert.match((await sh('frobnicate')).err, /unknown command/);
  });

  test('health: healthy Redis → 0 with clients, ops/s, latency; --json', async () => {
    const r = await sh('health');
    assert.equal(r.code, 0, r.err);
    // Any topology REDIS_URL names (standalone, Sentinel or Cluster): the one it names is reported.
    const topology = parseRedisUrl(env.REDIS_URL!).topology;
    assert.match(r.out, new RegExp(`^healthy: redis ${topology} redis://127\\.0\\.0\\.1:\\d+`));
    assert.match(r.out, /connected clients \d+, ops\/s \d+, latency [\d.]+ ms/);
    const j = JSON.parse((await sh('health', '--json')).out);
    assert.equal(j.status, 'healthy');
    assert.equal(j.backend, 'redis');
    // No REDIS_URL: the in-memory store lives in a service process, so health asks it (HOST:PORT);
    // none is running there, so it is not healthy (never "healthy: in-memory" from the CLI itself).
    const mem = await cli({ PORT: String(await freePort()) })('health');
    assert.equal(mem.code, 69, mem.out + mem.err);
    assert.equal(mem.out, '');
    assert.match(mem.err, /cannot reach the service at http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });

  test('health: unreachable Redis → 69; a bad REDIS_URL → 78; neither shows the password', async () => {
    const port = await freePort();
    const down = await cli({
      REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${port}/0`,
      REDIS_CONNECT_TIMEOUT_MS: '300',
    })('health');
    assert.equal(down.code, 69);
    assert.match(down.err, /cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.ok(!down.err.includes('s3cret-pw'));
    const bad = await cli({ REDIS_URL: 'redis://:s3cret-pw@host:6379/42' })('health');
    assert.equal(bad.code, 78);
    assert.match(bad.err, /configuration error: REDIS_URL: database 42 is out of range/);
    assert.ok(!bad.err.includes('s3cret-pw'));
    const flag = await cli({})('--redis-url', 'ftp://x', 'health');
    assert.equal(flag.code, 78);
    assert.match(flag.err, /REDIS_URL/);
  });

  test('stats: counts and INFO; --json; needs Redis', async () => {
    await login('stats-user');
    const r = await sh('stats');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /live sessions\s+[1-9]/);
    assert.match(r.out, /used memory\s+\S+/);
    assert.match(r.out, /maxmemory policy\s+noeviction/);
    assert.match(r.out, /keyspace db0\s+keys=\d+/);
    const j = JSON.parse((await sh('stats', '--json')).out);
    assert.ok(j.store.sessions >= 1);
    assert.equal(typeof j.redis.usedMemoryBytes, 'number');
    const mem = await cli({})('stats');
    assert.equal(mem.code, 78);
    assert.match(mem.err, /REDIS_URL is not set/);
  });

  test('sessions list / revoke', async () => {
    const { session } = await login('list-user');
    const list = await sh('sessions', 'list', 'list-user');
    assert.equal(list.code, 0, list.err);
    assert.ok(list.out.includes(session.sessionId));
    assert.match(list.out, /1 live session\(s\)/);
    const json = JSON.parse((await sh('sessions', 'list', 'list-user', '--json')).out);
    assert.equal(json[0].sessionId, session.sessionId);
    assert.equal('deviceFingerprint' in json[0], false);
    assert.match((await sh('sessions', 'list', 'nobody')).out, /no live sessions/);
    assert.equal((await sh('sessions', 'list', 'bad\u0001id')).code, 2, 'a control character is no user id');
    assert.equal((await sh('sessions', 'list', 'tenant:kim')).code, 0, 'any printable text is');

    const revoke = await sh('sessions', 'revoke', session.sessionId);
    assert.equal(revoke.code, 0, revoke.err);
    assert.equal(await optix.sessions.getSession(session.sessionId), null);
    const again = await sh('sessions', 'revoke', session.sessionId);
    assert.equal(again.code, 3);
    assert.match(again.err, /no such live session/);
    const bad = await sh('sessions', 'revoke', 'not-a-session-id');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /ERR_INVALID_ID/);
  });

  test('revoke-user: every token stops verifying, every session ends', async () => {
    const a = await login('fired-user');
    const b = await login('fired-user');
    // A refused reason is a usage error before anything is written: the tokens still verify.
    for (const reason of ['r'.repeat(257), '']) {
      const refused = await sh('revoke-user', 'fired-user', '--reason', reason);
      assert.equal(refused.code, 2, refused.err);
      assert.match(refused.err, /reason/);
      await optix.jwt.verifyToken(a.pair.accessToken);
    }
    assert.equal((await optix.sessions.listUserSessions('fired-user')).length, 2);
    const r = await sh('revoke-user', 'fired-user', '--reason', 'offboarding');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /ended 2 session\(s\)/);
    for (const { pair } of [a, b]) {
      await assert.rejects(optix.jwt.verifyToken(pair.accessToken), { code: 'ERR_TOKEN_REVOKED' });
    }
    assert.deepEqual(await optix.sessions.listUserSessions('fired-user'), []);
  });

  test('events: newest first, --limit/--since validated', async () => {
    await login('events-user');
    const r = await sh('events', 'events-user');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /session_created/);
    const j = JSON.parse((await sh('events', 'events-user', '--json', '--limit', '1')).out);
    assert.equal(j.length, 1);
    const future = await sh(
      'events',
      'events-user',
      '--since',
      new Date(Date.now() + 3_600_000).toISOString(),
    );
    assert.match(future.out, /no security events/);
    assert.equal((await sh('events', 'events-user', '--limit', 'abc')).code, 2);
    assert.equal((await sh('events', 'events-user', '--since', 'yesterday-ish')).code, 2);
  });

  test('cleanup: a summary when not on a TTY; 75 while another sweep holds the lock', async () => {
    const r = await sh('cleanup');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^cleanup completed: scanned \d+ keys in \d+ ms, removed \d+ expired index entries/);
    const j = JSON.parse((await sh('cleanup', '--json')).out);
    assert.equal(typeof j.sessions.scanned, 'number');

    const redis = optix.redis!;
    const lock = createKeySchema(env.REDIS_KEY_PREFIX).cleanupLock();
    await redis.commands.set(lock, 'someone-else', { expiration: { type: 'PX', value: 10_000 } });
    try {
      const held = await sh('cleanup');
      assert.equal(held.code, 75);
      assert.match(held.err, /another instance is sweeping/);
    } finally {
      await redis.commands.del(lock);
    }
  });

  test('stats on a terminal draws a progress bar of the keys it walks; not otherwise', async () => {
    await login('stats-bar-user');
    const tty = await cli(env, { isTTY: true })('stats');
    assert.equal(tty.code, 0, tty.err);
    assert.match(tty.err, /stats \[[█░]+\] [1-9]\d*\/\d+ keys scanned/);
    assert.match(tty.out, /live sessions/);
    assert.equal((await sh('stats')).err, '');
  });

  test('cleanup on a terminal draws a progress bar on stderr, then the summary', async () => {
    const tty = await cli(env, { isTTY: true })('cleanup');
    assert.equal(tty.code, 0, tty.err);
    // cli-progress: cursor hidden while drawing, the bar and its final count, cursor shown again.
    assert.ok(tty.err.includes('\x1B[?25l'), JSON.stringify(tty.err));
    assert.match(tty.err, /cleanup \[[█░]+\] (\d+)\/\1 keys scanned/);
    assert.ok(tty.err.includes('\x1B[?25h'), JSON.stringify(tty.err));
    assert.match(tty.out, /^cleanup completed: scanned \d+ keys/);
    // Not on a terminal (and with --json): no bar, no escape codes.
    const plain = await sh('cleanup');
    assert.equal(plain.err, '');
    const json = await cli(env, { isTTY: true })('cleanup', '--json');
    assert.equal(json.err, '');
    assert.equal(typeof JSON.parse(json.out).sessions.scanned, 'number');
  });

  test('load-test: the guide’s SET loop, verify and session scenarios print ops/s and p50/p99', async () => {
    const set = await sh('load-test', '--ops', '500', '--concurrency', '20');
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /^set: 500 ops in [\d.]+ s = \d+ ops\/s \(concurrency 20, redis\)/);
    assert.match(set.out, /latency p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms/);
    assert.match(set.out, /errors 0/);
    for (const scenario of ['verify', 'verify-warm', 'session']) {
      const r = await sh(
        'load-test',
        '--ops',
        '200',
        '--concurrency',
        '10',
        '--scenario',
        scenario,
        '--json',
      );
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.equal(j.scenario, scenario);
      assert.equal(j.errors, 0);
      assert.ok(j.opsPerSec > 0);
      assert.ok(j.latencyMs.p99 >= j.latencyMs.p50);
    }
    const tty = await cli(env, { isTTY: true })('load-test', '--ops', '300', '--concurrency', '10');
    assert.equal(tty.code, 0, tty.err);
    assert.match(tty.err, /load-test \[[█░]+\] 300\/300 ops/, 'a progress bar on a terminal');
    assert.equal((await sh('load-test', '--ops', '0')).code, 2);
    const mem = await cli({})('load-test', '--scenario', 'set', '--ops', '10');
    assert.equal(mem.code, 2);
    assert.match(mem.err, /needs Redis/);
    const memVerify = await cli({})('load-test', '--ops', '100');
    assert.equal(memVerify.code, 0, memVerify.err);
    assert.match(memVerify.out, /^verify: 100 ops/);
    assert.match(memVerify.out, /tokens: 100 distinct \(each verified once, in full\)/);
  });
});

describe('bin/optix-sessions.js', () => {
  const bin = fileURLToPath(new URL('../../bin/optix-sessions.js', import.meta.url));
  const runBin = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  test('--help and --version exit 0', () => {
    const help = runBin(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: optix-sessions/);
    const version = runBin(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  test('a bad REDIS_URL exits 78 with a readable message and no password', () => {
    const r = runBin(['stats'], { REDIS_URL: 'redis://admin:topsecret@:6379/0' });
    assert.equal(r.status, 78);
    assert.match(r.stderr, /optix-sessions: configuration error: REDIS_URL: /);
    assert.ok(!r.stderr.includes('topsecret'));
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  });
});
