/**
 * The shared contract suites against the Redis stores, twice:
 *
 * - on real time: Redis's own TTLs must agree with what the stores report;
 * - with a `ManualClock`: time moves exactly, and the stores must judge expiry by the stored
 *   expiries and the injected clock (scripts get `now` as an argument), not by Redis's clock.
 *
 * `StoreMaintenance.stats()` counts keys as Redis sees them (each expires by its TTL, on Redis's
 * clock: reading every value to compare it with an injected clock would cost a full read of the
 * store), so the maintenance suite runs on real time only here; `test/memory/contract.test.ts` runs
 * it on a manual clock. The same holds for `RateLimitStore` (a window is the counter's `PX`, on
 * Redis's clock: the limiter's windows need no injected time), so it runs on real time only too.
 */
import {
  handoffsContract,
  refreshFamiliesContract,
  revocationContract,
  runAllContracts,
  securityEventsContract,
  sessionStoreContract,
  tokenBlacklistContract,
  trustedDevicesContract,
} from '../contract/index.js';
import { redisStores } from './stores.js';

runAllContracts('redis, real time', redisStores(false));

const manual = redisStores(true);
tokenBlacklistContract('redis, manual clock', manual);
sessionStoreContract('redis, manual clock', manual);
trustedDevicesContract('redis, manual clock', manual);
securityEventsContract('redis, manual clock', manual);
refreshFamiliesContract('redis, manual clock', manual);
revocationContract('redis, manual clock', manual);
handoffsContract('redis, manual clock', manual);
