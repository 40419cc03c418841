/**
 * Every port's contract suite. A backend's test file calls `runAllContracts('redis', factory)` (or
 * the suites one by one) with a factory that returns fresh, isolated stores.
 */
import { activityBucketsContract } from './activity-buckets.contract.js';
import { argumentsContract } from './arguments.contract.js';
import type { MakeStores } from './harness.js';
import { handoffsContract } from './handoffs.contract.js';
import { maintenanceContract } from './maintenance.contract.js';
import { rateLimitsContract } from './rate-limits.contract.js';
import { refreshFamiliesContract } from './refresh-families.contract.js';
import { revocationContract } from './revocation.contract.js';
import { securityEventsContract } from './security-events.contract.js';
import { sessionStoreContract } from './session-store.contract.js';
import { tokenBlacklistContract } from './token-blacklist.contract.js';
import { trustedDevicesContract } from './trusted-devices.contract.js';

export type { ContractStoreOptions, ContractStores, MakeStores } from './harness.js';
export {
  activityBucketsContract,
  argumentsContract,
  handoffsContract,
  maintenanceContract,
  rateLimitsContract,
  refreshFamiliesContract,
  revocationContract,
  securityEventsContract,
  sessionStoreContract,
  tokenBlacklistContract,
  trustedDevicesContract,
};

/** Registers every contract suite for one backend. */
export function runAllContracts(name: string, makeStores: MakeStores): void {
  tokenBlacklistContract(name, makeStores);
  sessionStoreContract(name, makeStores);
  trustedDevicesContract(name, makeStores);
  securityEventsContract(name, makeStores);
  refreshFamiliesContract(name, makeStores);
  revocationContract(name, makeStores);
  maintenanceContract(name, makeStores);
  handoffsContract(name, makeStores);
  rateLimitsContract(name, makeStores);
  activityBucketsContract(name, makeStores);
  argumentsContract(name, makeStores);
}
