/**
 * Browser mode's cookie routes (all under `/v1/browser`, the refresh cookie's path):
 *
 * - `POST /v1/browser/session` exchanges a one-time hand-off code (from `POST /v1/sessions` with
 *   `"transport":"browser"`, passed to the page by the login service) for the refresh cookie and
 *   the access token;
 * - `POST /v1/browser/refresh` rotates the cookie's refresh token (the library's rotation: grace,
 *   theft detection) and returns a new access token;
 * - `POST /v1/browser/logout` revokes the cookie's family, ends its session and clears the cookie.
 *
 * The refresh token is only ever in the `HttpOnly` cookie, never in a body. Every route first
 * passes the CSRF check (`requireBrowserOrigin`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isOptixError } from '../../core/errors.js';
import { clearRefreshCookie, REFRESH_COOKIE, requireBrowserOrigin, setRefreshCookie } from '../browser.js';
import type { RouteContext } from '../context.js';
import { httpError } from '../errors.js';
import { verificationOutcome } from '../metrics.js';
import { accessTokenBody, ErrorResponse } from '../schemas.js';
import { countRefreshFailure } from './tokens.js';

/** What a cookie route returns: the access token only (the refresh token is in the cookie). */
export const BrowserTokenView = Type.Object({
  accessToken: Type.String({ description: 'Keep it in memory only (never in localStorage)' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});

const cookieErrors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
};

const CSRF_NOTE =
  ' Needs an `Origin` listed in CORS_ORIGINS, `X-OPTIX-CSRF: 1` and (when sent) `Sec-Fetch-Mode: cors`; otherwise 403 ERR_ORIGIN_NOT_ALLOWED.';

export const browserRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics } = ctx;
  const csrf = requireBrowserOrigin(optix.config.browser.corsOrigins);
  const cookieMaxAge = optix.config.jwt.refreshTokenTtlSeconds;

  app.post(
    '/v1/browser/session',
    {
      onRequest: csrf,
      config: { rateLimit: ctx.rateLimits.refresh },
      schema: {
        tags: ['browser'],
        summary: 'Exchange a hand-off code for the refresh cookie and an access token',
        description: `The code comes from \`POST /v1/sessions\` with \`"transport":"browser"\`; it is single-use and lives BROWSER_HANDOFF_TTL_SECONDS. Sets the refresh cookie (\`${REFRESH_COOKIE}\`, HttpOnly, Secure, SameSite=Strict, Path=/v1/browser).${CSRF_NOTE}`,
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 256, description: 'The hand-off code' }) },
          { additionalProperties: false },
        ),
        response: { 200: BrowserTokenView, ...cookieErrors },
      },
    },
    async (request, reply) => {
      const pair = await optix.handoffs.redeem(request.body.code);
      setRefreshCookie(reply, pair.refreshToken, cookieMaxAge);
      reply.header('cache-control', 'no-store');
      return accessTokenBody(pair);
    },
  );

  app.post(
    '/v1/browser/refresh',
    {
      onRequest: csrf,
      config: { rateLimit: ctx.rateLimits.refresh },
      schema: {
        tags: ['browser'],
        summary: 'Rotate the refresh cookie and get a new access token',
        description: `Same rotation as \`/v1/token/refresh\`: the just-rotated cookie presented again within REFRESH_GRACE_SECONDS (two tabs at once) gets the same pair; any other reuse revokes the family and ends the session (401 ERR_REFRESH_REUSED). A refused cookie is cleared. No body.${CSRF_NOTE}`,
        response: { 200: BrowserTokenView, ...cookieErrors },
      },
    },
    async (request, reply) => {
      const presented = request.cookies[REFRESH_COOKIE];
      if (presented === undefined || presented === '') {
        throw httpError('ERR_REFRESH_INVALID', 'no refresh cookie: log in again');
      }
      const userAgent = request.headers['user-agent'];
      try {
        const pair = await optix.jwt.refreshTokens(presented, {
          ipAddress: request.ip,
          endpoint: '/v1/browser/refresh',
          ...(typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, 1024) } : {}),
        });
        metrics.refreshes.inc({ outcome: 'rotated' });
        setRefreshCookie(reply, pair.refreshToken, cookieMaxAge);
        reply.header('cache-control', 'no-store');
        return accessTokenBody(pair);
      } catch (err) {
        // A cookie the library refused will never work again; a store failure keeps it (retry).
        if (countRefreshFailure(err, metrics, request)) clearRefreshCookie(reply);
        throw err;
      }
    },
  );

  app.post(
    '/v1/browser/logout',
    {
      onRequest: csrf,
      config: { rateLimit: ctx.rateLimits.revoke },
      schema: {
        tags: ['browser'],
        summary: "Log out: revoke the cookie's refresh family, end its session, clear the cookie",
        description: `Every token of the family stops verifying. 204 also without a cookie or with one already revoked. No body.${CSRF_NOTE}`,
        response: { 204: Type.Null(), ...cookieErrors },
      },
    },
    async (request, reply) => {
      const presented = request.cookies[REFRESH_COOKIE];
      if (presented !== undefined && presented !== '') {
        try {
          if (await optix.jwt.revokeRefreshToken(presented, 'browser_logout')) {
            metrics.revocations.inc({ kind: 'refresh_family' });
            metrics.sessionsEnded.inc({ reason: 'refresh_revoked' });
          }
        } catch (err) {
          // An invalid cookie has nothing to revoke; a store failure must be seen (fail closed:
          // the cookie is kept so the page can retry the logout).
          if (!isOptixError(err) || verificationOutcome(err.code) === 'store_unavailable') throw err;
        }
      }
      clearRefreshCookie(reply);
      reply.header('cache-control', 'no-store');
      return reply.code(204).send(null);
    },
  );
};
