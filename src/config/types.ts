/**
 * The validated, frozen configuration of one process. Built from the environment by
 * `loadConfig` (entry points only); everything else receives it.
 */
import type { SessionLimitPolicy } from '../core/ports.js';
import type { RedisTlsOptions } from '../connection/config.js';
import type { JwtKeyConfig } from '../core/types.js';

export type NodeEnv = 'development' | 'test' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface RedisConfig {
  /** The URL as given (contains the password, if any: never log it; use `redactedUrl`). */
  readonly url: string;
  readonly redactedUrl: string;
  readonly maxConnections: number;
  readonly socketTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly retryOnTimeout: boolean;
  /** `REDIS_CLIENT_CACHE`: the client-side cache of revocation and session reads. */
  readonly clientCache: boolean;
  /**
   * `REDIS_CLIENT_CACHE_MODE`: `broadcast` tracks the key prefixes of the cached reads
   * (`CLIENT TRACKING … BCAST`: no per-read work on Redis, every write under them pushed to every
   * instance); `default` tracks the keys each instance read.
   */
  readonly clientCacheMode: 'broadcast' | 'default';
  /**
   * `REDIS_FIRST_SIGHT`: `watch` answers a token's first verification without a read when this
   * instance has heard every revocation write since the token was minted (broadcast mode,
   * standalone Redis) and knows its user and session; `read` always reads.
   */
  readonly firstSight: 'watch' | 'read';
  /** `MAX_CLOCK_SKEW_MS`: how far ahead another instance's clock may run (first sight by watch). */
  readonly maxClockSkewMs: number;
  /** `REDIS_REPLICA_ACKS`; `undefined`: the client's default by topology. */
  readonly replicaAcks: number | undefined;
  readonly keyPrefix: string;
  /** Share of `maxmemory` (percent) above which low-priority writes are shed; 0 = off. */
  readonly shedAbovePercent: number;
  readonly memorySampleIntervalMs: number;
  readonly tls: RedisTlsOptions | undefined;
}

export interface JwtConfig {
  /** Signing key first, then retired keys that still verify. */
  readonly keys: readonly JwtKeyConfig[];
  readonly activeKid: string;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly refreshGraceSeconds: number;
  readonly clockToleranceSeconds: number;
  /** True when an EdDSA/ES256 key is configured: `/.well-known/jwks.json` is served. */
  readonly asymmetric: boolean;
}

export interface SessionConfig {
  readonly idleTimeoutMinutes: number;
  readonly absoluteTimeoutMinutes: number;
  readonly maxSessionsPerUser: number;
  readonly limitPolicy: SessionLimitPolicy;
  readonly maxTrustedDevicesPerUser: number;
  readonly maxSecurityEventsPerUser: number;
}

export interface RateLimitConfig {
  /** Requests per client per minute; 0 turns the limit off. */
  readonly refreshPerMinute: number;
  readonly revokePerMinute: number;
  readonly introspectPerMinute: number;
  /** Per user, `/v1/me/*` writes. */
  readonly meWritesPerMinute: number;
}

/** Browser mode: the cookie transport of refresh tokens and CORS. */
export interface BrowserConfig {
  /** Origins (`scheme://host[:port]`) allowed to call the browser and `/v1/me` routes; empty: off. */
  readonly corsOrigins: readonly string[];
  /** Life of a hand-off code, in seconds. */
  readonly handoffTtlSeconds: number;
}

/**
 * A named OAuth client (`OAUTH_CLIENTS`): a service that authenticates at the introspection,
 * revocation and token endpoints with `client_secret_basic` or `client_secret_post`.
 */
export interface OAuthClientConfig {
  /** `client_id`: letters, digits and `._-`, 1–64 characters; its audit identity in logs. */
  readonly clientId: string;
  /** SHA-256 of the client secret (32 bytes); the secret itself is never configured. */
  readonly secretSha256: Buffer;
  /** Introspections per minute for this client, per instance; `undefined`: the default. */
  readonly introspectPerMinute: number | undefined;
}

/** OpenTelemetry tracing (the standard `OTEL_*` variables). */
export interface TracingConfig {
  /** `none`: off, and no OpenTelemetry SDK is loaded. */
  readonly exporter: 'none' | 'otlp' | 'console';
  /** Full URL of the OTLP/HTTP traces endpoint; `null`: the exporter's default. */
  readonly endpoint: string | null;
  readonly serviceName: string;
}

export interface OptixConfig {
  readonly nodeEnv: NodeEnv;
  readonly http: {
    readonly host: string;
    readonly port: number;
    /**
     * Fastify's `trustProxy`: `false`, a hop count, or trusted proxy addresses/CIDR ranges
     * (`true`, every hop, only outside production).
     */
    readonly trustProxy: false | true | number | readonly string[];
    readonly bodyLimitBytes: number;
    /** Whole request (headers and body) deadline; a stalled body is cut after it (408). */
    readonly requestTimeoutMs: number;
    readonly headersTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    /** Socket idle timeout during a request. */
    readonly connectionTimeoutMs: number;
    readonly maxConnections: number;
  };
  readonly logLevel: LogLevel;
  /** Salt of the hashes logged in place of ids. */
  readonly logIdSalt: string;
  /**
   * Secret that seals the user tag in generated ids (`ID_TAG_SECRET`, at least 32 bytes); `null`:
   * the one stored on Redis (created once), or a random one per process with the memory backend.
   */
  readonly idTagSecret: string | null;
  /** `null`: the in-memory backend. */
  readonly redis: RedisConfig | null;
  readonly jwt: JwtConfig;
  readonly sessions: SessionConfig;
  readonly serviceApiKeys: readonly string[];
  /** Keys that open `/metrics` and `/readyz` details (`OPS_API_KEYS`); empty: both are public. */
  readonly opsApiKeys: readonly string[];
  /** Named OAuth clients (introspection, revocation, token endpoint). */
  readonly oauthClients: readonly OAuthClientConfig[];
  /**
   * `OAUTH_ISSUER_URL`: the public base URL of the service, the `issuer` of its RFC 8414
   * metadata; `null`: derived from each metadata request's protocol and host.
   */
  readonly oauthIssuerUrl: string | null;
  readonly rateLimits: RateLimitConfig;
  readonly browser: BrowserConfig;
  /**
   * `ADMIN_ROLE`: the role (in the access token's `roles` claim, granted by the login service)
   * that opens the operator console and its `/v1/operator/*` routes.
   */
  readonly adminRole: string;
  /** 0 = no background cleanup. */
  readonly cleanupIntervalSeconds: number;
  readonly tracing: TracingConfig;
  /** What development mode generated because it was not configured (print once, then forget). */
  readonly generated: {
    readonly jwtSecret: boolean;
    readonly serviceApiKey: string | null;
  };
  /** Things an operator should know at start-up (dev mode, in-memory backend…). */
  readonly warnings: readonly string[];
}
