/** One plain server with persistence and memory settings, for kills, restarts and memory pressure. */
import { rmSync } from 'node:fs';
import { HOST } from '../helpers/ports.js';
import { requireBinaries, type ServerProcess } from '../helpers/processes.js';
import type { CliTarget } from './redis-cli.js';
import { BASE_ARGS, makeDir, startServer, stopAll, type Topology } from './servers.js';

export interface StandaloneTopology extends Topology {
  readonly kind: 'standalone';
  readonly port: number;
  readonly process: ServerProcess;
  /** SIGKILL: no shutdown, no final fsync. Resolves with `performance.now()` of the kill. */
  kill(): Promise<number>;
  /**
   * Starts the server again on the same port, directory and arguments; resolves with
   * `performance.now()` at which it first answered PING (after loading its AOF/RDB).
   */
  restart(): Promise<number>;
  readonly cli: CliTarget;
}

export interface StandaloneOptions {
  /** `--appendonly yes --appendfsync <this>`; absent: no persistence. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** e.g. `'8mb'`. */
  maxmemory?: string;
  maxmemoryPolicy?: string;
  args?: readonly string[];
}

/** One plain server in its own directory, for kills, restarts and memory pressure. */
export async function startStandalone(options: StandaloneOptions = {}): Promise<StandaloneTopology> {
  requireBinaries(['redis-server', 'redis-cli']);
  const dir = makeDir('standalone');
  const args = (port: number) => [
    '--port',
    String(port),
    ...BASE_ARGS(dir),
    ...(options.appendfsync
      ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync, '--aof-use-rdb-preamble', 'yes']
      : []),
    ...(options.maxmemory ? ['--maxmemory', options.maxmemory] : []),
    ...(options.maxmemoryPolicy ? ['--maxmemory-policy', options.maxmemoryPolicy] : []),
    ...(options.args ?? []),
  ];
  let current: ServerProcess;
  const all: ServerProcess[] = [];
  try {
    current = await startServer({ name: 'redis-standalone', dir, args });
    all.push(current);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = current.port;
  return {
    kind: 'standalone',
    url: `redis://${HOST}:${port}/0`,
    port,
    dir,
    get process() {
      return current;
    },
    get processes() {
      return [...all];
    },
    cli: { port },
    async kill() {
      current.child.kill('SIGKILL');
      const at = performance.now();
      await current.exited;
      return at;
    },
    async restart() {
      await current.kill();
      // Same port: clients reconnect to it. Loading the AOF can take a moment: wait on PING.
      current = await startServer({ name: 'redis-standalone', dir, args, port, startTimeoutMs: 30_000 });
      all.push(current);
      return performance.now();
    },
    stop: () => stopAll(all, dir),
  };
}
