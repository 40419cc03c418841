/** `POST /v1/sessions`: the login service creates a session for a user it has authenticated. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteContext } from '../context.js';
import { authErrors, ErrorResponse, IdString, SessionView, TokenPairView } from '../schemas.js';

const ClaimList = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 256, pattern: '^\\S+$' }), { maxItems: 64, description });

export const CreateSessionBody = Type.Object(
  {
    userId: IdString('The authenticated user'),
    email: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' })),
    roles: Type.Optional(ClaimList('Roles written into the access token')),
    permissions: Type.Optional(ClaimList('Permissions; also the token scope')),
    ipAddress: Type.String({
      minLength: 2,
      maxLength: 45,
      pattern: '^[0-9A-Fa-f.:]+$',
      description: 'Client IPv4/IPv6 address',
    }),
    userAgent: Type.String({ maxLength: 1024 }),
    deviceFingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    deviceId: Type.Optional(IdString('Device id, if the client has one')),
    mfaVerified: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const sessionRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics } = ctx;

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
          201: Type.Object({ session: SessionView, ...TokenPairView.properties }),
          ...authErrors,
          409: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const session = await optix.sessions.createSession({
        userId: b.userId,
        ipAddress: b.ipAddress,
        userAgent: b.userAgent,
        deviceFingerprint: b.deviceFingerprint ?? null,
        deviceId: b.deviceId ?? null,
        mfaVerified: b.mfaVerified ?? false,
      });
      let pair: Awaited<ReturnType<typeof optix.jwt.issueTokenPair>>;
      try {
        pair = await optix.jwt.issueTokenPair({
          userId: b.userId,
          sessionId: session.sessionId,
          ...(b.email !== undefined ? { email: b.email } : {}),
          ...(b.roles !== undefined ? { roles: b.roles } : {}),
          ...(b.permissions !== undefined ? { permissions: b.permissions } : {}),
        });
      } catch (err) {
        // No session without tokens: undo, then report the original failure.
        await optix.sessions.terminateSession(session.sessionId, 'token_issue_failed').catch(() => undefined);
        throw err;
      }
      metrics.sessionsCreated.inc();
      request.log.info({ sessionHash: ctx.hashId(session.sessionId) }, 'session_created');
      reply.code(201).header('cache-control', 'no-store');
      return {
        session,
        accessToken: pair.accessToken,
        refreshToken: pair.refreshToken,
        tokenType: 'Bearer' as const,
        expiresIn: pair.expiresIn,
      };
    },
  );
};
