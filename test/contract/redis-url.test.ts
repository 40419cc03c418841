/**
 * Issue 2 §5: when `REDIS_URL` is set, the Redis run of the contract suites uses that server
 * instead of spawning its own (as the guide's integration tests do; test/topologies points it at
 * Sentinel, Cluster and TLS the same way).
 *
 * `test/redis/contract.test.ts` is run unchanged in a child `node --test`, with `PATH` emptied so
 * that no `redis-server` could be spawned: with `REDIS_URL` naming a server started here, it passes
 * and its keys are on that server; without `REDIS_URL` the same child fails for want of a
 * `redis-server` (so the empty `PATH` does bite).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RedisServerHandle, startRedisServer } from '../helpers/redis-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
/** Two tests of the suite (real time and manual clock), enough to write keys. */
const PATTERN = 'blacklistToken records an entry that isBlacklisted and getEntry see';

interface ChildRun {
  code: number | null;
  pass: number;
  fail: number;
  output: string;
}

function runContractSuite(env: Record<string, string>): Promise<ChildRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PATH: '/nonexistent' };
  if (!('REDIS_URL' in env)) delete childEnv.REDIS_URL;
  // The child must not report to this process's test runner.
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=tap',
      `--test-name-pattern=${PATTERN}`,
      'test/redis/contract.test.ts',
    ],
    { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  return new Promise((resolveRun) =>
    child.once('exit', (code) => {
      const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? -1);
      resolveRun({ code, pass: count('pass'), fail: count('fail'), output });
    }),
  );
}

async function redisCli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout.trim();
}

describe('the Redis contract suite and REDIS_URL', () => {
  let server: RedisServerHandle;
  before(async () => {
    server = await startRedisServer();
  });
  after(() => server?.stop());

  it('with REDIS_URL set it runs on that server and spawns none of its own', async () => {
    assert.equal(await redisCli(server.port, 'DBSIZE'), '0');
    const child = await runContractSuite({ REDIS_URL: server.url });
    assert.equal(child.code, 0, child.output.slice(-3000));
    assert.equal(child.fail, 0, child.output.slice(-3000));
    assert.ok(child.pass >= 2, `tests passed: ${child.pass}`);
    // The suite's keys (a blacklist entry and its index, under a per-test prefix) are here.
    const keys = (await redisCli(server.port, '--scan')).split('\n').filter(Boolean);
    assert.ok(keys.length >= 2, `keys on the REDIS_URL server: ${keys.join(', ')}`);
    assert.ok(
      keys.some((k) => /^t[0-9a-f]{12}:token:blacklist:/.test(k)),
      `a blacklist entry among ${keys.join(', ')}`,
    );
  });

  it('without REDIS_URL it needs a redis-server of its own (none on PATH here: it fails)', async () => {
    const child = await runContractSuite({});
    assert.notEqual(child.code, 0, 'the suite cannot pass without a server');
    assert.match(child.output, /ENOENT|redis-server/);
  });
});
