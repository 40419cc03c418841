/**
 * The branch logic of ReplicaAcks with a scripted transport (the real thing, on a master with a
 * replica, is in test/topologies/replica-acks.test.ts): one WAIT in flight per connection, later
 * writes join the next one, too few replicas → acknowledged and counted, a lagging replica → one
 * longer WAIT and then a failure, a master that does not answer → a failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../../src/core/errors.js';
import {
  REPLICA_RECHECK_MS,
  ReplicaAcks,
  type ReplicaAckTransport,
} from '../../src/connection/replica-acks.js';

interface Pending<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

class FakeTransport implements ReplicaAckTransport {
  waits: { key: string; timeoutMs: number; answer: Pending<number> }[] = [];
  roles = 0;
  replicasConnected = 1;
  inFlight = 0;
  maxInFlight = 0;
  connectionOf(key: string): string {
    return key.startsWith('b') ? 'node-b' : 'node-a';
  }
  /** When set, every WAIT answers 0 by itself after this many ms (a replica that never acks). */
  answerAfterMs: number | null = null;
  wait(key: string, _replicas: number, timeoutMs: number): Promise<number> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<number>((resolve, reject) => {
      this.waits.push({ key, timeoutMs, answer: { resolve, reject } });
      if (this.answerAfterMs !== null) setTimeout(() => resolve(0), this.answerAfterMs);
    }).finally(() => this.inFlight--);
  }
  async connectedReplicas(): Promise<number> {
    this.roles++;
    return this.replicasConnected;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ReplicaAcks', () => {
  it('does nothing when no replica is wanted', async () => {
    const t = new FakeTransport();
    await new ReplicaAcks(0, 50, 1000, t).confirm('a1');
    assert.equal(t.waits.length, 0);
  });

  it('keeps one WAIT in flight per connection; writes meanwhile share the next one', async () => {
    const t = new FakeTransport();
    const acks = new ReplicaAcks(1, 50, 1000, t);
    const first = acks.confirm('a1');
    await tick();
    const later = [acks.confirm('a2'), acks.confirm('a3'), acks.confirm('a4')];
    const otherNode = acks.confirm('b1');
    await tick();
    // node-a: the first WAIT only; node-b: its own.
    assert.deepEqual(
      t.waits.map((w) => w.key),
      ['a1', 'b1'],
    );
    t.waits[0]!.answer.resolve(1);
    await first;
    await tick();
    assert.deepEqual(
      t.waits.map((w) => w.key),
      ['a1', 'b1', 'a2'],
      'one WAIT covers the three writes acknowledged while the first was in flight',
    );
    t.waits[2]!.answer.resolve(1);
    t.waits[1]!.answer.resolve(1);
    await Promise.all([...later, otherNode]);
    assert.equal(t.maxInFlight, 2);
    assert.equal(acks.unreplicated + acks.unconfirmed, 0);
  });

  it('acknowledges without a replica when none is connected, then skips the check for a while', async () => {
    const t = new FakeTransport();
    t.replicasConnected = 0;
    const warnings: unknown[] = [];
    const acks = new ReplicaAcks(1, 50, 1000, t, { warn: (obj, msg) => warnings.push([msg, obj]) });
    await acks.confirm('a1');
    assert.equal(t.roles, 1, 'a new connection asks INFO replication first');
    assert.equal(t.waits.length, 0, 'and sends no WAIT (which would block it) to a master without replica');
    assert.equal(acks.unreplicated, 1);
    await acks.confirm('a2');
    assert.equal(t.roles, 1, 'known short: no second INFO within the recheck interval');
    assert.equal(acks.unreplicated, 2);
    assert.deepEqual(warnings, [['redis_revocation_not_replicated', { wanted: 1, connected: 0 }]]);
    assert.ok(REPLICA_RECHECK_MS <= 1000);
  });

  it('a replica that stops confirming: INFO decides, no replica left → acknowledged', async () => {
    const t = new FakeTransport();
    const acks = new ReplicaAcks(1, 50, 1000, t);
    const c = acks.confirm('a1');
    await tick();
    t.replicasConnected = 0;
    t.waits[0]!.answer.resolve(0);
    await c;
    assert.equal(t.roles, 2);
    assert.equal(t.waits.length, 1);
    assert.equal(acks.unreplicated, 1);
  });

  it('a connected replica that lags: short WAITs again until it confirms', async () => {
    const t = new FakeTransport();
    const acks = new ReplicaAcks(1, 50, 1000, t);
    const confirmed = acks.confirm('a1');
    for (let i = 0; i < 3; i++) {
      await tick();
      await tick();
      assert.equal(t.waits.length, i + 1);
      assert.equal(t.waits[i]!.timeoutMs, 50, 'each WAIT short: the commands behind it get through');
      t.waits[i]!.answer.resolve(0);
    }
    await tick();
    await tick();
    t.waits[3]!.answer.resolve(1);
    await confirmed;
    assert.equal(t.roles, 4, 'INFO after each short WAIT: the replica is still connected');
    assert.equal(acks.unconfirmed + acks.unreplicated, 0);
  });

  it('fails the write when a connected replica has not confirmed by the deadline', async () => {
    const t = new FakeTransport();
    t.answerAfterMs = 5;
    const acks = new ReplicaAcks(1, 50, 60, t);
    const start = performance.now();
    await assert.rejects(acks.confirm('a1'), (err: unknown) => err instanceof StoreUnavailableError);
    assert.ok(performance.now() - start < 200);
    assert.ok(t.waits.length >= 2, `${t.waits.length} WAITs`);
    assert.equal(acks.unconfirmed, 1);
  });

  it('fails the write past the deadline, and keeps that WAIT in flight until Redis answers it', async () => {
    const t = new FakeTransport();
    const acks = new ReplicaAcks(1, 50, 30, t);
    await assert.rejects(acks.confirm('a1'), (err: unknown) => err instanceof StoreUnavailableError);
    assert.equal(acks.unconfirmed, 1);
    const next = acks.confirm('a2');
    await tick();
    assert.equal(t.waits.length, 1, 'no second WAIT queued behind one still blocking the connection');
    t.waits[0]!.answer.resolve(1);
    await tick();
    await tick();
    assert.equal(t.waits.length, 2);
    t.waits[1]!.answer.resolve(1);
    await next;
  });

  it('fails the write when its key moved to another master during the write (a failover)', async () => {
    const t = new FakeTransport();
    const acks = new ReplicaAcks(1, 50, 1000, t);
    const before = acks.connectionOf('a1');
    t.connectionOf = () => 'node-c';
    await assert.rejects(acks.confirm('a1', before), /master changed during the write/);
    assert.equal(t.waits.length, 0, 'a WAIT on the new master would prove nothing');
    assert.equal(acks.unconfirmed, 1);
  });

  it('fails the write when the master does not answer the WAIT', async () => {
    const t = new FakeTransport();
    const acks = new ReplicaAcks(1, 50, 1000, t);
    const c = acks.confirm('a1');
    await tick();
    t.waits[0]!.answer.reject(new Error('connection closed'));
    await assert.rejects(
      c,
      (err: unknown) => err instanceof StoreUnavailableError && err.code === 'ERR_STORE_UNAVAILABLE',
    );
    assert.equal(acks.unconfirmed, 1);
  });
});
