/**
 * The store contract suites and the service tests, unchanged, on Redis Cluster: three masters and three replicas (every key of one operation on one slot, or CROSSSLOT fails it).
 * Real time and a manual clock, as `test/redis/contract.test.ts` runs them on standalone Redis.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createClient } from '@redis/client';
import {
  refreshFamiliesContract,
  revocationContract,
  runAllContracts,
  securityEventsContract,
  sessionStoreContract,
  tokenBlacklistContract,
  trustedDevicesContract,
} from '../contract/index.js';
import { redisCli, startCluster } from './harness.js';
import { fileTopology, runTestFilesOn, topologyStores } from './support.js';

const topology = fileTopology(() => startCluster());

runAllContracts('cluster, real time', topologyStores(topology, false));

const manual = topologyStores(topology, true);
tokenBlacklistContract('cluster, manual clock', manual);
sessionStoreContract('cluster, manual clock', manual);
trustedDevicesContract('cluster, manual clock', manual);
securityEventsContract('cluster, manual clock', manual);
refreshFamiliesContract('cluster, manual clock', manual);
revocationContract('cluster, manual clock', manual);

it('the JWT service, session manager and guide examples pass on cluster', async () => {
  const run = await runTestFilesOn(await topology());
  console.log(`# service tests on cluster: ${run.pass} passed`);
});

it('every key the suites wrote lives on the master that owns its slot', async () => {
  const t = await topology();
  let checked = 0;
  for (const port of t.ports) {
    const nodes = await redisCli({ port }, ['CLUSTER', 'NODES']);
    const me = nodes.split('\n').find((l) => l.includes('myself'))!;
    if (!me.includes('master')) continue;
    const owned = me
      .trim()
      .split(' ')
      .slice(8)
      .map((r) => r.split('-').map(Number) as [number, number?]);
    const node = createClient({ socket: { host: '127.0.0.1', port } });
    node.on('error', () => {});
    await node.connect();
    try {
      for await (const keys of node.scanIterator({ COUNT: 1000 })) {
        const slots = await Promise.all(keys.map((k) => node.sendCommand(['CLUSTER', 'KEYSLOT', k])));
        for (const [i, slot] of slots.entries()) {
          const s = Number(slot);
          const ok = owned.some(([a, b]) => s >= a && s <= (b ?? a));
          assert.ok(ok, `key ${keys[i]} (slot ${s}) is on ${port}, which does not own that slot`);
          checked++;
        }
      }
    } finally {
      node.destroy();
    }
  }
  assert.ok(checked > 1000, `only ${checked} keys checked`);
  console.log(`# ${checked} keys checked: each on the master owning its slot`);
});
