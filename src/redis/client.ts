/**
 * `RedisClient`: the guide's connection manager over `@redis/client` v6, for standalone Redis,
 * Sentinel and Cluster, with or without TLS. The stores use `commands`, `runScript` and `wrap`;
 * operators use `ping`, `info`, `healthCheck`; the guide's `set`/`get`/`delete` are kept.
 */
import { inspect } from 'node:util';
import { createHash } from 'node:crypto';
import { createClient, createCluster, createSentinel, ErrorReply } from '@redis/client';
// The slot function node-redis itself routes with (no public export): the WAIT that confirms a
// write must find the same master connection as the write.
import type { Attributes, Tracer } from '@opentelemetry/api';
import calculateSlotModule from '@redis/client/dist/lib/utils/calculate-slot.js';
import {
  ConfigError,
  isOptixError,
  StoreBusyError,
  StoreTimeoutError,
  StoreUnavailableError,
} from '../core/errors.js';
import type { LuaScript, RedisCommands } from './commands.js';
import { type RedisClientOptions, type ResolvedRedisOptions, resolveRedisOptions } from './config.js';
import {
  InvalidationHub,
  type RedisTracking,
  type TrackedCache,
  TrackingController,
  trackedCache,
} from './tracking.js';
import { ReplicaAcks, type ReplicaAckTransport } from './replica-acks.js';

/** What `healthCheck()` returns (the guide's health check). */
export interface RedisHealth {
  status: 'healthy' | 'unhealthy';
  topology: 'standalone' | 'sentinel' | 'cluster';
  connectedClients: number | null;
  opsPerSec: number | null;
  latencyMs: number | null;
  error?: string;
}

/** What `checkEvictionPolicy()` found. */
export interface EvictionPolicyReport {
  /** `maxmemory-policy` (on Cluster: of every master, distinct values joined by `,`). */
  policy: string;
  /** `maxmemory` in bytes (on Cluster: the smallest non-zero limit of a master); 0 = no limit. */
  maxmemoryBytes: number;
  /**
   * `true` only with `noeviction`: every other policy may delete keys when memory runs out, and
   * every key we write has a TTL, so even the `volatile-*` policies can silently drop a
   * blacklist entry, a revoke-all watermark or a revoked family, and a revoked token verifies again.
   */
  safe: boolean;
  /** One line for the operator. */
  message: string;
}

/** `INFO` parsed: numbers where the value is numeric, strings otherwise. */
export type RedisInfo = Record<string, string | number>;

/** Something to tell about connection trouble; gets no secrets. */
export interface RedisClientLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Longest wait between reconnection attempts. The service must recover within 1 s of Redis being
 * back: with the former 2 s cap, recovery after an outage of 4–6 s took ~1 s and could take 2 s.
 * One refused connection attempt every 500 ms costs nothing.
 */
export const RECONNECT_MAX_DELAY_MS = 500;

const calculateSlot: (key: string) => number =
  typeof calculateSlotModule === 'function'
    ? calculateSlotModule
    : (calculateSlotModule as unknown as { default: (key: string) => number }).default;

/** Cluster: how often the slot map is re-read while a node is reconnecting. */
export const CLUSTER_TOPOLOGY_REFRESH_MS = 500;

/** True for the server's NOSCRIPT reply: the one place the protocol string is matched. */
export function isNoScriptError(err: unknown): boolean {
  return err instanceof ErrorReply && err.message.startsWith('NOSCRIPT');
}

/** Parses the text of `INFO` into an object. */
export function parseInfo(text: string): RedisInfo {
  const out: RedisInfo = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i === -1) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1);
    out[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** Creates a Lua script object (name, source, SHA1). */
export function luaScript(
  name: string,
  source: string,
  numberOfKeys: number,
  options: { durable?: boolean } = {},
): LuaScript {
  return Object.freeze({
    name,
    source,
    numberOfKeys,
    sha1: createHash('sha1').update(source).digest('hex'),
    ...(options.durable ? { durable: true } : {}),
  });
}

// node-redis's three client kinds differ in types but share the command methods we use.
// biome-ignore lint/suspicious/noExplicitAny: the union of node-redis generics is not expressible usefully
type AnyNodeRedis = any;

/**
 * The connection manager. Construct, `connect()`, use, `close()`.
 *
 * @example
 * const redis = new RedisClient({ url: 'redis://localhost:6379/0' });
 * await redis.connect();
 * await redis.set('greeting', 'hi', { ttlSeconds: 60 });
 * await redis.close();
 *
 * @throws ConfigError from the constructor when the URL or an option is invalid.
 */
export class RedisClient {
  readonly options: ResolvedRedisOptions;
  readonly topology: 'standalone' | 'sentinel' | 'cluster';
  readonly keyPrefix: string;
  readonly #client: AnyNodeRedis;
  readonly #commands: RedisCommands;
  readonly #logger: RedisClientLogger | undefined;
  /** The tracked, read-only connection(s) of the client-side cache, when it is on. */
  readonly #reader: AnyNodeRedis | null;
  readonly #tracking: TrackingController | null;
  #connected = false;
  #lastErrorLog = 0;
  /** Confirms revocation-class writes on replicas (`replicaAcks`); counts what it could not. */
  readonly replicaAcks: ReplicaAcks;

  /** Spans for every operation when tracing is on (see `#traced`). */
  readonly #tracer: Tracer | undefined;

  constructor(
    options: RedisClientOptions,
    deps: {
      logger?: RedisClientLogger;
      /** An OpenTelemetry tracer: one CLIENT span per operation (none: no tracing, no cost). */
      tracer?: Tracer;
    } = {},
  ) {
    this.options = resolveRedisOptions(options);
    this.#tracer = deps.tracer;
    this.topology = this.options.url.topology;
    this.keyPrefix = this.options.keyPrefix;
    this.#logger = deps.logger;
    this.#client = this.#build();
    this.replicaAcks = new ReplicaAcks(
      this.options.replicaAcks,
      this.options.replicaAckTimeoutMs,
      this.options.commandTimeoutMs,
      this.#replicaAckTransport(),
      this.#logger,
    );
    this.#client.on('error', (err: unknown) => this.#onError(err));
    const commands = this.topology === 'cluster' ? this.#clusterCommands() : (this.#client as RedisCommands);
    const csc = this.options.clientSideCache;
    if (csc === null) {
      this.#reader = null;
      this.#tracking = null;
      this.#commands = commands;
      return;
    }
    const hub = new InvalidationHub();
    const providerConfig = { ttl: csc.ttlMs, maxEntries: csc.maxEntries * 4 };
    const provider = trackedCache(this.topology !== 'standalone', hub, providerConfig);
    const reader = this.#build(provider);
    reader.on('error', (err: unknown) => this.#onError(err));
    this.#reader = reader;
    this.#tracking = new TrackingController({
      commands: reader,
      provider,
      hub,
      ping: () => this.#pingAll(reader),
      leaseMs: csc.leaseMs,
      ttlMs: csc.ttlMs,
      maxEntries: csc.maxEntries,
      isNoScript: isNoScriptError,
    });
    this.#commands = invalidatingWrites(commands, this.#tracking);
  }

  /**
   * The client-side cache of the revocation reads (`null` when turned off): a second connection
   * with RESP3 `CLIENT TRACKING`, its lease, and local invalidation of what this client writes.
   */
  get tracking(): RedisTracking | null {
    return this.#tracking;
  }

  /** The commands the stores use (routed by key on Cluster). */
  get commands(): RedisCommands {
    return this.#commands;
  }

  /**
   * node-redis's cluster client routes keyed commands itself but has no `scanIterator`: SCAN is
   * per node. This adds one that walks every master in turn, one bounded SCAN at a time.
   */
  #clusterCommands(): RedisCommands {
    const cluster = this.#client;
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

  /** True between a successful `connect()` and `close()`. */
  get isConnected(): boolean {
    return this.#connected;
  }

  /** `PING` over every connection of `client` (each master on Cluster). */
  async #pingAll(client: AnyNodeRedis): Promise<void> {
    if (this.topology !== 'cluster') {
      await client.ping();
      return;
    }
    if (client.masters.length === 0) throw new Error('no cluster master known');
    await Promise.all(client.masters.map(async (m: unknown) => (await client.nodeClient(m)).ping()));
  }

  #build(clientSideCache?: TrackedCache): AnyNodeRedis {
    const o = this.options;
    const name = clientSideCache && o.clientName ? `${o.clientName}:tracking` : o.clientName;
    const cache = clientSideCache ? { clientSideCache } : {};
    const u = o.url;
    const tls = o.tls;
    const reconnectStrategy: false | ((retries: number) => number) = o.retryOnTimeout
      ? (retries: number) => Math.min(50 * 2 ** retries, RECONNECT_MAX_DELAY_MS)
      : false;
    // biome-ignore lint/suspicious/noExplicitAny: node-redis splits TCP and TLS socket types
    const socketBase: any = {
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
    // node-redis's `socketTimeout` is an idle timer: a connection that sends nothing for that long
    // is closed, even a healthy one (every 5 s on an idle service by default; never to come back
    // with `retryOnTimeout: false`). A PING at half the timeout keeps a live connection talking,
    // so only a connection whose server stopped answering goes silent long enough to be closed.
    const keepalive =
      o.socketTimeoutMs === 0 ? {} : { pingInterval: Math.max(1, Math.floor(o.socketTimeoutMs / 2)) };
    // Measured (node-redis 6.3, this machine kind): the default 5 s per-command timeout allocates
    // an AbortSignal per command and runs while queued; we enforce one deadline per operation in
    // `wrap` instead.
    const commandOptions = { timeout: 0 };
    const auth = { username: u.username, password: u.password };
    if (u.topology === 'standalone') {
      const node = u.nodes[0]!;
      return createClient({
        socket: { host: node.host, port: node.port, ...socketBase },
        ...auth,
        database: u.database,
        name,
        RESP: 3,
        commandOptions,
        ...keepalive,
        ...cache,
      });
    }
    if (u.topology === 'cluster') {
      return createCluster({
        rootNodes: u.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
        // Found in testing (node-redis 6.3): over TLS the discovered nodes need the TLS socket
        // options too.
        defaults: { socket: socketBase, ...auth, name, ...keepalive },
        commandOptions,
        useReplicas: false,
        // While a node is unreachable, re-read the slot map every 500 ms (node-redis's default is
        // 5 s): after a master dies, commands for its slots resume within ~0.5 s of a replica
        // taking over, not up to 5 s (or 10 s when the failover takes longer than the first
        // refresh). The same holds for the client-side cache's tracked connections.
        topologyRefreshOnReconnectionAttemptStrategy: CLUSTER_TOPOLOGY_REFRESH_MS,
        RESP: 3,
        ...cache,
      });
    }
    return createSentinel({
      name: u.sentinelName!,
      sentinelRootNodes: u.nodes.map((n) => ({ host: n.host, port: n.port })),
      nodeClientOptions: { socket: socketBase, ...auth, database: u.database, name, ...keepalive },
      sentinelClientOptions: { socket: socketBase, ...keepalive },
      // One reserved, pipelined master connection. node-redis 6.3.1 leases a pool client per
      // burst of commands and, with masterPoolSize > 1, leaks the leases of a concurrent first
      // burst: every command queued behind them waits forever (1000 concurrent SETs: 32 answered).
      // Plain commands never need more than one connection; the pool only serves WATCH/MULTI leases.
      masterPoolSize: 1,
      reserveClient: true,
      commandOptions,
      RESP: 3,
      ...cache,
    });
  }

  #onError(err: unknown): void {
    // node-redis emits an error per failed reconnect attempt; log at most once a second.
    const now = Date.now();
    if (now - this.#lastErrorLog < 1000) return;
    this.#lastErrorLog = now;
    this.#logger?.warn(
      { err: describeError(err), redis: this.options.redactedUrl },
      'redis_connection_error',
    );
  }

  /**
   * Opens the connection(s). Rejects with `StoreUnavailableError` when Redis cannot be reached
   * within `connectTimeoutMs` (the client is then closed).
   */
  /**
   * Connects (both connections with the client-side cache). node-redis retries a refused
   * connection until `connectTimeoutMs`, which suits a service starting beside its Redis; with
   * `failFastOnRefused` (the CLI), a standalone server that refuses the connection fails at once.
   */
  async connect(options: { failFastOnRefused?: boolean } = {}): Promise<void> {
    if (this.#connected) return;
    const refusedIsFatal = options.failFastOnRefused === true && this.topology === 'standalone';
    let timer: NodeJS.Timeout | undefined;
    let lastError: unknown;
    let onError: ((err: unknown) => void) | undefined;
    try {
      await Promise.race([
        Promise.all([this.#client.connect(), this.#reader?.connect()]).then(() => this.#tracking?.start()),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            const last = lastError === undefined ? '' : ` (last error: ${describeError(lastError)})`;
            reject(new Error(`no connection within ${this.options.connectTimeoutMs} ms${last}`));
          }, this.options.connectTimeoutMs);
          // node-redis retries a refused certificate or password like a dropped connection and
          // only emits 'error': without this, a wrong CA looked like "no connection within 5000 ms".
          onError = (err: unknown) => {
            lastError = err;
            const fatal = fatalConnectError(err);
            if (fatal !== null) reject(new Error(fatal, { cause: err }));
            else if (refusedIsFatal && (err as { code?: unknown }).code === 'ECONNREFUSED') {
              reject(new Error('connection refused', { cause: err }));
            }
          };
          this.#client.on('error', onError);
          this.#reader?.on('error', onError);
        }),
      ]);
      this.#connected = true;
    } catch (err) {
      await this.#destroy();
      throw new StoreUnavailableError(
        `cannot connect to Redis at ${this.options.redactedUrl}: ${describeError(err)}`,
        {
          cause: err,
        },
      );
    } finally {
      clearTimeout(timer);
      if (onError) {
        this.#client.off('error', onError);
        this.#reader?.off('error', onError);
      }
    }
  }

  async #destroy(): Promise<void> {
    this.#tracking?.stop();
    for (const client of [this.#client, this.#reader]) {
      if (client === null) continue;
      try {
        if (typeof client.destroy === 'function') client.destroy();
        else await client.close();
      } catch {
        // already closed
      }
    }
  }

  /** Closes the connection(s), letting commands in flight finish. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.#connected) {
      await this.#destroy();
      return;
    }
    this.#connected = false;
    this.#tracking?.stop();
    // close() waits for replies in flight; against a dead server that is forever, so bound it.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([this.#client.close(), this.#reader?.close()]),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('close timed out')), this.options.commandTimeoutMs);
        }),
      ]);
    } catch {
      await this.#destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs `fn` with the operation deadline (`commandTimeoutMs`) and converts node-redis failures:
   * no answer in time → `StoreTimeoutError`; anything else → `StoreUnavailableError` (with `cause`).
   */
  /** Called when Redis refuses a write for memory (`OOM`); the memory guard listens here. */
  onOom: (() => void) | null = null;

  wrap<T>(operation: string, fn: () => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
    if (this.#tracer !== undefined)
      return this.#traced(this.#tracer, operation, 'command', () => this.#wrap(operation, fn, timeoutMs));
    return this.#wrap(operation, fn, timeoutMs);
  }

  /**
   * One span per store operation (a command, or one of our scripts by name), child of whatever
   * span is active (the request's). Attributes name the operation, never a key or an argument:
   * key names carry session ids. No OpenTelemetry instrumentation supports node-redis 6's client
   * (`@opentelemetry/instrumentation-redis` patches v4 and older), hence this.
   */
  #traced<T>(
    tracer: Tracer,
    operation: string,
    kind: 'command' | 'script',
    run: () => Promise<T>,
  ): Promise<T> {
    const attributes: Attributes = {
      'db.system.name': 'redis',
      'db.operation.name': kind === 'script' ? 'EVALSHA' : operation.toUpperCase(),
      'optix.redis.topology': this.topology,
    };
    if (kind === 'script') attributes['db.stored_procedure.name'] = operation;
    // SpanKind.CLIENT = 2, SpanStatusCode.ERROR = 2: numbers, so that this module loads nothing
    // of OpenTelemetry when tracing is off.
    const span = tracer.startSpan(`redis ${kind === 'script' ? operation : operation.toUpperCase()}`, {
      kind: 2,
      attributes,
    });
    return run().then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        const code = isOptixError(err) ? err.code : 'ERR_STORE_UNAVAILABLE';
        span.setAttribute('error.type', code);
        span.setStatus({ code: 2, message: code });
        span.end();
        throw err;
      },
    );
  }

  #wrap<T>(operation: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // No answer in time: the connection may be dead without knowing it yet, so nothing
        // cached from it is trusted any more.
        this.#tracking?.reset();
        reject(new StoreTimeoutError(timeoutMs, operation));
      }, timeoutMs);
      fn().then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          const mapped = toStoreError(operation, err);
          if (mapped instanceof StoreBusyError) this.onOom?.();
          reject(mapped);
        },
      );
    });
  }

  /**
   * Runs a Lua script: EVALSHA, and EVAL once when the server answers NOSCRIPT (after a restart
   * or `SCRIPT FLUSH`). All `keys` must be in one hash slot.
   */
  runScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    // The master the write goes to: a WAIT on another one (after a failover) would prove nothing.
    const master = script.durable && keys.length > 0 ? this.replicaAcks.connectionOf(keys[0]!) : '';
    const run = () => this.#runScript(script, keys, args, master);
    return this.#tracer !== undefined ? this.#traced(this.#tracer, script.name, 'script', run) : run();
  }

  #runScript(script: LuaScript, keys: string[], args: string[], master: string): Promise<unknown> {
    return this.#wrap(
      script.name,
      async () => {
        try {
          return await this.#client.evalSha(script.sha1, { keys, arguments: args });
        } catch (err) {
          if (!isNoScriptError(err)) throw err;
          return await this.#client.eval(script.source, { keys, arguments: args });
        } finally {
          // A script may have written any of its keys (even when it failed half-way).
          this.#tracking?.invalidateLocal(keys);
        }
      },
      this.options.commandTimeoutMs,
    ).then(async (reply) => {
      if (script.durable && keys.length > 0) await this.replicaAcks.confirm(keys[0]!, master);
      return reply;
    });
  }

  /** `WAIT` and `INFO replication` on the master connection that serves a key (see replica-acks.ts). */
  #replicaAckTransport(): ReplicaAckTransport {
    // Cluster: to the slot's master connection itself. Through the cluster client, node-redis
    // would send WAIT to every master and answer the smallest count (its policy table says
    // all_shards/agg_min), and INFO to every node.
    const masterOf = (key: string) => this.#client.getSlotMaster(calculateSlot(key));
    const send = async (key: string, args: string[]): Promise<unknown> => {
      if (this.topology === 'cluster')
        return (await this.#client.nodeClient(masterOf(key))).sendCommand(args);
      if (this.topology === 'sentinel') return this.#client.sendCommand(false, args);
      return this.#client.sendCommand(args);
    };
    return {
      connectionOf: (key) => {
        const node =
          this.topology === 'cluster'
            ? masterOf(key)
            : this.topology === 'sentinel'
              ? this.#client.getMasterNode()
              : this.options.url.nodes[0];
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

  /** `PING` (every master on Cluster). Resolves with the round-trip time in ms. */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.wrap('ping', async () => {
      if (!this.#connected) throw new Error('not connected');
      if (this.topology === 'cluster') {
        if (this.#client.masters.length === 0) throw new Error('no cluster master known');
        await Promise.all(
          this.#client.masters.map(async (m: unknown) => (await this.#client.nodeClient(m)).ping()),
        );
      } else {
        await this.#client.ping();
      }
    });
    return performance.now() - start;
  }

  /** `INFO [section]` parsed into an object (on Cluster: summed over masters where numeric). */
  async info(section?: string): Promise<RedisInfo> {
    if (section !== undefined && !/^[a-z]{1,32}$/.test(section)) {
      throw new ConfigError('section', 'must be an INFO section name such as memory, clients, stats');
    }
    return this.wrap('info', async () => {
      const run = (c: AnyNodeRedis): Promise<string> => (section ? c.info(section) : c.info());
      if (this.topology !== 'cluster') return parseInfo(String(await run(this.#client)));
      const parts: RedisInfo[] = await Promise.all(
        this.#client.masters.map(async (m: unknown) =>
          parseInfo(String(await run(await this.#client.nodeClient(m)))),
        ),
      );
      const merged: RedisInfo = {};
      for (const part of parts) {
        for (const [k, v] of Object.entries(part)) {
          const prev = merged[k];
          merged[k] = typeof v === 'number' && typeof prev === 'number' ? prev + v : (prev ?? v);
        }
      }
      merged.cluster_masters = parts.length;
      return merged;
    });
  }

  /**
   * `SLOWLOG GET count` (the guide's monitoring section): the slowest recent commands, newest
   * first (on Cluster: of every master, merged). Only the command name, the script SHA1 of an
   * `EVALSHA`/`EVAL`, the number of arguments and the client name are kept: the arguments hold key
   * names with session ids and other values that must not leave Redis.
   *
   * @throws StoreUnavailableError (e.g. `NOPERM` for an ACL user without `slowlog`).
   */
  async slowlog(count = 10): Promise<SlowlogEntry[]> {
    if (!Number.isInteger(count) || count < 1 || count > 128) {
      throw new ConfigError('count', 'must be a whole number from 1 to 128');
    }
    return this.wrap('slowlog', async () => {
      const read = async (c: AnyNodeRedis, node: string): Promise<SlowlogEntry[]> =>
        parseSlowlog(await c.sendCommand(['SLOWLOG', 'GET', String(count)]), node);
      const entries =
        this.topology !== 'cluster'
          ? await read(this.#client, '')
          : (
              await Promise.all(
                this.#client.masters.map(async (m: { host?: string; port?: number }) =>
                  read(await this.#client.nodeClient(m), `${m.host ?? ''}:${m.port ?? ''}`),
                ),
              )
            ).flat();
      return entries.sort((a, b) => b.timestamp - a.timestamp || b.id - a.id).slice(0, count);
    });
  }

  /**
   * Reads `maxmemory-policy` (from `INFO memory`, so it works where `CONFIG` is not allowed, e.g.
   * managed Redis or an ACL user without `config`) on the master, or every master on Cluster.
   * Revocation is only as durable as its keys: with any policy but `noeviction`, Redis under
   * memory pressure may delete a blacklist entry and the revoked token is accepted again, with no
   * error anywhere. With `noeviction` writes fail instead (`OOM command not allowed`), which the
   * stores report as `StoreUnavailableError`. Call it at start-up and refuse to run (or warn) when
   * `safe` is false.
   *
   * @throws StoreUnavailableError / StoreTimeoutError when Redis cannot be asked.
   * @example
   * const report = await redis.checkEvictionPolicy();
   * if (!report.safe) throw new Error(report.message);
   */
  async checkEvictionPolicy(): Promise<EvictionPolicyReport> {
    const nodes = await this.wrap('info', async () => {
      const read = async (c: AnyNodeRedis) => parseInfo(String(await c.info('memory')));
      if (this.topology !== 'cluster') return [await read(this.#client)];
      return Promise.all(
        this.#client.masters.map(async (m: unknown) => read(await this.#client.nodeClient(m))),
      );
    });
    const policies = [...new Set(nodes.map((n: RedisInfo) => String(n.maxmemory_policy ?? 'unknown')))];
    const limits = nodes.map((n: RedisInfo) => (typeof n.maxmemory === 'number' ? n.maxmemory : 0));
    const nonZero = limits.filter((l: number) => l > 0);
    const maxmemoryBytes = nonZero.length === 0 ? 0 : Math.min(...nonZero);
    const policy = policies.join(',');
    const safe = policies.length === 1 && policies[0] === 'noeviction';
    const message = safe
      ? `maxmemory-policy noeviction: nothing is evicted; writes fail when memory is full`
      : `maxmemory-policy ${policy} can evict revocation entries (blacklist, watermarks, revoked ` +
        `families) under memory pressure, and a revoked token would then be accepted: set ` +
        `maxmemory-policy noeviction${maxmemoryBytes === 0 ? ' (no maxmemory is set now, so nothing is evicted yet)' : ''}`;
    return { policy, maxmemoryBytes, safe, message };
  }

  /** `SET` under the key prefix, with an optional TTL in seconds. */
  async set(key: string, value: string, options: { ttlSeconds?: number } = {}): Promise<void> {
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
      throw new ConfigError('ttlSeconds', 'must be a positive integer');
    }
    await this.wrap('set', () =>
      this.commands.set(
        this.keyPrefix + key,
        value,
        ttl ? { expiration: { type: 'EX', value: ttl } } : undefined,
      ),
    );
  }

  /** `GET` under the key prefix. */
  get(key: string): Promise<string | null> {
    return this.wrap('get', () => this.commands.get(this.keyPrefix + key));
  }

  /** `DEL` under the key prefix; resolves with whether the key existed. */
  async delete(key: string): Promise<boolean> {
    return (await this.wrap('delete', () => this.commands.del(this.keyPrefix + key))) > 0;
  }

  /** The guide's health check: never throws; `unhealthy` carries a readable error. */
  async healthCheck(): Promise<RedisHealth> {
    try {
      const latencyMs = await this.ping();
      const info = await this.info();
      const num = (v: unknown) => (typeof v === 'number' ? v : null);
      return {
        status: 'healthy',
        topology: this.topology,
        connectedClients: num(info.connected_clients),
        opsPerSec: num(info.instantaneous_ops_per_sec),
        latencyMs: Math.round(latencyMs * 1000) / 1000,
      };
    } catch (err) {
      return {
        status: 'unhealthy',
        topology: this.topology,
        connectedClients: null,
        opsPerSec: null,
        latencyMs: null,
        error: describeError(err),
      };
    }
  }

  toString(): string {
    return `RedisClient(${this.topology} ${this.options.redactedUrl})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toJSON(): object {
    return { topology: this.topology, url: this.options.redactedUrl };
  }
}

/** The `RedisCommands` methods that write, each taking its key(s) first. */
const WRITE_COMMANDS: ReadonlySet<string | symbol> = new Set([
  'set',
  'del',
  'pExpire',
  'zAdd',
  'zRem',
  'zRemRangeByScore',
]);

/**
 * `commands` whose writes drop the local cache entries of the keys they wrote once Redis has
 * answered (or failed), so this process never reads its own write's old value from the cache.
 */
function invalidatingWrites(commands: RedisCommands, tracking: TrackingController): RedisCommands {
  return new Proxy(commands, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (!WRITE_COMMANDS.has(prop)) return value.bind(target);
      return (keys: string | string[], ...rest: unknown[]) =>
        (value.call(target, keys, ...rest) as Promise<unknown>).finally(() =>
          tracking.invalidateLocal(typeof keys === 'string' ? [keys] : keys),
        );
    },
  }) as RedisCommands;
}

/** A one-line description of an error, with any URL password redacted. */
/** One `SLOWLOG GET` entry, without its arguments (see `RedisClient.slowlog`). */
export interface SlowlogEntry {
  readonly id: number;
  /** When the command ran, epoch ms (Redis records whole seconds). */
  readonly timestamp: number;
  readonly durationMicros: number;
  /** Upper-case command name (`EVALSHA`, `ZRANGE` …). */
  readonly command: string;
  /** The SHA1 of the script an `EVALSHA` ran (or of an `EVAL`'s source); otherwise `null`. */
  readonly scriptSha1: string | null;
  /** How many arguments followed the command name. */
  readonly argumentCount: number;
  readonly clientName: string;
  /** `host:port` of the master on Cluster, `''` otherwise. */
  readonly node: string;
}

/** Parses a `SLOWLOG GET` reply, dropping the arguments (they may hold ids). */
export function parseSlowlog(reply: unknown, node = ''): SlowlogEntry[] {
  if (!Array.isArray(reply)) return [];
  const out: SlowlogEntry[] = [];
  for (const raw of reply) {
    if (!Array.isArray(raw) || raw.length < 4) continue;
    const args = Array.isArray(raw[3]) ? (raw[3] as unknown[]).map(String) : [];
    const command = (args[0] ?? '').toUpperCase();
    let scriptSha1: string | null = null;
    if (command === 'EVALSHA' || command === 'EVALSHA_RO')
      scriptSha1 = /^[0-9a-f]{40}$/i.test(args[1] ?? '') ? args[1]!.toLowerCase() : null;
    else if ((command === 'EVAL' || command === 'EVAL_RO') && args[1] !== undefined) {
      // Redis shortens long arguments ("... (N more bytes)"): a full source hashes to the SHA1.
      scriptSha1 = /\(\d+ more bytes\)$/.test(args[1])
        ? null
        : createHash('sha1').update(args[1]).digest('hex');
    }
    out.push({
      id: Number(raw[0]),
      timestamp: Number(raw[1]) * 1000,
      durationMicros: Number(raw[2]),
      command,
      scriptSha1,
      argumentCount: Math.max(0, args.length - 1),
      clientName: raw.length > 5 ? String(raw[5]) : '',
      node,
    });
  }
  return out;
}

export function describeError(err: unknown): string {
  const msg = err instanceof Error ? err.message || err.name : String(err);
  return msg.replace(/(\w+:\/\/[^:@/\s]*:)[^@\s]*@/g, '$1***@');
}

/**
 * A connection error that retrying cannot cure, described for the operator, or `null`: the server's
 * certificate refused (TLS verification is on by default) or the credentials refused.
 */
export function fatalConnectError(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS_|ERR_SSL_/.test(code)) {
      return (
        `TLS certificate of the server rejected (${code}: ${describeError(e)}); ` +
        'give the CA that signed it as tls.ca (verification stays on)'
      );
    }
    if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(e.message)) {
      return `authentication refused by the server: ${describeError(e)}`;
    }
  }
  return null;
}

/** `OOM command not allowed when used memory > 'maxmemory'` (noeviction, Redis full). */
export function isOomError(err: unknown): boolean {
  return err instanceof ErrorReply && err.message.includes('OOM command not allowed');
}

function toStoreError(operation: string, err: unknown): Error {
  if (
    err instanceof StoreUnavailableError ||
    err instanceof StoreTimeoutError ||
    err instanceof StoreBusyError
  )
    return err;
  if (isOomError(err)) {
    return new StoreBusyError(operation, {
      cause: err,
      message: `Redis ${operation} refused: ${describeError(err)}`,
    });
  }
  return new StoreUnavailableError(`Redis ${operation} failed: ${describeError(err)}`, { cause: err });
}
