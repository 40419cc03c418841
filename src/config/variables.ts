/**
 * Every environment variable the service reads, with its default and meaning. The README's and
 * `docs/operations.md`'s configuration tables are written from this list, and a test checks that
 * both name every variable here and that the loader (`load.ts` and the modules it reads through)
 * reads no other.
 */
export interface EnvVariable {
  readonly name: string;
  /** The default as a user would write it; `''` when there is none. */
  readonly default: string;
  readonly description: string;
}

export const ENV_VARIABLES: readonly EnvVariable[] = Object.freeze([
  {
    name: 'NODE_ENV',
    default: 'development',
    description:
      '`development`, `test` or `production` (production refuses to start without `REDIS_URL`, a signing key and service keys).',
  },
  { name: 'HOST', default: '127.0.0.1', description: 'Interface to listen on (`0.0.0.0` in a container).' },
  { name: 'PORT', default: '8080', description: 'TCP port (0 picks a free one).' },
  {
    name: 'TRUST_PROXY',
    default: 'false',
    description:
      'Reverse proxies whose `X-Forwarded-For` is trusted (per-client rate limits then use the address the outermost trusted proxy saw): a hop count (`1` = one proxy in front) or comma-separated proxy addresses/CIDR ranges (`10.0.0.0/8,fd00::/8`; `loopback`, `linklocal`, `uniquelocal`). `true` trusts every hop, so a client picks its own address: refused in production (exit 78).',
  },
  {
    name: 'BODY_LIMIT_BYTES',
    default: '16384',
    description: 'Largest request body accepted; larger → 413 `ERR_PAYLOAD_TOO_LARGE`.',
  },
  {
    name: 'HTTP_REQUEST_TIMEOUT_MS',
    default: '20000',
    description:
      'A request (headers and body) must have arrived within this time; a client that stalls part-way is answered 408 and disconnected (checked every quarter of the smaller of this and `HTTP_HEADERS_TIMEOUT_MS`, at most every 5 s).',
  },
  {
    name: 'HTTP_HEADERS_TIMEOUT_MS',
    default: '10000',
    description:
      'The request headers must have arrived within this time (at most `HTTP_REQUEST_TIMEOUT_MS`).',
  },
  {
    name: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    default: '72000',
    description:
      'An idle keep-alive connection is closed after this time (keep it above the idle timeout of a load balancer in front).',
  },
  {
    name: 'HTTP_CONNECTION_TIMEOUT_MS',
    default: '30000',
    description:
      'A connection on which nothing is received or sent during a request for this long is closed.',
  },
  {
    name: 'HTTP_MAX_CONNECTIONS',
    default: '10000',
    description:
      'Concurrent connections accepted; connections beyond it are closed at once (keep it below the process file-descriptor limit).',
  },
  {
    name: 'LOG_LEVEL',
    default: 'info',
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  },
  {
    name: 'LOG_ID_SALT',
    default: '(random per process)',
    description:
      'Salt of the hashes logged in place of session ids; set the same value on every instance to correlate logs.',
  },
  {
    name: 'REDIS_URL',
    default: '(unset: in-memory)',
    description:
      'Redis URL: `redis://`, `rediss://` (TLS), Sentinel `redis://s1:26379,s2:26379/0?sentinel=mymaster`, Cluster `redis://n1:6379,n2:6379,n3:6379`. Unset: in-memory backend (one process only).',
  },
  {
    name: 'REDIS_MAX_CONNECTIONS',
    default: '50',
    description:
      'Accepted (as in the guide) and validated, 1 to 10000, but it changes nothing: whatever the value, node-redis pipelines every command over one connection per node (standalone: one; Sentinel: one reserved master connection, plus one to a sentinel; Cluster: one per master, none to replicas), and the client-side cache of revocation checks adds one tracked connection per node.',
  },
  {
    name: 'REDIS_SOCKET_TIMEOUT_MS',
    default: '5000',
    description:
      'A connection whose server answers nothing for this long is closed and reconnected; the client sends a `PING` every half of it, so an idle connection stays up (0 = off: no timeout, no `PING`).',
  },
  { name: 'REDIS_CONNECT_TIMEOUT_MS', default: '5000', description: 'Time allowed to open a connection.' },
  {
    name: 'REDIS_COMMAND_TIMEOUT_MS',
    default: '1000',
    description:
      'Deadline of one store operation; past it the request fails with 503 `ERR_STORE_TIMEOUT` instead of hanging.',
  },
  {
    name: 'REDIS_RETRY_ON_TIMEOUT',
    default: 'true',
    description:
      'Reconnect after a timeout or a dropped connection, with backoff from 50 ms doubling up to 500 ms (`false`: no reconnect).',
  },
  {
    name: 'REDIS_CLIENT_CACHE',
    default: 'true',
    description:
      'Client-side cache of revocation and session reads (RESP3 `CLIENT TRACKING`, one more connection per node): a token or session already seen is checked in process, and a revoke anywhere reaches it as an invalidation within ~1 ms; `false` asks Redis every time.',
  },
  {
    name: 'REDIS_CLIENT_CACHE_MODE',
    default: 'broadcast',
    description:
      'How Redis tracks the cached reads: `broadcast` (`CLIENT TRACKING … BCAST` over the key prefixes of revocation and session reads) costs Redis no work per read and lets a first-sight verification batch 16 checks per call, but pushes every write under those prefixes (logins, session activity, revokes) to every instance; `default` pushes each instance only the keys it read, at ~2× the Redis time per first-sight check.',
  },
  {
    name: 'REDIS_FIRST_SIGHT',
    default: 'watch',
    description:
      "A token's first verification, in `broadcast` mode on a standalone server (with TLS or not): `watch` answers it in process, without a read, when the token was minted after this instance began listening, no write to its blacklist entry or its family's revocation mark has been pushed here since, and its user's revoke-all record and its session were read before (each dropped by any write to it); otherwise, and with `read`, it reads Redis. Set `read` while any instance sharing the Redis runs a version from before this variable (they revoke families without the mark).",
  },
  {
    name: 'MAX_CLOCK_SKEW_MS',
    default: '5000',
    description:
      "How far another instance's clock may run ahead of this one's (0–60000 ms). With `REDIS_FIRST_SIGHT=watch`, a token counts as minted after this instance began listening only when its `iat_ms` is at least this much later; a larger real skew could let a token revoked before this instance started pass its first check here.",
  },
  {
    name: 'REDIS_REPLICA_ACKS',
    default: '(1 on Sentinel and Cluster, 0 standalone)',
    description:
      'Replicas that must confirm each revocation (`WAIT`) before it is acknowledged, so a failover cannot undo it. A master with no replica in sync acknowledges alone (counted); a connected replica that lags past `REDIS_COMMAND_TIMEOUT_MS` makes the revocation answer 503. `0`: off (e.g. a Cluster without replicas).',
  },
  {
    name: 'REDIS_SHED_ABOVE_PERCENT',
    default: '90',
    description:
      'With a `maxmemory` set: above this share of it, logins, device trusts and security events are refused (503 `ERR_STORE_BUSY`, events are dropped and counted) so that revocations keep the rest; 0 = off.',
  },
  {
    name: 'REDIS_MEMORY_SAMPLE_INTERVAL_MS',
    default: '1000',
    description:
      'How often `INFO memory` is read for `REDIS_SHED_ABOVE_PERCENT` (sampled, never per request).',
  },
  {
    name: 'REDIS_KEY_PREFIX',
    default: 'optix:',
    description: 'Namespace of every key (letters, digits, `._:-`).',
  },
  {
    name: 'REDIS_TLS_CA_FILE',
    default: '',
    description: 'PEM CA bundle to verify the Redis server (with `rediss://`).',
  },
  {
    name: 'REDIS_TLS_CERT_FILE',
    default: '',
    description: 'PEM client certificate, for servers that require client auth.',
  },
  { name: 'REDIS_TLS_KEY_FILE', default: '', description: 'PEM client key (with `REDIS_TLS_CERT_FILE`).' },
  {
    name: 'JWT_SECRET',
    default: '(dev: generated)',
    description: 'HS256 signing secret, at least 32 bytes. Either this or `JWT_PRIVATE_KEY_FILE`.',
  },
  {
    name: 'ID_TAG_SECRET',
    default: '(on Redis: generated once)',
    description:
      'Secret that seals the user tag in session, refresh-family and event ids, at least 32 bytes. Unset: generated once and kept on Redis (`meta:id_tag_secret`), random per process in memory. Same for every instance and the CLI; changing it invalidates ids handed out.',
  },
  {
    name: 'JWT_PRIVATE_KEY_FILE',
    default: '',
    description:
      'PEM (PKCS#8) private key for `JWT_ALG`; its public key is served at `/.well-known/jwks.json`.',
  },
  {
    name: 'JWT_ALG',
    default: 'EdDSA',
    description: '`EdDSA` (Ed25519) or `ES256` (P-256), for `JWT_PRIVATE_KEY_FILE`.',
  },
  { name: 'JWT_KID', default: '(derived from the key)', description: 'Key id written in the token header.' },
  {
    name: 'JWT_PREVIOUS_KEYS',
    default: '',
    description:
      'Retired keys that still verify, comma-separated `ALG:kid:value` (`HS256:old1:<secret>` or `EdDSA:old2:/path/public.pem`). Keep each until its last token has expired.',
  },
  { name: 'JWT_ISSUER', default: 'optix-sessions', description: '`iss` written and required.' },
  { name: 'JWT_AUDIENCE', default: 'optix', description: '`aud` written and required.' },
  {
    name: 'JWT_CLOCK_TOLERANCE_SECONDS',
    default: '5',
    description:
      'Allowed clock skew between instances for `exp`/`nbf`/`iat`: a token minted by an instance whose clock runs up to this far ahead still verifies at once elsewhere (NTP keeps hosts within milliseconds; 5 s absorbs a host that drifted). Revocation entries outlive `exp` by as much.',
  },
  { name: 'ACCESS_TOKEN_TTL_SECONDS', default: '900', description: 'Access token life.' },
  {
    name: 'REFRESH_TOKEN_TTL_SECONDS',
    default: '2592000',
    description: 'Refresh token (family) life, 30 days.',
  },
  {
    name: 'REFRESH_GRACE_SECONDS',
    default: '10',
    description:
      'Window in which the just-rotated refresh token returns the same new pair instead of counting as theft.',
  },
  {
    name: 'SESSION_IDLE_TIMEOUT_MINUTES',
    default: '30',
    description:
      'Sliding idle timeout of a session: refreshes, introspections and `/v1/me/*` calls keep it alive (docs/operations.md, "What keeps a session alive").',
  },
  {
    name: 'SESSION_ABSOLUTE_TIMEOUT_MINUTES',
    default: '720',
    description: 'Hard end of a session (12 h), never extended.',
  },
  { name: 'MAX_SESSIONS_PER_USER', default: '5', description: 'Live sessions per user.' },
  {
    name: 'SESSION_LIMIT_POLICY',
    default: 'evict-oldest',
    description: '`evict-oldest` or `deny` (409 `ERR_SESSION_LIMIT`) at the cap.',
  },
  {
    name: 'MAX_TRUSTED_DEVICES_PER_USER',
    default: '20',
    description:
      'Trusted devices per user; trusting one more ends the trust that ends first (event `trusted_device_evicted`).',
  },
  {
    name: 'MAX_SECURITY_EVENTS_PER_USER',
    default: '1000',
    description: 'Security events kept per user; the oldest beyond it are deleted (record and index entry).',
  },
  {
    name: 'SERVICE_API_KEYS',
    default: '(dev: generated)',
    description:
      'Comma-separated keys (≥ 32 characters each) accepted as `Authorization: Bearer <key>` on service and admin routes. Several allow rotation.',
  },
  {
    name: 'OPS_API_KEYS',
    default: '(unset: public)',
    description:
      'Comma-separated keys (≥ 32 characters each) for the operations endpoints. When set, `GET /metrics` answers 401 `ERR_UNAUTHORIZED` without `Authorization: Bearer <key>`, and `GET /readyz` answers its status to anyone but its Redis details only with a key. Service keys do not open them (a scraper needs no admin power).',
  },
  {
    name: 'OAUTH_CLIENTS',
    default: '',
    description:
      'Named OAuth clients of the introspection, revocation and token endpoints (`client_secret_basic` or `client_secret_post`), comma-separated `client_id:sha256:<hex SHA-256 of the secret>[:<introspections per minute>]`. Secrets: ≥ 32 random characters (`openssl rand -base64 32`), hashed with `printf %s "$SECRET" | sha256sum`.',
  },
  {
    name: 'OAUTH_ISSUER_URL',
    default: '(derived from the request)',
    description:
      'Public base URL of the service (`https://sessions.example`): the `issuer` of `/.well-known/oauth-authorization-server` and the base of the endpoints it lists.',
  },
  {
    name: 'RATE_LIMIT_REFRESH_PER_MINUTE',
    default: '60',
    description: 'Refreshes per client address per minute (0 = off).',
  },
  {
    name: 'RATE_LIMIT_REVOKE_PER_MINUTE',
    default: '60',
    description: 'Revocations per client address per minute (0 = off).',
  },
  {
    name: 'RATE_LIMIT_INTROSPECT_PER_MINUTE',
    default: '600000',
    description:
      'Introspections per minute per service key or OAuth client, counted in each instance (0 = off); an `OAUTH_CLIENTS` entry can set its own. The default (10,000/s) fits a gateway that introspects every request.',
  },
  {
    name: 'RATE_LIMIT_ME_WRITES_PER_MINUTE',
    default: '30',
    description:
      'Writes per user per minute on `/v1/me/*` (logout, logout-others, ending a session, trusting or untrusting a device; 0 = off). Shared through Redis.',
  },
  {
    name: 'CLEANUP_INTERVAL_SECONDS',
    default: '300',
    description:
      'Interval of the background cleanup job (0 = off). One instance sweeps at a time (Redis lock).',
  },
  {
    name: 'CORS_ORIGINS',
    default: '(unset: none)',
    description:
      'Comma-separated origins of browser apps (`https://app.example.com`, exact: scheme, host and port, no path) allowed to call `/v1/browser/*` (cookie transport) and `/v1/me/*` from a page. Unset: no CORS header is ever sent and browser mode is off.',
  },
  {
    name: 'BROWSER_HANDOFF_TTL_SECONDS',
    default: '60',
    description:
      'Life of the one-time hand-off code that `POST /v1/sessions` with `"transport":"browser"` returns and the page exchanges for its refresh cookie (5 to 600).',
  },
  {
    name: 'ADMIN_ROLE',
    default: 'optix:admin',
    description:
      'The role, in the `roles` claim of the access token the login service has issued (`POST /v1/sessions` with `"roles"`), that opens the operator console (`/admin`) and the `/v1/operator/*` routes; any other user gets 403 `ERR_FORBIDDEN`.',
  },
  {
    name: 'OTEL_TRACES_EXPORTER',
    default: '(none: tracing off)',
    description:
      'OpenTelemetry tracing: `otlp` (OTLP/HTTP, JSON) or `console`; `none` or unset: off, and no OpenTelemetry SDK is loaded. Setting `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` alone means `otlp`; `OTEL_SDK_DISABLED=true` turns it off.',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: '',
    description:
      'Base URL of the OTLP/HTTP collector (`/v1/traces` is appended), e.g. `http://otel-collector:4318`; unset: `http://localhost:4318`.',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    default: '',
    description: 'Full URL traces are posted to; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.',
  },
  {
    name: 'OTEL_SERVICE_NAME',
    default: 'optix-sessions',
    description: '`service.name` of the exported spans.',
  },
  {
    name: 'OTEL_SDK_DISABLED',
    default: '',
    description: '`true` turns tracing off whatever else is set.',
  },
]);
