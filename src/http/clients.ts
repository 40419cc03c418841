/**
 * Callers of the OAuth endpoints (introspection, revocation, token): a service key presented as
 * `Authorization: Bearer <key>` (`SERVICE_API_KEYS`), or a named client of `OAUTH_CLIENTS`
 * authenticating with `client_secret_basic` (RFC 6749 §2.3.1: HTTP Basic over the form-encoded
 * id and secret) or `client_secret_post` (`client_id` and `client_secret` in the form body). Each
 * caller has an audit identity (`client:<id>` or `key:<digest>`) and its own introspection budget,
 * counted in process.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthClientConfig } from '../config/types.js';
import { bearerToken, type Principal } from './auth.js';
import { httpError } from './errors.js';

/** The authenticated caller of a service route. */
export interface ServiceCaller {
  /** `key:<digest>` for a service key, `client:<client_id>` for a named client (logs, limits). */
  readonly id: string;
  /** The OAuth `client_id`, or `null` for a service key. */
  readonly clientId: string | null;
  /** Introspections per minute for this caller (0 = no limit). */
  readonly introspectPerMinute: number;
  /** The request's principal (`{ kind: 'service', keyId: id }`), made once per caller. */
  readonly principal: Principal;
}

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i;

/** `application/x-www-form-urlencoded` decoding of one Basic credential half (RFC 6749 §2.3.1). */
function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** `client_id` and `client_secret` from an HTTP Basic header, or `null` when it is not one. */
export function parseBasic(header: string): { id: string; secret: string } | null {
  const m = BASIC.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  return id === null || secret === null ? null : { id, secret };
}

export interface ClientAuthenticator {
  /**
   * The caller of `request`, from whichever single method it used, or `null` when it presented
   * no credentials. Throws 401 `ERR_UNAUTHORIZED` for wrong credentials and 400 for more than one
   * method at once (RFC 6749 §2.3).
   */
  authenticate(request: FastifyRequest): ServiceCaller | null;
  /** True when `clientId` is a configured (confidential) client. */
  isConfidential(clientId: string): boolean;
}

/**
 * Builds the authenticator. `verifyServiceKey` is the constant-time service-key check of
 * `auth.ts`; a client secret is checked by comparing its SHA-256 with the configured one in
 * constant time (`timingSafeEqual` on two 32-byte digests; an unknown client id is compared
 * against a dummy digest, so the time does not say whether the id exists).
 */
export function createClientAuthenticator(options: {
  clients: readonly OAuthClientConfig[];
  verifyServiceKey: (presented: string) => string | null;
  defaultIntrospectPerMinute: number;
}): ClientAuthenticator {
  const byId = new Map(options.clients.map((c) => [c.clientId, c]));
  const dummy = Buffer.alloc(32);
  const keyCallers = new Map<string, ServiceCaller>();

  function checkClient(id: string, secret: string): ServiceCaller {
    const client = byId.get(id);
    const presented = hash('sha256', secret, 'buffer');
    const same = timingSafeEqual(presented, client?.secretSha256 ?? dummy);
    if (client === undefined || !same) throw httpError('ERR_UNAUTHORIZED', 'invalid client credentials');
    const callerId = `client:${client.clientId}`;
    return {
      id: callerId,
      clientId: client.clientId,
      introspectPerMinute: client.introspectPerMinute ?? options.defaultIntrospectPerMinute,
      principal: Object.freeze({ kind: 'service', keyId: callerId }),
    };
  }

  return {
    isConfidential: (clientId) => byId.has(clientId),
    authenticate(request) {
      const header = request.headers.authorization;
      const body = request.body as Record<string, unknown> | null | undefined;
      const postId = body && typeof body === 'object' ? body.client_id : undefined;
      const postSecret = body && typeof body === 'object' ? body.client_secret : undefined;
      const posted = typeof postSecret === 'string';
      if (typeof header === 'string' && header !== '') {
        if (posted) {
          throw httpError('ERR_VALIDATION', 'use one client authentication method, not two');
        }
        const basic = parseBasic(header);
        if (basic !== null) {
          if (typeof postId === 'string' && postId !== basic.id) {
            throw httpError('ERR_VALIDATION', 'client_id differs from the authenticated client');
          }
          return checkClient(basic.id, basic.secret);
        }
        const bearer = bearerToken(request);
        if (bearer === null) throw httpError('ERR_UNAUTHORIZED', 'unsupported Authorization scheme');
        const keyId = options.verifyServiceKey(bearer);
        if (keyId === null) throw httpError('ERR_UNAUTHORIZED', 'invalid service key');
        let caller = keyCallers.get(keyId);
        if (caller === undefined) {
          const id = `key:${keyId}`;
          caller = {
            id,
            clientId: null,
            introspectPerMinute: options.defaultIntrospectPerMinute,
            principal: Object.freeze({ kind: 'service', keyId: id }),
          };
          keyCallers.set(keyId, caller);
        }
        return caller;
      }
      if (posted) {
        if (typeof postId !== 'string') throw httpError('ERR_VALIDATION', 'client_secret needs client_id');
        return checkClient(postId, postSecret);
      }
      return null;
    },
  };
}

/**
 * Fixed one-minute windows per caller, in process: introspection limits exist to stop a leaked
 * credential from scanning tokens, which needs no count shared across instances, so a gateway's
 * every-request introspection costs a map lookup instead of a Redis round trip. (Hand-written:
 * `@fastify/rate-limit` runs before the body is parsed, so it cannot key by a `client_secret_post`
 * client, and this is a dozen lines.)
 */
export function createLocalLimiter(now: () => number = Date.now) {
  const WINDOW_MS = 60_000;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    /** Counts one request of `id`; the seconds to wait when over `max`, else 0. */
    take(id: string, max: number): number {
      if (max === 0) return 0;
      const t = now();
      let w = windows.get(id);
      if (w === undefined || t - w.start >= WINDOW_MS) {
        // Callers are configured clients and keys: the map is bounded by the configuration.
        w = { start: t, count: 0 };
        windows.set(id, w);
      }
      w.count += 1;
      return w.count > max ? Math.max(1, Math.ceil((w.start + WINDOW_MS - t) / 1000)) : 0;
    },
  };
}

/** Options of the `requireClient` hook. */
export interface RequireClientOptions {
  /** Refuse callers without credentials (introspection); else they pass as anonymous (revocation). */
  required: boolean;
  /** Count the caller against its introspection budget. */
  limit?: { take(id: string, max: number): number; onLimited(request: FastifyRequest): void };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated service caller of an OAuth route, if any. */
    caller: ServiceCaller | null;
  }
}

/**
 * preValidation hook (the body is parsed, so `client_secret_post` works): authenticates the
 * caller, logs its audit identity, and applies its limit. Synchronous (a `done` callback, not
 * `async`): nothing in it waits, and an async hook costs a promise and a microtask turn on every
 * request.
 */
export function requireClient(auth: ClientAuthenticator, options: RequireClientOptions) {
  return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    let caller: ServiceCaller | null;
    try {
      caller = auth.authenticate(request);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (caller === null) {
      done(
        options.required
          ? httpError(
              'ERR_UNAUTHORIZED',
              'client authentication is required (HTTP Basic client_id:client_secret, client_secret_post, or Bearer <service key>)',
            )
          : undefined,
      );
      return;
    }
    request.caller = caller;
    request.principal = caller.principal;
    request.log = request.log.child({ client: caller.id });
    if (options.limit) {
      const wait = options.limit.take(caller.id, caller.introspectPerMinute);
      if (wait > 0) {
        options.limit.onLimited(request);
        reply.header('retry-after', String(wait));
        done(httpError('ERR_RATE_LIMITED', `rate limit exceeded, retry in ${wait} seconds`));
        return;
      }
    }
    done();
  };
}
