/**
 * OpenTelemetry tracing. In process, with an in-memory span exporter, on both backends: a span per
 * request (`@fastify/otel`) continuing an incoming `traceparent`, Redis spans (commands and our
 * scripts) under it, and no token, session id, key or secret in any span name, attribute, event or
 * status. Over a real process: tracing off loads none of OpenTelemetry; on (`OTEL_*` variables),
 * spans reach an OTLP/HTTP collector (a fake one here) by the time SIGTERM's exit is done.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { loadConfig } from '../../src/config/load.js';
import { createOptix } from '../../src/container.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { BASE_ENV, JWT_SECRET, SERVICE_KEY, uniqueUser } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

// The context manager (parent/child) and the W3C propagator, registered once, as src/telemetry.ts.
const registered = new NodeTracerProvider();
registered.register();
after(() => registered.shutdown());

/** Every string a span carries: name, attribute values, events, status. */
function spanText(span: ReadableSpan): string {
  return JSON.stringify([
    span.name,
    span.attributes,
    span.events.map((e) => [e.name, e.attributes]),
    span.status,
    span.resource.attributes,
  ]);
}

function byId(spans: readonly ReadableSpan[]) {
  return new Map(spans.map((s) => [s.spanContext().spanId, s]));
}

/** The chain of parents of `span` inside `spans`. */
function ancestors(span: ReadableSpan, spans: readonly ReadableSpan[]): ReadableSpan[] {
  const index = byId(spans);
  const out: ReadableSpan[] = [];
  let parent = span.parentSpanContext?.spanId;
  while (parent !== undefined && index.has(parent)) {
    const p = index.get(parent)!;
    out.push(p);
    parent = p.parentSpanContext?.spanId;
  }
  return out;
}

async function traced(name: string, env: Record<string, string>) {
  describe(`tracing (${name})`, async () => {
    // Its own exporter: the suites of this file run at the same time, and one's reset or spans
    // must never reach the other's assertions.
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    after(() => provider.shutdown());
    const config = loadConfig({ ...BASE_ENV, LOG_LEVEL: 'silent', ...env });
    const logger = createLogger({ level: 'silent' });
    const optix = await createOptix(config, { logger, tracerProvider: provider });
    const app = await buildApp(optix, { logger, tracerProvider: provider });
    after(() => app.close());
    const service = { authorization: `Bearer ${SERVICE_KEY}` };

    test('a span per request continues traceparent; store spans are its descendants; no secret anywhere', async () => {
      exporter.reset();
      const userId = uniqueUser('traced');
      const login = await app.inject({
        method: 'POST',
        url: '/v1/sessions',
        headers: { ...service, traceparent: TRACEPARENT },
        payload: { userId, ipAddress: '203.0.113.5', userAgent: 'tracing-test' },
      });
      assert.equal(login.statusCode, 201, login.body);
      const { accessToken, refreshToken, session } = login.json();
      const user = { authorization: `Bearer ${accessToken}` };
      const del = await app.inject({
        method: 'DELETE',
        url: `/v1/me/sessions/${session.sessionId}`,
        headers: user,
      });
      assert.equal(del.statusCode, 204, del.body);
      const refused = await app.inject({
        method: 'POST',
        url: '/v1/token/refresh',
        payload: { refreshToken },
      });
      assert.equal(refused.statusCode, 401);
      await app.inject({
        method: 'POST',
        url: '/v1/introspect',
        headers: service,
        payload: { token: accessToken },
      });

      const spans = exporter.getFinishedSpans();
      const requests = spans.filter(
        (s) => s.attributes['http.request.method'] !== undefined && s.name === 'request',
      );
      assert.equal(requests.length, 4, spans.map((s) => s.name).join(', '));

      const first = requests.find((s) => s.attributes['http.route'] === '/v1/sessions')!;
      assert.equal(first.spanContext().traceId, TRACE_ID, 'the incoming trace is continued');
      assert.equal(first.parentSpanContext?.spanId, PARENT_ID);
      assert.equal(first.attributes['http.response.status_code'], 201);
      // The other requests sent no traceparent: each is a new trace.
      for (const r of requests.filter((s) => s !== first)) assert.notEqual(r.spanContext().traceId, TRACE_ID);

      const deleted = requests.find((s) => s.attributes['http.route'] === '/v1/me/sessions/:sessionId')!;
      assert.equal(
        deleted.attributes['url.path'],
        '/v1/me/sessions/:sessionId',
        'the path is the route pattern',
      );

      if (name === 'redis') {
        const store = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
        assert.ok(store.length > 0, 'no Redis spans');
        const scripts = store.filter((s) => s.attributes['db.stored_procedure.name'] !== undefined);
        assert.ok(
          scripts.some((s) => s.attributes['db.stored_procedure.name'] === 'session_create'),
          store.map((s) => s.name).join(', '),
        );
        // Every Redis span made inside a request is a descendant of that request's span.
        const underLogin = store.filter((s) => s.spanContext().traceId === TRACE_ID);
        assert.ok(underLogin.length > 0, 'no Redis span in the login trace');
        for (const s of underLogin)
          assert.ok(ancestors(s, spans).includes(first), `${s.name} is not under the request`);
        for (const s of store) {
          assert.equal(s.kind, 2, 'CLIENT');
          // Timers, under no request: the operator overview's counts go to Redis every 5 s, and
          // the memory guard reads `INFO memory` every second (a slow run crosses one).
          if (s.attributes['db.stored_procedure.name'] === 'activity_add') continue;
          if (s.attributes['db.operation.name'] === 'INFO') continue;
          assert.ok(
            requests.some((r) => ancestors(s, spans).includes(r)),
            `${s.name} has no request ancestor`,
          );
        }
      } else {
        // Nothing of the memory backend reaches Redis (this suite has its own exporter).
        const redisSpans = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
        assert.equal(redisSpans.length, 0, redisSpans.map((s) => s.name).join(', '));
      }

      const secrets = [accessToken, refreshToken, session.sessionId, SERVICE_KEY, JWT_SECRET];
      if (config.redis !== null) secrets.push(config.redis.keyPrefix);
      for (const span of spans) {
        const text = spanText(span);
        for (const secret of secrets)
          assert.ok(!text.includes(secret), `a secret in span ${span.name}: ${text.slice(0, 300)}`);
      }
    });
  });
}

await traced('memory', {});
await traced('redis', { REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() });

/** Runs src/server.ts's `main` in a child process; resolves with what it printed and its exit code. */
function serverProcess(
  env: Record<string, string>,
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// In the child: start the service, make one request with a traceparent, report which modules of
// OpenTelemetry are loaded, then SIGTERM itself (the documented graceful exit).
const CHILD = `
import { createRequire } from 'node:module';
const { main } = await import('./src/server.ts');
const require = createRequire(import.meta.url);
const origWrite = process.stdout.write.bind(process.stdout);
await main({ env: process.env, exit: (code) => process.exit(code) });
// main resolves once the server listens.
const res = await fetch(process.env.SELF_URL + '/v1/admin/stats', {
  headers: { authorization: 'Bearer ' + process.env.SERVICE_API_KEYS, traceparent: process.env.TRACEPARENT },
});
await res.arrayBuffer();
// The SDK, exporters and instrumentations: every OpenTelemetry package but the API (prom-client
// loads the no-op @opentelemetry/api whenever it is installed, for exemplars), and not
// @redis/client's own lib/opentelemetry files (its optional metrics).
const loaded = Object.keys(require.cache).filter((k) =>
  /node_modules[\\\\/](@opentelemetry[\\\\/](?!api[\\\\/])|@fastify[\\\\/]otel[\\\\/])/.test(k),
);
origWrite('LOADED ' + JSON.stringify(loaded.length) + '\\n');
process.kill(process.pid, 'SIGTERM');
`;

describe('tracing in the service process', async () => {
  const { freePort } = await import('../helpers/ports.js');

  async function collector() {
    const bodies: unknown[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => server.close(() => r())));
    return { bodies, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  const baseEnv = async () => {
    const port = await freePort();
    return {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      JWT_SECRET,
      SERVICE_API_KEYS: SERVICE_KEY,
      LOG_LEVEL: 'silent',
      CLEANUP_INTERVAL_SECONDS: '0',
      SELF_URL: `http://127.0.0.1:${port}`,
      TRACEPARENT,
    };
  };

  test('off by default: nothing of OpenTelemetry is loaded, exit 0', async () => {
    const r = await serverProcess(await baseEnv(), CHILD);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /LOADED 0\n/, r.stdout + r.stderr);
  });

  test('OTEL_TRACES_EXPORTER=otlp: spans reach the collector before the exit, continuing traceparent', async () => {
    const c = await collector();
    const r = await serverProcess(
      {
        ...(await baseEnv()),
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
        OTEL_SERVICE_NAME: 'optix-under-test',
      },
      CHILD,
    );
    assert.equal(r.code, 0, r.stderr);
    const loaded = Number(/LOADED (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(loaded > 0, 'tracing on loads the SDK (the check above can fail)');
    const text = JSON.stringify(c.bodies);
    assert.ok(c.bodies.length > 0, 'nothing exported');
    assert.ok(text.includes('"optix-under-test"'), 'service.name');
    // OTLP/JSON carries trace ids as hex strings.
    assert.ok(text.toLowerCase().includes(TRACE_ID), 'the incoming trace id');
    assert.ok(text.includes('/v1/admin/stats'), 'the request span');
    assert.ok(!text.includes(SERVICE_KEY), 'the service key in an exported span');
  });
});
