/**
 * `RedisClient`: the guide's connection manager over `@redis/client` v6, for standalone Redis,
 * Sentinel and Cluster, with or without TLS. The stores use `commands`, `runScript` and `wrap`;
 * operators use `ping`, `info`, `slowlog`, `checkEvictionPolicy`, `healthCheck`; the guide's
 * `set`/`get`/`delete` are kept.
 *
 * Beside it: `connection.ts` builds the node-redis client per topology, `routing.ts` finds the
 * masters, `errors.ts` maps failures to store errors, `diagnostics.ts` parses what operators read,
 * `tracing.ts` makes the spans, `tracked-writes.ts` and `tracking.ts` keep the client-side cache.
 */
import { inspect } from 'node:util';
import type { Tracer } from '@opentelemetry/api';
import { ConfigError, StoreBusyError, StoreTimeoutError, StoreUnavailableError } from '../core/errors.js';
import type { LuaScript, RedisCommands } from './commands.js';
import { type RedisClientOptions, type ResolvedRedisOptions, resolveRedisOptions } from './config.js';
import { type AnyNodeRedis, createNodeRedis } from './connection.js';
import {
  type EvictionPolicyReport,
  evictionPolicyReport,
  mergeInfo,
  parseInfo,
  parseSlowlog,
  type RedisHealth,
  type RedisInfo,
  type SlowlogEntry,
} from './diagnostics.js';
import { describeError, fatalConnectError, isNoScriptError, toStoreError } from './errors.js';
import { ReplicaAcks } from './replica-acks.js';
import { clusterCommands, eachMaster, pingAll, replicaAckTransport } from './routing.js';
import { traced } from './tracing.js';
import { invalidatingWrites } from './tracked-writes.js';
import { InvalidationHub, type RedisTracking, TrackingController, trackedCache } from './tracking.js';

/** Something to tell about connection trouble; gets no secrets. */
export interface RedisClientLogger {
  warn(obj: object, msg: string): void;
}

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

  /** Spans for every operation when tracing is on (see `tracing.ts`). */
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
    this.#client = createNodeRedis(this.options);
    this.replicaAcks = new ReplicaAcks(
      this.options.replicaAcks,
      this.options.replicaAckTimeoutMs,
      this.options.commandTimeoutMs,
      replicaAckTransport(this.#client, this.topology, this.options.url.nodes[0]),
      this.#logger,
    );
    this.#client.on('error', (err: unknown) => this.#onError(err));
    const commands =
      this.topology === 'cluster' ? clusterCommands(this.#client) : (this.#client as RedisCommands);
    const csc = this.options.clientSideCache;
    if (csc === null) {
      this.#reader = null;
      this.#tracking = null;
      this.#commands = commands;
      return;
    }
    const hub = new InvalidationHub();
    const providerConfig = {
      ttl: csc.ttlMs,
      maxEntries: csc.maxEntries * 4,
      broadcastPrefixes: csc.broadcastPrefixes,
    };
    const provider = trackedCache(this.topology !== 'standalone', hub, providerConfig);
    const reader = createNodeRedis(this.options, provider);
    reader.on('error', (err: unknown) => this.#onError(err));
    this.#reader = reader;
    this.#tracking = new TrackingController({
      commands: reader,
      provider,
      hub,
      ping: () => pingAll(reader, this.topology),
      leaseMs: csc.leaseMs,
      ttlMs: csc.ttlMs,
      maxEntries: csc.maxEntries,
      broadcastPrefixes: csc.broadcastPrefixes,
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

  /** True between a successful `connect()` and `close()`. */
  get isConnected(): boolean {
    return this.#connected;
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
   * Opens the connection(s) (both with the client-side cache). Rejects with
   * `StoreUnavailableError` when Redis cannot be reached within `connectTimeoutMs` (the client is
   * then closed). node-redis retries a refused connection until then, which suits a service
   * starting beside its Redis; with `failFastOnRefused` (the CLI), a standalone server that
   * refuses the connection fails at once.
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

  /** Called when Redis refuses a write for memory (`OOM`); the memory guard listens here. */
  onOom: (() => void) | null = null;

  /**
   * Runs `fn` with the operation deadline (`commandTimeoutMs`) and converts node-redis failures:
   * no answer in time → `StoreTimeoutError`; `OOM` → `StoreBusyError`; anything else →
   * `StoreUnavailableError` (with `cause`).
   */
  wrap<T>(operation: string, fn: () => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
    if (this.#tracer !== undefined)
      return traced(this.#tracer, this.topology, operation, 'command', () =>
        this.#wrap(operation, fn, timeoutMs),
      );
    return this.#wrap(operation, fn, timeoutMs);
  }

  #wrap<T>(operation: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // No answer in time: the connection may be dead without knowing it yet, so nothing
        // cached from it is trusted any more.
        this.#tracking?.reset();
        reject(new StoreTimeoutError(timeoutMs, operation));
      }, timeoutMs);
      const failed = (err: unknown) => {
        clearTimeout(timer);
        const mapped = toStoreError(operation, err);
        if (mapped instanceof StoreBusyError) this.onOom?.();
        reject(mapped);
      };
      let pending: Promise<T>;
      try {
        pending = fn();
      } catch (err) {
        // `fn` need not be async (the script runner is not): a synchronous throw is a failure of
        // the call like a rejection, typed and with its deadline cleared.
        failed(err);
        return;
      }
      pending.then((v) => {
        clearTimeout(timer);
        resolve(v);
      }, failed);
    });
  }

  /**
   * Runs a Lua script: EVALSHA, and EVAL once when the server answers NOSCRIPT (after a restart
   * or `SCRIPT FLUSH`). All `keys` must be in one hash slot (off Cluster, a script may name keys
   * of several).
   *
   * `tracked`: the keys among `keys` that a read on the tracked connection may hold (the caller
   * knows each key's kind); they are invalidated locally once the script answers. Left out, every
   * key is, as the safe default. A login writes eight keys of which two are ever read tracked, and
   * each local invalidation of a key costs about 1 µs.
   */
  runScript(
    script: LuaScript,
    keys: string[],
    args: string[],
    tracked: readonly string[] = keys,
  ): Promise<unknown> {
    // The master the write goes to: a WAIT on another one (after a failover) would prove nothing.
    const master = script.durable && keys.length > 0 ? this.replicaAcks.connectionOf(keys[0]!) : '';
    if (this.#tracer !== undefined) {
      return traced(this.#tracer, this.topology, script.name, 'script', () =>
        this.#runScript(script, keys, args, master, tracked),
      );
    }
    return this.#runScript(script, keys, args, master, tracked);
  }

  // Every login, refresh and batch of revocation reads comes through here: no async frames or
  // closures beyond the call's own (each costs a promise and a microtask, and under tsx a
  // per-call name wrapper), and no extra step unless the script is durable.
  #runScript(
    script: LuaScript,
    keys: string[],
    args: string[],
    master: string,
    tracked: readonly string[],
  ): Promise<unknown> {
    const reply = this.#wrap(
      script.name,
      () => this.#evalScript(script, keys, args, tracked),
      this.options.commandTimeoutMs,
    );
    if (!script.durable || keys.length === 0) return reply;
    return reply.then((r) => this.replicaAcks.confirm(keys[0]!, master).then(() => r));
  }

  /** EVALSHA, and EVAL on NOSCRIPT; then the local invalidation of `tracked` (also on failure). */
  #evalScript(
    script: LuaScript,
    keys: string[],
    args: string[],
    tracked: readonly string[],
  ): Promise<unknown> {
    const options = { keys, arguments: args };
    const tracking = tracked.length > 0 ? this.#tracking : null;
    // A script may have written any of its keys (even when it failed half-way).
    return this.#client.evalSha(script.sha1, options).then(
      (reply: unknown) => {
        tracking?.invalidateLocal(tracked);
        return reply;
      },
      (err: unknown) => {
        tracking?.invalidateLocal(tracked);
        if (!isNoScriptError(err)) throw err;
        return this.#client.eval(script.source, options).finally(() => tracking?.invalidateLocal(tracked));
      },
    );
  }

  /** `PING` (every master on Cluster). Resolves with the round-trip time in ms. */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.wrap('ping', async () => {
      if (!this.#connected) throw new Error('not connected');
      await pingAll(this.#client, this.topology);
    });
    return performance.now() - start;
  }

  /** `INFO [section]` parsed into an object (on Cluster: summed over masters where numeric). */
  async info(section?: string): Promise<RedisInfo> {
    if (section !== undefined && !/^[a-z]{1,32}$/.test(section)) {
      throw new ConfigError('section', 'must be an INFO section name such as memory, clients, stats');
    }
    return this.wrap('info', async () => {
      const parts = await eachMaster(this.#client, this.topology, async (c: AnyNodeRedis) =>
        parseInfo(String(await (section ? c.info(section) : c.info()))),
      );
      return this.topology === 'cluster' ? mergeInfo(parts) : parts[0]!;
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
      const entries = (
        await eachMaster(this.#client, this.topology, async (c: AnyNodeRedis, node) =>
          parseSlowlog(await c.sendCommand(['SLOWLOG', 'GET', String(count)]), node),
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
    const nodes = await this.wrap('info', () =>
      eachMaster(this.#client, this.topology, async (c: AnyNodeRedis) =>
        parseInfo(String(await c.info('memory'))),
      ),
    );
    return evictionPolicyReport(nodes);
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
