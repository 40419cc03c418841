/**
 * Environment → validated, frozen `OptixConfig`. Every problem names its variable
 * (`ConfigError.path`); several problems are reported together. Defaults merge with `??`, so `0`
 * is a value, not "unset".
 *
 * This module holds the whole picture (which variable lands where, in what order problems are
 * found); the sections it reads through live beside it: `read.ts` (one variable), `http.ts`
 * (proxies, CORS), `redis.ts`, `keys.ts` (JWT keys), `access.ts` (API keys, OAuth clients),
 * `tracing.ts` (`OTEL_*`), `describe.ts` (the configuration without secrets).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { oauthClientList, oauthIssuer, opsKeys, serviceKeys } from './access.js';
import { describeConfig } from './describe.js';
import { corsOrigins, trustProxyOption } from './http.js';
import { jwtKeys, secretOk } from './keys.js';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_SESSION_LIMIT_POLICY,
  JWT_CLOCK_TOLERANCE_SECONDS,
  MAX_SESSIONS_PER_USER,
  MAX_TRUSTED_DEVICES_PER_USER,
  REFRESH_GRACE_SECONDS,
  REFRESH_TOKEN_TTL_SECONDS,
  SESSION_ABSOLUTE_TIMEOUT_MINUTES,
  SESSION_IDLE_TIMEOUT_MINUTES,
  SESSION_LIMIT_POLICIES,
} from '../core/limits.js';
import { bounded, type Env, int, oneOf, Problems, raw } from './read.js';
import { redisConfig } from './redis.js';
import { tracingConfig } from './tracing.js';
import type { LogLevel, NodeEnv, OptixConfig } from './types.js';

export type { Env } from './read.js';

export interface LoadConfigOptions {
  /** Reads a key or certificate file (default: `readFileSync(path, 'utf8')`). */
  readFile?: (path: string) => string;
  /** Randomness for development-mode secrets (default: 32 bytes of the CSPRNG, base64url). */
  generateSecret?: () => string;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NODE_ENVS: readonly NodeEnv[] = ['development', 'test', 'production'];

/**
 * Builds the configuration from `env` (usually `process.env` after dotenv).
 *
 * Development (anything but `NODE_ENV=production`) fills in what is missing: an ephemeral signing
 * secret and service key (reported in `generated`, to print once) and the in-memory backend when
 * `REDIS_URL` is unset; `warnings` says so. Production requires `REDIS_URL`, `JWT_SECRET` or
 * `JWT_PRIVATE_KEY_FILE`, and `SERVICE_API_KEYS`.
 *
 * @throws ConfigError (ERR_CONFIG) whose `path` names the (first) variable at fault; the message
 *   lists every problem found.
 * @example
 * const config = loadConfig({ ...process.env, PORT: '0' });
 */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): OptixConfig {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const generateSecret = options.generateSecret ?? (() => randomBytes(32).toString('base64url'));
  const p = new Problems();
  const warnings: string[] = [];

  const nodeEnv = oneOf(env, p, 'NODE_ENV', NODE_ENVS, 'development');
  const production = nodeEnv === 'production';

  // HTTP
  const host = raw(env, 'HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:%_-]{1,253}$/.test(host)) p.add('HOST', 'must be a host name or an IP address');
  const port = int(env, p, 'PORT', 8080, 0, 65535);
  const trustProxy = trustProxyOption(env, p, production, warnings);
  const bodyLimitBytes = int(env, p, 'BODY_LIMIT_BYTES', 16_384, 1024, 1_048_576);
  const requestTimeoutMs = int(env, p, 'HTTP_REQUEST_TIMEOUT_MS', 20_000, 100, 600_000);
  const headersTimeoutMs = int(env, p, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    p.add('HTTP_HEADERS_TIMEOUT_MS', 'must not be longer than HTTP_REQUEST_TIMEOUT_MS');
  }
  const keepAliveTimeoutMs = int(env, p, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000);
  const connectionTimeoutMs = int(env, p, 'HTTP_CONNECTION_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const httpMaxConnections = int(env, p, 'HTTP_MAX_CONNECTIONS', 10_000, 1, 1_000_000);
  const logLevel = oneOf(env, p, 'LOG_LEVEL', LOG_LEVELS, 'info');
  const logIdSalt = raw(env, 'LOG_ID_SALT') ?? randomBytes(16).toString('base64url');

  const redis = redisConfig(env, p, { production, warnings, readFile });

  const { keys, generatedSecret } = jwtKeys(env, p, { production, warnings, readFile, generateSecret });
  const issuer = raw(env, 'JWT_ISSUER') ?? 'optix-sessions';
  const audience = raw(env, 'JWT_AUDIENCE') ?? 'optix';
  const accessTokenTtlSeconds = bounded(env, p, 'ACCESS_TOKEN_TTL_SECONDS', ACCESS_TOKEN_TTL_SECONDS);
  const refreshTokenTtlSeconds = bounded(env, p, 'REFRESH_TOKEN_TTL_SECONDS', REFRESH_TOKEN_TTL_SECONDS);
  if (refreshTokenTtlSeconds < accessTokenTtlSeconds) {
    p.add('REFRESH_TOKEN_TTL_SECONDS', 'must not be shorter than ACCESS_TOKEN_TTL_SECONDS');
  }
  const refreshGraceSeconds = bounded(env, p, 'REFRESH_GRACE_SECONDS', REFRESH_GRACE_SECONDS);
  const clockToleranceSeconds = bounded(env, p, 'JWT_CLOCK_TOLERANCE_SECONDS', JWT_CLOCK_TOLERANCE_SECONDS);

  // Sessions
  const idleTimeoutMinutes = bounded(env, p, 'SESSION_IDLE_TIMEOUT_MINUTES', SESSION_IDLE_TIMEOUT_MINUTES);
  const absoluteTimeoutMinutes = bounded(
    env,
    p,
    'SESSION_ABSOLUTE_TIMEOUT_MINUTES',
    SESSION_ABSOLUTE_TIMEOUT_MINUTES,
  );
  if (absoluteTimeoutMinutes < idleTimeoutMinutes) {
    p.add('SESSION_ABSOLUTE_TIMEOUT_MINUTES', 'must not be shorter than SESSION_IDLE_TIMEOUT_MINUTES');
  }
  const maxSessionsPerUser = bounded(env, p, 'MAX_SESSIONS_PER_USER', MAX_SESSIONS_PER_USER);
  const limitPolicy = oneOf(
    env,
    p,
    'SESSION_LIMIT_POLICY',
    SESSION_LIMIT_POLICIES,
    DEFAULT_SESSION_LIMIT_POLICY,
  );
  const maxTrustedDevicesPerUser = bounded(
    env,
    p,
    'MAX_TRUSTED_DEVICES_PER_USER',
    MAX_TRUSTED_DEVICES_PER_USER,
  );
  const maxSecurityEventsPerUser = int(env, p, 'MAX_SECURITY_EVENTS_PER_USER', 1000, 10, 100_000);

  const { serviceApiKeys, generatedServiceKey } = serviceKeys(env, p, {
    production,
    warnings,
    generateSecret,
  });
  const opsApiKeys = opsKeys(env, p, { production, warnings });
  const oauthClients = oauthClientList(env, p);
  const oauthIssuerUrl = oauthIssuer(env, p, production);

  const rateLimits = Object.freeze({
    refreshPerMinute: int(env, p, 'RATE_LIMIT_REFRESH_PER_MINUTE', 60, 0, 1_000_000),
    revokePerMinute: int(env, p, 'RATE_LIMIT_REVOKE_PER_MINUTE', 60, 0, 1_000_000),
    introspectPerMinute: int(env, p, 'RATE_LIMIT_INTROSPECT_PER_MINUTE', 600_000, 0, 100_000_000),
    meWritesPerMinute: int(env, p, 'RATE_LIMIT_ME_WRITES_PER_MINUTE', 30, 0, 1_000_000),
  });
  const cleanupIntervalSeconds = int(env, p, 'CLEANUP_INTERVAL_SECONDS', 300, 0, 86_400);
  const tracing = tracingConfig(env, p);
  const idTagSecretRaw = raw(env, 'ID_TAG_SECRET');
  const idTagSecret =
    idTagSecretRaw !== undefined && secretOk(p, 'ID_TAG_SECRET', idTagSecretRaw) ? idTagSecretRaw : null;

  const browser = Object.freeze({
    corsOrigins: Object.freeze(corsOrigins(env, p)),
    handoffTtlSeconds: int(env, p, 'BROWSER_HANDOFF_TTL_SECONDS', 60, 5, 600),
  });

  const adminRole = raw(env, 'ADMIN_ROLE') ?? 'optix:admin';
  if (!/^[A-Za-z0-9:._/-]{1,64}$/.test(adminRole)) {
    p.add('ADMIN_ROLE', 'must be 1-64 characters of letters, digits and : . _ / -');
  }

  p.throwIfAny();

  const config: OptixConfig = {
    nodeEnv,
    http: Object.freeze({
      host,
      port,
      trustProxy,
      bodyLimitBytes,
      requestTimeoutMs,
      headersTimeoutMs,
      keepAliveTimeoutMs,
      connectionTimeoutMs,
      maxConnections: httpMaxConnections,
    }),
    logLevel,
    logIdSalt,
    idTagSecret,
    redis: redis === null ? null : Object.freeze(redis),
    jwt: Object.freeze({
      keys: Object.freeze(keys.map((k) => Object.freeze(k))),
      activeKid: keys[0]!.kid,
      issuer,
      audience,
      accessTokenTtlSeconds,
      refreshTokenTtlSeconds,
      refreshGraceSeconds,
      clockToleranceSeconds,
      asymmetric: keys.some((k) => k.alg !== 'HS256'),
    }),
    sessions: Object.freeze({
      idleTimeoutMinutes,
      absoluteTimeoutMinutes,
      maxSessionsPerUser,
      limitPolicy,
      maxTrustedDevicesPerUser,
      maxSecurityEventsPerUser,
    }),
    serviceApiKeys: Object.freeze(serviceApiKeys),
    opsApiKeys: Object.freeze(opsApiKeys),
    oauthClients: Object.freeze(oauthClients),
    oauthIssuerUrl: oauthIssuerUrl === null ? null : oauthIssuerUrl.replace(/\/+$/, ''),
    rateLimits,
    browser,
    adminRole,
    cleanupIntervalSeconds,
    tracing,
    generated: Object.freeze({ jwtSecret: generatedSecret, serviceApiKey: generatedServiceKey }),
    warnings: Object.freeze(warnings),
  };
  // Secrets stay out of JSON and `util.inspect` (a logged config shows the summary instead).
  Object.defineProperty(config, 'toJSON', { enumerable: false, value: () => describeConfig(config) });
  Object.defineProperty(config, inspect.custom, { enumerable: false, value: () => describeConfig(config) });
  return Object.freeze(config);
}
