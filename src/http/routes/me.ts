/**
 * `/v1/me/*`: the user's own sessions, trusted devices and security events, authorized by the
 * user's access token. Another user's session or device is "not found" (404), never "forbidden":
 * the answer must not confirm that the id exists.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { userOf } from '../auth.js';
import type { RouteContext } from '../context.js';
import { httpError } from '../errors.js';
import { pageOfEvents } from '../event-pages.js';
import { describeUserAgent } from '../user-agent.js';
import {
  authErrors,
  ErrorResponse,
  EventsQuery,
  IdString,
  parseApiTime,
  SecurityEventView,
  SessionIdString,
  SessionListView,
  TrustedDeviceView,
} from '../schemas.js';

const security = [{ userToken: [] }];
const NoContent = Type.Null({ description: 'No content' });

export const meRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics } = ctx;
  const { sessions, jwt } = optix;
  const onRequest = ctx.requireUser;

  app.get(
    '/v1/me/sessions',
    {
      onRequest,
      schema: {
        tags: ['me'],
        summary: 'My live sessions, newest first',
        description:
          'Each with `client`: its user agent in words (`Chrome on Windows 10`); `current` marks the calling session.',
        security,
        response: { 200: SessionListView, ...authErrors },
      },
    },
    async (request) => {
      const me = userOf(request);
      const list = await sessions.listUserSessions(me.userId);
      return {
        sessions: list.map((s) => ({
          ...s,
          current: s.sessionId === me.sessionId,
          client: describeUserAgent(s.userAgent),
        })),
      };
    },
  );

  app.delete(
    '/v1/me/sessions/:sessionId',
    {
      onRequest,
      config: { rateLimit: ctx.rateLimits.meWrite },
      schema: {
        tags: ['me'],
        summary: 'End one of my sessions (its tokens stop working)',
        security,
        params: Type.Object({ sessionId: SessionIdString }),
        response: { 204: NoContent, ...authErrors, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const me = userOf(request);
      const { sessionId } = request.params;
      const session = await sessions.getSession(sessionId);
      if (session === null || session.userId !== me.userId)
        throw httpError('ERR_SESSION_NOT_FOUND', 'no such session');
      if (await sessions.terminateSession(sessionId, 'user_terminated')) {
        metrics.sessionsEnded.inc({ reason: 'user_terminated' });
        metrics.revocations.inc({ kind: 'session' });
      }
      request.log.info({ sessionHash: ctx.hashId(sessionId) }, 'session_terminated');
      reply.code(204);
      return null;
    },
  );

  app.post(
    '/v1/me/logout',
    {
      onRequest,
      config: { rateLimit: ctx.rateLimits.meWrite },
      schema: {
        tags: ['me'],
        summary: 'Log out: end this session and revoke this token',
        security,
        response: { 204: NoContent, ...authErrors },
      },
    },
    async (request, reply) => {
      const me = userOf(request);
      if (await jwt.revokeAccessToken(me.token, 'logout')) metrics.revocations.inc({ kind: 'access_token' });
      if (me.sessionId !== null && (await sessions.terminateSession(me.sessionId, 'logout'))) {
        metrics.sessionsEnded.inc({ reason: 'logout' });
      }
      reply.code(204);
      return null;
    },
  );

  app.post(
    '/v1/me/logout-others',
    {
      onRequest,
      config: { rateLimit: ctx.rateLimits.meWrite },
      schema: {
        tags: ['me'],
        summary: 'End every other session of mine (e.g. after a password change)',
        security,
        response: { 200: Type.Object({ ended: Type.Integer() }), ...authErrors },
      },
    },
    async (request) => {
      const me = userOf(request);
      const ended = await sessions.terminateUserSessions({
        userId: me.userId,
        ...(me.sessionId !== null ? { exceptSessionId: me.sessionId } : {}),
        reason: 'logout_others',
      });
      if (ended > 0) {
        metrics.sessionsEnded.inc({ reason: 'logout_others' }, ended);
        metrics.revocations.inc({ kind: 'session' }, ended);
      }
      return { ended };
    },
  );

  app.get(
    '/v1/me/devices',
    {
      onRequest,
      schema: {
        tags: ['me'],
        summary: 'My trusted devices',
        security,
        response: { 200: Type.Object({ devices: Type.Array(TrustedDeviceView) }), ...authErrors },
      },
    },
    async (request) => ({ devices: await sessions.listTrustedDevices(userOf(request).userId) }),
  );

  app.post(
    '/v1/me/devices',
    {
      onRequest,
      config: { rateLimit: ctx.rateLimits.meWrite },
      schema: {
        tags: ['me'],
        summary: "Trust this session's own device (skips MFA on it until it expires)",
        description:
          "Needs an access token of an MFA-verified session (at login, or after a step-up the login service confirmed with `POST /v1/sessions/:sessionId/mfa`), else 403 `ERR_MFA_REQUIRED`. The device is the session's own (recorded when it was created); a `deviceFingerprint` in the body, if any, must be that device's. The trust is recorded (`device_trusted`) with the session, IP address and user agent.",
        security,
        body: Type.Object(
          {
            deviceFingerprint: Type.Optional(
              Type.String({ minLength: 1, maxLength: 512, description: "Must be the session's own device" }),
            ),
            deviceName: Type.String({ minLength: 1, maxLength: 128 }),
            deviceType: Type.String({ minLength: 1, maxLength: 64 }),
            durationDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, default: 30 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: TrustedDeviceView, ...authErrors, 403: ErrorResponse },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const { sessionId } = userOf(request);
      if (sessionId === null) {
        throw httpError('ERR_MFA_REQUIRED', 'trusting a device needs the token of an MFA-verified session');
      }
      const ua = request.headers['user-agent'];
      const device = await sessions.trustSessionDevice({
        sessionId,
        ...(b.deviceFingerprint !== undefined ? { deviceFingerprint: b.deviceFingerprint } : {}),
        deviceName: b.deviceName,
        deviceType: b.deviceType,
        ...(b.durationDays !== undefined ? { durationDays: b.durationDays } : {}),
        ipAddress: request.ip.slice(0, 64),
        userAgent: (typeof ua === 'string' ? ua : '').slice(0, 1024),
      });
      reply.code(201);
      return device;
    },
  );

  app.delete(
    '/v1/me/devices/:deviceId',
    {
      onRequest,
      config: { rateLimit: ctx.rateLimits.meWrite },
      schema: {
        tags: ['me'],
        summary: 'Stop trusting a device',
        security,
        params: Type.Object({ deviceId: IdString('Trusted device id') }),
        response: { 204: NoContent, ...authErrors, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const removed = await sessions.untrustDevice(userOf(request).userId, request.params.deviceId);
      if (!removed) throw httpError('ERR_NOT_FOUND', 'no such trusted device');
      reply.code(204);
      return null;
    },
  );

  app.get(
    '/v1/me/security-events',
    {
      onRequest,
      schema: {
        tags: ['me'],
        summary: 'My security events, newest first, paged',
        description:
          'Each event with `client` (its user agent in words, `null` when it has none). Paged: `nextUntil`, passed as `until`, gives the next (older) page; `null` on the last page. Events of one millisecond are never split between pages.',
        security,
        querystring: EventsQuery,
        response: {
          200: Type.Object({
            events: Type.Array(SecurityEventView),
            nextUntil: Type.Union([Type.Integer(), Type.Null()], {
              description: 'The `until` of the next, older page (ms since the epoch); `null`: no more',
            }),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const userId = userOf(request).userId;
      const page = await pageOfEvents((options) => sessions.listSecurityEvents(userId, options), {
        ...(q.since !== undefined ? { since: parseApiTime(q.since)! } : {}),
        ...(q.until !== undefined ? { until: parseApiTime(q.until)! } : {}),
        limit: q.limit ?? 50,
      });
      return {
        events: page.events.map((e) => ({
          ...e,
          client: e.userAgent === null ? null : describeUserAgent(e.userAgent),
        })),
        nextUntil: page.nextUntil,
      };
    },
  );
};
