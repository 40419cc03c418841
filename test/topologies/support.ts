/**
 * What the topology test files share: one topology per file (started on first use, stopped after
 * the file), clients on it, a contract-suite factory like `test/redis/stores.ts` but pointing at the
 * topology, and a runner that executes the service test files unchanged in a child process with
 * `REDIS_URL` (and `REDIS_TLS_CA_FILE`) set to the topology.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/core/clock.js';
import { RedisClient } from '../../src/connection/client.js';
import type { RedisClientOptions } from '../../src/connection/config.js';
import { createRedisStores, loadIdCodec } from '../../src/stores/redis/index.js';
import type { ContractStoreOptions, MakeStores } from '../contract/harness.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import type { TlsTopology, Topology } from './harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The file's topology: `start` runs on the first call, the topology is stopped after the file's last
 * test. A start failure (e.g. redis-server missing) fails every test that asks, never skips it.
 */
export function fileTopology<T extends Topology>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | null = null;
  after(async () => {
    const t = started;
    started = null;
    if (t !== null) await (await t.catch(() => null))?.stop();
  });
  return () => {
    started ??= start();
    return started;
  };
}

/** Options to reach `t` with `RedisClient` (its URL, and the CA on TLS). */
export function clientOptions(t: Topology, extra: Partial<RedisClientOptions> = {}): RedisClientOptions {
  return { url: t.url, ...(t.tls ? { tls: { ca: t.tls.ca } } : {}), ...extra };
}

const openClients = new Set<RedisClient>();
// Registered at import, so on the file's root test: runs after the file's last test. (`after`
// called inside a test would close the client when that test ends.)
after(async () => {
  await Promise.all([...openClients].map((c) => c.close()));
  openClients.clear();
});

/** A connected client on `t`, closed after the file (or earlier by the caller). */
export async function connectClient(
  t: Topology,
  extra: Partial<RedisClientOptions> = {},
): Promise<RedisClient> {
  const client = new RedisClient(clientOptions(t, { commandTimeoutMs: 5000, ...extra }));
  await client.connect();
  openClients.add(client);
  return client;
}

/**
 * Contract-suite stores on the topology: one client per file, a fresh key prefix per test, and a
 * `ManualClock` when `manualClock` (as `test/redis/stores.ts` does on standalone Redis).
 */
export function topologyStores(topology: () => Promise<Topology>, manualClock: boolean): MakeStores {
  let client: Promise<RedisClient> | null = null;
  return async (options: ContractStoreOptions = {}) => {
    client ??= topology().then((t) => connectClient(t));
    const c = await client;
    const clock = manualClock ? new ManualClock(Date.now()) : null;
    const keyPrefix = uniquePrefix();
    // The deployment's sealed ids, as `createOptix` builds them (secret created on this prefix).
    const ids = await loadIdCodec(c, { keyPrefix });
    const stores = createRedisStores(c, {
      keyPrefix,
      ids,
      ...(clock === null ? {} : { clock }),
      ...options,
    });
    return { stores, clock, close: async () => {} };
  };
}

/** The service test files run on each topology; their memory half is filtered out by name. */
export const SERVICE_TEST_FILES: readonly string[] = [
  'test/services/jwt-service.test.ts',
  'test/services/session-manager.test.ts',
  'test/guide-examples.test.ts',
];

export interface ChildRun {
  pass: number;
  fail: number;
  cancelled: number;
  exitCode: number | null;
  output: string;
}

/**
 * Runs test files unchanged in a child `node --test` with `REDIS_URL` pointing at `t` (and
 * `REDIS_TLS_CA_FILE` on TLS), keeping only the suites named `(redis)`. Resolves with node's closing
 * counts; asserts that tests ran, none failed and none were cancelled.
 */
export async function runTestFilesOn(
  t: Topology,
  files: readonly string[] = SERVICE_TEST_FILES,
): Promise<ChildRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: t.url };
  delete env.REDIS_TLS_CA_FILE;
  // The child must not inherit this process's test-runner context (it would report to us).
  delete env.NODE_TEST_CONTEXT;
  if (t.kind === 'tls') env.REDIS_TLS_CA_FILE = (t as TlsTopology).certificates.caFile;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-name-pattern=\\(redis\\)', ...files],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  const exitCode = await new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? -1);
  const run: ChildRun = {
    pass: count('pass'),
    fail: count('fail'),
    cancelled: count('cancelled'),
    exitCode,
    output,
  };
  const failures = output
    .split('\n')
    .filter((l) => /^\s*not ok /.test(l) || /^\s+(error|code|expected|actual):/.test(l))
    .slice(0, 60)
    .join('\n');
  assert.ok(run.pass > 0, `no test ran in the child (exit ${exitCode}):\n${output.slice(-3000)}`);
  assert.equal(run.fail, 0, `${run.fail} test(s) failed on ${t.kind}:\n${failures}`);
  assert.equal(run.cancelled, 0, `${run.cancelled} test(s) cancelled on ${t.kind}:\n${failures}`);
  assert.equal(exitCode, 0, `child exited with ${exitCode}`);
  return run;
}
