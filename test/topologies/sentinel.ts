/** A master, one replica and three sentinels (quorum 2), with failover helpers. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST } from '../helpers/ports.js';
import { requireBinaries, type ServerProcess, waitFor } from '../helpers/processes.js';
import { infoOf, redisCli } from './redis-cli.js';
import { BASE_ARGS, makeDir, startServer, stopAll, type Topology } from './servers.js';

export interface SentinelTopology extends Topology {
  readonly kind: 'sentinel';
  readonly masterName: string;
  readonly sentinelPorts: readonly number[];
  /** The data nodes' ports (master first at start). */
  readonly dataPorts: readonly number[];
  /** The current master's port, as the sentinels report it (majority answer). */
  masterPort(): Promise<number>;
  /**
   * SIGKILLs the current master. Resolves with its port and `performance.now()` of the kill.
   * The process stays dead (a test can `restartNode(port)` it as a replica).
   */
  killMaster(): Promise<{ port: number; killedAt: number }>;
  /** Waits until the sentinels name a master other than `oldPort`, which answers as a master. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
}

export interface SentinelOptions {
  masterName?: string;
  /** `down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `failover-timeout` (default 5000). */
  failoverTimeoutMs?: number;
}

/**
 * Master + one `--replicaof` replica + three sentinels (`sentinel monitor NAME 127.0.0.1 PORT 2`).
 * Ready when the replica is in sync and every sentinel sees the master, the replica and both other
 * sentinels (a failover needs them to know each other).
 */
export async function startSentinel(options: SentinelOptions = {}): Promise<SentinelTopology> {
  requireBinaries(['redis-server', 'redis-cli']);
  const name = options.masterName ?? 'mymaster';
  const downAfter = options.downAfterMs ?? 1000;
  const failoverTimeout = options.failoverTimeoutMs ?? 5000;
  const dir = makeDir('sentinel');
  const procs: ServerProcess[] = [];
  const avoid = new Set<number>();
  try {
    const nodeArgs = (sub: string, extra: string[]) => (port: number) => {
      const d = join(dir, sub);
      mkdirSync(d, { recursive: true });
      return ['--port', String(port), ...BASE_ARGS(d), '--repl-diskless-sync-delay', '0', ...extra];
    };
    const master = await startServer({ name: 'sentinel-master', dir, args: nodeArgs('n0', []), avoid });
    procs.push(master);
    const replica = await startServer({
      name: 'sentinel-replica',
      dir,
      args: nodeArgs('n1', ['--replicaof', HOST, String(master.port)]),
      avoid,
    });
    procs.push(replica);
    await waitFor('replica in sync', 10_000, async () => {
      const info = await infoOf({ port: replica.port }, 'replication');
      const seen = await infoOf({ port: master.port }, 'replication');
      return info.master_link_status === 'up' && /state=online/.test(seen.slave0 ?? '');
    });

    const sentinelPorts: number[] = [];
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        const s = await startServer({
          name: `sentinel-${i}`,
          dir,
          avoid,
          args: (port) => {
            // Sentinels rewrite their config file: each gets its own, writable, in the temp dir.
            const file = join(dir, `sentinel-${i}.conf`);
            writeFileSync(
              file,
              [
                `port ${port}`,
                `bind ${HOST}`,
                `dir ${dir}`,
                `sentinel monitor ${name} ${HOST} ${master.port} 2`,
                `sentinel down-after-milliseconds ${name} ${downAfter}`,
                `sentinel failover-timeout ${name} ${failoverTimeout}`,
                `sentinel parallel-syncs ${name} 1`,
                '',
              ].join('\n'),
            );
            return [file, '--sentinel'];
          },
        });
        procs.push(s);
        sentinelPorts.push(s.port);
      }),
    );
    await Promise.all(
      sentinelPorts.map((port) =>
        waitFor(`sentinel ${port} seeing master, replica and 2 other sentinels`, 20_000, async () => {
          const fields = (await redisCli({ port }, ['SENTINEL', 'MASTER', name])).split('\n');
          const get = (k: string) => fields[fields.indexOf(k) + 1];
          return (
            get('flags') === 'master' &&
            Number(get('num-slaves')) >= 1 &&
            Number(get('num-other-sentinels')) >= 2
          );
        }),
      ),
    );

    const byPort = new Map(procs.map((p) => [p.port, p]));
    const sentinelMaster = async (): Promise<number> => {
      const answers = await Promise.all(
        sentinelPorts.map((port) =>
          redisCli({ port }, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]).then(
            (out) => Number(out.split('\n')[1]),
            () => 0,
          ),
        ),
      );
      const counts = new Map<number, number>();
      for (const a of answers) if (a > 0) counts.set(a, (counts.get(a) ?? 0) + 1);
      const best = [...counts].sort((x, y) => y[1] - x[1])[0];
      if (!best || best[1] < 2) throw new Error(`sentinels disagree on the master: ${answers.join(', ')}`);
      return best[0];
    };
    return {
      kind: 'sentinel',
      url: `redis://${sentinelPorts.map((p) => `${HOST}:${p}`).join(',')}/0?sentinel=${name}`,
      masterName: name,
      sentinelPorts,
      dataPorts: [master.port, replica.port],
      dir,
      processes: procs,
      masterPort: sentinelMaster,
      async killMaster() {
        const port = await sentinelMaster();
        const proc = byPort.get(port);
        if (!proc) throw new Error(`master on port ${port} was not started here`);
        proc.child.kill('SIGKILL');
        const killedAt = performance.now();
        await proc.exited;
        return { port, killedAt };
      },
      async waitForFailover(oldPort, timeoutMs = 20_000) {
        return waitFor(`sentinels promoting a new master instead of ${oldPort}`, timeoutMs, async () => {
          const port = await sentinelMaster();
          if (port === oldPort) return false;
          const role = await infoOf({ port }, 'replication');
          return role.role === 'master' ? port : false;
        });
      },
      stop: () => stopAll(procs, dir),
    };
  } catch (err) {
    await stopAll(procs, dir);
    throw err;
  }
}
