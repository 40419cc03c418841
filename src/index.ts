/**
 * OPTIX Sessions — the library's public API.
 *
 * Compose: `new RedisClient(...)` → `createRedisStores(client)` (or `createMemoryStores()`) →
 * `createJwtService({ stores, ... })` and `createSessionManager({ stores, ... })`.
 */
export * from './core/errors.js';
export * from './core/types.js';
export type * from './core/ports.js';
export { type Clock, ManualClock, systemClock } from './core/clock.js';
export {
  assertId,
  createIdCodec,
  type IdCodec,
  isUserScopedId,
  MAX_ID_LENGTH,
  newUserScopedId,
  PLAIN_ID_CODEC,
  parseUserScopedId,
  trustedDeviceId,
  userTag,
} from './core/ids.js';
export { RedisClient } from './connection/client.js';
export { parseInfo, type RedisHealth, type RedisInfo } from './connection/diagnostics.js';
export {
  parseRedisUrl,
  redactRedisUrl,
  type ParsedRedisUrl,
  type RedisClientOptions,
  type RedisTlsOptions,
  type RedisTopology,
} from './connection/config.js';
export { createKeySchema, type KeySchema } from './stores/redis/keys.js';
export { clientSideCacheFor, createRedisStores, loadIdCodec } from './stores/redis/index.js';
export { createMemoryStores } from './stores/memory/index.js';
export { createJwtService } from './services/jwt-service.js';
export { createSessionManager } from './services/session-manager.js';
export {
  type GrantIssuer,
  type HandoffLoginResult,
  LOGIN_UNDO_REASON,
  type LoginDeps,
  type LoginGrant,
  type LoginInput,
  type LoginResult,
  login,
  loginWithHandoff,
  openSession,
} from './services/login.js';
export { type CleanupOptions, type CleanupOutcome, cleanup } from './services/cleanup.js';
export { type RevokeUserDeps, revokeUser } from './services/revoke-user.js';
export type * from './services/types.js';
