/**
 * The one Redis Cluster of the tests: three masters, each with one replica by default (the
 * failover tests) or none (`replicas: 0`, the contract suites), with failover helpers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HOST } from '../helpers/ports.js';
import { requireBinaries, type ServerProcess, waitFor } from '../helpers/processes.js';
import { infoOf, redisCli } from './redis-cli.js';
import { BASE_ARGS, makeDir, startServer, stopAll, type Topology } from './servers.js';

export interface ClusterTopology extends Topology {
  readonly kind: 'cluster';
  readonly ports: readonly number[];
  /** The port of the master serving `key` now (`CLUSTER KEYSLOT` + `CLUSTER SLOTS`). */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the master serving `key` (default: slot 0's). */
  killMaster(key?: string): Promise<{ port: number; killedAt: number }>;
  /** Waits until every live node reports `cluster_state:ok` and no slot is served by `deadPort`. */
  waitForFailover(deadPort: number, timeoutMs?: number): Promise<void>;
}

export interface ClusterOptions {
  /** `--cluster-node-timeout` in ms (default 2000). */
  nodeTimeoutMs?: number;
  /** Replicas per master (default 1); 0 for a cluster that only has to route (no failover). */
  replicas?: 0 | 1;
}

const MASTERS = 3;

interface SlotRange {
  from: number;
  to: number;
  masterPort: number;
}

function parseClusterShards(text: string): SlotRange[] {
  // `redis-cli CLUSTER SLOTS` prints a flat list: from, to, then per node ip, port, id (, hostname…).
  // Using CLUSTER NODES instead: "<id> <ip:port@bus> <flags> <master> … <slot ranges>".
  const ranges: SlotRange[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const flags = parts[2]!;
    if (!flags.includes('master') || flags.includes('fail')) continue;
    const port = Number(parts[1]!.split('@')[0]!.split(':')[1]);
    for (const r of parts.slice(8)) {
      if (r.startsWith('[')) continue;
      const [a, b] = r.split('-');
      ranges.push({ from: Number(a), to: Number(b ?? a), masterPort: port });
    }
  }
  return ranges;
}

/**
 * Three masters and `replicas` replicas each (six nodes by default) with `--cluster-enabled yes
 * --cluster-node-timeout 2000 --cluster-replica-validity-factor 0`, joined by `redis-cli --cluster
 * create … --cluster-replicas N --cluster-yes`. Ready when every node reports `cluster_state:ok`,
 * knows every node, and every replica is in sync.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<ClusterTopology> {
  requireBinaries(['redis-server', 'redis-cli']);
  const nodeTimeout = options.nodeTimeoutMs ?? 2000;
  const replicas = options.replicas ?? 1;
  const nodeCount = MASTERS * (1 + replicas);
  const dir = makeDir('cluster');
  const procs: ServerProcess[] = [];
  const avoid = new Set<number>();
  try {
    const started = await Promise.all(
      Array.from({ length: nodeCount }, (_, i) =>
        startServer({
          name: `cluster-${i}`,
          dir,
          bus: true,
          avoid,
          args: (port) => {
            const d = join(dir, `n${i}`);
            mkdirSync(d, { recursive: true });
            return [
              '--port',
              String(port),
              ...BASE_ARGS(d),
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              join(d, 'nodes.conf'),
              '--cluster-node-timeout',
              String(nodeTimeout),
              '--cluster-replica-validity-factor',
              '0',
              '--repl-diskless-sync-delay',
              '0',
            ];
          },
        }),
      ),
    );
    procs.push(...started);
    const ports = started.map((p) => p.port);
    await new Promise<void>((resolve, reject) => {
      execFile(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((p) => `${HOST}:${p}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`redis-cli --cluster create failed: ${stderr || stdout || err.message}`));
          else resolve();
        },
      );
    });
    await Promise.all(
      ports.map((port) =>
        waitFor(`cluster node ${port} ready`, 20_000, async () => {
          const info = await infoOf({ port }, 'replication');
          const cluster = await redisCli({ port }, ['CLUSTER', 'INFO']);
          if (!cluster.includes('cluster_state:ok') || !cluster.includes(`cluster_known_nodes:${nodeCount}`))
            return false;
          // A master counts its replica in sync only after the replica's first ack (`state=online`):
          // until then a WAIT for it waits in vain.
          if (info.role === 'master') return replicas === 0 || /state=online/.test(info.slave0 ?? '');
          return info.master_link_status === 'up';
        }),
      ),
    );
    const byPort = new Map(procs.map((p) => [p.port, p]));
    const liveTarget = () => {
      const p = procs.find((x) => x.isRunning());
      if (!p) throw new Error('no cluster node is running');
      return { port: p.port };
    };
    const masterOf = async (key: string): Promise<number> => {
      const target = liveTarget();
      const slot = Number(await redisCli(target, ['CLUSTER', 'KEYSLOT', key]));
      const ranges = parseClusterShards(await redisCli(target, ['CLUSTER', 'NODES']));
      const range = ranges.find((r) => slot >= r.from && slot <= r.to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range.masterPort;
    };
    return {
      kind: 'cluster',
      url: `redis://${ports
        .slice(0, MASTERS)
        .map((p) => `${HOST}:${p}`)
        .join(',')}`,
      ports,
      dir,
      processes: procs,
      masterOf,
      async killMaster(key = '{a}') {
        const port = await masterOf(key);
        const proc = byPort.get(port)!;
        proc.child.kill('SIGKILL');
        const killedAt = performance.now();
        await proc.exited;
        return { port, killedAt };
      },
      async waitForFailover(deadPort, timeoutMs = 30_000) {
        const alive = procs.filter((p) => p.isRunning()).map((p) => p.port);
        await Promise.all(
          alive.map((port) =>
            waitFor(`cluster node ${port} ok after losing ${deadPort}`, timeoutMs, async () => {
              const info = await redisCli({ port }, ['CLUSTER', 'INFO']);
              if (!info.includes('cluster_state:ok')) return false;
              const ranges = parseClusterShards(await redisCli({ port }, ['CLUSTER', 'NODES']));
              const covered = ranges.reduce((n, r) => n + (r.to - r.from + 1), 0);
              return covered === 16384 && ranges.every((r) => r.masterPort !== deadPort);
            }),
          ),
        );
      },
      stop: () => stopAll(procs, dir),
    };
  } catch (err) {
    await stopAll(procs, dir);
    throw err;
  }
}
