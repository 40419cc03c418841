/** `/v1/admin/*`: operator actions, with a service key. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { tokenCleanupStats } from '../../services/cleanup.js';
import type { RouteContext } from '../context.js';
import { httpError } from '../errors.js';
import {
  authErrors,
  ErrorResponse,
  EventsQuery,
  parseApiTime,
  SecurityEventView,
  SessionIdString,
  UserIdString,
  SessionView,
} from '../schemas.js';

const security = [{ serviceKey: [] }];
const UserParams = Type.Object({ userId: UserIdString('User id') });

export const StatsView = Type.Object({
  backend: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
  store: Type.Object({
    sessions: Type.Integer(),
    blacklistEntries: Type.Integer(),
    families: Type.Integer(),
    revokedFamilies: Type.Integer(),
    trustedDevices: Type.Integer(),
    securityEvents: Type.Integer(),
  }),
  redis: Type.Union([
    Type.Null(),
    Type.Object({
      usedMemoryBytes: Type.Union([Type.Number(), Type.Null()]),
      usedMemoryHuman: Type.Union([Type.String(), Type.Null()]),
      maxmemoryPolicy: Type.Union([Type.String(), Type.Null()]),
      connectedClients: Type.Union([Type.Number(), Type.Null()]),
      opsPerSec: Type.Union([Type.Number(), Type.Null()]),
      keyspaceHits: Type.Union([Type.Number(), Type.Null()]),
      keyspaceMisses: Type.Union([Type.Number(), Type.Null()]),
      evictedKeys: Type.Union([Type.Number(), Type.Null()]),
      expiredKeys: Type.Union([Type.Number(), Type.Null()]),
      keyspace: Type.Record(Type.String(), Type.String()),
      slowlog: Type.Object(
        {
          entries: Type.Array(
            Type.Object({
              id: Type.Integer(),
              timestamp: Type.Number({ description: 'epoch ms' }),
              durationMicros: Type.Integer(),
              command: Type.String(),
              scriptSha1: Type.Union([Type.String(), Type.Null()]),
              script: Type.Union([Type.String(), Type.Null()], { description: 'our Lua script, by name' }),
              argumentCount: Type.Integer(),
              clientName: Type.String(),
              node: Type.String(),
            }),
          ),
          error: Type.Union([Type.String(), Type.Null()]),
        },
        { description: 'SLOWLOG GET 10, newest first; arguments are never shown (they hold ids)' },
      ),
    }),
  ]),
});

const CleanupView = Type.Object({
  skipped: Type.Boolean({ description: 'another instance held the cleanup lock: nothing was done' }),
  jwt: Type.Union(
    [Type.Null(), Type.Object({ blacklistIndexEntries: Type.Integer(), durationMs: Type.Number() })],
    { description: 'The token-index share of `sessions` (the same round, counted once); null when skipped' },
  ),
  sessions: Type.Object({
    sessionIndexEntries: Type.Integer(),
    deviceIndexEntries: Type.Integer(),
    blacklistIndexEntries: Type.Integer(),
    trustedDeviceIndexEntries: Type.Integer(),
    securityEventIndexEntries: Type.Integer(),
    scanned: Type.Integer(),
    durationMs: Type.Number(),
  }),
});

export const adminRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics } = ctx;
  const { sessions } = optix;
  const onRequest = ctx.requireService;

  app.get(
    '/v1/admin/users/:userId/sessions',
    {
      onRequest,
      schema: {
        tags: ['admin'],
        summary: "A user's live sessions",
        security,
        params: UserParams,
        response: { 200: Type.Object({ sessions: Type.Array(SessionView) }), ...authErrors },
      },
    },
    async (request) => ({ sessions: await sessions.listUserSessions(request.params.userId) }),
  );

  app.delete(
    '/v1/admin/users/:userId/sessions',
    {
      onRequest,
      schema: {
        tags: ['admin'],
        summary: 'Revoke everything of a user: every session ends, every token stops verifying (O(1))',
        security,
        params: UserParams,
        response: { 200: Type.Object({ ended: Type.Integer() }), ...authErrors },
      },
    },
    async (request) => {
      const { userId } = request.params;
      const ended = await optix.revokeUser(userId, 'admin_revoke_user');
      metrics.revocations.inc({ kind: 'user' });
      if (ended > 0) metrics.sessionsEnded.inc({ reason: 'admin' }, ended);
      return { ended };
    },
  );

  app.delete(
    '/v1/admin/sessions/:sessionId',
    {
      onRequest,
      schema: {
        tags: ['admin'],
        summary: 'End a session',
        security,
        params: Type.Object({ sessionId: SessionIdString }),
        response: { 204: Type.Null(), ...authErrors, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { sessionId } = request.params;
      if (!(await sessions.terminateSession(sessionId, 'admin_terminated'))) {
        throw httpError('ERR_SESSION_NOT_FOUND', 'no such session');
      }
      metrics.sessionsEnded.inc({ reason: 'admin' });
      metrics.revocations.inc({ kind: 'session' });
      request.log.info({ sessionHash: ctx.hashId(sessionId) }, 'session_terminated_by_admin');
      reply.code(204);
      return null;
    },
  );

  app.get(
    '/v1/admin/users/:userId/security-events',
    {
      onRequest,
      schema: {
        tags: ['admin'],
        summary: "A user's security events, newest first",
        security,
        params: UserParams,
        querystring: EventsQuery,
        response: { 200: Type.Object({ events: Type.Array(SecurityEventView) }), ...authErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const events = await sessions.listSecurityEvents(request.params.userId, {
        ...(q.since !== undefined ? { since: parseApiTime(q.since)! } : {}),
        ...(q.until !== undefined ? { until: parseApiTime(q.until)! } : {}),
        limit: q.limit ?? 50,
      });
      return { events };
    },
  );

  app.post(
    '/v1/admin/cleanup',
    {
      onRequest,
      schema: {
        tags: ['admin'],
        summary: 'Prune expired index entries now (as the background job does)',
        description:
          'One instance sweeps at a time (a Redis lock): while another holds it, nothing is looked at and `skipped` is true.',
        security,
        response: { 200: CleanupView, ...authErrors },
      },
    },
    async () => {
      const outcome = await optix.cleanup();
      if (outcome.status === 'skipped') return { skipped: true, jwt: null, sessions: outcome.stats };
      return { skipped: false, jwt: tokenCleanupStats(outcome.stats), sessions: outcome.stats };
    },
  );

  app.get(
    '/v1/admin/stats',
    {
      onRequest,
      schema: {
        tags: ['admin'],
        summary: 'Store counts, Redis INFO (memory, clients, stats, keyspace) and SLOWLOG',
        security,
        response: { 200: StatsView, ...authErrors },
      },
    },
    async () => optix.stats(),
  );
};
