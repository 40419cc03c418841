/**
 * HTTP test harness: an app over a container built from an environment (memory by default),
 * `inject` helpers, and a log capture. Every secret a test sees (service keys, access and refresh
 * tokens, session ids) is remembered; after the file's last test, the captured logs (at `trace`,
 * the most verbose level) are searched for each of them. Logs and secrets also go to the
 * suite-wide capture (test/helpers/log-capture.ts) that the suite's last file searches.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Env, loadConfig } from '../../src/config/load.js';
import { createOptix, type Optix } from '../../src/container.js';
import type { Clock } from '../../src/core/clock.js';
import { buildApp, type OptixApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { logDestination, recordSecrets } from '../helpers/log-capture.js';

export const SERVICE_KEY = 'test-service-key-0123456789abcdef-0001';
export const SECOND_SERVICE_KEY = 'test-service-key-0123456789abcdef-0002';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789';

/** Every line any harness app logged in this test file. */
export const capturedLogs: string[] = [];
/** Every secret a test saw in this file. */
export const seenSecrets = new Set<string>([SERVICE_KEY, SECOND_SERVICE_KEY, JWT_SECRET]);
recordSecrets(...seenSecrets);

// Registered when a test file imports this module (at its top level, so on the root test): runs
// after all of the file's tests, over every line any harness app logged.
after(() => {
  if (capturedLogs.length === 0) return; // the file built no app
  const text = capturedLogs.join('');
  for (const secret of seenSecrets) {
    if (secret.length < 8) continue;
    assert.ok(!text.includes(secret), `a secret appeared in the logs: ${secret.slice(0, 12)}…`);
  }
});

/** Remembers a secret so the end-of-file log check looks for it. */
export function remember(...secrets: Array<string | null | undefined>): void {
  for (const s of secrets) if (typeof s === 'string' && s !== '') seenSecrets.add(s);
  recordSecrets(...secrets);
}

export interface Harness {
  app: OptixApp;
  optix: Optix;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Bearer header for the service key. */
  service: { authorization: string };
  /** `POST /v1/introspect` of `token` with the service key. */
  introspect(token: string): Promise<LightMyRequestResponse>;
  /** Creates a session through the API; returns its tokens (remembered as secrets). */
  login(userId: string, extra?: Record<string, unknown>): Promise<LoginResult>;
  close(): Promise<void>;
}

export interface LoginResult {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  user: { authorization: string };
  body: Record<string, unknown>;
}

export const BASE_ENV: Env = {
  NODE_ENV: 'test',
  SERVICE_API_KEYS: `${SERVICE_KEY},${SECOND_SERVICE_KEY}`,
  JWT_SECRET,
  LOG_LEVEL: 'trace',
  CLEANUP_INTERVAL_SECONDS: '0',
};

/** Builds an app over a fresh container from `BASE_ENV` + `env`. Closed after the file. */
export async function createHarness(env: Env = {}, deps: { clock?: Clock } = {}): Promise<Harness> {
  const config = loadConfig({ ...BASE_ENV, ...env });
  // Keys, signing secrets and a Redis password of the configuration are secrets too.
  remember(
    ...config.serviceApiKeys,
    ...config.opsApiKeys,
    ...config.jwt.keys.map((k) => ('secret' in k && typeof k.secret === 'string' ? k.secret : null)),
    config.redis?.url.match(/:([^:@/]+)@/)?.[1],
    config.idTagSecret,
  );
  const sink = logDestination((chunk) => capturedLogs.push(chunk));
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const optix = await createOptix(config, deps.clock ? { clock: deps.clock, logger } : { logger });
  const app = await buildApp(optix, { logger });
  await app.ready();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  after(close);
  const service = { authorization: `Bearer ${SERVICE_KEY}` };
  const inject = async (options: InjectOptions) => {
    const res = await app.inject(options);
    // Anything that looks like a token or session id in a response is a secret for the log check.
    try {
      collect(JSON.parse(res.body));
    } catch {
      // not JSON
    }
    return res;
  };
  return {
    app,
    optix,
    inject,
    service,
    introspect: (token) =>
      inject({ method: 'POST', url: '/v1/introspect', headers: service, payload: { token } }),
    async login(userId, extra = {}) {
      const res = await inject({
        method: 'POST',
        url: '/v1/sessions',
        headers: service,
        payload: { userId, ipAddress: '203.0.113.9', userAgent: 'harness/1.0', ...extra },
      });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json() as {
        accessToken: string;
        refreshToken: string;
        session: { sessionId: string };
      };
      return {
        sessionId: body.session.sessionId,
        accessToken: body.accessToken,
        refreshToken: body.refreshToken,
        user: { authorization: `Bearer ${body.accessToken}` },
        body: body as unknown as Record<string, unknown>,
      };
    },
    close,
  };
}

const SECRET_FIELDS = new Set([
  'accessToken',
  'refreshToken',
  'sessionId',
  'sid',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  'handoffCode',
]);

function collect(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(collect);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELDS.has(k) && typeof v === 'string') remember(v);
    else collect(v);
  }
}

/** Asserts the standard error body and returns its code. */
export function errorCode(res: LightMyRequestResponse): string {
  const body = res.json() as { error?: { code?: unknown; message?: unknown } };
  assert.ok(body.error, `expected an error body, got ${res.body}`);
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  assert.ok(!String(body.error.message).includes('    at '), 'no stack trace in the message');
  return body.error.code as string;
}

export function uniqueUser(prefix = 'user'): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}
