/**
 * Server-assisted client-side caching (Redis `CLIENT TRACKING`, RESP3) for the revocation reads.
 *
 * node-redis (`@redis/client` v6) does the protocol part: with a `clientSideCache` provider it
 * turns tracking on for the connection, caches the replies of read commands and drops them when
 * Redis pushes an `invalidate` message for one of their keys, or when the connection fails or
 * closes. Tracking is in default mode (Redis remembers the keys this connection read) or, with
 * `broadcastPrefixes`, in broadcasting mode (`CLIENT TRACKING ON BCAST PREFIX …`: Redis remembers
 * nothing per read and pushes every write under the prefixes, so they must cover every key read
 * here; the provider below sends that form in every handshake). Two things node-redis does not do,
 * which a revocation check needs, are written here:
 *
 * - `DerivedCache`: a cache of facts *derived* from several keys ("token T is not revoked" comes
 *   from up to four keys), each dropped as soon as any key it came from is invalidated. The warm
 *   path of a verification is then one `Map` lookup instead of four cached commands (each of which
 *   costs node-redis a cache-key string, a `structuredClone` and a promise). A derivation that
 *   was in flight while one of its keys was invalidated is not used: facts are judged against
 *   numbered invalidations at lookup (`InvalidationHub`), nothing is indexed per key.
 * - A lease: every `pingIntervalMs` the tracked connection(s) answer a `PING`. Redis writes an
 *   invalidation to the connection before any reply that follows the write, so once the `PING`
 *   sent at time T is answered, every write Redis applied before T has been seen here. Cached
 *   answers are used only while the latest answered `PING` was sent less than `leaseMs` ago: a
 *   connection that died silently (no FIN, no error yet) cannot serve stale "not revoked"
 *   answers for longer than that. When the lease lapses, everything cached is dropped.
 *
 * A write made through this process's own (main) connection is invalidated here as soon as Redis
 * acknowledges it (`invalidateLocal`), before the push arrives on the tracked connection, so a
 * revoke made through this instance is seen by its next verification.
 */
import { BasicClientSideCache, BasicPooledClientSideCache } from '@redis/client';
import { Generations } from '../core/generations.js';
import type { LuaScript } from './commands.js';

/**
 * Every invalidation this connection has seen, in order: the keys invalidated (Redis pushes, and
 * this process's own writes) each with the sequence number of its latest invalidation, and a
 * floor under which nothing derived can be trusted (everything was dropped, or the record of what
 * was invalidated then has been pruned). A derived fact remembers the sequence number at which its
 * reads began (`seq` before they were sent) and the keys it came from; it still holds when none
 * of those keys was invalidated after that number and the number is not under the floor. Nothing
 * is done per key when a fact is stored, and a derivation in flight needs no ticket: an
 * invalidation that arrives while its reads are out has a higher number than its start.
 *
 * Bounded: the record is kept in two generations of at most `generationSize` keys (`Generations`);
 * when a rotation drops the old one, the floor rises to the last number that one held (facts begun
 * before it are then dropped: conservative, never stale).
 */
export class InvalidationHub {
  readonly #onClear = new Set<() => void>();
  readonly #watches: RevocationWatch[] = [];
  #losses = 0;
  #seq = 0;
  #floor = 0;
  /** The highest number the old generation holds (what the floor becomes when it is dropped). */
  #oldTop = 0;
  /** Each key invalidated with the number of its latest invalidation. */
  readonly #record: Generations<string, number>;

  constructor(generationSize = 100_000) {
    this.#record = new Generations(generationSize);
  }

  /** The number of the latest invalidation: what a derivation that begins now remembers. */
  get seq(): number {
    return this.#seq;
  }

  /** Calls `listener` whenever everything is dropped; returns the unsubscribe function. */
  onClear(listener: () => void): () => void {
    this.#onClear.add(listener);
    return () => this.#onClear.delete(listener);
  }

  /** Feeds `watch` every invalidation from now on (see `RevocationWatch`). */
  addWatch(watch: RevocationWatch): void {
    this.#watches.push(watch);
  }

  /** Every watch fed by this hub. */
  get watches(): readonly RevocationWatch[] {
    return this.#watches;
  }

  /** How many times the stream of pushes may have broken (`lost`): a proof of listening names one. */
  get losses(): number {
    return this.#losses;
  }

  /**
   * The stream of pushes may have a gap: the socket failed or closed (node-redis's `onError`,
   * `onClose`; a new connection has not heard what came before it), or Redis dropped every key
   * (`FLUSHALL`). Every watch forgets what it heard and waits for a new proof of listening. (A
   * lapsed lease alone is no gap: while the socket lives, pushes arrive in order before any later
   * reply; the watches are then only unusable until the lease is renewed.)
   */
  lost(): void {
    this.#losses++;
    for (const watch of this.#watches) watch.reset();
  }

  /** Records that `key` was invalidated, or everything (`null`). */
  emit(key: string | null): void {
    const seq = ++this.#seq;
    if (key === null) {
      this.#floor = seq;
      this.#oldTop = seq;
      this.#record.clear();
      for (const listener of this.#onClear) listener();
      return;
    }
    for (const watch of this.#watches) watch.note(key);
    if (this.#record.set(key, seq)) {
      // The old generation was dropped: what it knew is now only "at most `#oldTop`", and the
      // generation that just became old holds numbers below this one.
      this.#floor = this.#oldTop;
      this.#oldTop = seq - 1;
    }
  }

  /** True when none of `deps` was invalidated after `since` (a `seq` read earlier). */
  unchangedSince(deps: readonly string[], since: number): boolean {
    if (since === this.#seq) return true;
    if (since < this.#floor) return false;
    // Every number in the old generation is at most `#oldTop`: a fact begun at or after it need
    // not look there (the common case once the old generation has aged).
    const record = this.#record;
    const withOld = since < this.#oldTop;
    for (const key of deps) {
      // The young generation holds a key's latest number when it holds the key at all.
      const seq = withOld ? record.peek(key) : record.peekYoung(key);
      if (seq !== undefined && seq > since) return false;
    }
    return true;
  }
}

/**
 * What a connection tracking in broadcasting mode has heard of the keys that are written only when
 * something is revoked (`KeySchema.revocationOnlyPrefixes`: blacklist entries, family revocation
 * marks). Redis pushes every write under a broadcast prefix to every listening connection, so from
 * the moment tracking is known to be on (`since`) every such write reaches this process (this
 * process's own writes too, through `invalidateLocal`). A key written after `since` and not heard
 * is still in flight, as for any cached answer (the lease bounds a silent connection). Hence, for a
 * key that cannot have been written before a moment T (a token's blacklist entry or its family's
 * mark, never written before the token was minted: the JWT service's ordering), "not heard, and
 * T ≥ since" means "not written": the token was not revoked that way, without a read.
 *
 * `since` is unknown (+∞) until the tracked connection answers a `PING` sent after the stream of
 * pushes last broke (a socket error or close, `FLUSHALL`: `InvalidationHub.lost`); it is then the
 * time of that answer (tracking is part of the connection's handshake, so it was on before the
 * `PING` was read). A lapsed lease is no break (the fast path waits for its renewal). The keys
 * heard are bounded in two generations (`Generations`); when a rotation forgets some, `since`
 * moves to now (what was forgotten was heard before now).
 * Written here rather than taken from a library: node-redis's cache keeps only keys it read.
 */
export class RevocationWatch {
  readonly #prefixes: readonly string[];
  readonly #heard: Generations<string, true>;
  readonly #now: () => number;
  #since = Number.POSITIVE_INFINITY;

  /** `now`: the clock tokens are minted on (ms), e.g. the stores' `clock.now`. */
  constructor(prefixes: readonly string[], now: () => number, generationSize = 50_000) {
    this.#prefixes = prefixes;
    this.#now = now;
    this.#heard = new Generations(generationSize);
  }

  /** From when every write under the prefixes has been heard (ms), or +∞ while unknown. */
  get since(): number {
    return this.#since;
  }

  /** An invalidation of `key` (from the hub). */
  note(key: string): void {
    for (const prefix of this.#prefixes) {
      if (key.startsWith(prefix)) {
        if (this.#heard.set(key, true)) this.#since = Math.max(this.#since, this.#now());
        return;
      }
    }
  }

  /** The stream of pushes broke (`InvalidationHub.lost`): nothing is known until it is proven again. */
  reset(): void {
    this.#since = Number.POSITIVE_INFINITY;
    this.#heard.clear();
  }

  /** The tracked connection answered a `PING` sent after the last break of its stream. */
  listening(): void {
    if (this.#since === Number.POSITIVE_INFINITY) this.#since = this.#now();
  }

  /**
   * True when no write to `key` can have happened since `fromMs` unheard: listening since then
   * (`fromMs ≥ since`) and nothing heard for the key. The caller must also hold the lease.
   */
  unwrittenSince(key: string, fromMs: number): boolean {
    return fromMs >= this.#since && !this.#heard.has(key);
  }
}

/**
 * The first of `prefixes` under none of the `broadcast` prefixes (Redis would push no write to its
 * keys), or `undefined` when all are covered.
 */
export function uncoveredPrefix(
  broadcast: readonly string[],
  prefixes: readonly string[],
): string | undefined {
  return prefixes.find((prefix) => !broadcast.some((b) => prefix.startsWith(b)));
}

// biome-ignore lint/suspicious/noExplicitAny: node-redis's RedisArgument (string | Buffer) is not exported
type RedisArgument = any;

/** What the providers below are made with. */
export interface TrackedCacheConfig {
  ttl: number;
  maxEntries: number;
  /** Broadcasting mode's key prefixes; empty: default mode. */
  broadcastPrefixes: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: a mixin's base constructor must take `any[]`
type CacheConstructor = new (...args: any[]) => BasicClientSideCache;

/**
 * node-redis's cache provider `Base`, also reporting every invalidation (one key, or everything
 * on `clear`, which node-redis calls on a socket error or close) to an `InvalidationHub`.
 */
function reportingTo<Base extends CacheConstructor>(Base: Base) {
  return class extends Base {
    hub: InvalidationHub | undefined;
    /** Broadcasting mode's prefixes (see `ClientSideCacheOptions.broadcastPrefixes`); empty: default mode. */
    broadcastPrefixes: readonly string[] = [];

    /**
     * The command node-redis sends in every handshake of every connection this provider serves
     * (each node's on Cluster and Sentinel, and again after a reconnect), so the mode holds on all.
     */
    override trackingOn(): string[] {
      if (this.broadcastPrefixes.length === 0) return super.trackingOn();
      const command = ['CLIENT', 'TRACKING', 'ON', 'BCAST'];
      for (const prefix of this.broadcastPrefixes) command.push('PREFIX', prefix);
      return command;
    }

    override invalidate(key: RedisArgument | null): void {
      if (key === null) this.hub?.lost();
      super.invalidate(key);
      this.hub?.emit(key === null ? null : String(key));
    }

    override onError(): void {
      this.hub?.lost();
      super.onError();
    }

    override onClose(): void {
      this.hub?.lost();
      super.onClose();
    }

    override clear(resetStats?: boolean): void {
      super.clear(resetStats);
      // `clear` may run from the base constructor, before `hub` is assigned.
      this.hub?.emit(null);
    }
  };
}

const ReportingCache = reportingTo(BasicClientSideCache);
const ReportingPooledCache = reportingTo(BasicPooledClientSideCache);

/**
 * A provider that reports to a hub (standalone: basic; Cluster and Sentinel: pooled). Named by
 * its base type: the mixin's own class type cannot appear in the emitted declarations.
 */
export type TrackedCache = BasicClientSideCache;

/**
 * The provider for one client: node-redis's basic cache on a standalone client, the pooled one
 * (one provider shared by every node connection) on Cluster and Sentinel.
 */
export function trackedCache(
  pooled: boolean,
  hub: InvalidationHub,
  config: TrackedCacheConfig,
): TrackedCache {
  const options = {
    ttl: config.ttl,
    maxEntries: config.maxEntries,
    evictPolicy: 'LRU' as const,
    recordStats: false,
  };
  const cache = pooled ? new ReportingPooledCache(options) : new ReportingCache(options);
  cache.hub = hub;
  cache.broadcastPrefixes = config.broadcastPrefixes;
  return cache;
}

/** A derivation in flight (see `DerivedCache.begin`). */
export interface DerivationTicket<V> {
  /** Stores `value` under `id` until `validUntil` (ms on the caller's clock) unless invalidated. */
  commit(id: DerivedId, value: V, validUntil: number): void;
  /** Forgets the derivation (it failed, or its result is not to be cached). Nothing to undo. */
  abort(): void;
}

/** What a derived fact is stored under: a string, or a frozen object asking the same question. */
export type DerivedId = string | object;

interface Entry<V> {
  readonly value: V;
  readonly validUntil: number;
  readonly deps: readonly string[];
  /** `InvalidationHub.seq` when its reads began, or when it was last found still valid. */
  since: number;
}

/** Lookups of the derived caches of one connection: the operator overview's hit ratio. */
export interface CacheLookups {
  hits: number;
  misses: number;
}

const NOOP = (): void => {};

/**
 * Facts derived from Redis keys, each dropped when any of its keys is invalidated (judged by the
 * hub's sequence numbers at lookup, see `InvalidationHub`), when its own `validUntil` passes, or
 * when everything is dropped. Under string ids, bounded by `maxEntries` in two generations of half
 * as many (`Generations`): a hit in the old generation moves the entry to the young one. Under an
 * object id (a frozen query), held as long as the object is (`WeakMap`).
 */
export class DerivedCache<V> {
  readonly #lookups: CacheLookups;
  readonly #hub: InvalidationHub;
  readonly #entries: Generations<DerivedId, Entry<V>>;
  /**
   * Entries under an object id (a frozen query, kept by whoever asks with it: the JWT service's
   * verified-token cache): they live as long as the object does, and go with it. In the bounded
   * generations they outlived it, unreachable (a new query object is a new id), and kept up to
   * `maxEntries` dead entries alive for the garbage collector to walk.
   */
  #byObject = new WeakMap<object, Entry<V>>();

  constructor(hub: InvalidationHub, maxEntries: number, lookups: CacheLookups = { hits: 0, misses: 0 }) {
    this.#entries = new Generations(Math.ceil(maxEntries / 2));
    this.#lookups = lookups;
    this.#hub = hub;
    hub.onClear(() => {
      this.#entries.clear();
      this.#byObject = new WeakMap();
    });
  }

  /**
   * Entries held under string ids (an entry moved to the young generation may be counted twice
   * until rotation); entries under object ids are not counted (a `WeakMap`).
   */
  get size(): number {
    return this.#entries.size;
  }

  /** The value stored under `id`, unless it expired at `now` or one of its keys was invalidated. */
  get(id: DerivedId, now: number): V | undefined {
    // A hit in the old generation moves to the young one before it is judged: one found stale is
    // deleted from both right after.
    const byObject = typeof id === 'object';
    const entry = byObject ? this.#byObject.get(id) : this.#entries.get(id);
    if (entry === undefined) {
      this.#lookups.misses++;
      return undefined;
    }
    const hub = this.#hub;
    if (now >= entry.validUntil || !hub.unchangedSince(entry.deps, entry.since)) {
      if (byObject) this.#byObject.delete(id);
      else this.#entries.delete(id);
      this.#lookups.misses++;
      return undefined;
    }
    // Still valid now: the next lookup need not look at its keys until something else changes.
    entry.since = hub.seq;
    this.#lookups.hits++;
    return entry.value;
  }

  /** The sequence number a derivation remembers: read it before its reads are sent. */
  since(): number {
    return this.#hub.seq;
  }

  /**
   * Stores what a derivation begun at `since` (from `since()`) found, unless one of `deps` was
   * invalidated meanwhile (or everything was dropped).
   */
  set(id: DerivedId, value: V, validUntil: number, deps: readonly string[], since: number): void {
    if (!this.#hub.unchangedSince(deps, since)) return;
    const entry = { value, validUntil, deps, since };
    if (typeof id === 'object') this.#byObject.set(id, entry);
    else this.#entries.set(id, entry);
  }

  /** Starts a derivation from `deps`; call it before the reads are sent. */
  begin(deps: readonly string[]): DerivationTicket<V> {
    const since = this.#hub.seq;
    return {
      commit: (id, value, validUntil) => this.set(id, value, validUntil, deps, since),
      abort: NOOP,
    };
  }

  /** Drops everything (and spoils every derivation in flight): through the hub, for every cache. */
  clear(): void {
    this.#hub.emit(null);
  }
}

/** What one round trip derived, to keep under `id` until `validUntil` (ms on the caller's clock). */
export interface Derived<V> {
  readonly id: DerivedId;
  readonly value: V;
  readonly validUntil: number;
}

/** What `RedisClient.tracking` offers the stores. */
export interface RedisTracking {
  /** Reads through the tracked connection (served from the local cache when possible). */
  readonly commands: TrackedReads;
  /**
   * Runs a read-only script on the tracked connection (`EVALSHA`, `EVAL` on `NOSCRIPT`). Redis
   * tracks the keys a script reads for the connection that called it (in broadcasting mode, every
   * key under the prefixes), so a value derived from its reply is invalidated like one derived from
   * plain reads. Its reply is not cached by node-redis.
   */
  runScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
  /**
   * The value `cache` holds under `id` while the lease holds. When the lease has lapsed,
   * everything cached is dropped first and `undefined` returned: the caller reads Redis.
   */
  lookup<V>(cache: DerivedCache<V>, id: DerivedId, now: number): V | undefined;
  /**
   * One round trip over `deps`, its result kept in `cache`: `read` sends it (one call for all the
   * keys, however many commands it pipelines), `keep` says what to store (or `null`). Nothing is
   * stored when any of `deps` was invalidated while `read` was in flight, or when it failed.
   * Nothing is recorded per key: the cache remembers the invalidation number at which the read
   * began (see `InvalidationHub`).
   */
  derive<V, R>(
    cache: DerivedCache<V>,
    deps: readonly string[],
    read: () => Promise<R>,
    keep: (reply: R) => Derived<V> | null,
  ): Promise<R>;
  /** True while the lease holds (see the module comment): cached answers may be used. */
  isFresh(): boolean;
  /** Drops every cached answer (raw replies and derived facts). */
  reset(): void;
  /** Drops what was cached for `keys`; called after this process wrote them. */
  invalidateLocal(keys: readonly string[]): void;
  /** A new derived cache fed by this connection's invalidations. */
  derivedCache<V>(maxEntries?: number): DerivedCache<V>;
  /**
   * A watch of the keys under `prefixes` fed by this connection's invalidations (broadcasting
   * mode only: in default mode Redis pushes only keys this connection read, and `null` is
   * returned). `now`: the clock the watched keys' tokens are minted on.
   */
  watch(prefixes: readonly string[], now: () => number): RevocationWatch | null;
  /** Longest life of a cached entry, in ms. */
  readonly ttlMs: number;
  /**
   * The key prefixes tracked in broadcasting mode (every write under them is pushed, whoever read
   * it), or empty in default mode (Redis pushes only keys this connection read). A store whose
   * tracked reads fall outside these prefixes must not use this connection's cache.
   */
  readonly broadcastPrefixes: readonly string[];
  /** Hits and misses of every derived cache of this connection since it was made (only grow). */
  readonly lookups: Readonly<CacheLookups>;
}

/** The read commands the tracked connection serves. */
export interface TrackedReads {
  get(key: string): Promise<string | null>;
  hmGet(key: string, fields: string[]): Promise<Array<string | null>>;
  zScore(key: string, member: string): Promise<number | null>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * The lease and local invalidation around one tracked node-redis client (see the module comment).
 * `ping` must send `PING` over every connection that serves tracked reads.
 */
export class TrackingController implements RedisTracking {
  readonly commands: TrackedReads;
  readonly ttlMs: number;
  readonly broadcastPrefixes: readonly string[];
  readonly lookups: CacheLookups = { hits: 0, misses: 0 };
  readonly #provider: TrackedCache;
  readonly #hub: InvalidationHub;
  readonly #ping: () => Promise<void>;
  readonly #leaseMs: number;
  readonly #maxEntries: number;
  readonly #isNoScript: (err: unknown) => boolean;
  #confirmedAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = false;
  /** `InvalidationHub.losses` when a PING last proved listening. */
  #lossesAtLastProof = -1;

  constructor(options: {
    commands: TrackedReads;
    provider: TrackedCache;
    hub: InvalidationHub;
    ping: () => Promise<void>;
    leaseMs: number;
    ttlMs: number;
    maxEntries: number;
    broadcastPrefixes: readonly string[];
    /** Recognises the server's `NOSCRIPT` reply (the client's one matcher). */
    isNoScript: (err: unknown) => boolean;
  }) {
    this.commands = options.commands;
    this.#isNoScript = options.isNoScript;
    this.#provider = options.provider;
    this.#hub = options.hub;
    this.#ping = options.ping;
    this.#leaseMs = options.leaseMs;
    this.ttlMs = options.ttlMs;
    this.broadcastPrefixes = options.broadcastPrefixes;
    this.#maxEntries = options.maxEntries;
  }

  isFresh(): boolean {
    return performance.now() - this.#confirmedAt < this.#leaseMs;
  }

  reset(): void {
    this.#provider.clear(false);
  }

  async runScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.commands.evalSha(script.sha1, { keys, arguments: args });
    } catch (err) {
      if (!this.#isNoScript(err)) throw err;
      return await this.commands.eval(script.source, { keys, arguments: args });
    }
  }

  lookup<V>(cache: DerivedCache<V>, id: DerivedId, now: number): V | undefined {
    if (this.isFresh()) return cache.get(id, now);
    this.reset();
    return undefined;
  }

  async derive<V, R>(
    cache: DerivedCache<V>,
    deps: readonly string[],
    read: () => Promise<R>,
    keep: (reply: R) => Derived<V> | null,
  ): Promise<R> {
    const since = cache.since();
    const reply = await read();
    const kept = keep(reply);
    if (kept !== null) cache.set(kept.id, kept.value, kept.validUntil, deps, since);
    return reply;
  }

  invalidateLocal(keys: readonly string[]): void {
    for (const key of keys) this.#provider.invalidate(key);
  }

  derivedCache<V>(maxEntries = this.#maxEntries): DerivedCache<V> {
    return new DerivedCache<V>(this.#hub, maxEntries, this.lookups);
  }

  watch(prefixes: readonly string[], now: () => number): RevocationWatch | null {
    if (this.broadcastPrefixes.length === 0) return null;
    if (uncoveredPrefix(this.broadcastPrefixes, prefixes) !== undefined) return null;
    const watch = new RevocationWatch(prefixes, now);
    this.#hub.addWatch(watch);
    // Listening already proven (a PING answered since the last reset): the watch starts now.
    if (this.isFresh() && this.#hub.losses === this.#lossesAtLastProof) watch.listening();
    return watch;
  }

  /** Starts the lease: one `PING` now (awaited), then one every quarter of the lease. */
  async start(): Promise<void> {
    await this.#renew();
    this.#timer = setInterval(() => void this.#renew(), Math.max(10, Math.floor(this.#leaseMs / 4)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#confirmedAt = Number.NEGATIVE_INFINITY;
    this.reset();
  }

  async #renew(): Promise<void> {
    if (!this.isFresh()) this.reset();
    if (this.#inFlight) return;
    this.#inFlight = true;
    const sentAt = performance.now();
    const losses = this.#hub.losses;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('lease ping timed out')), this.#leaseMs);
        }),
      ]);
      if (sentAt > this.#confirmedAt) this.#confirmedAt = sentAt;
      // Sent after the stream last broke and answered: the connection that answered was tracking
      // (its handshake turned it on) before it read the PING, so the watches hear from now on.
      if (losses === this.#hub.losses) {
        this.#lossesAtLastProof = losses;
        for (const watch of this.#hub.watches) watch.listening();
      }
    } catch {
      // No proof of liveness: the lease runs out by itself and the next renewal drops the cache.
    } finally {
      clearTimeout(timer);
      this.#inFlight = false;
    }
  }
}
