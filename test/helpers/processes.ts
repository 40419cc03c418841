/**
 * Spawned server processes (never `--daemonize`), stopped by their own pid, and waiting on a
 * condition by asking (never a fixed sleep). Imports nothing of `node:test`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

const POLL_MS = 25;
const KILL_AFTER_MS = 2000;

/** One spawned server process, stopped by its own pid. */
export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  isRunning(): boolean;
  /** The last 4 kB of its stdout and stderr. */
  output(): string;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after 2 s; waits for the exit. Idempotent. */
  stop(): Promise<void>;
}

/** Every process still running, killed by pid if the test process exits without stopping them. */
const live = new Set<ServerProcess>();
process.once('exit', () => {
  for (const p of live) if (p.isRunning()) p.child.kill('SIGKILL');
});

/** Spawns `command args`; rejects when the binary cannot be started at all (e.g. not installed). */
export async function spawnProcess(
  name: string,
  port: number,
  command: string,
  args: readonly string[],
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let running = true;
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => {
      running = false;
      reject(new Error(`cannot start ${command} (${name}): ${err.message}`));
    });
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running = false;
      resolve();
    });
  });
  await spawned;
  const proc: ServerProcess = {
    name,
    port,
    child,
    pid: child.pid!,
    exited,
    isRunning: () => running,
    output: () => out,
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (running) child.kill('SIGKILL');
      }, KILL_AFTER_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Fails loudly (never skips) when a binary the topologies need is missing. */
export function requireBinaries(names: readonly string[] = ['redis-server', 'redis-cli', 'openssl']): void {
  for (const name of names) {
    const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
    if (r.error) {
      throw new Error(
        `${name} is required for the topology tests and was not found on PATH (${r.error.message}); ` +
          'install redis-server, redis-tools and openssl (Debian packages)',
      );
    }
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every 25 ms until it returns a value other than `undefined`/`false`. Rejects after
 * `timeoutMs` with `what` and the last error, or at once when `abort()` says why it cannot happen.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false>,
  abort?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const why = abort?.();
    if (why !== undefined) throw new Error(`${what}: ${why}`);
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${String(last)})`}`,
      );
    }
    await delay(POLL_MS);
  }
}
