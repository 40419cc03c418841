/** `POST /v1/sessions`: the login service creates a session for a user it has authenticated. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { grantClaims } from '../../services/login.js';
import type { RouteContext } from '../context.js';
import { httpError } from '../errors.js';
import {
  authErrors,
  ErrorResponse,
  IdString,
  IpAddressString,
  SessionIdString,
  SessionView,
  TokenPairView,
  tokenPairBody,
  UserIdString,
  WORDS,
} from '../schemas.js';

const ClaimList = (description: string) =>
  Type.Array(
    Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: '^\\S+$',
      [WORDS]: 'must be 1-256 characters without spaces',
    }),
    { maxItems: 64, description },
  );

export const CreateSessionBody = Type.Object(
  {
    userId: UserIdString('The authenticated user'),
    email: Type.Optional(
      Type.String({ maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$', [WORDS]: 'must be an email address' }),
    ),
    roles: Type.Optional(ClaimList('Roles written into the access token')),
    permissions: Type.Optional(ClaimList('Permissions; also the token scope')),
    ipAddress: IpAddressString('Client IPv4/IPv6 address'),
    userAgent: Type.String({ maxLength: 1024 }),
    deviceFingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    deviceId: Type.Optional(IdString('Device id, if the client has one')),
    mfaVerified: Type.Optional(Type.Boolean()),
    transport: Type.Optional(
      Type.Union([Type.Literal('body'), Type.Literal('browser')], {
        description:
          '`body` (default): the token pair in this response. `browser`: a one-time `handoffCode` instead, for the page to exchange at `POST /v1/browser/session` (needs CORS_ORIGINS)',
      }),
    ),
  },
  { additionalProperties: false },
);

const SessionParams = Type.Object({ sessionId: SessionIdString });

export const RotateSessionBody = Type.Object(
  {
    email: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' })),
    roles: Type.Optional(ClaimList('Roles written into the new access token (the new privileges)')),
    permissions: Type.Optional(ClaimList('Permissions; also the token scope')),
  },
  { additionalProperties: false },
);

const BrowserHandoffView = Type.Object({
  session: SessionView,
  handoffCode: Type.String({
    description: 'One-time code for the page: `POST /v1/browser/session` with `{ code }`; never log it',
  }),
  handoffExpiresIn: Type.Integer({ description: 'Seconds the code stays valid' }),
});

export const sessionRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics } = ctx;

  app.post(
    '/v1/sessions/:sessionId/mfa',
    {
      onRequest: ctx.requireService,
      schema: {
        tags: ['sessions'],
        summary: 'Mark a session MFA-verified after a step-up',
        description:
          'Called by the login service once the user has passed a second-factor step-up in this session. The session may then trust its device (`POST /v1/me/devices`). Its timeouts are unchanged. 404 when the session is not live.',
        security: [{ serviceKey: [] }],
        params: SessionParams,
        response: { 200: Type.Object({ session: SessionView }), ...authErrors, 404: ErrorResponse },
      },
    },
    async (request) => {
      const session = await optix.sessions.markSessionMfaVerified(request.params.sessionId);
      request.log.info({ sessionHash: ctx.hashId(session.sessionId) }, 'session_mfa_verified');
      return { session };
    },
  );

  app.post(
    '/v1/sessions/:sessionId/rotate',
    {
      onRequest: ctx.requireService,
      schema: {
        tags: ['sessions'],
        summary: 'Rotate a session id on a privilege change, with a new token pair',
        description:
          "Called by the login service when the user's privileges change (role change, step-up, sudo mode). The session moves to a new id at once: the old id, its access tokens and its refresh token stop working, and a new token pair (with the claims given here) is issued for the new id. 404 when the session is not live.",
        security: [{ serviceKey: [] }],
        params: SessionParams,
        body: RotateSessionBody,
        response: {
          200: Type.Object({ session: SessionView, ...TokenPairView.properties }),
          ...authErrors,
          404: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const b = request.body ?? {};
      const session = await optix.sessions.rotateSession(request.params.sessionId);
      const pair = await optix.jwt.issueTokenPair({
        userId: session.userId,
        sessionId: session.sessionId,
        ...grantClaims(b),
      });
      request.log.info({ sessionHash: ctx.hashId(session.sessionId) }, 'session_rotated');
      reply.header('cache-control', 'no-store');
      return { session, ...tokenPairBody(pair) };
    },
  );

  app.post(
    '/v1/devices/check',
    {
      onRequest: ctx.requireService,
      schema: {
        tags: ['sessions'],
        summary: 'Whether a device is trusted for a user (may it skip MFA?)',
        description:
          'Called by the login service before it asks for a second factor. The fingerprint travels in the body, never in a URL (it is a credential: a trusted one skips MFA).',
        security: [{ serviceKey: [] }],
        body: Type.Object(
          {
            userId: UserIdString('The user logging in'),
            deviceFingerprint: Type.String({ minLength: 1, maxLength: 512 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ trusted: Type.Boolean() }), ...authErrors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      reply.header('cache-control', 'no-store');
      return { trusted: await optix.sessions.isDeviceTrusted(b.userId, b.deviceFingerprint) };
    },
  );

  app.post(
    '/v1/sessions',
    {
      onRequest: ctx.requireService,
      schema: {
        tags: ['sessions'],
        summary: 'Create a session and its first token pair',
        description:
          'Called by the login service after it has authenticated the user. Enforces MAX_SESSIONS_PER_USER (evict-oldest, or 409 ERR_SESSION_LIMIT with `deny`).',
        security: [{ serviceKey: [] }],
        body: CreateSessionBody,
        response: {
          201: Type.Union([
            Type.Object({ session: SessionView, ...TokenPairView.properties }),
            BrowserHandoffView,
          ]),
          ...authErrors,
          409: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      // The body is the login's input (schema-checked), plus how the client gets its tokens.
      const { transport, ...input } = request.body;
      const browser = transport === 'browser';
      if (browser && optix.config.browser.corsOrigins.length === 0) {
        throw httpError('ERR_VALIDATION', 'transport "browser" needs CORS_ORIGINS (browser mode is off)');
      }
      // Browser transport: the pair is minted when the page exchanges the code, so the refresh
      // token never passes through the login service or the page's scripts.
      const result = browser ? await optix.loginWithHandoff(input) : await optix.login(input);
      metrics.sessionsCreated.inc();
      request.log.info({ sessionHash: ctx.hashId(result.session.sessionId) }, 'session_created');
      reply.code(201).header('cache-control', 'no-store');
      if ('handoff' in result) {
        const { session, handoff } = result;
        return { session, handoffCode: handoff.code, handoffExpiresIn: handoff.expiresIn };
      }
      return { session: result.session, ...tokenPairBody(result.tokens) };
    },
  );
};
