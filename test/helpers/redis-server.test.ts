/** The throwaway redis-server helper itself: start, PING, extra args, restart, stop. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createKeySchema } from '../../src/stores/redis/keys.js';
import { freePort } from './ports.js';
import { pingRedis } from './probes.js';
import { getTestRedisUrl, startRedisServer, uniquePrefix } from './redis-server.js';

const run = promisify(execFile);

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trim();
}

describe('test helper: redis-server', () => {
  it('starts a server that answers PING and stops exactly that process', async () => {
    const server = await startRedisServer();
    const pid = server.process.pid;
    try {
      assert.ok(pid !== undefined);
      assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
      assert.notEqual(server.port, 6379);
      assert.equal(await pingRedis(server.port), true);
      assert.equal(await redisCli(server.port, 'CONFIG', 'GET', 'appendonly'), 'appendonly\nno');
      assert.equal(await redisCli(server.port, 'CONFIG', 'GET', 'save'), 'save');
      assert.ok(existsSync(server.dir));
    } finally {
      await server.stop();
    }
    assert.ok(
      server.process.exitCode !== null || server.process.signalCode !== null,
      'the process has exited',
    );
    assert.equal(await pingRedis(server.port), false);
    assert.equal(existsSync(server.dir), false, 'its directory is removed');
    await server.stop();
  });

  it('passes extra arguments and restarts on the same port with a new process', async () => {
    const server = await startRedisServer({ args: ['--maxmemory', '12mb'] });
    try {
      assert.equal(
        await redisCli(server.port, 'CONFIG', 'GET', 'maxmemory'),
        `maxmemory\n${12 * 1024 * 1024}`,
      );
      await redisCli(server.port, 'SET', 'k', 'v');
      const firstPid = server.process.pid;
      await server.restart();
      assert.notEqual(server.process.pid, firstPid);
      assert.equal(await pingRedis(server.port), true);
      assert.equal(await redisCli(server.port, 'EXISTS', 'k'), '0', 'nothing persisted across the restart');
      assert.equal(
        await redisCli(server.port, 'CONFIG', 'GET', 'maxmemory'),
        `maxmemory\n${12 * 1024 * 1024}`,
      );
    } finally {
      await server.stop();
    }
  });

  it('runs servers side by side on different ports', async () => {
    const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
    try {
      assert.notEqual(a.port, b.port);
      assert.equal(await pingRedis(a.port), true);
      assert.equal(await pingRedis(b.port), true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('fails clearly when the requested port is taken', async () => {
    // Drops every connection, so close() does not wait on the helper's PING probes.
    const blocker = createServer((socket) => socket.destroy());
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await assert.rejects(startRedisServer({ port }), /could not bind|address already in use|exited/i);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('fails clearly when the binary is missing', async () => {
    await assert.rejects(startRedisServer({ command: 'redis-server-that-does-not-exist' }), /ENOENT|exited/);
  });

  it('getTestRedisUrl uses REDIS_URL when set, else one shared server of its own', async () => {
    const saved = process.env.REDIS_URL;
    try {
      process.env.REDIS_URL = 'redis://example.invalid:6390/2';
      assert.equal(await getTestRedisUrl(), 'redis://example.invalid:6390/2');
      delete process.env.REDIS_URL;
      const url = await getTestRedisUrl();
      assert.match(url, /^redis:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(new URL(url).port, '6379');
      assert.equal(await getTestRedisUrl(), url, 'one server per test file');
      assert.equal(await pingRedis(Number(new URL(url).port)), true);
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });

  it('uniquePrefix gives distinct prefixes the key schema accepts', () => {
    const prefixes = new Set(Array.from({ length: 100 }, () => uniquePrefix()));
    assert.equal(prefixes.size, 100);
    for (const prefix of prefixes) {
      assert.match(prefix, /^t[0-9a-f]{12}:$/);
      assert.equal(createKeySchema(prefix).prefix, prefix);
    }
  });
});
