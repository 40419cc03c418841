/**
 * The benchmarks' throwaway redis-server: the project's own harness starts it (Debian's
 * `redis-server`, spawned on a spare port, persistence off, its own directory, waited on by PING,
 * stopped by its pid; test/topologies/harness.ts), and a plain node-redis connection serves the
 * few admin commands the run needs. The shared server on 6379 is never used.
 */
import { createClient } from '@redis/client';
import { startStandalone } from '../../test/topologies/harness.js';

export interface BenchRedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>/0` */
  readonly url: string;
  readonly pid: number;
  /** `redis_version` from INFO server. */
  readonly version: string;
  /** Sends one command (words split on spaces, e.g. `FLUSHALL`) and returns its reply as text. */
  command(line: string): Promise<string>;
  /** Stops the server by pid and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `redis-server` on a spare port (never 6379) and resolves once it answers PING. */
export async function startRedis(extraArgs: readonly string[] = []): Promise<BenchRedisServer> {
  const server = await startStandalone({ args: extraArgs });
  const admin = createClient({ url: server.url });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (err) {
    await server.stop();
    throw err;
  }
  const version = /redis_version:([^\r\n]+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
  let stopping: Promise<void> | null = null;
  return {
    port: server.port,
    url: server.url,
    pid: server.process.pid,
    version,
    async command(line) {
      return String(await admin.sendCommand(line.split(' ')));
    },
    stop() {
      stopping ??= (async () => {
        await admin.close().catch(() => {});
        await server.stop();
      })();
      return stopping;
    },
  };
}

/**
 * What a bench entry point starts with: the throwaway server, stopped on SIGINT/SIGTERM (exit
 * 130) so an interrupted run leaves no process behind, and its one header line logged.
 */
export async function startBenchRedis(log: (line: string) => void): Promise<BenchRedisServer> {
  const redis = await startRedis();
  const stopOnSignal = () => {
    void redis.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  log(`redis-server ${redis.version} on port ${redis.port} (pid ${redis.pid}); node ${process.version}`);
  return redis;
}
