/**
 * `/v1/operator/*`: the operator console's API (`/admin`). Authorized by the operator's own access
 * token (browser mode: the console holds it in memory), which must carry `ADMIN_ROLE` in its
 * `roles` claim — granted by the login service, never by this service. Anyone else gets 403
 * `ERR_FORBIDDEN` and no data. The service-key routes of `/v1/admin/*` are unchanged; the
 * overview is also there for services (`GET /v1/admin/overview`).
 *
 * Every action records a security event on the affected user's timeline (`admin_action`) with the
 * operator's user id and the reason the operator typed, after the session manager's own event.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { userOf } from '../auth.js';
import type { RouteContext } from '../context.js';
import { httpError } from '../errors.js';
import { pageOfEvents } from '../event-pages.js';
import {
  authErrors,
  ErrorResponse,
  EventsQuery,
  parseApiTime,
  SecurityEventView,
  SessionIdString,
  SessionView,
  TrustedDeviceView,
  UserIdString,
} from '../schemas.js';
import { ClientView, describeUserAgent } from '../user-agent.js';

const security = [{ userToken: [] }];
const adminErrors = { ...authErrors, 403: ErrorResponse };
const UserParams = Type.Object({ userId: UserIdString('User id (as the login service names the user)') });

const ReasonBody = Type.Object(
  {
    reason: Type.String({
      minLength: 3,
      maxLength: 500,
      pattern: '\\S',
      description: 'Why (kept in the security event, shown on the user’s timeline)',
    }),
  },
  { additionalProperties: false },
);

const OperatorSessionView = Type.Object({
  ...SessionView.properties,
  client: Type.Optional(ClientView),
});
const NextUntil = Type.Union([Type.Integer(), Type.Null()], {
  description: 'The `until` of the next, older page of events (ms since the epoch); `null`: no more',
});
/** Events per page of the operator's view of a timeline. */
const EVENTS_PAGE = 50;

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);

export const OverviewView = Type.Object({
  generatedAt: Type.Integer({ description: 'ms since the epoch' }),
  backend: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
  minutes: Type.Array(
    Type.Object({
      minute: Type.Integer({ description: 'start of the minute, ms since the epoch' }),
      logins: Type.Integer(),
      refreshes: Type.Integer(),
      revocations: Type.Integer(),
      reuse: Type.Integer({ description: 'refresh-token reuse detected (theft response)' }),
      sessions: Type.Union([Type.Integer(), Type.Null()], {
        description: 'live sessions, sampled once a minute while a console is open',
      }),
      cacheHitRatio: Nullable(Type.Number()),
    }),
    { description: 'the last hour, oldest first; the last minute is the current one' },
  ),
  lastHour: Type.Object({
    logins: Type.Integer(),
    refreshes: Type.Integer(),
    revocations: Type.Integer(),
    reuse: Type.Integer(),
  }),
  revocationCache: Type.Object({
    enabled: Type.Boolean(),
    hits: Type.Integer(),
    misses: Type.Integer(),
    hitRatio: Nullable(Type.Number()),
  }),
  redis: Type.Union([
    Type.Null(),
    Type.Object({
      status: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy')]),
      topology: Type.String(),
      latencyMs: Nullable(Type.Number()),
      usedMemoryBytes: Nullable(Type.Number()),
      maxmemoryBytes: Nullable(Type.Number()),
      maxmemoryPolicy: Type.Union([Type.String(), Type.Null()]),
      memoryPercent: Nullable(Type.Number()),
      connectedClients: Nullable(Type.Number()),
      opsPerSec: Nullable(Type.Number()),
      slowlog: Type.Object({
        entries: Type.Array(
          Type.Object({
            id: Type.Integer(),
            timestamp: Type.Number(),
            durationMicros: Type.Integer(),
            command: Type.String(),
            script: Type.Union([Type.String(), Type.Null()]),
            argumentCount: Type.Integer(),
            node: Type.String(),
          }),
        ),
        error: Type.Union([Type.String(), Type.Null()]),
      }),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
  ]),
  flushIntervalMs: Type.Integer({ description: 'other instances’ counts arrive up to this late' }),
});

const OVERVIEW_SUMMARY =
  'Live overview: per-minute activity over the last hour, revocation cache, Redis health';
const OVERVIEW_DESCRIPTION =
  'Logins, refreshes, revocations and detected refresh-token reuse per minute (every instance sharing the store), live sessions sampled once a minute, the revocation cache’s hit ratio, Redis topology, memory against maxmemory, PING latency and SLOWLOG. Counts of other instances arrive up to `flushIntervalMs` late.';

export const operatorRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics } = ctx;
  const { sessions } = optix;
  const onRequest = ctx.requireAdmin;

  /** The `admin_action` event on the affected user's timeline: who, what, why. */
  const audit = async (
    request: FastifyRequest,
    userId: string,
    action: 'end_session' | 'revoke_user',
    details: Record<string, string | number>,
    reason: string,
  ) => {
    const operator = userOf(request);
    const userAgent = request.headers['user-agent'];
    await optix.stores.securityEvents.record({
      type: 'admin_action',
      userId,
      severity: 'warning',
      ipAddress: request.ip,
      userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 1024) : null,
      details: {
        action,
        operator: operator.userId,
        ...(operator.payload.email !== undefined ? { operatorEmail: operator.payload.email } : {}),
        reason: reason.trim(),
        ...details,
      },
    });
    request.log.info(
      { action, operatorHash: ctx.hashId(operator.userId), userHash: ctx.hashId(userId) },
      'operator_action',
    );
  };

  app.get(
    '/v1/operator/me',
    {
      onRequest,
      schema: {
        tags: ['operator'],
        summary: 'The signed-in operator (the console checks its access with it)',
        security,
        response: {
          200: Type.Object({
            userId: Type.String(),
            email: Type.Union([Type.String(), Type.Null()]),
            role: Type.String({ description: 'ADMIN_ROLE, which the token carries' }),
          }),
          ...adminErrors,
        },
      },
    },
    async (request) => {
      const me = userOf(request);
      return { userId: me.userId, email: me.payload.email ?? null, role: optix.config.adminRole };
    },
  );

  app.get(
    '/v1/operator/users/:userId',
    {
      onRequest,
      schema: {
        tags: ['operator'],
        summary: "A user's live sessions, trusted devices and the first page of the security timeline",
        description:
          'Sessions and events carry `client`, their user agent in words. Older events: `GET /v1/operator/users/:userId/events?until=<nextUntil>`.',
        security,
        params: UserParams,
        response: {
          200: Type.Object({
            userId: Type.String(),
            sessions: Type.Array(OperatorSessionView),
            devices: Type.Array(TrustedDeviceView),
            events: Type.Array(SecurityEventView),
            nextUntil: NextUntil,
          }),
          ...adminErrors,
        },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const [list, devices, page] = await Promise.all([
        sessions.listUserSessions(userId),
        sessions.listTrustedDevices(userId),
        pageOfEvents((options) => sessions.listSecurityEvents(userId, options), { limit: EVENTS_PAGE }),
      ]);
      reply.header('cache-control', 'no-store');
      return {
        userId,
        sessions: list.map((s) => ({ ...s, client: describeUserAgent(s.userAgent) })),
        devices,
        events: page.events.map(withClient),
        nextUntil: page.nextUntil,
      };
    },
  );

  app.get(
    '/v1/operator/users/:userId/events',
    {
      onRequest,
      schema: {
        tags: ['operator'],
        summary: "A user's security events, newest first, paged (as /v1/me/security-events)",
        security,
        params: UserParams,
        querystring: EventsQuery,
        response: {
          200: Type.Object({ events: Type.Array(SecurityEventView), nextUntil: NextUntil }),
          ...adminErrors,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { userId } = request.params;
      const page = await pageOfEvents((options) => sessions.listSecurityEvents(userId, options), {
        ...(q.since !== undefined ? { since: parseApiTime(q.since)! } : {}),
        ...(q.until !== undefined ? { until: parseApiTime(q.until)! } : {}),
        limit: q.limit ?? EVENTS_PAGE,
      });
      reply.header('cache-control', 'no-store');
      return { events: page.events.map(withClient), nextUntil: page.nextUntil };
    },
  );

  app.post(
    '/v1/operator/sessions/:sessionId/end',
    {
      onRequest,
      config: { rateLimit: ctx.rateLimits.meWrite },
      schema: {
        tags: ['operator'],
        summary: 'End one session (its tokens stop verifying at once), with a reason',
        security,
        params: Type.Object({ sessionId: SessionIdString }),
        body: ReasonBody,
        response: { 200: Type.Object({ ended: Type.Literal(true) }), ...adminErrors, 404: ErrorResponse },
      },
    },
    async (request) => {
      const { sessionId } = request.params;
      const session = await sessions.getSession(sessionId);
      if (session === null || !(await sessions.terminateSession(sessionId, 'admin_terminated'))) {
        throw httpError('ERR_SESSION_NOT_FOUND', 'no such live session');
      }
      metrics.sessionsEnded.inc({ reason: 'admin' });
      metrics.revocations.inc({ kind: 'session' });
      await audit(
        request,
        session.userId,
        'end_session',
        { targetSessionId: sessionId },
        request.body.reason,
      );
      return { ended: true as const };
    },
  );

  app.post(
    '/v1/operator/users/:userId/revoke',
    {
      onRequest,
      config: { rateLimit: ctx.rateLimits.meWrite },
      schema: {
        tags: ['operator'],
        summary:
          'Revoke everything of a user (every session ends, every token stops verifying), with a reason',
        security,
        params: UserParams,
        body: ReasonBody,
        response: { 200: Type.Object({ ended: Type.Integer() }), ...adminErrors },
      },
    },
    async (request) => {
      const { userId } = request.params;
      const ended = await optix.revokeUser(userId, 'admin_revoke_user');
      metrics.revocations.inc({ kind: 'user' });
      if (ended > 0) metrics.sessionsEnded.inc({ reason: 'admin' }, ended);
      await audit(request, userId, 'revoke_user', { sessionsEnded: ended }, request.body.reason);
      return { ended };
    },
  );

  app.get(
    '/v1/operator/overview',
    {
      onRequest,
      schema: {
        tags: ['operator'],
        summary: OVERVIEW_SUMMARY,
        description: OVERVIEW_DESCRIPTION,
        security,
        response: { 200: OverviewView, ...adminErrors },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return ctx.activity.overview();
    },
  );

  app.get(
    '/v1/admin/overview',
    {
      onRequest: ctx.requireService,
      schema: {
        tags: ['admin'],
        summary: OVERVIEW_SUMMARY,
        description: OVERVIEW_DESCRIPTION,
        security: [{ serviceKey: [] }],
        response: { 200: OverviewView, ...authErrors },
      },
    },
    async () => ctx.activity.overview(),
  );
};

function withClient<E extends { userAgent: string | null }>(e: E) {
  return { ...e, client: e.userAgent === null ? null : describeUserAgent(e.userAgent) };
}
