/** Operations: liveness, readiness (the guide's health check), Prometheus metrics, JWKS. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteContext } from '../context.js';
import { httpError } from '../errors.js';
import { ErrorResponse } from '../schemas.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unhealthy'), Type.Literal('draining')]),
  backend: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
  redis: Type.Optional(
    Type.Object({
      status: Type.String(),
      topology: Type.String(),
      connectedClients: Type.Union([Type.Integer(), Type.Null()]),
      opsPerSec: Type.Union([Type.Number(), Type.Null()]),
      latencyMs: Type.Union([Type.Number(), Type.Null()]),
      error: Type.Optional(Type.String()),
    }),
  ),
});

export const opsRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const { optix, metrics, lifecycle } = ctx;

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: the backend answers (Redis PING + INFO: clients, ops/s, latency)',
        description:
          '503 while Redis is unhealthy or the process is shutting down. With `OPS_API_KEYS` set, the `redis` details are only in the answer to a request with one of those keys (Bearer); the status and code are public.',
        response: { 200: Health, 503: Health },
      },
    },
    async (request, reply) => {
      const backend = optix.backend;
      const health = await optix.health();
      const redis = health.topology === 'memory' || !ctx.opsAccess(request) ? undefined : health;
      if (lifecycle.draining) {
        reply.code(503).header('retry-after', '1');
        return { status: 'draining' as const, backend, ...(redis ? { redis } : {}) };
      }
      if (health.status !== 'healthy') {
        metrics.redisErrors.inc({ code: 'ERR_STORE_UNAVAILABLE' });
        reply.code(503).header('retry-after', '1');
        return { status: 'unhealthy' as const, backend, ...(redis ? { redis } : {}) };
      }
      return { status: 'ready' as const, backend, ...(redis ? { redis } : {}) };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics',
        description:
          'With `OPS_API_KEYS` set, only for a request with one of those keys (`Authorization: Bearer <key>`); 401 `ERR_UNAUTHORIZED` otherwise.',
        produces: ['text/plain'],
        response: { 200: Type.String(), 401: ErrorResponse },
      },
    },
    async (request, reply) => {
      if (!ctx.opsAccess(request)) {
        throw httpError('ERR_UNAUTHORIZED', 'an operations key is required (Authorization: Bearer <key>)');
      }
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );

  if (optix.config.jwt.asymmetric) {
    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          tags: ['ops'],
          summary: 'Public keys that verify access tokens (EdDSA/ES256)',
          response: { 200: Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }) },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'public, max-age=300');
        return optix.jwt.jwks();
      },
    );
  }
};
