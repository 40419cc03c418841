/**
 * `buildApp(optix, options)`: the Fastify application over a container. It never listens (the
 * server does, tests use `app.inject()`), and closing it closes the container unless told not to.
 */
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { TracerProvider } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { isStoreFailureCode } from '../core/errors.js';
import type { OptixConfig } from '../config/types.js';
import type { Optix } from '../container.js';
import { describeError } from '../core/errors.js';
import { createActivity } from './activity.js';
import {
  bearerToken,
  createServiceKeyVerifier,
  requireAdmin,
  requireServiceKey,
  requireUser,
} from './auth.js';
import { registerBrowserSupport, unmatchedCors } from './browser.js';
import { consoleRoutes } from './console.js';
import type { Lifecycle, RouteContext, RouteRateLimit } from './context.js';
import { clientErrorHandler, httpError, toHttpError } from './errors.js';
import { createLogger, hashId, lazyChildLoggerFactory } from './logger.js';
import { genReqId, REQUEST_ID_HEADER } from './request-id.js';
import { createMetrics, type Metrics, registerReplicaAckMetrics } from './metrics.js';
import { rateLimitStore } from './rate-limit.js';
import { describeValidationOf } from './validation.js';
import { createClientAuthenticator, createLocalLimiter, requireClient } from './clients.js';
import { adminRoutes } from './routes/admin.js';
import { operatorRoutes } from './routes/operator.js';
import { browserRoutes } from './routes/browser.js';
import { oauthMetadataRoute, oauthTokenRoute } from './routes/oauth.js';
import { meRoutes } from './routes/me.js';
import { opsRoutes } from './routes/ops.js';
import { sessionRoutes } from './routes/sessions.js';
import { refreshRoute, tokenRoutes } from './routes/tokens.js';

export interface AppOptions {
  /** The pino logger (default: one from `config.logLevel`, to stdout). */
  logger?: Logger;
  /** Metrics registry (default: a new one, with process metrics). */
  metrics?: Metrics;
  /** Close the container when the app closes (default true). */
  closeOptixOnClose?: boolean;
  /**
   * OpenTelemetry: a span per request (Fastify's official instrumentation, `@fastify/otel`),
   * continuing an incoming `traceparent` through the globally registered propagator. None (the
   * default): `@fastify/otel` is not even loaded.
   */
  tracerProvider?: TracerProvider;
  /** How often this instance adds its counts to the operator overview's buckets, in ms (default 5000). */
  activityFlushIntervalMs?: number;
}

/** One route as registered: a method and its URL pattern (`/v1/me/sessions/:sessionId`). */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
}

export type OptixApp = FastifyInstance & {
  readonly optix: Optix;
  readonly metrics: Metrics;
  readonly lifecycle: Lifecycle;
  readonly routeTable: readonly RouteEntry[];
};

declare module 'fastify' {
  interface FastifyInstance {
    optix: Optix;
    metrics: Metrics;
    lifecycle: Lifecycle;
    /** Every route the app serves (the docs' and plugins' too), in registration order. */
    routeTable: readonly RouteEntry[];
  }
}

const PER_MINUTE_MS = 60_000;
/** Seconds a client shed for memory pressure waits: memory is freed by expiry and cleanup, not at once. */
const STORE_BUSY_RETRY_AFTER = '5';

/** URL pattern → a matcher (`:param` is one non-empty segment, `*` the rest), made once per pattern. */
const patternCache = new Map<string, RegExp>();
function matcher(url: string): RegExp {
  let re = patternCache.get(url);
  if (re === undefined) {
    const body = url
      .split('/')
      .map((seg) =>
        seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    re = new RegExp(`^${body}/?$`);
    patternCache.set(url, re);
  }
  return re;
}

/** How often Node looks for requests past their deadline: a quarter of the shorter one, 50 ms to 5 s. */
export function connectionsCheckingIntervalMs(http: {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
}): number {
  return Math.max(50, Math.min(5000, Math.floor(Math.min(http.requestTimeoutMs, http.headersTimeoutMs) / 4)));
}

/** The methods the routes of `path` answer (HEAD with GET, as Fastify serves it), sorted. */
function allowedMethods(routes: readonly RouteEntry[], path: string): string[] {
  const methods = new Set<string>();
  for (const r of routes) {
    if (matcher(r.url).test(path)) {
      methods.add(r.method);
      if (r.method === 'GET') methods.add('HEAD');
    }
  }
  return [...methods].sort();
}

function perMinute(max: number, keyGenerator?: (request: FastifyRequest) => string): RouteRateLimit {
  if (max === 0) return false;
  return keyGenerator ? { max, timeWindow: PER_MINUTE_MS, keyGenerator } : { max, timeWindow: PER_MINUTE_MS };
}

/**
 * `/v1/me/*` writes are limited per user: the route's token check (its onRequest hook) runs before
 * the limiter and sets the principal, so a user's limit is the same whichever address or instance
 * the requests come from. The address is the fallback should the limiter ever run first.
 */
function userClientKey(request: FastifyRequest): string {
  const principal = request.principal;
  return principal !== null && principal.kind === 'user' ? `u:${principal.userId}` : `ip:${request.ip}`;
}

/**
 * `@fastify/otel` for `provider`, loaded only when tracing is on. Its request span records
 * `url.path` as the raw URL, which holds session ids (`/v1/me/sessions/:sessionId`): the hook
 * overwrites it with the route pattern. Exceptions are not recorded (messages may quote input).
 */
async function requestTracing(provider: TracerProvider) {
  const { FastifyOtelInstrumentation } = await import('@fastify/otel');
  const instrumentation = new FastifyOtelInstrumentation({
    recordExceptions: false,
    requestHook: (span, request) => {
      span.setAttribute('url.path', request.routeOptions.url ?? 'unmatched');
    },
  });
  instrumentation.setTracerProvider(provider);
  return instrumentation.plugin();
}

/**
 * `TRUST_PROXY` as Fastify's `trustProxy`. A hop count is passed as a function of the hop index
 * (hand-written because Fastify 5.12 no longer honours a number: it trusts nothing then, so every
 * client behind the proxy would share the proxy's address and rate-limit bucket). Hop `i` counts
 * from the socket's peer (0) towards the left of `X-Forwarded-For`; the address taken is the
 * first untrusted one, i.e. what the outermost trusted proxy saw, never the client-written
 * left-most entry. Like every hop count it trusts whoever connects directly: use it only where
 * clients cannot reach the service except through the proxies (else list the proxies' addresses).
 */
function fastifyTrustProxy(
  value: OptixConfig['http']['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  if (typeof value === 'boolean') return value;
  return [...value];
}

/**
 * Builds the HTTP application: routes, schemas, OpenAPI (`/docs/json`) and Swagger UI (`/docs`),
 * error mapping, metrics, rate limits and safe request logs. Await `app.ready()` (or `inject`).
 *
 * @example
 * const optix = await createOptix(loadConfig(process.env));
 * const app = await buildApp(optix);
 * const res = await app.inject({ method: 'GET', url: '/healthz' });
 */
export async function buildApp(optix: Optix, options: AppOptions = {}): Promise<OptixApp> {
  const { config } = optix;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = options.metrics ?? createMetrics();
  if (optix.redis !== null) registerReplicaAckMetrics(metrics.registry, optix.redis.replicaAcks);
  // Writes shed under Redis memory pressure: counted, and the start and end of shedding logged.
  const stopListening = optix.memoryGuard?.listen({
    onShed: (write) => metrics.storeShed.inc({ write }),
    onStateChange: (state) =>
      logger[state.shedding ? 'warn' : 'info'](
        { usedBytes: state.usedBytes, maxBytes: state.maxBytes, reason: state.reason },
        state.shedding ? 'store_shedding_started' : 'store_shedding_stopped',
      ),
  });
  const lifecycle: Lifecycle = { draining: false };

  /** Error answer shared by the error handler and Fastify's framework errors (bad URLs). */
  const sendError = (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const view = toHttpError(err, describeValidationOf(request));
    const code = view.body.error.code;
    if (isStoreFailureCode(code)) metrics.redisErrors.inc({ code });
    if (code === 'ERR_STORE_BUSY') {
      // Shed on purpose under memory pressure (counted in optix_store_shed_total): not a failure.
      request.log.warn({ code, route: request.routeOptions?.url ?? 'unmatched' }, 'request_shed');
    } else if (view.serverFault) {
      request.log.error({ err, code, route: request.routeOptions?.url ?? 'unmatched' }, 'request_failed');
    } else {
      request.log.info({ code, route: request.routeOptions?.url ?? 'unmatched' }, 'request_rejected');
    }
    if (view.status === 401) {
      reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${code}"`);
    }
    if (view.status === 503)
      reply.header('retry-after', code === 'ERR_STORE_BUSY' ? STORE_BUSY_RETRY_AFTER : '1');
    // Framework errors (a bad URL) are answered before any hook ran.
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.code(view.status).send(view.body);
  };

  const app = Fastify({
    loggerInstance: logger,
    // Fastify's own request lines carry raw URLs (which can hold ids); ours log route patterns.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    // The caller's X-Request-Id only when it is safe to echo and log (request-id.ts); Fastify's
    // own `requestIdHeader` would take any value as it came.
    requestIdHeader: false,
    genReqId,
    bodyLimit: config.http.bodyLimitBytes,
    // Fastify's own defaults (0 = none) let a client that sent part of a body and stalled keep its
    // socket for ever. Node enforces the request and header deadlines from a periodic check, so the
    // check runs every quarter of the shorter deadline (at most every 5 s): a stalled request is
    // cut within 1.25 × its deadline.
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(config.http),
    },
    trustProxy: fastifyTrustProxy(config.http.trustProxy),
    return503OnClosing: true,
    // A path parameter holds at most a user id of 256 UTF-8 bytes, percent-encoded (×3).
    routerOptions: { maxParamLength: 800, ignoreTrailingSlash: true },
    // A malformed percent-encoding or an over-long path parameter is answered before routing; by
    // default Fastify sends its own body (and echoes the path): answer with ours instead.
    frameworkErrors: (err, request, reply) => sendError(err, request, reply),
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Connections beyond the cap are closed by Node as they arrive (and counted in `dropMaxConnection`).
  app.server.maxConnections = config.http.maxConnections;
  // First, so that it sees every route and hook registered after it.
  if (options.tracerProvider !== undefined) await app.register(await requestTracing(options.tracerProvider));
  const routeTable: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    // A catch-all (the CORS plugin's `OPTIONS *` preflight route) makes no path "known": an
    // unknown path stays a 404, not a 405 that allows OPTIONS.
    if (route.url === '*' || route.url === '/*') return;
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url });
  });
  // TypeBox's compiler: bodies are checked as sent (no coercion: `"userId": 1` is an error);
  // params and query strings are converted from their string form first.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON only (plus forms where the RFCs call for them): a text/plain body is a 415, not a string.
  app.removeContentTypeParser('text/plain');
  // Many clients send `Content-Type: application/json` on every POST and DELETE, body or not: an
  // empty body is no body (a route that needs one says which field is missing), not a 400 for
  // "empty JSON". Everything else goes to Fastify's own parser (prototype-poisoning checks kept).
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    jsonParser(request, text, done);
  });

  app.decorate('optix', optix);
  app.decorate('metrics', metrics);
  app.decorate('lifecycle', lifecycle);
  app.decorate('routeTable', routeTable);
  app.decorateRequest('principal', null);
  app.decorateRequest('caller', null);

  // First hook of every request (404s, refused keys, errors included): echo its id. `Vary:
  // Origin` on every answer, as when CORS ran on every request (it now runs only where a browser
  // may call: registerBrowserSupport); caches keep answers apart by Origin as before.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.header('vary', 'Origin');
    done();
  });

  // Synchronous (a `done` callback, not `async`): an async hook costs a promise and a microtask
  // turn on every request.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe(labels, seconds);
    // Probes, and the successful introspections other services make on every request they
    // serve, are logged at debug (their counts and latencies are in /metrics); the rest at info.
    const quiet =
      route === '/healthz' ||
      route === '/readyz' ||
      route === '/metrics' ||
      (route === '/v1/introspect' && reply.statusCode < 400);
    request.log[quiet ? 'debug' : 'info'](
      { method: request.method, route, statusCode: reply.statusCode, ms: Math.round(seconds * 10_000) / 10 },
      'request_completed',
    );
    done();
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));

  const corsOfUnmatched = unmatchedCors(config.browser.corsOrigins);
  app.setNotFoundHandler((request, reply) => {
    corsOfUnmatched(request, reply);
    // A known path with another method: 405 with the methods it has (RFC 9110 §15.5.6).
    const allowed = allowedMethods(routeTable, request.url.split('?')[0]!);
    if (allowed.length > 0) {
      reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          error: {
            code: 'ERR_METHOD_NOT_ALLOWED',
            message: `${request.method.slice(0, 16)} is not allowed here; use ${allowed.join(', ')}`,
          },
        });
      return;
    }
    reply.code(404).send({
      error: {
        code: 'ERR_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`,
      },
    });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'OPTIX Sessions',
        version: '0.1.0',
        description:
          'Session and token authority of the OPTIX trading platform: sessions, access/refresh tokens with rotation and theft detection, revocation (RFC 7009), introspection (RFC 7662), trusted devices and the security audit trail. Errors: `{ "error": { "code", "message" } }` (docs/errors.md).',
      },
      components: {
        securitySchemes: {
          serviceKey: { type: 'http', scheme: 'bearer', description: 'A key from SERVICE_API_KEYS' },
          oauthClient: {
            type: 'http',
            scheme: 'basic',
            description:
              'A client of OAUTH_CLIENTS: client_secret_basic (or client_secret_post: client_id and client_secret in the form body)',
          },
          userToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: "The user's access token",
          },
        },
      },
      tags: [
        { name: 'sessions', description: 'Create sessions (login service)' },
        { name: 'tokens', description: 'Refresh, revoke (RFC 7009), introspect (RFC 7662)' },
        { name: 'me', description: "The user's own sessions, devices and security events" },
        {
          name: 'browser',
          description: 'Browser mode: the refresh token in an HttpOnly cookie (CORS_ORIGINS)',
        },
        { name: 'admin', description: 'Operator actions (service key)' },
        { name: 'ops', description: 'Health, readiness, metrics, JWKS' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(rateLimit, {
    global: false,
    // The stores' counters (shared by every instance on Redis).
    store: rateLimitStore(optix.stores.rateLimits),
    // A Redis outage must not add refused refreshes to it: count locally lost, let requests through.
    skipOnError: true,
    errorResponseBuilder: (request, context) => {
      metrics.rateLimited.inc({ route: request.routeOptions.url ?? 'unmatched' });
      return httpError('ERR_RATE_LIMITED', `rate limit exceeded, retry in ${context.after}`);
    },
  });

  const salt = config.logIdSalt;
  const verifyServiceKey = createServiceKeyVerifier(config.serviceApiKeys);
  const verifyOpsKey = config.opsApiKeys.length > 0 ? createServiceKeyVerifier(config.opsApiKeys) : null;
  const clients = createClientAuthenticator({
    clients: config.oauthClients,
    verifyServiceKey,
    defaultIntrospectPerMinute: config.rateLimits.introspectPerMinute,
  });
  const introspectLimiter = createLocalLimiter();
  const userHook = requireUser(optix.jwt, optix.sessions, metrics);
  const activity = createActivity(optix, metrics, {
    ...(options.activityFlushIntervalMs !== undefined
      ? { flushIntervalMs: options.activityFlushIntervalMs }
      : {}),
    onError: (err, what) => logger.warn({ err: describeError(err) }, what),
  });
  const ctx: RouteContext = {
    optix,
    metrics,
    lifecycle,
    clients,
    requireService: requireServiceKey(verifyServiceKey),
    opsAccess: (request) => {
      if (verifyOpsKey === null) return true;
      const presented = bearerToken(request);
      return presented !== null && verifyOpsKey(presented) !== null;
    },
    requireIntrospectionClient: requireClient(clients, {
      required: true,
      limit: {
        take: introspectLimiter.take,
        onLimited: (request) => metrics.rateLimited.inc({ route: request.routeOptions.url ?? 'unmatched' }),
      },
    }),
    optionalClient: requireClient(clients, { required: false }),
    requireUser: userHook,
    requireAdmin: requireAdmin(userHook, config.adminRole),
    activity,
    hashId: (id) => hashId(salt, id),
    rateLimits: {
      refresh: perMinute(config.rateLimits.refreshPerMinute),
      revoke: perMinute(config.rateLimits.revokePerMinute),
      meWrite: perMinute(config.rateLimits.meWritesPerMinute, userClientKey),
    },
  };

  await app.register(opsRoutes, ctx);
  await app.register(oauthMetadataRoute, ctx);
  await app.register(sessionRoutes, ctx);
  await app.register(refreshRoute, ctx);
  await app.register(async (scope) => {
    // Form bodies (RFC 6749/7009/7662 clients send them) only where the RFCs call for them:
    // revoke, introspect and the OAuth token endpoint, not /v1/token/refresh.
    await scope.register(formbody, { bodyLimit: config.http.bodyLimitBytes });
    await scope.register(tokenRoutes, ctx);
    await scope.register(oauthTokenRoute, ctx);
  });
  await app.register(async (scope) => {
    // Cookies and CORS (browser mode) where a browser may call: the cookie routes and /v1/me,
    // and CORS's `OPTIONS *` route (every preflight); no other route pays for their hooks.
    await registerBrowserSupport(scope as unknown as FastifyInstance, config.browser.corsOrigins);
    await scope.register(browserRoutes, ctx);
    await scope.register(meRoutes, ctx);
  });
  await app.register(adminRoutes, ctx);
  await app.register(operatorRoutes, ctx);
  // The web consoles (/account): pages and assets under a strict CSP; the browser-mode apps may frame them.
  await app.register(consoleRoutes, { frameAncestors: config.browser.corsOrigins });

  app.addHook('onClose', async () => {
    stopListening?.();
    await activity.close();
  });
  if (options.closeOptixOnClose ?? true) {
    app.addHook('onClose', async () => {
      await optix.close();
    });
  }
  return app as unknown as OptixApp;
}
