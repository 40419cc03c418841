/**
 * The per-request logger made on first use (`LazyRequestLogger`): it writes exactly the lines a
 * pino child with the request's bindings writes, makes no child for a request that logs nothing at
 * an enabled level, and honours a route's own level.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { createLogger, LazyRequestLogger } from '../../src/http/logger.js';
import { createOptix } from '../../src/container.js';
import { loadConfig } from '../../src/config/load.js';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level, destination });
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  return { logger, lines, children: () => children };
}

const withoutTime = (line: Record<string, unknown>) => {
  const { time: _time, ...rest } = line;
  return rest;
};

describe('LazyRequestLogger', () => {
  it('writes the same lines as a pino child with the same bindings, redaction included', () => {
    const eager = capture('info');
    const lazy = capture('info');
    const write = (log: { info: (...a: unknown[]) => void; warn: (...a: unknown[]) => void }) => {
      log.info({ route: '/v1/introspect', token: 'secret-token' }, 'request_completed');
      log.warn('plain message %s', 'formatted');
      log.info({ nested: { password: 'p' } }, 'nested');
    };
    write(eager.logger.child({ reqId: 'req-7' }));
    write(new LazyRequestLogger(lazy.logger, { reqId: 'req-7' }, {}));
    assert.equal(lazy.lines.length, 3);
    assert.deepEqual(lazy.lines.map(withoutTime), eager.lines.map(withoutTime));
    assert.equal(lazy.lines[0]!.reqId, 'req-7');
    assert.equal(lazy.lines[0]!.token, '[redacted]');
  });

  it('makes no child while nothing is logged at an enabled level, one when something is', () => {
    const c = capture('info');
    const log = new LazyRequestLogger(c.logger, { reqId: 'req-1' }, {});
    log.debug({ route: '/healthz' }, 'request_completed');
    log.trace('nothing');
    assert.equal(c.children(), 0);
    assert.equal(c.lines.length, 0);
    assert.equal(log.level, 'info');
    log.error('boom');
    log.error('again');
    assert.equal(c.children(), 1, 'one child, made once');
    assert.deepEqual(
      c.lines.map((l) => [l.msg, l.reqId]),
      [
        ['boom', 'req-1'],
        ['again', 'req-1'],
      ],
    );
  });

  it("honours a route's own level and a level set on the request's logger", () => {
    const c = capture('info');
    const verbose = new LazyRequestLogger(c.logger, { reqId: 'r' }, { level: 'debug' });
    verbose.debug('shown');
    const quiet = new LazyRequestLogger(c.logger, { reqId: 'q' }, {});
    quiet.level = 'error';
    quiet.warn('hidden');
    quiet.error('shown too');
    assert.deepEqual(
      c.lines.map((l) => l.msg),
      ['shown', 'shown too'],
    );
  });

  it('in the app: a successful introspection makes no child logger at info; a rejected one logs with its request id', async () => {
    const c = capture('info');
    const config = loadConfig({
      NODE_ENV: 'test',
      SERVICE_API_KEYS: 'unit-service-key-0123456789abcdef-0001',
      JWT_SECRET: 'unit-jwt-secret-0123456789abcdef-0123456789',
      LOG_LEVEL: 'info',
      CLEANUP_INTERVAL_SECONDS: '0',
    });
    const optix = await createOptix(config, { logger: c.logger });
    const app = await buildApp(optix, { logger: c.logger });
    try {
      await app.ready();
      const { tokens: pair } = await optix.login({
        userId: 'lazy-log-user',
        ipAddress: '203.0.113.5',
        userAgent: 'unit/1.0',
      });
      const introspect = (key: string) =>
        app.inject({
          method: 'POST',
          url: '/v1/introspect',
          headers: { authorization: `Bearer ${key}` },
          payload: { token: pair.accessToken },
        });
      const before = c.children();
      for (let i = 0; i < 5; i++) {
        const res = await introspect('unit-service-key-0123456789abcdef-0001');
        assert.equal(res.statusCode, 200);
        assert.equal(res.json().active, true);
      }
      assert.equal(c.children() - before, 0, 'a child logger was made for a request that logged nothing');
      const linesBefore = c.lines.length;
      const rejected = await introspect('not-a-service-key-0123456789abcdef');
      assert.equal(rejected.statusCode, 401);
      const logged = c.lines.slice(linesBefore);
      assert.ok(logged.length >= 1, 'the rejected request logged');
      // The request's id (a UUID when the caller sent none), echoed in X-Request-Id.
      for (const line of logged) assert.equal(line.reqId, rejected.headers['x-request-id']);
      assert.match(String(rejected.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-/);
      assert.ok(!JSON.stringify(logged).includes('not-a-service-key'));
    } finally {
      await app.close();
    }
  });
});
