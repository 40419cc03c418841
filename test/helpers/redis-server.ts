/**
 * Throwaway Redis servers for tests: Debian's `redis-server`, spawned (never daemonized) on a spare
 * port with persistence off and its own temporary directory, and stopped by its own pid.
 *
 * The shared server on 6379 is never used unless `REDIS_URL` names it.
 *
 * Import this module only from test files: importing it registers a root `after` hook.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { freePort, HOST } from './ports.js';

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
const KILL_AFTER_MS = 2000;

/** Sends an inline `PING` over raw TCP; true when the answer is `+PONG`. Never throws. */
export function pingRedis(port: number, host = HOST, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    let answer = '';
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Running {
  child: ChildProcess;
  /** Resolves when the process has exited (or could not be spawned at all). */
  exited: Promise<void>;
  isRunning(): boolean;
  output(): string;
}

function launch(command: string, args: string[]): Running {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let ended = false;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      ended = true;
      resolve();
    });
    // A spawn failure (ENOENT) emits 'error', and 'exit' may never follow.
    child.once('error', (err) => {
      keep(Buffer.from(`\n${String(err)}\n`));
      if (child.pid === undefined) {
        ended = true;
        resolve();
      }
    });
  });
  return { child, exited, isRunning: () => !ended, output: () => output };
}

/** Waits for PING to answer, for the process to exit, or for the deadline, whichever comes first. */
async function waitForPing(running: Running, port: number, timeoutMs: number): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running.isRunning()) return 'exited';
    if (await pingRedis(port)) return 'ready';
    await delay(POLL_MS);
  }
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${timeoutMs} ms; its output:\n${running.output()}`,
  );
}

async function terminate(running: Running): Promise<void> {
  const { child } = running;
  if (!running.isRunning()) return running.exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (running.isRunning()) child.kill('SIGKILL');
  }, KILL_AFTER_MS);
  await running.exited;
  clearTimeout(timer);
}

/** Children still running, killed on process exit if a test forgot to stop them. */
const live = new Set<Running>();
process.once('exit', () => {
  for (const running of live) if (running.isRunning()) running.child.kill('SIGKILL');
});

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

  const start = async (port: number): Promise<Running | null> => {
    const running = launch(command, argsFor(port));
    live.add(running);
    void running.exited.then(() => live.delete(running));
    try {
      if ((await waitForPing(running, port, timeoutMs)) === 'ready') return running;
    } catch (err) {
      await terminate(running);
      throw err;
    }
    // It exited before answering: most likely the port was taken between probe and bind.
    if (/address already in use/i.test(running.output())) return null;
    throw new Error(
      `redis-server on port ${port} exited before answering PING; its output:\n${running.output()}`,
    );
  };

  let port = options.port ?? (await freePort());
  let running: Running | null;
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

  let current: Running = running;
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
      await terminate(current);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new Error('redis-server was stopped; start a new one');
      await terminate(current);
      const next = await start(port);
      if (next === null) throw new Error(`redis-server could not bind port ${port} again on restart`);
      current = next;
    },
  };
}

/** How many clients are connected (counting this probe), or `null` when the server did not answer. */
function connectedClients(port: number, timeoutMs = 500): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: HOST });
    let answer = '';
    let settled = false;
    const done = (count: number | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(count);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
    socket.once('connect', () => socket.write('INFO clients\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const m = /connected_clients:(\d+)/.exec(answer);
      if (m) done(Number(m[1]));
    });
  });
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
