/**
 * SLOWLOG (the guide's monitoring section) in `GET /v1/admin/stats` and `optix-sessions stats`,
 * against a redis-server that logs every command (`slowlog-log-slower-than 0`): entries are shown
 * newest first with our script names, never with their arguments (key names hold session ids);
 * an ACL user without `slowlog` still gets the rest of the stats.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { run } from '../../src/cli/main.js';
import { slowlogView } from '../../src/container.js';
import { parseSlowlog } from '../../src/connection/diagnostics.js';
import { SCRIPTS } from '../../src/stores/redis/lua/index.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { createHarness, JWT_SECRET, uniqueUser } from './harness.js';

describe('parseSlowlog', () => {
  test('keeps the command, script SHA1, argument count and client; drops the arguments', () => {
    const sha = 'a'.repeat(40);
    const entries = parseSlowlog([
      [
        7,
        1_700_000_000,
        1234,
        ['EVALSHA', sha, '2', 'optix:session:{u}secret-id', 'x'],
        '127.0.0.1:5000',
        'optix-sessions',
      ],
      [6, 1_699_999_999, 10, ['zrange', 'k', '0', '-1'], '127.0.0.1:5001', ''],
    ]);
    assert.deepEqual(entries[0], {
      id: 7,
      timestamp: 1_700_000_000_000,
      durationMicros: 1234,
      command: 'EVALSHA',
      scriptSha1: sha,
      argumentCount: 4,
      clientName: 'optix-sessions',
      node: '',
    });
    assert.equal(entries[1]!.command, 'ZRANGE');
    assert.equal(entries[1]!.scriptSha1, null);
    assert.ok(!JSON.stringify(entries).includes('secret-id'));
  });
});

describe('SLOWLOG in stats (Redis)', async () => {
  const server = await startRedisServer({
    args: ['--slowlog-log-slower-than', '0', '--slowlog-max-len', '256'],
  });
  const prefix = uniquePrefix();
  const h = await createHarness({ REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix });
  // After the harness's own close (hooks run in the order they were added).
  after(() => server.stop());

  test('GET /v1/admin/stats lists SLOWLOG GET 10 with script names and no arguments', async () => {
    const login = await h.login(uniqueUser('slow'));
    const res = await h.inject({ method: 'GET', url: '/v1/admin/stats', headers: h.service });
    assert.equal(res.statusCode, 200, res.body);
    const slowlog = res.json().redis.slowlog;
    assert.equal(slowlog.error, null);
    assert.ok(slowlog.entries.length > 0 && slowlog.entries.length <= 10, String(slowlog.entries.length));
    const times = slowlog.entries.map((e: { timestamp: number }) => e.timestamp);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    assert.ok(
      slowlog.entries.every((e: { command: string }) => /^[A-Z_]+$/.test(e.command)),
      JSON.stringify(slowlog.entries),
    );
    // No key name, id or argument of any command reaches the answer.
    assert.ok(!res.body.includes(login.sessionId), 'a session id in the SLOWLOG view');
    assert.ok(!res.body.includes(prefix), 'a key name in the SLOWLOG view');
  });

  test('an EVALSHA of ours is named by its script', async () => {
    await h.login(uniqueUser('slow'));
    const evalshas = (await h.optix.redis!.slowlog(128)).filter((e) => e.command === 'EVALSHA');
    assert.ok(evalshas.length > 0, 'no EVALSHA in the slowlog');
    const names = slowlogView(evalshas).map((e) => e.script);
    assert.ok(names.includes('session_create'), names.join(','));
    assert.ok(
      names.every((n) => n !== null && n in SCRIPTS),
      names.join(','),
    );
  });

  test('optix-sessions stats prints the slowlog block', async () => {
    let out = '';
    let err = '';
    const code = await run(['stats'], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: { JWT_SECRET, LOG_LEVEL: 'silent', REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix },
      isTTY: false,
    });
    assert.equal(code, 0, err);
    assert.match(out, /slowlog \(SLOWLOG GET \d+, newest first\):\nTIME +MICROS +COMMAND/);
  });

  test('an ACL user without the slowlog command gets the rest of the stats and the reason', async () => {
    const { createClient } = await import('@redis/client');
    const c = createClient({ url: server.url });
    await c.connect();
    await c.sendCommand([
      'ACL',
      'SETUSER',
      'noslow',
      'on',
      '>noslow-password-123',
      '~*',
      '&*',
      '+@all',
      '-slowlog',
    ]);
    await c.close();
    const limited = await createHarness({
      REDIS_URL: server.url.replace('redis://', 'redis://noslow:noslow-password-123@'),
      REDIS_KEY_PREFIX: prefix,
    });
    const res = await limited.inject({ method: 'GET', url: '/v1/admin/stats', headers: limited.service });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.redis.slowlog.entries.length, 0);
    assert.match(body.redis.slowlog.error, /NOPERM|permission/i);
    assert.equal(typeof body.redis.connectedClients, 'number');
  });
});
