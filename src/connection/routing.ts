/**
 * Where a command goes on each topology: the masters of a Cluster (SCAN, PING, INFO, SLOWLOG ask
 * each), the master that serves a key (a `WAIT` must reach the connection the write went to).
 * Standalone and Sentinel have one master connection; node-redis routes keyed commands itself.
 */
// The slot function node-redis itself routes with (no public export): the WAIT that confirms a
// write must find the same master connection as the write.
import calculateSlotModule from '@redis/client/dist/lib/utils/calculate-slot.js';
import type { RedisCommands } from './commands.js';
import type { RedisNodeAddress, RedisTopology } from './config.js';
import type { AnyNodeRedis } from './connection.js';
import type { ReplicaAckTransport } from './replica-acks.js';

const calculateSlot: (key: string) => number =
  typeof calculateSlotModule === 'function'
    ? calculateSlotModule
    : (calculateSlotModule as unknown as { default: (key: string) => number }).default;

/**
 * Runs `fn` on every master connection: the client itself outside Cluster (with `node` `''`),
 * each master's node client on Cluster (with `node` `host:port`).
 */
export async function eachMaster<T>(
  client: AnyNodeRedis,
  topology: RedisTopology,
  fn: (connection: AnyNodeRedis, node: string) => Promise<T>,
): Promise<T[]> {
  if (topology !== 'cluster') return [await fn(client, '')];
  return Promise.all(
    client.masters.map(async (m: { host?: string; port?: number }) =>
      fn(await client.nodeClient(m), `${m.host ?? ''}:${m.port ?? ''}`),
    ),
  );
}

/** `PING` over every master connection of `client`; fails on a Cluster with no master known. */
export async function pingAll(client: AnyNodeRedis, topology: RedisTopology): Promise<void> {
  if (topology === 'cluster' && client.masters.length === 0) throw new Error('no cluster master known');
  await eachMaster(client, topology, (c) => c.ping());
}

/**
 * node-redis's cluster client routes keyed commands itself but has no `scanIterator`: SCAN is
 * per node. This adds one that walks every master in turn, one bounded SCAN at a time.
 */
export function clusterCommands(cluster: AnyNodeRedis): RedisCommands {
  async function* scanIterator(options: { MATCH: string; COUNT: number; TYPE?: string }) {
    for (const master of [...cluster.masters]) {
      const node = await cluster.nodeClient(master);
      yield* node.scanIterator(options) as AsyncIterable<string[]>;
    }
  }
  return new Proxy(cluster, {
    get(target, prop, receiver) {
      if (prop === 'scanIterator') return scanIterator;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as RedisCommands;
}

/**
 * `WAIT` and `INFO replication` on the master connection that serves a key (see replica-acks.ts).
 * `standaloneNode` names the one server of a standalone topology.
 */
export function replicaAckTransport(
  client: AnyNodeRedis,
  topology: RedisTopology,
  standaloneNode: RedisNodeAddress | undefined,
): ReplicaAckTransport {
  // Cluster: to the slot's master connection itself. Through the cluster client, node-redis
  // would send WAIT to every master and answer the smallest count (its policy table says
  // all_shards/agg_min), and INFO to every node.
  const masterOf = (key: string) => client.getSlotMaster(calculateSlot(key));
  const send = async (key: string, args: string[]): Promise<unknown> => {
    if (topology === 'cluster') return (await client.nodeClient(masterOf(key))).sendCommand(args);
    if (topology === 'sentinel') return client.sendCommand(false, args);
    return client.sendCommand(args);
  };
  return {
    connectionOf: (key) => {
      const node =
        topology === 'cluster'
          ? masterOf(key)
          : topology === 'sentinel'
            ? client.getMasterNode()
            : standaloneNode;
      return node === undefined ? '' : `${node.host}:${node.port}`;
    },
    // Unbounded here: ReplicaAcks bounds the whole confirmation by commandTimeoutMs, and keeps
    // a WAIT counted as in flight until Redis answers it (see replica-acks.ts).
    wait: async (key, replicas, timeoutMs) =>
      Number(await send(key, ['WAIT', String(replicas), String(timeoutMs)])),
    connectedReplicas: async (key) => {
      // Only replicas in the `online` state count: one still loading its first copy can confirm
      // nothing (WAIT waits for it in vain) and holds no complete data set.
      const info = String(await send(key, ['INFO', 'replication']));
      if (!/^role:master\r?$/m.test(info)) return 0;
      return (info.match(/^slave\d+:.*\bstate=online\b/gm) ?? []).length;
    },
  };
}
