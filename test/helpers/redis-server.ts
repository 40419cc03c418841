/**
 * Throwaway Redis servers for tests: Debian's `redis-server`, spawned (never daemonized) on a spare
 * port with persistence off and its own temporary directory, and stopped by its own pid.
 *
 * The shared server on 6379 is never used unless `REDIS_URL` names it.
 *
 * Import this module only from test files: importing it registers a root `after` hook. Processes,
 * ports and probes are the ones the topologies use (`processes.ts`, `ports.ts`, `probes.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { freePort, HOST } from './ports.js';
import { connectedClients, pingRedis } from './probes.js';
import { delay, type ServerProcess, spawnProcess, waitFor } from './processes.js';

export interface RedisServerOptions {
  /** Port to listen on; by default a free one is picked (and another tried if it was taken). */
  port?: number;
  /** Extra arguments after the defaults, e.g. `['--maxmemory', '10mb']`. */
  args?: readonly string[];
  /** How long to wait for PING to answer, in ms (default 10 000). */
  startTimeoutMs?: number;
  /** The binary (default `redis-server` from PATH). */
  command?: string;
}

export interface RedisServerHandle {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The working directory given as `--dir` (removed by `stop()`). */
  readonly dir: string;
  /** The running child process (a new one after `restart()`). */
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** Stops the process and starts a new one on the same port, directory and arguments. */
  restart(): Promise<void>;
}

const POLL_MS = 20;

/**
 * Starts `redis-server --port P --save '' --appendonly no --bind 127.0.0.1 --dir <tmp>` plus
 * `options.args`, and resolves once it answers PING.
 * @throws Error naming the port and quoting the server's output when it exits or does not answer
 *   within `startTimeoutMs`.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const command = options.command ?? 'redis-server';
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'optix-redis-'));
  const argsFor = (port: number) => [
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
    '--bind',
    HOST,
    '--dir',
    dir,
    ...(options.args ?? []),
  ];

  /** The running server, or `null` when the port was taken between probe and bind. */
  const start = async (port: number): Promise<ServerProcess | null> => {
    const proc = await spawnProcess('redis-server', port, command, argsFor(port));
    try {
      await waitFor(
        `redis-server on port ${port} answering PING`,
        timeoutMs,
        () => pingRedis(port),
        () => (proc.isRunning() ? undefined : 'exited before answering PING'),
      );
      return proc;
    } catch (err) {
      await proc.stop();
      if (/address already in use/i.test(proc.output())) return null;
      throw new Error(`${(err as Error).message}; its output:\n${proc.output()}`);
    }
  };

  let port = options.port ?? (await freePort());
  let running: ServerProcess | null;
  try {
    running = await start(port);
    for (let attempt = 0; running === null && options.port === undefined && attempt < 5; attempt++) {
      port = await freePort();
      running = await start(port);
    }
    if (running === null) throw new Error(`redis-server could not bind port ${port}: address already in use`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let current: ServerProcess = running;
  let stopped = false;
  return {
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    get process() {
      return current.child;
    },
    async stop() {
      stopped = true;
      await current.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new Error('redis-server was stopped; start a new one');
      await current.stop();
      const next = await start(port);
      if (next === null) throw new Error(`redis-server could not bind port ${port} again on restart`);
      current = next;
    },
  };
}

/**
 * Stops the server once the file's other clients have disconnected (or after `graceMs`), so a
 * client closed by a later `after` hook still closes cleanly instead of waiting on a dead server.
 */
async function stopWhenIdle(server: RedisServerHandle, graceMs = 5000): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    const count = await connectedClients(server.port);
    if (count === null || count <= 1) break;
    await delay(POLL_MS);
  }
  await server.stop();
}

let shared: Promise<RedisServerHandle> | null = null;

// Registered when a test file imports this module (at its top level, so on the root test): after
// all of the file's tests, stops the file's shared server if one was started. `after` hooks run in
// the order they were registered and this one is registered first (at import), so it does not
// wait for the stop: the server goes once the clients that later hooks close have disconnected.
after(() => {
  const server = shared;
  shared = null;
  if (server === null) return;
  void server
    .then((handle) => stopWhenIdle(handle))
    .catch((err: unknown) => console.error('stopping the shared redis-server failed:', err));
});

/**
 * The Redis URL tests should use: `REDIS_URL` when set, otherwise the URL of one server started
 * for this test file (on a spare port, stopped after the file's last test). Never 6379 by default.
 */
export async function getTestRedisUrl(): Promise<string> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  shared ??= startRedisServer();
  try {
    return (await shared).url;
  } catch (err) {
    shared = null;
    throw err;
  }
}

/** A key prefix no other test uses, e.g. `t3f9a1c0d2b7e:` (valid for `createKeySchema`). */
export function uniquePrefix(): string {
  return `t${randomBytes(6).toString('hex')}:`;
}
