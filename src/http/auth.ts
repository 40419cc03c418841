/**
 * The two kinds of caller: services (internal and admin routes) with a key from
 * `SERVICE_API_KEYS`, and users (`/v1/me/*`) with their own access token.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isOptixError } from '../core/errors.js';
import type { JwtService, SessionManager } from '../services/types.js';
import type { AccessTokenPayload } from '../services/types.js';
import { httpError } from './errors.js';
import type { Metrics } from './metrics.js';
import { verificationOutcome } from './metrics.js';

/** Who made the request, once authenticated. */
export type Principal =
  | { kind: 'service' /** A short digest naming the key (for rate limits and logs). */; keyId: string }
  | { kind: 'user'; userId: string; sessionId: string | null; payload: AccessTokenPayload; token: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

/** The bearer credential of the request, or `null`. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const m = BEARER.exec(header);
  return m ? m[1]! : null;
}

const digest = (value: string) => hash('sha256', value, 'buffer');

/**
 * Width, in bytes, of the comparison of a presented service key: a public constant, so whether a
 * presented value is "too long" says nothing about the configured keys. Keys longer than this
 * widen it (the configuration allows them; keys are usually 32–64 characters). `timingSafeEqual`
 * costs about a nanosecond a byte here, so the width is kept small.
 */
export const SERVICE_KEY_COMPARE_BYTES = 128;

/**
 * Checks presented keys against the configured ones in constant time: the presented value is
 * written into a zeroed buffer of fixed width and compared, with `timingSafeEqual`, against every
 * configured key padded the same way, together with its length; every key is compared (no early
 * exit), so the time taken depends neither on how much of a key matched nor on any key's length.
 * A presented value wider than the buffer never matches (its length is the caller's own).
 *
 * Written by hand because `timingSafeEqual` needs equal lengths and Node has no constant-time
 * compare for secrets of different lengths. The previous form hashed the presented key to 32
 * bytes first: a SHA-256 per request measured ~6% of the service's CPU on a warm introspection
 * here (node:crypto's Hash object and digest): 2.3–4 µs per check against 0.33 µs for this form.
 */
export function createServiceKeyVerifier(keys: readonly string[]): (presented: string) => string | null {
  const width = Math.max(SERVICE_KEY_COMPARE_BYTES, ...keys.map((k) => Buffer.byteLength(k)));
  const expected = keys.map((k) => {
    const bytes = Buffer.alloc(width);
    bytes.write(k, 'utf8');
    return {
      bytes,
      length: Buffer.byteLength(k),
      keyId: digest(`key-id:${k}`).toString('base64url').slice(0, 12),
    };
  });
  const scratch = Buffer.alloc(width);
  return (presented) => {
    const length = Buffer.byteLength(presented);
    if (length > width) return null;
    scratch.fill(0);
    scratch.write(presented, 'utf8');
    let match: string | null = null;
    for (const e of expected) {
      // Both comparisons run for every key; `&` (not `&&`) keeps the second from being skipped.
      const same = Number(timingSafeEqual(scratch, e.bytes)) & Number(length === e.length);
      if (same === 1) match = e.keyId;
    }
    return match;
  };
}

/** onRequest hook: requires a service key. */
export function requireServiceKey(verify: (presented: string) => string | null) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const presented = bearerToken(request);
    if (presented === null)
      throw httpError('ERR_UNAUTHORIZED', 'a service key is required (Authorization: Bearer <key>)');
    const keyId = verify(presented);
    if (keyId === null) throw httpError('ERR_UNAUTHORIZED', 'invalid service key');
    request.principal = { kind: 'service', keyId };
  };
}

/**
 * onRequest hook: requires the user's own access token (signature, claims and revocation checked,
 * fail closed), then records activity on its session (the idle timeout slides).
 */
export function requireUser(jwt: JwtService, sessions: SessionManager, metrics: Metrics) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request);
    if (token === null)
      throw httpError('ERR_UNAUTHORIZED', 'an access token is required (Authorization: Bearer <token>)');
    let payload: AccessTokenPayload;
    try {
      payload = (await jwt.verifyToken(token)).payload;
      metrics.verifications.inc({ outcome: 'valid' });
    } catch (err) {
      metrics.verifications.inc({ outcome: verificationOutcome(isOptixError(err) ? err.code : undefined) });
      throw err;
    }
    const sessionId = payload.sid ?? null;
    if (sessionId !== null) {
      const live = await sessions.validateSession(sessionId, {
        endpoint: request.routeOptions.url ?? 'unknown',
      });
      // The same answer as the revocation check gives a token of an ended session (docs/errors.md).
      if (live === null) throw httpError('ERR_TOKEN_REVOKED', 'the session of this token has ended');
    }
    request.principal = { kind: 'user', userId: payload.sub, sessionId, payload, token };
  };
}

/** The authenticated user of a `/v1/me` route (the onRequest hook guarantees one). */
export function userOf(request: FastifyRequest): Extract<Principal, { kind: 'user' }> {
  const p = request.principal;
  if (p === null || p.kind !== 'user') throw httpError('ERR_UNAUTHORIZED', 'an access token is required');
  return p;
}

/**
 * onRequest hook of the operator console's routes (`/v1/operator/*`): the user's own access token
 * (as `requireUser`), whose `roles` claim — granted by the login service — must hold `role`
 * (`ADMIN_ROLE`); any other user gets 403 `ERR_FORBIDDEN` and no data.
 */
export function requireAdmin(
  userHook: (request: FastifyRequest, reply: FastifyReply) => Promise<void>,
  role: string,
) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await userHook(request, reply);
    const roles = userOf(request).payload.roles;
    if (!Array.isArray(roles) || !roles.includes(role)) {
      throw httpError('ERR_FORBIDDEN', `the operator console needs the ${role} role`);
    }
  };
}
