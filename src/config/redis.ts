/**
 * The Redis section: `REDIS_URL` (none: the in-memory backend, refused in production), the
 * connection's numbers, the key prefix, TLS files. Checked as text here; `RedisClient` resolves
 * the options again when it is built.
 */
import { ConfigError } from '../core/errors.js';
import { parseRedisUrl, redactRedisUrl } from '../connection/config.js';
import { bool, type Env, file, int, oneOf, type Problems, raw } from './read.js';
import type { RedisConfig } from './types.js';

/** `null` without `REDIS_URL` (the in-memory backend). */
export function redisConfig(
  env: Env,
  p: Problems,
  ctx: { production: boolean; warnings: string[]; readFile: (path: string) => string },
): RedisConfig | null {
  const { production, warnings, readFile } = ctx;
  // The numbers are validated even without REDIS_URL, so a typo is reported.
  const maxConnections = int(env, p, 'REDIS_MAX_CONNECTIONS', 50, 1, 10_000);
  const socketTimeoutMs = int(env, p, 'REDIS_SOCKET_TIMEOUT_MS', 5000, 0, 3_600_000);
  const connectTimeoutMs = int(env, p, 'REDIS_CONNECT_TIMEOUT_MS', 5000, 1, 600_000);
  const commandTimeoutMs = int(env, p, 'REDIS_COMMAND_TIMEOUT_MS', 1000, 1, 600_000);
  const retryOnTimeout = bool(env, p, 'REDIS_RETRY_ON_TIMEOUT', true);
  const clientCache = bool(env, p, 'REDIS_CLIENT_CACHE', true);
  const clientCacheMode = oneOf(
    env,
    p,
    'REDIS_CLIENT_CACHE_MODE',
    ['broadcast', 'default'] as const,
    'broadcast',
  );
  const firstSight = oneOf(env, p, 'REDIS_FIRST_SIGHT', ['watch', 'read'] as const, 'watch');
  const maxClockSkewMs = int(env, p, 'MAX_CLOCK_SKEW_MS', 5000, 0, 60_000);
  const shedAbovePercent = int(env, p, 'REDIS_SHED_ABOVE_PERCENT', 90, 0, 99);
  const memorySampleIntervalMs = int(env, p, 'REDIS_MEMORY_SAMPLE_INTERVAL_MS', 1000, 10, 60_000);
  // Unset: the client's default by topology (1 on Sentinel and Cluster, 0 on a standalone server).
  const replicaAcks =
    raw(env, 'REDIS_REPLICA_ACKS') === undefined ? undefined : int(env, p, 'REDIS_REPLICA_ACKS', 0, 0, 16);
  const redisUrl = raw(env, 'REDIS_URL');
  if (redisUrl === undefined) {
    if (production)
      p.add(
        'REDIS_URL',
        'is required when NODE_ENV=production (the in-memory backend serves one process only)',
      );
    else
      warnings.push(
        'REDIS_URL is not set: using the in-memory backend (one process only; everything is lost on restart)',
      );
    for (const name of ['REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE']) {
      if (raw(env, name) !== undefined) p.add(name, 'is set but REDIS_URL is not');
    }
    // Checked without REDIS_URL too, like the numbers: the typo shows before Redis is added.
    if (!/^[A-Za-z0-9._:-]{0,64}$/.test(raw(env, 'REDIS_KEY_PREFIX') ?? '')) {
      p.add('REDIS_KEY_PREFIX', 'may contain only letters, digits and . _ : - (at most 64)');
    }
    return null;
  }
  let tlsUrl = false;
  try {
    tlsUrl = parseRedisUrl(redisUrl).tls;
  } catch (err) {
    // parseRedisUrl never puts the password in its message.
    p.add('REDIS_URL', err instanceof ConfigError ? err.message.replace(/^REDIS_URL: /, '') : 'is invalid');
  }
  const keyPrefix = raw(env, 'REDIS_KEY_PREFIX') ?? 'optix:';
  if (!/^[A-Za-z0-9._:-]{0,64}$/.test(keyPrefix)) {
    p.add('REDIS_KEY_PREFIX', 'may contain only letters, digits and . _ : - (at most 64)');
  }
  const tlsFiles: { ca?: string; cert?: string; key?: string } = {};
  for (const [name, field] of [
    ['REDIS_TLS_CA_FILE', 'ca'],
    ['REDIS_TLS_CERT_FILE', 'cert'],
    ['REDIS_TLS_KEY_FILE', 'key'],
  ] as const) {
    const path = raw(env, name);
    if (path === undefined) continue;
    if (!tlsUrl) p.add(name, 'needs a rediss:// REDIS_URL');
    const content = file(p, name, path, readFile);
    if (content !== undefined) tlsFiles[field] = content;
  }
  if ((tlsFiles.cert === undefined) !== (tlsFiles.key === undefined)) {
    p.add(
      tlsFiles.cert === undefined ? 'REDIS_TLS_CERT_FILE' : 'REDIS_TLS_KEY_FILE',
      'client certificate and key go together',
    );
  }
  return {
    url: redisUrl,
    redactedUrl: redactRedisUrl(redisUrl),
    maxConnections,
    socketTimeoutMs,
    connectTimeoutMs,
    commandTimeoutMs,
    retryOnTimeout,
    clientCache,
    clientCacheMode,
    firstSight,
    maxClockSkewMs,
    replicaAcks,
    keyPrefix,
    shedAbovePercent,
    memorySampleIntervalMs,
    tls: Object.keys(tlsFiles).length > 0 ? Object.freeze({ ...tlsFiles }) : undefined,
  };
}
