/**
 * One redis-server of a topology: started on a free port (retried when the port was taken between
 * probe and bind), ready when it answers PING. Plus what every topology returns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, HOST } from '../helpers/ports.js';
import { pingRedis } from '../helpers/probes.js';
import { type ServerProcess, spawnProcess, waitFor } from '../helpers/processes.js';
import { answersPing, type CliTarget } from './redis-cli.js';

export interface ServerSpec {
  name: string;
  dir: string;
  /** Arguments after `--port P` (or before, for sentinel: the config file comes first). */
  args: (port: number) => string[];
  /** Port to use; a free one otherwise (retried when taken between probe and bind). */
  port?: number;
  bus?: boolean;
  cli?: Omit<CliTarget, 'port'>;
  avoid?: Set<number>;
  startTimeoutMs?: number;
}

/** Starts one redis-server and waits for it to answer PING; retries with another port if taken. */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port =
      spec.port ?? (await freePort({ bus: spec.bus ?? false, ...(spec.avoid ? { avoid: spec.avoid } : {}) }));
    spec.avoid?.add(port);
    const proc = await spawnProcess(spec.name, port, 'redis-server', spec.args(port));
    try {
      await waitFor(
        `${spec.name} on port ${port} answering PING`,
        spec.startTimeoutMs ?? 10_000,
        // A plain server answers a raw PING; TLS or a password needs redis-cli.
        () => (spec.cli?.caFile || spec.cli?.password ? answersPing({ port, ...spec.cli }) : pingRedis(port)),
        () => (proc.isRunning() ? undefined : `exited; its output:\n${proc.output()}`),
      );
      return proc;
    } catch (err) {
      await proc.stop();
      const taken = /address already in use/i.test(proc.output());
      if (!taken || spec.port !== undefined) throw err;
    }
  }
  throw new Error(`${spec.name}: no free port after 5 tries`);
}

/** What every topology returns. */
export interface Topology {
  readonly kind: 'tls' | 'sentinel' | 'cluster' | 'standalone';
  /** The `REDIS_URL` the service would use (with the service user's password on TLS). */
  readonly url: string;
  /** The CA to give `RedisClient` as `tls: { ca }` (TLS only). */
  readonly tls?: { ca: string };
  /** Working directory (configs, certificates, data), removed by `stop()`. */
  readonly dir: string;
  /** The processes started, for inspection. */
  readonly processes: readonly ServerProcess[];
  /** Stops every process by pid and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

export function makeDir(kind: string): string {
  return mkdtempSync(join(tmpdir(), `optix-${kind}-`));
}

export async function stopAll(procs: readonly ServerProcess[], dir: string): Promise<void> {
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
}

/** Arguments every data node gets: loopback only, its own directory, no persistence. */
export const BASE_ARGS = (dir: string) => ['--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'];
