/**
 * Remote mode: the token is checked by the service's introspection endpoint (RFC 7662,
 * `POST /v1/introspect`), with a short local cache of positive answers.
 *
 * The staleness bound is exact: an answer is used only by requests that arrived at most
 * `cacheMaxAgeMs` after the introspection producing it was *sent*. The service answers from its
 * state when it receives the request, later than that, so a revocation acknowledged by the service
 * at time T is honoured by every request arriving after T + `cacheMaxAgeMs` (plus the service's own
 * propagation between its instances, milliseconds on Redis). Negative answers are never cached:
 * an inactive token is asked about again, so a token is never refused from cache.
 *
 * The cache is lru-cache (bounded entries, per-entry TTL); concurrent requests with one token share
 * one introspection.
 */
import { LRUCache } from 'lru-cache';
import { ConfigError, OptixError, StoreTimeoutError, StoreUnavailableError } from '../core/errors.js';
import type { AuthVerifier, IntrospectionCredentials, OptixAuth, RemoteModeOptions } from './types.js';

interface CachedAnswer {
  auth: OptixAuth;
  /** `performance.now()` when the introspection was sent. */
  sentAt: number;
}

function intOption(path: string, value: number | undefined, fallback: number, min: number, max: number) {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(path, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** RFC 6749 Appendix B: `application/x-www-form-urlencoded`, as the platform's encoder writes it. */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

/** The `Authorization` header value for the credentials. */
export function authorizationHeader(credentials: IntrospectionCredentials): string {
  const c = credentials as Partial<{ serviceKey: unknown; clientId: unknown; clientSecret: unknown }>;
  if (c === null || typeof c !== 'object') throw new ConfigError('credentials', 'must be an object');
  if ('serviceKey' in c) {
    if (typeof c.serviceKey !== 'string' || !/^[\x21-\x7e]+$/.test(c.serviceKey)) {
      throw new ConfigError('credentials.serviceKey', 'must be a non-empty string of printable ASCII');
    }
    return `Bearer ${c.serviceKey}`;
  }
  if (typeof c.clientId !== 'string' || c.clientId === '') {
    throw new ConfigError('credentials.clientId', 'must be a non-empty string');
  }
  if (typeof c.clientSecret !== 'string' || c.clientSecret === '') {
    throw new ConfigError('credentials.clientSecret', 'must be a non-empty string');
  }
  // RFC 6749 §2.3.1: the id and the secret are form-encoded, then joined by ':' and base64-encoded.
  const pair = `${formEncode(c.clientId)}:${formEncode(c.clientSecret)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** The auth of an active answer, or `null` when the answer is not one we can use. */
function authOf(body: Record<string, unknown>): OptixAuth | null {
  const { sub, jti, exp, sid, scope } = body;
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') return null;
  const scopes = typeof scope === 'string' ? scope.split(' ').filter((w) => w !== '') : [];
  return Object.freeze({
    userId: sub,
    sessionId: typeof sid === 'string' ? sid : null,
    tokenId: jti,
    roles: stringList(body.roles),
    // Our tokens' scope is their permissions, space-separated.
    permissions: Array.isArray(body.permissions) ? stringList(body.permissions) : scopes,
    scope: scopes,
    mfa: body.mfa === true,
    expiresAt: exp * 1000,
    revocationChecked: true,
    mode: 'remote' as const,
  });
}

/**
 * Builds a remote-mode verifier.
 * @throws ConfigError (ERR_CONFIG) for a bad URL, credential or bound.
 * @example
 * const verifier = createRemoteVerifier({ mode: 'remote', url: 'http://sessions:8080',
 *   credentials: { serviceKey: process.env.OPTIX_SERVICE_KEY! } });
 */
export function createRemoteVerifier(options: RemoteModeOptions): AuthVerifier {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new ConfigError('url', 'must be an absolute http(s) URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ConfigError('url', 'must be an http: or https: URL');
  }
  const endpoint = new URL(`${base.pathname.replace(/\/+$/, '')}/v1/introspect`, base).toString();
  const authorization = authorizationHeader(options.credentials);
  const maxAgeMs = intOption('cacheMaxAgeMs', options.cacheMaxAgeMs, 1000, 0, 300_000);
  const maxEntries = intOption('cacheMaxEntries', options.cacheMaxEntries, 10_000, 1, 10_000_000);
  const timeoutMs = intOption('timeoutMs', options.timeoutMs, 2000, 1, 120_000);
  const allow = (options.onUnavailable ?? 'deny') === 'allow';
  if (options.onUnavailable !== undefined && options.onUnavailable !== 'deny' && !allow) {
    throw new ConfigError('onUnavailable', "must be 'deny' or 'allow'");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetchImpl(endpoint, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token }).toString(),
        signal: deadline,
        redirect: 'error',
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        // 401/403: our credential is refused; 429: rate-limited; 5xx: the service's own trouble.
        throw new StoreUnavailableError(`introspection answered HTTP ${res.status}`);
      }
      const body = (await res.json()) as unknown;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new StoreUnavailableError('introspection answered something other than a JSON object');
      }
      return body as Record<string, unknown>;
    } catch (err) {
      if (err instanceof OptixError) throw err;
      if (deadline.aborted) throw new StoreTimeoutError(timeoutMs, 'introspection');
      throw new StoreUnavailableError('the session service could not be reached', { cause: err });
    }
  }

  // Positive answers only, bounded, each dropped at its TTL. With 'deny' the TTL is the freshness
  // left; with 'allow' it runs to the token's expiry, so the answer can stand in during an outage.
  const cache = new LRUCache<string, CachedAnswer>({ max: maxEntries, ttlAutopurge: false });
  // Introspections in flight, by token: concurrent requests with one token share one. Written by
  // hand rather than with lru-cache's `fetch`, which puts the previous (active) answer back when
  // the new one is "inactive"; a token known to be inactive must never be answered from cache.
  const inFlight = new Map<string, Promise<CachedAnswer | null>>();

  function introspectOnce(token: string): Promise<CachedAnswer | null> {
    const pending = inFlight.get(token);
    if (pending !== undefined) return pending;
    const started = (async () => {
      const sentAt = performance.now();
      const body = await introspect(token);
      if (body.active !== true) {
        cache.delete(token);
        return null;
      }
      const auth = authOf(body);
      if (auth === null) throw new StoreUnavailableError('introspection answered an unusable active token');
      const answer = { auth, sentAt };
      const untilExp = auth.expiresAt - Date.now();
      const ttl = allow ? untilExp : Math.min(maxAgeMs - (performance.now() - sentAt), untilExp);
      // lru-cache reads a TTL of 0 as "forever": below 1 ms the answer is not kept.
      if (ttl >= 1) cache.set(token, answer, { ttl: Math.floor(ttl) });
      else cache.delete(token);
      return answer;
    })().finally(() => inFlight.delete(token));
    inFlight.set(token, started);
    return started;
  }

  const fresh = (answer: CachedAnswer, arrival: number) => answer.sentAt >= arrival - maxAgeMs;

  async function lookUp(token: string): Promise<OptixAuth> {
    const arrival = performance.now();
    const cached = cache.get(token);
    let answer: CachedAnswer | null;
    // An answer past its token's exp is never used, even if the cache's own clock (which lru-cache
    // reads at most once per millisecond) still holds it: the service is asked, as on a miss.
    if (cached !== undefined && fresh(cached, arrival) && cached.auth.expiresAt > Date.now()) {
      answer = cached;
    } else {
      try {
        answer = await introspectOnce(token);
        // Joined an introspection sent too long before this request arrived: the next one is sent
        // after that one settled, so after this request arrived.
        if (answer !== null && !fresh(answer, arrival)) answer = await introspectOnce(token);
      } catch (err) {
        const failure =
          err instanceof OptixError ? err : new StoreUnavailableError('introspection failed', { cause: err });
        if (allow && cached !== undefined && cached.auth.expiresAt > Date.now()) {
          return Object.freeze({ ...cached.auth, revocationChecked: false });
        }
        throw failure;
      }
    }
    if (answer === null) {
      throw new OptixError(
        'ERR_UNAUTHORIZED',
        'the access token is not active (invalid, expired or revoked)',
      );
    }
    if (answer.auth.expiresAt <= Date.now()) {
      cache.delete(token);
      throw new OptixError('ERR_JWT_EXPIRED', 'the access token has expired');
    }
    return answer.auth;
  }

  return {
    mode: 'remote',
    verify: (token) => lookUp(token),
    async close() {
      cache.clear();
      inFlight.clear();
    },
  };
}
