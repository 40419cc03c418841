/** The Redis ACL of the service user: the only commands the service may send. */

/**
 * The commands the service sends, found by running the contract and service suites against a server
 * and reading `INFO commandstats` (`tls.test.ts` checks the list again each run). Commands called
 * inside Lua scripts count: Redis checks the caller's ACL on each `redis.call`. `hello`, `auth`,
 * `ping`, `client|setname` and `select` are what node-redis needs to connect and check health;
 * `info` feeds `healthCheck()` and `checkEvictionPolicy()`; `incrby` is the HTTP rate limiter's
 * script. Nothing that changes server settings, flushes, or runs server-side admin is allowed.
 * Keys are `~*` here; in production give each service its own prefix and `~prefix*`.
 */
export const SERVICE_COMMANDS: readonly string[] = [
  'hello',
  'auth',
  'ping',
  'info',
  'client|setname',
  // The client-side cache of revocation checks turns tracking on for its connection.
  'client|tracking',
  'select',
  'get',
  'set',
  // Browser hand-off codes are taken once (HandoffStore.take).
  'getdel',
  'del',
  'exists',
  'mget',
  'incrby',
  'pexpire',
  'pttl',
  // The families of ended sessions leave the user's family index (family_drop.lua).
  'hdel',
  'hget',
  'hgetall',
  'hmget',
  'hset',
  'zadd',
  'zcard',
  'zcount',
  'zrange',
  'zrem',
  'zremrangebyrank',
  'zremrangebyscore',
  'zscore',
  'scan',
  'evalsha',
  // Revocation-class writes wait for their replica on Sentinel and Cluster (RedisClient.replicaAcks).
  'wait',
  'eval',
];

/** The ACL rule list of the service user (after `on >password`). */
export function serviceAclRules(): string[] {
  return ['~*', 'resetchannels', '-@all', ...SERVICE_COMMANDS.map((c) => `+${c}`)];
}
