/**
 * Real Redis topologies for tests and manual use, from Debian's `redis-server` and `redis-cli`
 * (settings from `../shared/NOTES.md`):
 *
 * - `startTlsRedis()`: one TLS-only server (`--port 0 --tls-port P`), certificates made with openssl
 *   at start, `requirepass` for the default user and an ACL user limited to `SERVICE_COMMANDS`;
 * - `startSentinel()`: a master, one replica and three sentinels (quorum 2);
 * - `startCluster()`: three masters, with one replica each (or none: `replicas: 0`);
 * - `startStandalone()`: one plain server with the persistence and memory settings a fault test
 *   wants, that can be SIGKILLed and restarted on the same port and directory.
 *
 * Every process is spawned (never `--daemonize`), waited on by asking it (PING, replication and
 * cluster state, sentinel views; never a fixed sleep) and stopped by its own pid. Nothing here
 * imports `node:test`, so `scripts/redis-topology.ts` can use it too.
 *
 * This module is the one import for tests and scripts; each topology lives in its own module
 * (`tls.ts`, `sentinel.ts`, `cluster.ts`, `standalone.ts`) over `servers.ts` (one server),
 * `redis-cli.ts` and `acl.ts` (the service user's commands), and the helpers every test server
 * shares: `../helpers/ports.ts` (the port finder), `../helpers/processes.ts` (spawn, stop, wait),
 * `../helpers/probes.ts` (a raw PING).
 */
export { freePort, HOST } from '../helpers/ports.js';
export { SERVICE_COMMANDS, serviceAclRules } from './acl.js';
export { type ClusterOptions, type ClusterTopology, startCluster } from './cluster.js';
export { delay, requireBinaries, type ServerProcess, spawnProcess, waitFor } from '../helpers/processes.js';
export { type CliTarget, infoOf, redisCli } from './redis-cli.js';
export { type SentinelOptions, type SentinelTopology, startSentinel } from './sentinel.js';
export type { Topology } from './servers.js';
export { type StandaloneOptions, type StandaloneTopology, startStandalone } from './standalone.js';
export {
  generateCertificates,
  type TestCertificates,
  type TlsOptions,
  type TlsTopology,
  startTlsRedis,
} from './tls.js';
