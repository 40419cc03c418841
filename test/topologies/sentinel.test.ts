/**
 * The store contract suites and the service tests, unchanged, on Redis Sentinel: a master, one replica and three sentinels (the client finds the master through them).
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
import { startSentinel } from './harness.js';
import { fileTopology, runTestFilesOn, topologyStores } from './support.js';

const topology = fileTopology(() => startSentinel());

runAllContracts('sentinel, real time', topologyStores(topology, false));

const manual = topologyStores(topology, true);
tokenBlacklistContract('sentinel, manual clock', manual);
sessionStoreContract('sentinel, manual clock', manual);
trustedDevicesContract('sentinel, manual clock', manual);
securityEventsContract('sentinel, manual clock', manual);
refreshFamiliesContract('sentinel, manual clock', manual);
revocationContract('sentinel, manual clock', manual);

it('the JWT service, session manager and guide examples pass on sentinel', async () => {
  const run = await runTestFilesOn(await topology());
  console.log(`# service tests on sentinel: ${run.pass} passed`);
});
