/**
 * A throwaway Redis Cluster for tests: three masters (no replicas) spawned with
 * `startRedisServer`, joined with `redis-cli --cluster create`, ready once every node reports
 * `cluster_state:ok`. Ports are picked below 55536 so each node's bus port (port + 10000) exists.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { type RedisServerHandle, startRedisServer } from '../helpers/redis-server.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A port P in [20000, 45000) with P and P + 10000 free a moment ago. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 25000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

export interface TestCluster {
  /** `redis://h:p1,h:p2,h:p3` — the Cluster form of REDIS_URL. */
  url: string;
  nodes: RedisServerHandle[];
  stop(): Promise<void>;
}

export async function startCluster(masters = 3): Promise<TestCluster> {
  const nodes: RedisServerHandle[] = [];
  const taken = new Set<number>();
  try {
    for (let i = 0; i < masters; i++) {
      const port = await clusterPort(taken);
      taken.add(port);
      nodes.push(
        await startRedisServer({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `${HOST}:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 15_000;
    for (const node of nodes) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok on ${node.port}:\n${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    return {
      url: `redis://${addresses.join(',')}`,
      nodes,
      stop: async () => {
        await Promise.all(nodes.map((n) => n.stop()));
      },
    };
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
}
