/**
 * `REDIS_URL` parsing and connection options. Parsing is written here rather than left to
 * node-redis because node-redis understands only single-host URLs; the guide's Sentinel
 * (`redis://s1:26379,s2:26379/0?sentinel=mymaster`) and Cluster (`redis://n1:6379,n2:6379/0`)
 * forms are ours to read. Passwords never appear in errors or `toString()`.
 */
import { ConfigError } from '../core/errors.js';

export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** A parsed `REDIS_URL`. `password` is kept out of `toString()` and JSON. */
export interface ParsedRedisUrl {
  topology: RedisTopology;
  nodes: RedisNodeAddress[];
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
  database: number;
  /** Sentinel master group name (`?sentinel=NAME`). */
  sentinelName: string | undefined;
}

export interface RedisTlsOptions {
  /** PEM CA bundle used to verify the server; the system CAs when absent. */
  ca?: string | Buffer;
  /** PEM client certificate and key, for servers that require client auth. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Server name for SNI and certificate checks (default: the host). */
  servername?: string;
  /**
   * Verify the server certificate (default `true`). Turning it off allows a man in the middle to
   * read every token: only for local experiments.
   */
  rejectUnauthorized?: boolean;
}

/** Options of `new RedisClient(options)`. Durations carry their unit in the name. */
export interface RedisClientOptions {
  /** `redis://`, `rediss://`, Sentinel or Cluster URL (see README). */
  url: string;
  /**
   * `REDIS_MAX_CONNECTIONS`. node-redis multiplexes every command over one pipelined connection
   * per node, so standalone, Sentinel and Cluster open one connection per node (plus, on
   * Sentinel, one to a sentinel) and this is an upper bound that is only validated. Default 50.
   */
  maxConnections?: number;
  /**
   * A connection whose server answers nothing for this long is closed and reconnected; the client
   * sends a `PING` every half of it, so an idle connection stays up. 0 = off. Default 5000.
   */
  socketTimeoutMs?: number;
  /** Time allowed to open a connection. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * Deadline of one store operation, queueing included. A command not answered by then rejects
   * with `StoreTimeoutError`, so nothing waits on a dead Redis for longer. Default 1000.
   */
  commandTimeoutMs?: number;
  /** Reconnect after a timeout or a dropped connection (exponential backoff from 50 ms, ≤ 500 ms). Default true. */
  retryOnTimeout?: boolean;
  /** Namespace prefix for every key (letters, digits, `._:-`). Default `''`. */
  keyPrefix?: string;
  tls?: RedisTlsOptions;
  /** Client name shown by `CLIENT LIST`. */
  clientName?: string;
  /**
   * Server-assisted client-side caching of the revocation reads (RESP3 `CLIENT TRACKING` on a
   * second, read-only connection; see `src/connection/tracking.ts`). On by default: verifying a token
   * already seen costs no round trip, and a revoke anywhere reaches this process as an
   * invalidation push (~1 ms on loopback). `false` turns it off (every verification asks Redis).
   */
  clientSideCache?: false | ClientSideCacheOptions;
  /**
   * Replicas that must confirm a revocation-class write (blacklist entry, family revocation or
   * rotation, revoke-all watermark, session end) with `WAIT` before it is acknowledged, so a master
   * crash right after it cannot undo the revocation through failover (replication is
   * asynchronous). Default 1 on Sentinel and Cluster, 0 (off) on a standalone server. A master
   * with fewer replicas connected acknowledges without them (logged, counted); a connected replica
   * that does not confirm makes the write fail with `StoreUnavailableError`. See replica-acks.ts.
   */
  replicaAcks?: number;
  /**
   * Timeout of each `WAIT` for those replicas, in ms (kept short: every command pipelined behind
   * a `WAIT` waits too); for a connected replica that lags they are repeated until
   * `commandTimeoutMs`. Default 50.
   */
  replicaAckTimeoutMs?: number;
}

/** Tuning of the client-side cache. */
export interface ClientSideCacheOptions {
  /** Cached verdicts ("this token is not revoked") kept at most. Default 100 000. */
  maxEntries?: number;
  /**
   * Longest time cached answers are trusted without proof that the tracked connection is alive
   * (an answered `PING` sent within this window). Bounds how stale an answer can be when the
   * connection dies silently. Default 1000; pings go out every quarter of it.
   */
  leaseMs?: number;
  /** Longest life of one cached entry, whatever happens. Default 60 000. */
  ttlMs?: number;
  /**
   * Track in broadcasting mode (`CLIENT TRACKING ON BCAST PREFIX …`): Redis then records nothing
   * per read and pushes an invalidation for every write to a key under one of these prefixes, to
   * every process tracking them. Must cover every key read through the tracked connection:
   * `createRedisStores` refuses a client whose prefixes do not cover its key schema's
   * (`KeySchema.trackedPrefixes`; the service passes exactly those). Empty (the default):
   * default mode, Redis remembers each key this connection read and pushes only those.
   *
   * Why: in default mode Redis 7.0 re-records every declared key of a script at each read the
   * script makes (quadratic in a batch's size), which made a first-sight revocation check cost
   * Redis ~20 µs; in broadcasting mode ~10 µs, and batches may grow. The price: every process
   * receives the invalidation of every write to these prefixes, read by it or not (see
   * docs/performance.md).
   */
  broadcastPrefixes?: readonly string[];
}

/** What `ClientSideCacheOptions` resolve to. */
export interface ResolvedClientSideCacheOptions {
  readonly maxEntries: number;
  readonly leaseMs: number;
  readonly ttlMs: number;
  /** Sorted, frozen; empty for default mode. */
  readonly broadcastPrefixes: readonly string[];
}

const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;

/** `redis://user:***@host:port/db` — the URL with any password replaced. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)([^@/]*)@/, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon === -1 ? `${scheme}${auth}@` : `${scheme}${auth.slice(0, colon)}:***@`;
  });
}

function fail(message: string): never {
  throw new ConfigError('REDIS_URL', message);
}

function parseHostPort(part: string, defaultPort: number): RedisNodeAddress {
  let host: string;
  let portText: string | undefined;
  if (part.startsWith('[')) {
    const end = part.indexOf(']');
    if (end === -1) fail('unterminated IPv6 address');
    host = part.slice(1, end);
    const after = part.slice(end + 1);
    if (after !== '' && !after.startsWith(':')) fail('malformed host');
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = part.lastIndexOf(':');
    host = colon === -1 ? part : part.slice(0, colon);
    portText = colon === -1 ? undefined : part.slice(colon + 1);
  }
  if (host === '') fail('a host is missing');
  if (!/^[A-Za-z0-9.\-_:%]+$/.test(host)) fail(`invalid host "${host.slice(0, 64)}"`);
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) fail(`invalid port "${portText.slice(0, 16)}"`);
    port = Number(portText);
    if (port < 1 || port > 65535) fail(`port ${port} is out of range 1-65535`);
  }
  return { host, port };
}

function decode(component: string, what: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return fail(`${what} is not valid percent-encoding`);
  }
}

/**
 * Parses every URL form of the guide:
 * - `redis://host:port/db`, `redis://:password@host/db`, `redis://user:password@host/db` (ACL)
 * - `rediss://…` (TLS)
 * - Sentinel: `redis://s1:26379,s2:26379/0?sentinel=mymaster`
 * - Cluster: `redis://n1:6379,n2:6379,n3:6379/0` (several hosts) or one seed with `?cluster=true`
 *
 * @throws ConfigError (`ERR_CONFIG`, path `REDIS_URL`) naming the problem, never the password.
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  if (typeof url !== 'string' || url.trim() === '') fail('is empty');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/s.exec(url.trim());
  if (!m) fail('must start with redis:// or rediss://');
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss')
    fail(`unsupported scheme "${scheme.slice(0, 16)}" (use redis:// or rediss://)`);
  let rest = m[2]!;
  if (/[\s\0]/.test(rest)) fail('contains whitespace or control characters');

  let query = '';
  const q = rest.indexOf('?');
  if (q !== -1) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let path = '';
  const at = rest.lastIndexOf('@');
  const slash = rest.indexOf('/', at === -1 ? 0 : at);
  if (slash !== -1) {
    path = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  let username: string | undefined;
  let password: string | undefined;
  let hosts = rest;
  if (at !== -1) {
    const auth = rest.slice(0, at);
    hosts = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    const user = colon === -1 ? auth : auth.slice(0, colon);
    const pass = colon === -1 ? undefined : auth.slice(colon + 1);
    username = user === '' ? undefined : decode(user, 'username');
    password = pass === undefined || pass === '' ? undefined : decode(pass, 'password');
    if (colon === -1 && username !== undefined) {
      // `redis://secret@host` is how some tools write a password-only URL; treat it as the password.
      password = username;
      username = undefined;
    }
  }

  let database = 0;
  if (path !== '') {
    if (!/^\d{1,5}$/.test(path)) fail(`database must be a number, got "${path.slice(0, 16)}"`);
    database = Number(path);
    if (database > 15) fail(`database ${database} is out of range 0-15`);
  }

  const params = new URLSearchParams(query);
  for (const key of params.keys()) {
    if (key !== 'sentinel' && key !== 'cluster') fail(`unknown query parameter "${key.slice(0, 32)}"`);
  }
  const sentinelName = params.get('sentinel') ?? undefined;
  if (sentinelName !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(sentinelName)) {
    fail('sentinel master name may contain only letters, digits and . _ -');
  }
  const clusterParam = params.get('cluster');
  if (clusterParam !== null && !['true', '1', 'false', '0'].includes(clusterParam)) {
    fail('cluster must be true or false');
  }

  const hostParts = hosts.split(',');
  if (hostParts.some((h) => h === '')) fail('a host is missing');
  const nodes = hostParts.map((h) => parseHostPort(h, sentinelName ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT));

  let topology: RedisTopology;
  if (sentinelName !== undefined) {
    if (clusterParam === 'true' || clusterParam === '1') fail('cannot be both sentinel and cluster');
    topology = 'sentinel';
  } else if (nodes.length > 1 || clusterParam === 'true' || clusterParam === '1') {
    if (clusterParam === 'false' || clusterParam === '0')
      fail('several hosts need ?sentinel=NAME or a cluster');
    topology = 'cluster';
    if (database !== 0) fail('Redis Cluster supports only database 0');
  } else {
    topology = 'standalone';
  }

  const parsed: ParsedRedisUrl = {
    topology,
    nodes,
    tls: scheme === 'rediss',
    username,
    password,
    database,
    sentinelName,
  };
  Object.defineProperty(parsed, 'password', { enumerable: false, value: password, writable: false });
  return parsed;
}

/** Options after validation and defaults; frozen. */
export interface ResolvedRedisOptions {
  readonly url: ParsedRedisUrl;
  readonly redactedUrl: string;
  readonly maxConnections: number;
  readonly socketTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly retryOnTimeout: boolean;
  readonly keyPrefix: string;
  readonly tls: RedisTlsOptions | undefined;
  readonly clientName: string | undefined;
  readonly clientSideCache: ResolvedClientSideCacheOptions | null;
  readonly replicaAcks: number;
  readonly replicaAckTimeoutMs: number;
}

function intOption(
  path: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(path, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** Validates options, applies defaults with `??`, and freezes the result. */
export function resolveRedisOptions(options: RedisClientOptions): ResolvedRedisOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('redis', 'options are required');
  const url = parseRedisUrl(options.url);
  const keyPrefix = options.keyPrefix ?? '';
  if (!/^[A-Za-z0-9._:-]{0,64}$/.test(keyPrefix)) {
    throw new ConfigError('keyPrefix', 'may contain only letters, digits and . _ : - (at most 64)');
  }
  if (options.tls && !url.tls) {
    throw new ConfigError('tls', 'TLS options were given but the URL is not rediss://');
  }
  return Object.freeze({
    url,
    redactedUrl: redactRedisUrl(options.url),
    maxConnections: intOption('maxConnections', options.maxConnections, 50, 1, 10_000),
    socketTimeoutMs: intOption('socketTimeoutMs', options.socketTimeoutMs, 5000, 0, 3_600_000),
    connectTimeoutMs: intOption('connectTimeoutMs', options.connectTimeoutMs, 5000, 1, 600_000),
    commandTimeoutMs: intOption('commandTimeoutMs', options.commandTimeoutMs, 1000, 1, 600_000),
    retryOnTimeout: options.retryOnTimeout ?? true,
    keyPrefix,
    tls: options.tls ? Object.freeze({ rejectUnauthorized: true, ...options.tls }) : undefined,
    clientName: options.clientName,
    clientSideCache: resolveClientSideCache(options.clientSideCache),
    replicaAcks: intOption('replicaAcks', options.replicaAcks, url.topology === 'standalone' ? 0 : 1, 0, 16),
    replicaAckTimeoutMs: intOption('replicaAckTimeoutMs', options.replicaAckTimeoutMs, 50, 1, 60_000),
  });
}

function resolveClientSideCache(
  option: false | ClientSideCacheOptions | undefined,
): ResolvedClientSideCacheOptions | null {
  if (option === false) return null;
  if (option !== undefined && (option === null || typeof option !== 'object')) {
    throw new ConfigError('clientSideCache', 'must be false or an object');
  }
  const o = option ?? {};
  return Object.freeze({
    maxEntries: intOption('clientSideCache.maxEntries', o.maxEntries, 100_000, 1, 10_000_000),
    leaseMs: intOption('clientSideCache.leaseMs', o.leaseMs, 1000, 40, 60_000),
    ttlMs: intOption('clientSideCache.ttlMs', o.ttlMs, 60_000, 1, 3_600_000),
    broadcastPrefixes: resolveBroadcastPrefixes(o.broadcastPrefixes),
  });
}

/**
 * Checked as Redis would (it refuses a prefix that is a prefix of another, since a key would then
 * be reported twice), so a bad list fails at construction, not at every connection's handshake.
 */
function resolveBroadcastPrefixes(option: readonly string[] | undefined): readonly string[] {
  const path = 'clientSideCache.broadcastPrefixes';
  if (option === undefined) return Object.freeze([]);
  if (!Array.isArray(option) || option.length > 64)
    throw new ConfigError(path, 'must be an array of at most 64');
  const prefixes = [...new Set(option)].sort();
  for (const prefix of prefixes) {
    if (typeof prefix !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(prefix)) {
      throw new ConfigError(path, 'each must be 1 to 256 printable ASCII characters without spaces');
    }
  }
  for (let i = 1; i < prefixes.length; i++) {
    // Sorted: a prefix of another sorts right before the first string it prefixes.
    if (prefixes[i]!.startsWith(prefixes[i - 1]!)) {
      throw new ConfigError(path, `'${prefixes[i - 1]}' is a prefix of '${prefixes[i]}'`);
    }
  }
  return Object.freeze(prefixes);
}
