/**
 * The store contract suites and the service tests, unchanged, on Redis Cluster: three masters and three replicas (every key of one operation on one slot, or CROSSSLOT fails it).
 * Real time and a manual clock, as `test/redis/contract.test.ts` runs them on standalone Redis.
 */
import { it } from 'node:test';
import {
  refreshFamiliesContract,
  revocationContract,
  runAllContracts,
  securityEventsContract,
  sessionStoreContract,
  tokenBlacklistContract,
  trustedDevicesContract,
} from '../contract/index.js';
import { startCluster } from './harness.js';
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
