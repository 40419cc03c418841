/**
 * OAuth 2.0 interop, so standard client libraries work unchanged: the authorization-server
 * metadata (RFC 8414) and a token endpoint that takes the refresh grant (RFC 6749 §6) and answers
 * errors as RFC 6749 §5.2 says (`{"error": "invalid_grant", "error_description": …}`). The
 * rotation, grace window and theft detection are the library's, shared with `/v1/token/refresh`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isOptixError } from '../../core/errors.js';
import type { RouteContext } from '../context.js';
import { toHttpError } from '../errors.js';
import { describeValidationOf } from '../validation.js';
import { rotateRefreshToken } from './tokens.js';

export const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const OAUTH_TOKEN_PATH = '/v1/oauth/token';

/** The public base URL: `OAUTH_ISSUER_URL`, or the request's own scheme and host. */
function issuerOf(ctx: RouteContext, request: FastifyRequest): string {
  return ctx.optix.config.oauthIssuerUrl ?? `${request.protocol}://${request.host}`;
}

/** `GET /.well-known/oauth-authorization-server` (RFC 8414). */
export const oauthMetadataRoute: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { config } = ctx.optix;
  app.get(
    OAUTH_METADATA_PATH,
    {
      schema: {
        tags: ['tokens'],
        summary: 'OAuth 2.0 authorization-server metadata (RFC 8414)',
        description:
          'Where the token (refresh grant), introspection and revocation endpoints are, and how clients authenticate. `issuer` is `OAUTH_ISSUER_URL`, or the scheme and host of this request when it is unset.',
        response: {
          200: Type.Object({
            issuer: Type.String(),
            token_endpoint: Type.String(),
            introspection_endpoint: Type.String(),
            revocation_endpoint: Type.String(),
            jwks_uri: Type.Optional(Type.String()),
            response_types_supported: Type.Array(Type.String()),
            grant_types_supported: Type.Array(Type.String()),
            token_endpoint_auth_methods_supported: Type.Array(Type.String()),
            introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
            revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
            scopes_supported: Type.Optional(Type.Array(Type.String())),
          }),
        },
      },
    },
    async (request, reply) => {
      const issuer = issuerOf(ctx, request);
      // Derived from the Host header when OAUTH_ISSUER_URL is unset: never let a cache keep it.
      reply.header('cache-control', config.oauthIssuerUrl === null ? 'no-store' : 'public, max-age=300');
      return {
        issuer,
        token_endpoint: `${issuer}${OAUTH_TOKEN_PATH}`,
        introspection_endpoint: `${issuer}/v1/introspect`,
        revocation_endpoint: `${issuer}/v1/revoke`,
        ...(config.jwt.asymmetric ? { jwks_uri: `${issuer}/.well-known/jwks.json` } : {}),
        // No authorization endpoint: sessions are created by the login service (POST /v1/sessions).
        response_types_supported: [],
        grant_types_supported: ['refresh_token'],
        // `none`: a public client's refresh token is its own proof, as at /v1/token/refresh.
        token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      };
    },
  );
};

/** RFC 6749 §5.2 error codes used here. */
type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'slow_down'
  | 'temporarily_unavailable'
  | 'server_error';

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

/** Our catalog's codes as RFC 6749 §5.2 errors (status, `error`). */
const FROM_CATALOG: Readonly<Record<string, [number, OAuthErrorCode]>> = {
  ERR_REFRESH_INVALID: [400, 'invalid_grant'],
  ERR_REFRESH_REUSED: [400, 'invalid_grant'],
  ERR_REFRESH_REVOKED: [400, 'invalid_grant'],
  ERR_UNAUTHORIZED: [401, 'invalid_client'],
  ERR_RATE_LIMITED: [429, 'slow_down'],
  ERR_STORE_UNAVAILABLE: [503, 'temporarily_unavailable'],
  ERR_STORE_TIMEOUT: [503, 'temporarily_unavailable'],
};

/** Any failure of the token endpoint in RFC 6749 §5.2 form. */
function sendOAuthError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  let status: number;
  let error: OAuthErrorCode;
  let description: string;
  if (err instanceof OAuthError) {
    ({ status, error, description } = err);
  } else {
    // Everything else goes through the project's own mapping first (schema, framework, catalog).
    const view = toHttpError(err, describeValidationOf(request));
    const mapped = FROM_CATALOG[view.body.error.code];
    if (isOptixError(err) && err.code === 'ERR_INVALID_ARGUMENT' && /^scope:/.test(err.message)) {
      [status, error] = [400, 'invalid_scope'];
    } else if (mapped !== undefined) {
      [status, error] = mapped;
    } else if (view.status === 413 || view.status === 415 || view.status === 400) {
      [status, error] = [400, 'invalid_request'];
    } else {
      [status, error] = [500, 'server_error'];
    }
    description = view.body.error.message;
    if (view.serverFault) request.log.error({ err, code: view.body.error.code }, 'request_failed');
    else request.log.info({ code: view.body.error.code, oauthError: error }, 'request_rejected');
  }
  if (
    status === 401 &&
    typeof request.headers.authorization === 'string' &&
    /^basic/i.test(request.headers.authorization)
  ) {
    reply.header('www-authenticate', 'Basic realm="optix-sessions", charset="UTF-8"');
  }
  if (status === 503) reply.header('retry-after', '1');
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  reply.code(status).send({ error, error_description: description });
}

const OAuthErrorBody = Type.Object({ error: Type.String(), error_description: Type.String() });

/** A space-delimited scope parameter (RFC 6749 §3.3): `NQCHAR`s, no empty tokens. */
function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const tokens = value.split(' ');
  if (tokens.some((t) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(t))) {
    throw new OAuthError(400, 'invalid_scope', 'scope must be space-separated scope tokens');
  }
  return tokens;
}

/** `POST /v1/oauth/token`: the refresh grant, form-encoded (JSON too), in the form-body scope. */
export const oauthTokenRoute: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  app.post(
    OAUTH_TOKEN_PATH,
    {
      config: { rateLimit: ctx.rateLimits.refresh },
      preValidation: ctx.optionalClient,
      errorHandler: (err: FastifyError, request, reply) => sendOAuthError(err, request, reply),
      schema: {
        tags: ['tokens'],
        summary: 'OAuth 2.0 token endpoint: refresh grant (RFC 6749 §6)',
        description:
          '`application/x-www-form-urlencoded` (or JSON): `grant_type=refresh_token&refresh_token=…`, optional `scope` (a subset of the granted permissions; the refresh token keeps the full grant). The same rotation, grace window and theft detection as `/v1/token/refresh`. Public clients send no credentials (or only `client_id`); a client of `OAUTH_CLIENTS` must authenticate (`client_secret_basic` or `client_secret_post`). Errors are RFC 6749 §5.2 bodies: `invalid_grant` (unknown, revoked, reused or ended), `invalid_request`, `invalid_client`, `invalid_scope`, `unsupported_grant_type`; `slow_down` (429) and `temporarily_unavailable` (503) as extensions.',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        // Every field is checked by the handler, so that a missing one is an RFC 6749 error.
        body: Type.Object({
          grant_type: Type.Optional(Type.String({ maxLength: 64 })),
          refresh_token: Type.Optional(Type.String({ maxLength: 8192 })),
          scope: Type.Optional(Type.String({ maxLength: 4096 })),
          client_id: Type.Optional(Type.String({ maxLength: 256 })),
          client_secret: Type.Optional(Type.String({ maxLength: 512 })),
        }),
        response: {
          200: Type.Object({
            access_token: Type.String(),
            token_type: Type.Literal('Bearer'),
            expires_in: Type.Integer(),
            refresh_token: Type.String(),
            scope: Type.Optional(Type.String()),
          }),
          400: OAuthErrorBody,
          401: OAuthErrorBody,
          429: OAuthErrorBody,
          503: OAuthErrorBody,
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      if (body.grant_type === undefined)
        throw new OAuthError(400, 'invalid_request', 'grant_type is required');
      if (body.grant_type !== 'refresh_token') {
        throw new OAuthError(400, 'unsupported_grant_type', 'only grant_type=refresh_token is supported');
      }
      // A confidential client that did not authenticate must not pass as a public one.
      if (
        request.caller === null &&
        body.client_id !== undefined &&
        ctx.clients.isConfidential(body.client_id)
      ) {
        throw new OAuthError(401, 'invalid_client', 'this client must authenticate');
      }
      if (body.refresh_token === undefined || body.refresh_token === '') {
        throw new OAuthError(400, 'invalid_request', 'refresh_token is required');
      }
      const scope = parseScope(body.scope);
      const pair = await rotateRefreshToken(ctx, request, body.refresh_token, {
        endpoint: '/v1/oauth/token',
        ...(scope !== undefined ? { scope } : {}),
      });
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return {
        access_token: pair.accessToken,
        token_type: 'Bearer' as const,
        expires_in: pair.expiresIn,
        refresh_token: pair.refreshToken,
        ...(scope !== undefined ? { scope: [...new Set(scope)].join(' ') } : {}),
      };
    },
  );
};
