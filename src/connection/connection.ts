/**
 * Builds the node-redis client for each topology (standalone, Cluster, Sentinel), with or without
 * TLS, from resolved options. Socket, reconnection and keepalive settings are shared; what differs
 * per topology is in `standalone`, `cluster` and `sentinel` below.
 */
import { createClient, createCluster, createSentinel } from '@redis/client';
import type { ResolvedRedisOptions } from './config.js';
import type { TrackedCache } from './tracking.js';

// node-redis's three client kinds differ in types but share the command methods we use.
// biome-ignore lint/suspicious/noExplicitAny: the union of node-redis generics is not expressible usefully
export type AnyNodeRedis = any;

/**
 * Longest wait between reconnection attempts. The service must recover within 1 s of Redis being
 * back: a 2 s cap made recovery after an outage of 4–6 s take ~1 s and up to 2 s. One refused
 * connection attempt every 500 ms costs nothing.
 */
export const RECONNECT_MAX_DELAY_MS = 500;

/** Cluster: how often the slot map is re-read while a node is reconnecting. */
export const CLUSTER_TOPOLOGY_REFRESH_MS = 500;

/** What every topology's connections share. */
interface Common {
  // biome-ignore lint/suspicious/noExplicitAny: node-redis splits TCP and TLS socket types
  socket: any;
  auth: { username: string | undefined; password: string | undefined };
  name: string | undefined;
  keepalive: { pingInterval?: number };
  commandOptions: { timeout: number };
  cache: { clientSideCache?: TrackedCache };
}

/**
 * A node-redis client for `o`'s topology, not yet connected. With `clientSideCache`, the tracked
 * read connection of the client-side cache (its client name gets `:tracking`).
 */
export function createNodeRedis(o: ResolvedRedisOptions, clientSideCache?: TrackedCache): AnyNodeRedis {
  const common = commonOptions(o, clientSideCache);
  if (o.url.topology === 'standalone') return standalone(o, common);
  if (o.url.topology === 'cluster') return cluster(o, common);
  return sentinel(o, common);
}

function commonOptions(o: ResolvedRedisOptions, clientSideCache: TrackedCache | undefined): Common {
  const u = o.url;
  const tls = o.tls;
  const reconnectStrategy: false | ((retries: number) => number) = o.retryOnTimeout
    ? (retries: number) => Math.min(50 * 2 ** retries, RECONNECT_MAX_DELAY_MS)
    : false;
  const socket = {
    connectTimeout: o.connectTimeoutMs,
    socketTimeout: o.socketTimeoutMs === 0 ? undefined : o.socketTimeoutMs,
    reconnectStrategy,
    ...(u.tls
      ? {
          tls: true as const,
          ca: tls?.ca,
          cert: tls?.cert,
          key: tls?.key,
          servername: tls?.servername,
          rejectUnauthorized: tls?.rejectUnauthorized ?? true,
        }
      : {}),
  };
  return {
    socket,
    auth: { username: u.username, password: u.password },
    name: clientSideCache && o.clientName ? `${o.clientName}:tracking` : o.clientName,
    // node-redis's `socketTimeout` is an idle timer: a connection that sends nothing for that long
    // is closed, even a healthy one (every 5 s on an idle service by default; never to come back
    // with `retryOnTimeout: false`). A PING at half the timeout keeps a live connection talking,
    // so only a connection whose server stopped answering goes silent long enough to be closed.
    keepalive:
      o.socketTimeoutMs === 0 ? {} : { pingInterval: Math.max(1, Math.floor(o.socketTimeoutMs / 2)) },
    // Measured (node-redis 6.3, this machine kind): the default 5 s per-command timeout allocates
    // an AbortSignal per command and runs while queued; `RedisClient.wrap` enforces one deadline
    // per operation instead.
    commandOptions: { timeout: 0 },
    cache: clientSideCache ? { clientSideCache } : {},
  };
}

function standalone(o: ResolvedRedisOptions, c: Common): AnyNodeRedis {
  const node = o.url.nodes[0]!;
  return createClient({
    socket: { host: node.host, port: node.port, ...c.socket },
    ...c.auth,
    database: o.url.database,
    name: c.name,
    RESP: 3,
    commandOptions: c.commandOptions,
    ...c.keepalive,
    ...c.cache,
  });
}

function cluster(o: ResolvedRedisOptions, c: Common): AnyNodeRedis {
  return createCluster({
    rootNodes: o.url.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
    // Found in testing (node-redis 6.3): over TLS the discovered nodes need the TLS socket
    // options too.
    defaults: { socket: c.socket, ...c.auth, name: c.name, ...c.keepalive },
    commandOptions: c.commandOptions,
    useReplicas: false,
    // While a node is unreachable, re-read the slot map every 500 ms (node-redis's default is
    // 5 s): after a master dies, commands for its slots resume within ~0.5 s of a replica
    // taking over, not up to 5 s (or 10 s when the failover takes longer than the first
    // refresh). The same holds for the client-side cache's tracked connections.
    topologyRefreshOnReconnectionAttemptStrategy: CLUSTER_TOPOLOGY_REFRESH_MS,
    RESP: 3,
    ...c.cache,
  });
}

function sentinel(o: ResolvedRedisOptions, c: Common): AnyNodeRedis {
  return createSentinel({
    name: o.url.sentinelName!,
    sentinelRootNodes: o.url.nodes.map((n) => ({ host: n.host, port: n.port })),
    nodeClientOptions: {
      socket: c.socket,
      ...c.auth,
      database: o.url.database,
      name: c.name,
      ...c.keepalive,
    },
    sentinelClientOptions: { socket: c.socket, ...c.keepalive },
    // One reserved, pipelined master connection. node-redis 6.3.1 leases a pool client per
    // burst of commands and, with masterPoolSize > 1, leaks the leases of a concurrent first
    // burst: every command queued behind them waits forever (1000 concurrent SETs: 32 answered).
    // Plain commands never need more than one connection; the pool only serves WATCH/MULTI leases.
    masterPoolSize: 1,
    reserveClient: true,
    commandOptions: c.commandOptions,
    RESP: 3,
    ...c.cache,
  });
}
