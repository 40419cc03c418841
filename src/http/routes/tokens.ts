/**
 * Token endpoints: refresh (rotation with theft detection), revocation (RFC 7009) and
 * introspection (RFC 7662). Revoke and introspect accept JSON or form bodies.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { TokenPair } from '../../services/types.js';
import { isOptixError } from '../../core/errors.js';
import type { RouteContext } from '../context.js';
import { verificationOutcome } from '../metrics.js';
import { authErrors, ErrorResponse, TokenPairView, TokenString, tokenPairBody } from '../schemas.js';

const TokenBody = Type.Object(
  {
    token: TokenString('The token to revoke or inspect'),
    token_type_hint: Type.Optional(
      Type.String({
        maxLength: 64,
        description: '`access_token` or `refresh_token` (a hint; both are tried)',
      }),
    ),
    client_id: Type.Optional(Type.String({ maxLength: 64, description: 'client_secret_post: the client' })),
    client_secret: Type.Optional(
      Type.String({ maxLength: 512, description: 'client_secret_post: its secret' }),
    ),
  },
  { additionalProperties: false },
);

const Introspection = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Type.String()),
  jti: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  iss: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String())),
  /** Whether the token's session was created with MFA verified (for resource servers' MFA rules). */
  mfa: Type.Optional(Type.Boolean()),
});

type AccessPayload = Awaited<ReturnType<RouteContext['optix']['jwt']['verifyToken']>>['payload'];

/**
 * RFC 7662's answer for an active access token: everything in it comes from the token (exported
 * for the bench's bare introspection server, which answers the same).
 */
export function activeAnswer(payload: AccessPayload, mfa: boolean | undefined) {
  return {
    active: true,
    sub: payload.sub,
    jti: payload.jti,
    ...(payload.sid !== undefined ? { sid: payload.sid } : {}),
    exp: payload.exp,
    iat: payload.iat,
    iss: payload.iss,
    aud: payload.aud,
    scope: payload.scope ?? '',
    token_type: 'Bearer',
    ...(payload.email !== undefined ? { email: payload.email } : {}),
    ...(payload.roles !== undefined ? { roles: payload.roles } : {}),
    ...(mfa !== undefined ? { mfa } : {}),
  };
}

/**
 * Serialized answers of active tokens, by verified payload. The JWT service hands out the same
 * frozen payload object each time it meets a token it has verified (its verified-token cache), so
 * a token introspected again is answered without building and serializing the answer anew
 * (~1.5 µs of a ~40 µs request); an answer goes when its payload leaves that cache. Only the
 * answer is reused: the verification, revocation check included, runs on every request.
 */
const activeAnswers = new WeakMap<AccessPayload, string>();

/**
 * An introspection is a use of the token's session: RFC 7662 callers are resource servers and
 * gateways checking the token of a request the user made, so it slides the idle timeout (at most
 * one store write per session per activity interval).
 */
const INTROSPECTION = Object.freeze({ recordActivity: Object.freeze({ endpoint: '/v1/introspect' }) });

/** Codes of a refresh that failed because of the token (as opposed to the store). */
const REFRESH_OUTCOMES: Record<string, string> = {
  ERR_REFRESH_INVALID: 'invalid',
  ERR_REFRESH_REUSED: 'reused',
  ERR_REFRESH_REVOKED: 'revoked',
};

/**
 * Counts a failed refresh by outcome (and a detected reuse, with its revocation and ended
 * session, logged at warn). Returns whether the failure was the token's (invalid, reused or
 * revoked) rather than the store's. Shared by every route that rotates a refresh token.
 */
export function countRefreshFailure(
  err: unknown,
  metrics: RouteContext['metrics'],
  request: { log: { warn(msg: string): void } },
): boolean {
  const outcome = isOptixError(err) ? REFRESH_OUTCOMES[err.code] : undefined;
  if (outcome !== undefined) metrics.refreshes.inc({ outcome });
  if (outcome === 'reused') {
    metrics.reuseDetections.inc();
    metrics.revocations.inc({ kind: 'refresh_family' });
    metrics.sessionsEnded.inc({ reason: 'refresh_reuse' });
    request.log.warn('refresh_reuse_detected');
  }
  return outcome !== undefined;
}

/** `POST /v1/token/refresh`: JSON only (registered outside the form-body scope). */
export const refreshRoute: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  app.post(
    '/v1/token/refresh',
    {
      config: { rateLimit: ctx.rateLimits.refresh },
      schema: {
        tags: ['tokens'],
        summary: 'Rotate a refresh token',
        description:
          'Returns a new access and refresh token. Presenting the just-rotated token again within REFRESH_GRACE_SECONDS returns the same pair; any other reuse revokes the whole family and ends its session (401 ERR_REFRESH_REUSED). A refresh counts as a use of the session: its idle timeout slides.',
        body: Type.Object(
          { refreshToken: TokenString('The current refresh token') },
          { additionalProperties: false },
        ),
        response: { 200: TokenPairView, ...authErrors },
      },
    },
    async (request, reply) => {
      const pair = await rotateRefreshToken(ctx, request, request.body.refreshToken, {
        endpoint: '/v1/token/refresh',
      });
      reply.header('cache-control', 'no-store');
      return tokenPairBody(pair);
    },
  );
};

/**
 * The one refresh of the HTTP layer (`/v1/token/refresh` and the OAuth token endpoint): the
 * library's rotation, with its metrics and the reuse warning.
 */
export async function rotateRefreshToken(
  ctx: RouteContext,
  request: FastifyRequest,
  refreshToken: string,
  options: { endpoint: string; scope?: readonly string[] },
): Promise<TokenPair> {
  const { optix, metrics } = ctx;
  const userAgent = request.headers['user-agent'];
  try {
    const pair = await optix.jwt.refreshTokens(refreshToken, {
      ipAddress: request.ip,
      endpoint: options.endpoint,
      ...(typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, 1024) } : {}),
      ...(options.scope !== undefined ? { scope: options.scope } : {}),
    });
    metrics.refreshes.inc({ outcome: 'rotated' });
    return pair;
  } catch (err) {
    countRefreshFailure(err, metrics, request);
    throw err;
  }
}

/** `POST /v1/revoke` and `POST /v1/introspect`: JSON or forms (RFC 7009/7662), in the form-body scope. */
export const tokenRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics } = ctx;

  app.post(
    '/v1/revoke',
    {
      preValidation: ctx.optionalClient,
      config: { rateLimit: ctx.rateLimits.revoke },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a token (RFC 7009)',
        description:
          'JSON or `application/x-www-form-urlencoded`. No authentication needed (the token is the proof); a caller that authenticates (service key, `client_secret_basic` or `client_secret_post`) is checked and named in the logs. Answers 200 whether or not the token was known or valid. Revoking a refresh token revokes its whole family (every access token of it) and ends its session.',
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: TokenBody,
        response: {
          200: Type.Object({}),
          400: ErrorResponse,
          413: ErrorResponse,
          415: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { token, token_type_hint: hint } = request.body;
      // RFC 7009 §2.2: an invalid token is answered with 200 too; only a store failure is an error.
      const quietly = async (attempt: () => Promise<boolean>) => {
        try {
          return await attempt();
        } catch (err) {
          if (isOptixError(err) && verificationOutcome(err.code) !== 'store_unavailable') return false;
          throw err;
        }
      };
      const tryAccess = async () => {
        const done = await quietly(() => optix.jwt.revokeAccessToken(token, 'rfc7009_revoke'));
        if (done) metrics.revocations.inc({ kind: 'access_token' });
        return done;
      };
      const tryRefresh = async () => {
        const done = await quietly(() => optix.jwt.revokeRefreshToken(token, 'rfc7009_revoke'));
        if (done) {
          metrics.revocations.inc({ kind: 'refresh_family' });
          metrics.sessionsEnded.inc({ reason: 'refresh_revoked' });
        }
        return done;
      };
      // The hint only orders the attempts (RFC 7009 §2.1: the server extends its search).
      if (hint === 'refresh_token') {
        if (!(await tryRefresh())) await tryAccess();
      } else if (!(await tryAccess())) {
        await tryRefresh();
      }
      reply.header('cache-control', 'no-store');
      return {};
    },
  );

  app.post(
    '/v1/introspect',
    {
      preValidation: ctx.requireIntrospectionClient,
      schema: {
        tags: ['tokens'],
        summary: 'Introspect an access token (RFC 7662)',
        description:
          'Signature, expiry, issuer, audience and every revocation (token, family, user, session) are checked. An inactive, unknown or malformed token answers exactly `{"active": false}`. Refresh tokens are opaque and always answer `{"active": false}`. An active token\'s session counts as used: its idle timeout slides (at most one write per session per activity interval).',
        security: [{ serviceKey: [] }, { oauthClient: [] }],
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: TokenBody,
        response: { 200: Introspection, ...authErrors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      let payload: AccessPayload;
      try {
        payload = (await optix.jwt.verifyToken(request.body.token, INTROSPECTION)).payload;
      } catch (err) {
        const code = isOptixError(err) ? err.code : undefined;
        const outcome = verificationOutcome(code);
        metrics.verifications.inc({ outcome });
        // Fail closed, visibly: a store outage is a 503, not a confident "inactive".
        if (outcome === 'store_unavailable') throw err;
        if (code === undefined) throw err;
        return { active: false };
      }
      metrics.verifications.inc({ outcome: 'valid' });
      let answer = activeAnswers.get(payload);
      if (answer === undefined) {
        // A session's MFA flag never changes: read once per token, with the answer.
        const mfa =
          payload.sid === undefined
            ? undefined
            : ((await optix.sessions.getSession(payload.sid))?.mfaVerified ?? false);
        // The route's own serializer (its 200 schema), once per token.
        answer = String(reply.serialize(activeAnswer(payload, mfa)));
        activeAnswers.set(payload, answer);
      }
      // A string with a JSON content type is sent as it is (the type provider only knows objects).
      return reply
        .type('application/json; charset=utf-8')
        .send(answer as unknown as Static<typeof Introspection>);
    },
  );
};
