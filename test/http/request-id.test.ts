/**
 * Request ids and `traceparent`, on both backends: a caller's safe `X-Request-Id` is echoed and
 * logged, an unsafe one replaced, every answer (404s, refusals, errors) carries one, and every log
 * line of a request carries its id (and the trace id of a valid `traceparent`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acceptRequestId, parseTraceparent } from '../../src/http/request-id.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';
import { capturedLogs, createHarness, type Harness, uniqueUser } from './harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function linesOf(reqId: string): Array<Record<string, unknown>> {
  return capturedLogs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((l) => l.includes(reqId))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('request id helpers', () => {
  test('acceptRequestId keeps safe ids and refuses the rest', () => {
    for (const ok of [
      'abc',
      'req-1',
      'a'.repeat(128),
      'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
      'x.y:z/1+2=@_',
    ]) {
      assert.equal(acceptRequestId(ok), ok);
    }
    for (const bad of [
      '',
      'a'.repeat(129),
      'has space',
      '"quoted"',
      'a\tb',
      '-leading',
      'é',
      '{json}',
      ['a', 'b'],
      undefined,
    ]) {
      assert.equal(acceptRequestId(bad), null, String(bad));
    }
  });

  test('parseTraceparent follows W3C Trace Context', () => {
    assert.deepEqual(parseTraceparent(TRACEPARENT), {
      traceId: TRACE_ID,
      parentId: '00f067aa0ba902b7',
      flags: '01',
    });
    for (const bad of [
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`, // version ff
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, // zero trace id
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`, // zero parent id
      `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`, // upper case
      `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`, // version 00 has exactly four fields
      'garbage',
      undefined,
    ]) {
      assert.equal(parseTraceparent(bad), null, String(bad));
    }
    assert.equal(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-01-future`)?.traceId, TRACE_ID);
  });
});

async function behaves(name: string, make: () => Promise<Harness>) {
  describe(`X-Request-Id and traceparent (${name})`, async () => {
    const h = await make();

    test("the caller's id is echoed and is the reqId of every line of that request", async () => {
      const reqId = `client-${name}-${Date.now()}`;
      const res = await h.inject({
        method: 'GET',
        url: '/v1/me/sessions',
        headers: { 'x-request-id': reqId },
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['x-request-id'], reqId);
      const lines = linesOf(reqId);
      assert.ok(lines.length >= 2, `lines: ${lines.length}`); // request_rejected + request_completed
      for (const line of lines) assert.equal(line.reqId, reqId);
      assert.ok(lines.some((l) => l.msg === 'request_completed'));
      assert.ok(lines.some((l) => l.msg === 'request_rejected'));
    });

    test('an unsafe or over-long id is replaced by a generated one; none sent → generated', async () => {
      for (const sent of ['bad id with spaces', 'x'.repeat(129), '<script>', undefined]) {
        const res = await h.inject({
          method: 'GET',
          url: '/healthz',
          headers: sent === undefined ? {} : { 'x-request-id': sent },
        });
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['x-request-id']), UUID, String(sent));
      }
      const a = await h.inject({ method: 'GET', url: '/healthz' });
      const b = await h.inject({ method: 'GET', url: '/healthz' });
      assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
    });

    test('every kind of answer carries one: 201, 404, 401, 400, 413, 415, a bad URL', async () => {
      const user = uniqueUser();
      const cases = [
        {
          method: 'POST' as const,
          url: '/v1/sessions',
          headers: h.service,
          payload: { userId: user, ipAddress: '203.0.113.1', userAgent: 'rid' },
          status: 201,
        },
        { method: 'GET' as const, url: '/nope', status: 404 },
        { method: 'GET' as const, url: '/v1/admin/stats', status: 401 },
        {
          method: 'POST' as const,
          url: '/v1/sessions',
          headers: h.service,
          payload: { userId: 1 },
          status: 400,
        },
        {
          method: 'POST' as const,
          url: '/v1/token/refresh',
          payload: { refreshToken: 'x'.repeat(20_000) },
          status: 413,
        },
        {
          method: 'POST' as const,
          url: '/v1/token/refresh',
          headers: { 'content-type': 'text/plain' },
          payload: 'hello',
          status: 415,
        },
        { method: 'GET' as const, url: '/v1/admin/users/%E0%A4%A/sessions', headers: h.service, status: 400 },
      ];
      for (const [i, { status, ...req }] of cases.entries()) {
        const reqId = `case-${name}-${i}`;
        const res = await h.inject({ ...req, headers: { ...(req.headers ?? {}), 'x-request-id': reqId } });
        assert.equal(res.statusCode, status, `${req.url}: ${res.body}`);
        assert.equal(res.headers['x-request-id'], reqId, `${req.method} ${req.url}`);
        for (const line of linesOf(reqId)) assert.equal(line.reqId, reqId);
      }
    });

    test("a valid traceparent's trace id is on every line of the request; an invalid one is ignored", async () => {
      const reqId = `traced-${name}`;
      await h.inject({
        method: 'GET',
        url: '/v1/admin/stats',
        headers: { 'x-request-id': reqId, traceparent: TRACEPARENT },
      });
      const lines = linesOf(reqId);
      assert.ok(lines.length >= 1);
      for (const line of lines) assert.equal(line.traceId, TRACE_ID);

      const other = `untraced-${name}`;
      await h.inject({
        method: 'GET',
        url: '/v1/admin/stats',
        headers: { 'x-request-id': other, traceparent: 'ff-nonsense' },
      });
      for (const line of linesOf(other)) assert.equal(line.traceId, undefined);
    });

    test('over a real socket too', async () => {
      await h.app.listen({ host: '127.0.0.1', port: 0 });
      const address = h.app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const res = await fetch(`http://127.0.0.1:${port}/v1/nothing-here`, {
        headers: { 'x-request-id': 'socket-1' },
      });
      await res.arrayBuffer();
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('x-request-id'), 'socket-1');
    });
  });
}

await behaves('memory', () => createHarness());
await behaves('redis', async () =>
  createHarness({ REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() }),
);
