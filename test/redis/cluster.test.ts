/**
 * The contract suites on a three-master Redis Cluster: every script and multi-key command must
 * name keys of one slot (Cluster answers CROSSSLOT otherwise), and a user's keys, spread by their
 * tags over the nodes, must still behave exactly as on one server.
 */
import { after, before } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { RedisClient } from '../../src/connection/client.js';
import { createRedisStores, loadIdCodec } from '../../src/stores/redis/index.js';
import type { ContractStoreOptions, MakeStores } from '../contract/index.js';
import {
  maintenanceContract,
  refreshFamiliesContract,
  revocationContract,
  securityEventsContract,
  sessionStoreContract,
  tokenBlacklistContract,
  trustedDevicesContract,
} from '../contract/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { type ClusterTopology, startCluster } from '../topologies/cluster.js';

let cluster: ClusterTopology;
let client: RedisClient;

before(async () => {
  cluster = await startCluster({ replicas: 0 });
  client = new RedisClient({ url: cluster.url, commandTimeoutMs: 5000 });
  await client.connect();
});

after(async () => {
  await client?.close();
  await cluster?.stop();
});

function clusterStores(manualClock: boolean): MakeStores {
  return async (options: ContractStoreOptions = {}) => {
    const clock = manualClock ? new ManualClock(Date.now()) : null;
    const keyPrefix = uniquePrefix();
    // The deployment's sealed ids, as `createOptix` builds them (secret created on this prefix).
    const ids = await loadIdCodec(client, { keyPrefix });
    const stores = createRedisStores(client, {
      keyPrefix,
      ids,
      ...(clock === null ? {} : { clock }),
      ...options,
    });
    return { stores, clock, close: async () => {} };
  };
}

const manual = clusterStores(true);
tokenBlacklistContract('redis cluster', manual);
sessionStoreContract('redis cluster', manual);
trustedDevicesContract('redis cluster', manual);
securityEventsContract('redis cluster', manual);
refreshFamiliesContract('redis cluster', manual);
revocationContract('redis cluster', manual);
// stats() counts keys by Redis's clock: real time (see contract.test.ts).
maintenanceContract('redis cluster, real time', clusterStores(false));
