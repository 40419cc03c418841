/** The configuration as it may be logged or shown: no secret, only what identifies one. */
import type { OptixConfig } from './types.js';

/** The configuration without secrets: key ids and counts instead of keys, the redacted Redis URL. */
export function describeConfig(config: OptixConfig): Record<string, unknown> {
  return {
    nodeEnv: config.nodeEnv,
    http: config.http,
    logLevel: config.logLevel,
    idTagSecret: config.idTagSecret === null ? 'generated' : 'set',
    backend: config.redis === null ? 'memory' : 'redis',
    redis:
      config.redis === null
        ? null
        : {
            url: config.redis.redactedUrl,
            maxConnections: config.redis.maxConnections,
            socketTimeoutMs: config.redis.socketTimeoutMs,
            connectTimeoutMs: config.redis.connectTimeoutMs,
            commandTimeoutMs: config.redis.commandTimeoutMs,
            retryOnTimeout: config.redis.retryOnTimeout,
            clientCache: config.redis.clientCache,
            clientCacheMode: config.redis.clientCacheMode,
            firstSight: config.redis.firstSight,
            maxClockSkewMs: config.redis.maxClockSkewMs,
            replicaAcks: config.redis.replicaAcks ?? 'by topology',
            keyPrefix: config.redis.keyPrefix,
            shedAbovePercent: config.redis.shedAbovePercent,
            memorySampleIntervalMs: config.redis.memorySampleIntervalMs,
            tls: config.redis.tls !== undefined,
          },
    jwt: {
      keys: config.jwt.keys.map((k) => `${k.alg}:${k.kid}`),
      activeKid: config.jwt.activeKid,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
      refreshGraceSeconds: config.jwt.refreshGraceSeconds,
      clockToleranceSeconds: config.jwt.clockToleranceSeconds,
    },
    sessions: config.sessions,
    serviceApiKeys: config.serviceApiKeys.length,
    opsApiKeys: config.opsApiKeys.length,
    oauthClients: config.oauthClients.map((c) => c.clientId),
    oauthIssuerUrl: config.oauthIssuerUrl,
    rateLimits: config.rateLimits,
    browser: config.browser,
    adminRole: config.adminRole,
    cleanupIntervalSeconds: config.cleanupIntervalSeconds,
    tracing: config.tracing,
  };
}
