/**
 * Confirming revocation-class writes on replicas before they are acknowledged.
 *
 * Redis replication is asynchronous: a write the master acknowledged and then lost in a crash,
 * before its replica had it, is gone after failover. Measured on Cluster without this: in about
 * one master kill in four under load, up to 11 blacklist entries and 9 family revocations
 * acknowledged just before the kill came back un-revoked. So a revocation-class write is
 * acknowledged only when
 *
 * - `WAIT <replicas>` on the connection that carried it says enough replicas have it, or
 * - the master has fewer replicas connected and in sync than that (`INFO replication`): then no
 *   replica can be promoted in its place holding less than it, and refusing to revoke would be
 *   worse than the risk left (the master's own persistence). Counted (`unreplicated`), logged.
 *
 * While a connected replica has not confirmed (it lags), short `WAIT`s are repeated until the
 * deadline (`commandTimeoutMs`); past it, or when the master does not answer, the write is
 * reported as failed
 * (`StoreUnavailableError`): it may or may not survive a failover, so the caller must not treat
 * it as done. Revocations are idempotent, so a retry is always safe.
 *
 * Hand-written because no client library does this: node-redis sends `WAIT` but leaves the
 * bookkeeping to the caller. A `WAIT` blocks its connection (every command pipelined behind it
 * waits), so per master connection at most one `WAIT` is in flight: a write acknowledged while
 * one is in flight joins the next one, which is sent when the first returns and covers every
 * write before it. After a master was seen with too few replicas, the next writes ask
 * `INFO replication` (which does not block) before sending a `WAIT` again.
 */
import { StoreUnavailableError } from '../core/errors.js';

/** How the confirmations reach Redis (implemented by `RedisClient` for each topology). */
export interface ReplicaAckTransport {
  /**
   * Names the master connection that serves `key` now (`host:port`; '' when unknown): one gate
   * per connection, and a write is confirmed only on the master it went to.
   */
  connectionOf(key: string): string;
  /** `WAIT replicas timeoutMs` on the connection that serves `key`; resolves with the acks. */
  wait(key: string, replicas: number, timeoutMs: number): Promise<number>;
  /** Replicas connected to the master that serves `key` and in sync (`INFO replication`). */
  connectedReplicas(key: string): Promise<number>;
}

export interface ReplicaAckLogger {
  warn(obj: object, msg: string): void;
}

/**
 * At most one `redis_revocation_not_replicated` warning per this many ms (the state can last
 * until an operator brings a replica back; the counter has every occurrence).
 */
export const WARN_INTERVAL_MS = 60_000;

/** After a master was seen with too few replicas: how long writes to it skip the check. */
export const REPLICA_RECHECK_MS = 1000;

class Gate {
  constructor(readonly holdMs: number) {}
  /** Settles when the `WAIT` in flight is answered (or given up on: `holdMs`). */
  #inflight: Promise<void> | null = null;
  #next: Promise<number> | null = null;
  #nextTimeoutMs = 0;
  #info: Promise<number> | null = null;
  /**
   * Fewer replicas than wanted were connected when last looked at. A new connection starts so:
   * its first write asks `INFO replication` (which does not block) before any `WAIT`, so a
   * master without a replica (a replica just promoted) never stalls its connection on one.
   */
  short = true;
  /** Until then (ms since epoch) writes through this connection skip the check. */
  shortUntil = 0;

  /** The acks of a `WAIT` sent after this call: it covers every write acknowledged before it. */
  wait(send: (timeoutMs: number) => Promise<number>, timeoutMs: number): Promise<number> {
    if (this.#inflight === null) return this.#send(send, timeoutMs);
    this.#nextTimeoutMs = Math.max(this.#nextTimeoutMs, timeoutMs);
    if (this.#next === null) {
      this.#next = this.#inflight.then(() => {
        this.#next = null;
        const t = this.#nextTimeoutMs;
        this.#nextTimeoutMs = 0;
        return this.#send(send, t);
      });
    }
    return this.#next;
  }

  /**
   * Sends a `WAIT`; `#inflight` settles when Redis answers it (not when a caller gives up on it: a
   * `WAIT` still blocking the connection would delay the next one behind it, and that one the
   * next), or after `holdMs` when the connection hangs without failing.
   */
  #send(send: (timeoutMs: number) => Promise<number>, timeoutMs: number): Promise<number> {
    const answer = send(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const held = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.holdMs);
      timer.unref();
      answer.then(
        () => resolve(),
        () => resolve(),
      );
    }).then(() => {
      clearTimeout(timer);
      if (this.#inflight === held) this.#inflight = null;
    });
    this.#inflight = held;
    return answer;
  }

  /** `INFO replication`, one at a time per connection. */
  connectedReplicas(ask: () => Promise<number>): Promise<number> {
    if (this.#info === null) {
      const p = ask();
      this.#info = p;
      const clear = () => {
        if (this.#info === p) this.#info = null;
      };
      p.then(clear, clear);
    }
    return this.#info;
  }
}

export class ReplicaAcks {
  readonly #gates = new Map<string, Gate>();
  #lastWarn = 0;
  /** Writes acknowledged without a replica's confirmation because too few were connected. */
  unreplicated = 0;
  /** Writes reported as failed because no replica confirmed them (or the master did not answer). */
  unconfirmed = 0;

  /**
   * @param replicas how many replicas must confirm (0: off)
   * @param timeoutMs the first `WAIT`'s timeout
   * @param deadlineMs how long a confirmation may take in all (waiting for the `WAIT` in flight,
   *   `INFO replication`, the repeated `WAIT`s for a lagging replica); past it the write is
   *   reported as failed
   */
  constructor(
    readonly replicas: number,
    readonly timeoutMs: number,
    readonly deadlineMs: number,
    readonly transport: ReplicaAckTransport,
    readonly logger?: ReplicaAckLogger,
  ) {}

  /** The master connection serving `key` now: take it before the write, pass it to `confirm`. */
  connectionOf(key: string): string {
    return this.replicas === 0 ? '' : this.transport.connectionOf(key);
  }

  /**
   * Resolves when the write just acknowledged on the connection serving `key` is safe from a
   * failover (see the module comment); rejects with a store error when it may not be.
   * `master`: `connectionOf(key)` taken before the write. When the key has moved to another
   * master since (a failover), a `WAIT` there would prove nothing: the write is reported failed.
   */
  async confirm(key: string, master = this.connectionOf(key)): Promise<void> {
    if (this.replicas === 0) return;
    const id = this.transport.connectionOf(key);
    if (id === '' || id !== master) {
      this.unconfirmed++;
      throw new StoreUnavailableError(
        `the write was not confirmed by a replica: its master changed during the write (${master || 'unknown'} → ${id || 'unknown'})`,
      );
    }
    let gate = this.#gates.get(id);
    if (gate === undefined) {
      gate = new Gate(this.deadlineMs * 2);
      this.#gates.set(id, gate);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#confirm(gate, key, Date.now() + this.deadlineMs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no confirmation within ${this.deadlineMs} ms`)),
            this.deadlineMs,
          );
        }),
      ]);
    } catch (err) {
      this.unconfirmed++;
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`the write was not confirmed by a replica: ${describe(err)}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async #confirm(gate: Gate, key: string, deadlineAt: number): Promise<void> {
    const wanted = this.replicas;
    if (gate.short) {
      if (Date.now() < gate.shortUntil) {
        this.unreplicated++;
        return;
      }
      if (await this.#tooFewReplicas(gate, key)) return;
    }
    const send = (timeoutMs: number) => this.transport.wait(key, wanted, timeoutMs);
    // Short WAITs, repeated while a replica is connected but has not confirmed yet (it lags):
    // between two of them the commands pipelined behind the first get through.
    do {
      if ((await gate.wait(send, this.timeoutMs)) >= wanted) return;
      if (await this.#tooFewReplicas(gate, key)) return;
    } while (Date.now() < deadlineAt);
    throw new StoreUnavailableError(
      `the write was not confirmed by ${wanted} connected replica(s) within ${this.deadlineMs} ms`,
    );
  }

  /** Asks `INFO replication`; true (and the gate marked) when fewer replicas than wanted are in sync. */
  async #tooFewReplicas(gate: Gate, key: string): Promise<boolean> {
    const connected = await gate.connectedReplicas(() => this.transport.connectedReplicas(key));
    if (connected >= this.replicas) {
      gate.short = false;
      return false;
    }
    gate.short = true;
    gate.shortUntil = Date.now() + REPLICA_RECHECK_MS;
    this.unreplicated++;
    const now = Date.now();
    if (now - this.#lastWarn >= WARN_INTERVAL_MS) {
      this.#lastWarn = now;
      this.logger?.warn({ wanted: this.replicas, connected }, 'redis_revocation_not_replicated');
    }
    return true;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
