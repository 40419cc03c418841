/**
 * Environment → validated, frozen `OptixConfig`. Every problem names its variable
 * (`ConfigError.path`); several problems are reported together. Defaults merge with `??`, so `0`
 * is a value, not "unset".
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { inspect } from 'node:util';
import { ConfigError } from '../core/errors.js';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_SESSION_LIMIT_POLICY,
  type IntegerBound,
  JWT_CLOCK_TOLERANCE_SECONDS,
  MAX_SESSIONS_PER_USER,
  MAX_TRUSTED_DEVICES_PER_USER,
  REFRESH_GRACE_SECONDS,
  REFRESH_TOKEN_TTL_SECONDS,
  SESSION_ABSOLUTE_TIMEOUT_MINUTES,
  SESSION_IDLE_TIMEOUT_MINUTES,
  SESSION_LIMIT_POLICIES,
} from '../core/limits.js';
import { parseRedisUrl, redactRedisUrl } from '../redis/config.js';
import type { JwtKeyConfig } from '../core/types.js';
import type {
  LogLevel,
  NodeEnv,
  OAuthClientConfig,
  OptixConfig,
  RedisConfig,
  TracingConfig,
} from './types.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Reads a key or certificate file (default: `readFileSync(path, 'utf8')`). */
  readFile?: (path: string) => string;
  /** Randomness for development-mode secrets (default: 32 bytes of the CSPRNG, base64url). */
  generateSecret?: () => string;
}

const MIN_SECRET_BYTES = 32;
const MIN_SERVICE_KEY_LENGTH = 32;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NODE_ENVS: readonly NodeEnv[] = ['development', 'test', 'production'];

/** Collects problems so that one start-up attempt reports all of them. */
class Problems {
  readonly list: Array<{ path: string; message: string }> = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  throwIfAny(): void {
    const [first, ...rest] = this.list;
    if (first === undefined) return;
    const more = rest.map((p) => `; ${p.path}: ${p.message}`).join('');
    throw new ConfigError(first.path, `${first.message}${more}`);
  }
}

/**
 * `CORS_ORIGINS`: each entry must be a serialized origin exactly as a browser sends it in `Origin`
 * (`https://app.example.com`, `http://localhost:3000`): no path, no trailing slash, no wildcard.
 * A wildcard would allow every site to use the refresh cookie, so it is refused, not interpreted.
 */
function corsOrigins(env: Env, p: Problems): string[] {
  const value = raw(env, 'CORS_ORIGINS');
  if (value === undefined) return [];
  const out: string[] = [];
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      const web = url.protocol === 'https:' || url.protocol === 'http:';
      if (web && url.origin === entry && !entry.includes('*')) origin = entry;
    } catch {
      // reported below
    }
    if (origin === null) {
      p.add(
        'CORS_ORIGINS',
        `"${entry.slice(0, 100)}" is not an origin (scheme://host[:port], no path or wildcard)`,
      );
    } else if (!out.includes(origin)) out.push(origin);
  }
  return out;
}

/** Reads one variable: `undefined` when unset or blank. */
function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function int(env: Env, p: Problems, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) {
    p.add(name, `must be a whole number from ${min} to ${max}, got "${v.slice(0, 32)}"`);
    return fallback;
  }
  const n = Number(v);
  if (n < min || n > max) {
    p.add(name, `must be from ${min} to ${max}, got ${n}`);
    return fallback;
  }
  return n;
}

function bool(env: Env, p: Problems, name: string, fallback: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  p.add(name, `must be true or false, got "${v.slice(0, 32)}"`);
  return fallback;
}

/** Address ranges `proxy-addr` (Fastify's `trustProxy`) knows by name. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `TRUST_PROXY`: `false` (default), a hop count (`1`–`32`: trust that many proxies in front, and
 * take the address the outermost of them saw), or a comma-separated list of trusted proxy
 * addresses and CIDR ranges (`10.0.0.0/8,fd00::/8`, or the names `loopback`, `linklocal`,
 * `uniquelocal`). `true` trusts every hop, so the left-most `X-Forwarded-For` address, which the
 * client writes, becomes the client's address: refused in production, a warning elsewhere.
 * Returns the value for Fastify's `trustProxy`.
 */
function trustProxyOption(
  env: Env,
  p: Problems,
  production: boolean,
  warnings: string[],
): false | true | number | readonly string[] {
  const v = raw(env, 'TRUST_PROXY');
  if (v === undefined) return false;
  const lower = v.toLowerCase();
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  if (['true', 'yes', 'on'].includes(lower)) {
    if (production) {
      p.add(
        'TRUST_PROXY',
        'must not be true when NODE_ENV=production (every hop trusted: a client picks its own address with X-Forwarded-For); give the number of proxies in front or their addresses/CIDR ranges',
      );
      return false;
    }
    warnings.push(
      'TRUST_PROXY=true trusts every X-Forwarded-For hop: a client can pick its own address and escape per-address rate limits (refused in production)',
    );
    return true;
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 32) {
      p.add('TRUST_PROXY', `must be a hop count from 1 to 32, got ${hops}`);
      return false;
    }
    return hops;
  }
  const entries = v.split(',').map((e) => e.trim());
  for (const entry of entries) {
    if (!validProxyRange(entry)) {
      p.add(
        'TRUST_PROXY',
        `must be false, a hop count (1-32) or comma-separated proxy addresses/CIDR ranges, got "${entry.slice(0, 64)}"`,
      );
      return false;
    }
  }
  return Object.freeze(entries);
}

/** An IP address, a CIDR range (`addr/bits`) or a `proxy-addr` range name. */
function validProxyRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** `int` over a bound written in `core/limits.ts` (the range the library itself accepts). */
function bounded(env: Env, p: Problems, name: string, bound: IntegerBound): number {
  return int(env, p, name, bound.default, bound.min, bound.max);
}

function oneOf<T extends string>(env: Env, p: Problems, name: string, allowed: readonly T[], fallback: T): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  p.add(name, `must be one of ${allowed.join(', ')}, got "${v.slice(0, 32)}"`);
  return fallback;
}

function file(
  p: Problems,
  name: string,
  path: string,
  readFile: (path: string) => string,
): string | undefined {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    p.add(name, `cannot read "${path}"${code ? ` (${code})` : ''}`);
    return undefined;
  }
}

const shortHash = (value: string | Buffer) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 8);
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Checks a PEM key for `alg` and returns its SPKI public PEM. `null` (problem added) when unusable. */
function asymmetricKey(
  p: Problems,
  name: string,
  alg: 'EdDSA' | 'ES256',
  pem: string,
): { publicKeyPem: string; privateKeyPem?: string } | null {
  let publicKey: ReturnType<typeof createPublicKey>;
  let privateKeyPem: string | undefined;
  try {
    if (pem.includes('PRIVATE KEY')) {
      const privateKey = createPrivateKey(pem);
      publicKey = createPublicKey(privateKey);
      privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    } else {
      publicKey = createPublicKey(pem);
    }
  } catch {
    p.add(name, 'is not a PEM key');
    return null;
  }
  const type = publicKey.asymmetricKeyType;
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (alg === 'EdDSA' && type !== 'ed25519') {
    p.add(name, `EdDSA needs an Ed25519 key, got ${type ?? 'unknown'}`);
    return null;
  }
  if (alg === 'ES256' && (type !== 'ec' || curve !== 'prime256v1')) {
    p.add(name, `ES256 needs a P-256 EC key, got ${type ?? 'unknown'}${curve ? ` ${curve}` : ''}`);
    return null;
  }
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return privateKeyPem === undefined ? { publicKeyPem } : { publicKeyPem, privateKeyPem };
}

function secretOk(p: Problems, name: string, secret: string): boolean {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    p.add(name, `must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`);
    return false;
  }
  return true;
}

function previousKeys(env: Env, p: Problems, readFile: (path: string) => string): JwtKeyConfig[] {
  const v = raw(env, 'JWT_PREVIOUS_KEYS');
  if (v === undefined) return [];
  const out: JwtKeyConfig[] = [];
  v.split(',').forEach((entry, i) => {
    const name = `JWT_PREVIOUS_KEYS[${i}]`;
    const e = entry.trim();
    const a = e.indexOf(':');
    const b = a === -1 ? -1 : e.indexOf(':', a + 1);
    if (b === -1) {
      p.add(name, 'must be ALG:kid:value (HS256:kid:secret, EdDSA:kid:/path.pem or ES256:kid:/path.pem)');
      return;
    }
    const alg = e.slice(0, a);
    const kid = e.slice(a + 1, b);
    const value = e.slice(b + 1);
    if (!KID_PATTERN.test(kid)) {
      p.add(name, 'kid may contain only letters, digits and . _ - (at most 64)');
      return;
    }
    if (alg === 'HS256') {
      if (secretOk(p, name, value)) out.push({ kid, alg, secret: value });
    } else if (alg === 'EdDSA' || alg === 'ES256') {
      const pem = file(p, name, value, readFile);
      const key = pem === undefined ? null : asymmetricKey(p, name, alg, pem);
      // A retired key only verifies: never keep its private half.
      if (key) out.push({ kid, alg, publicKeyPem: key.publicKeyPem });
    } else {
      p.add(name, `unknown algorithm "${alg.slice(0, 16)}" (use HS256, EdDSA or ES256)`);
    }
  });
  return out;
}

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

  // Redis (the numbers are validated even without REDIS_URL, so a typo is reported)
  const maxConnections = int(env, p, 'REDIS_MAX_CONNECTIONS', 50, 1, 10_000);
  const socketTimeoutMs = int(env, p, 'REDIS_SOCKET_TIMEOUT_MS', 5000, 0, 3_600_000);
  const connectTimeoutMs = int(env, p, 'REDIS_CONNECT_TIMEOUT_MS', 5000, 1, 600_000);
  const commandTimeoutMs = int(env, p, 'REDIS_COMMAND_TIMEOUT_MS', 1000, 1, 600_000);
  const retryOnTimeout = bool(env, p, 'REDIS_RETRY_ON_TIMEOUT', true);
  const clientCache = bool(env, p, 'REDIS_CLIENT_CACHE', true);
  const shedAbovePercent = int(env, p, 'REDIS_SHED_ABOVE_PERCENT', 90, 0, 99);
  const memorySampleIntervalMs = int(env, p, 'REDIS_MEMORY_SAMPLE_INTERVAL_MS', 1000, 10, 60_000);
  // Unset: the client's default by topology (1 on Sentinel and Cluster, 0 on a standalone server).
  const replicaAcks =
    raw(env, 'REDIS_REPLICA_ACKS') === undefined ? undefined : int(env, p, 'REDIS_REPLICA_ACKS', 0, 0, 16);
  let redis: RedisConfig | null = null;
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
  } else {
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
    redis = {
      url: redisUrl,
      redactedUrl: redactRedisUrl(redisUrl),
      maxConnections,
      socketTimeoutMs,
      connectTimeoutMs,
      commandTimeoutMs,
      retryOnTimeout,
      clientCache,
      replicaAcks,
      keyPrefix,
      shedAbovePercent,
      memorySampleIntervalMs,
      tls: Object.keys(tlsFiles).length > 0 ? Object.freeze({ ...tlsFiles }) : undefined,
    };
  }

  // JWT keys
  const keys: JwtKeyConfig[] = [];
  const secret = raw(env, 'JWT_SECRET');
  const keyFile = raw(env, 'JWT_PRIVATE_KEY_FILE');
  const kidOverride = raw(env, 'JWT_KID');
  if (kidOverride !== undefined && !KID_PATTERN.test(kidOverride)) {
    p.add('JWT_KID', 'may contain only letters, digits and . _ - (at most 64)');
  }
  const algRaw = raw(env, 'JWT_ALG');
  const alg = oneOf(env, p, 'JWT_ALG', ['EdDSA', 'ES256'] as const, 'EdDSA');
  let generatedSecret = false;
  if (secret !== undefined && keyFile !== undefined) {
    p.add(
      'JWT_SECRET',
      'set either JWT_SECRET or JWT_PRIVATE_KEY_FILE, not both (keep an old key in JWT_PREVIOUS_KEYS)',
    );
  } else if (keyFile !== undefined) {
    const pem = file(p, 'JWT_PRIVATE_KEY_FILE', keyFile, readFile);
    const key = pem === undefined ? null : asymmetricKey(p, 'JWT_PRIVATE_KEY_FILE', alg, pem);
    if (key && key.privateKeyPem === undefined)
      p.add('JWT_PRIVATE_KEY_FILE', 'must hold a private key (PKCS#8 PEM)');
    else if (key) {
      const kid = kidOverride ?? `${alg.toLowerCase()}-${shortHash(key.publicKeyPem)}`;
      keys.push({ kid, alg, privateKeyPem: key.privateKeyPem!, publicKeyPem: key.publicKeyPem });
    }
  } else {
    if (algRaw !== undefined) p.add('JWT_ALG', 'applies to JWT_PRIVATE_KEY_FILE, which is not set');
    let value = secret;
    if (value === undefined) {
      if (production) p.add('JWT_SECRET', 'or JWT_PRIVATE_KEY_FILE is required when NODE_ENV=production');
      else {
        value = generateSecret();
        generatedSecret = true;
        warnings.push(
          'JWT_SECRET is not set: signing with an ephemeral secret (tokens die with this process)',
        );
      }
    }
    if (value !== undefined && secretOk(p, 'JWT_SECRET', value)) {
      const kid = kidOverride ?? (generatedSecret ? `dev-${shortHash(value)}` : `hs256-${shortHash(value)}`);
      keys.push({ kid, alg: 'HS256', secret: value });
    }
  }
  for (const old of previousKeys(env, p, readFile)) {
    if (keys.some((k) => k.kid === old.kid)) p.add('JWT_PREVIOUS_KEYS', `kid "${old.kid}" is used twice`);
    else keys.push(old);
  }
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

  // Service keys
  let generatedServiceKey: string | null = null;
  const serviceApiKeys = (raw(env, 'SERVICE_API_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  serviceApiKeys.forEach((key, i) => {
    if (key.length < MIN_SERVICE_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
      p.add(
        'SERVICE_API_KEYS',
        `key #${i + 1} must be at least ${MIN_SERVICE_KEY_LENGTH} printable characters without spaces`,
      );
    }
  });
  if (serviceApiKeys.length === 0) {
    if (production) p.add('SERVICE_API_KEYS', 'is required when NODE_ENV=production');
    else {
      generatedServiceKey = `dev-${generateSecret()}`;
      serviceApiKeys.push(generatedServiceKey);
      warnings.push('SERVICE_API_KEYS is not set: generated a service key for this process only');
    }
  }

  // Operations keys: when set, /metrics and the details of /readyz need one (Bearer).
  const opsApiKeys = (raw(env, 'OPS_API_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  opsApiKeys.forEach((key, i) => {
    if (key.length < MIN_SERVICE_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
      p.add(
        'OPS_API_KEYS',
        `key #${i + 1} must be at least ${MIN_SERVICE_KEY_LENGTH} printable characters without spaces`,
      );
    }
  });
  if (opsApiKeys.length === 0 && production) {
    warnings.push('OPS_API_KEYS is not set: /metrics and the Redis details of /readyz are public');
  }

  // OAuth clients: `id:sha256:<64 hex>[:<introspections per minute>]`, comma-separated.
  const oauthClients: OAuthClientConfig[] = [];
  for (const [i, entry] of (raw(env, 'OAUTH_CLIENTS') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .entries()) {
    const m = /^([A-Za-z0-9._-]{1,64}):sha256:([0-9a-fA-F]{64})(?::(\d{1,9}))?$/.exec(entry);
    if (!m) {
      p.add(
        'OAUTH_CLIENTS',
        `entry #${i + 1} must be client_id:sha256:<64 hex digits>[:<introspections per minute>]`,
      );
      continue;
    }
    const clientId = m[1]!;
    if (oauthClients.some((c) => c.clientId === clientId)) {
      p.add('OAUTH_CLIENTS', `client "${clientId}" is listed twice`);
      continue;
    }
    oauthClients.push(
      Object.freeze({
        clientId,
        secretSha256: Buffer.from(m[2]!, 'hex'),
        introspectPerMinute: m[3] === undefined ? undefined : Number(m[3]),
      }),
    );
  }
  const oauthIssuerUrl = raw(env, 'OAUTH_ISSUER_URL') ?? null;
  if (oauthIssuerUrl !== null) {
    let ok = false;
    try {
      const u = new URL(oauthIssuerUrl);
      ok =
        (u.protocol === 'https:' || (u.protocol === 'http:' && !production)) &&
        u.search === '' &&
        u.hash === '' &&
        u.username === '' &&
        u.password === '';
    } catch {
      ok = false;
    }
    if (!ok) {
      p.add(
        'OAUTH_ISSUER_URL',
        'must be an https:// URL without query or fragment (http:// only outside production)',
      );
    }
  }

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

function httpUrl(p: Problems, name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  p.add(name, `must be an http:// or https:// URL, got "${value.slice(0, 64)}"`);
  return undefined;
}

/** The standard `OTEL_*` variables this service honours; off unless asked for. */
function tracingConfig(env: Env, p: Problems): TracingConfig {
  const base = httpUrl(p, 'OTEL_EXPORTER_OTLP_ENDPOINT', raw(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'));
  const traces = httpUrl(
    p,
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    raw(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
  );
  const endpoint = traces ?? (base !== undefined ? `${base.replace(/\/+$/, '')}/v1/traces` : null);
  const fallback = endpoint !== null ? 'otlp' : 'none';
  let exporter = oneOf(env, p, 'OTEL_TRACES_EXPORTER', ['none', 'otlp', 'console'] as const, fallback);
  if (bool(env, p, 'OTEL_SDK_DISABLED', false)) exporter = 'none';
  const serviceName = raw(env, 'OTEL_SERVICE_NAME') ?? 'optix-sessions';
  return Object.freeze({ exporter, endpoint, serviceName });
}
