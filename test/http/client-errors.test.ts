/**
 * Requests Node's HTTP parser refuses before Fastify sees them, over a real socket (inject skips
 * the parser): answered with the catalog's body, and nothing of the raw request reaches the log
 * (Fastify's default handler logs the raw bytes, `Authorization` included, at trace).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { capturedLogs, createHarness, SERVICE_KEY } from './harness.js';

/** Sends `raw` and resolves with everything the server wrote before closing. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(raw);
  });
}

function parse(response: string): { status: number; headers: string; body: unknown } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

describe('malformed HTTP (real socket)', async () => {
  const h = await createHarness(); // LOG_LEVEL=trace: every line is written; closed after the file
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const address = h.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const cases: Array<[string, string, number, string]> = [
    [
      'an invalid Content-Length, with a service key in the headers',
      `POST /v1/introspect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SERVICE_KEY}\r\nContent-Length: abc\r\n\r\n`,
      400,
      'ERR_MALFORMED_REQUEST',
    ],
    ['an unknown method', 'FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'ERR_MALFORMED_REQUEST'],
    [
      'Content-Length and Transfer-Encoding together',
      'POST /v1/revoke HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'ERR_MALFORMED_REQUEST',
    ],
    [
      'headers over the limit',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SERVICE_KEY}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'ERR_HEADERS_TOO_LARGE',
    ],
  ];
  for (const [name, raw, status, code] of cases) {
    test(`${name}: ${status} ${code}`, async () => {
      const res = parse(await exchange(port, raw));
      assert.equal(res.status, status);
      assert.match(res.headers, /content-type: application\/json/);
      assert.deepEqual(Object.keys(res.body as object), ['error']);
      assert.equal((res.body as { error: { code: string } }).error.code, code);
      // A request id even here, and the log line of the refusal carries it.
      const reqId = /x-request-id: ([0-9a-f-]{36})/.exec(res.headers)?.[1];
      assert.ok(reqId, res.headers);
      assert.ok(
        capturedLogs.some((l) => l.includes('client_error') && l.includes(`"reqId":"${reqId}"`)),
        `no client_error line with reqId ${reqId}`,
      );
    });
  }

  test('the log names the parser code, never the raw request', () => {
    const lines = capturedLogs.filter((l) => l.includes('client_error'));
    assert.ok(lines.length >= cases.length, `client_error lines: ${lines.length}`);
    for (const line of capturedLogs) {
      assert.ok(!line.includes('rawPacket'), line.slice(0, 200));
      assert.ok(!line.includes(SERVICE_KEY), 'the service key is in a log line');
    }
    assert.match(lines[0]!, /HPE_/);
  });

  test('a well-formed request on the same server still works', async () => {
    const res = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(res, /^HTTP\/1\.1 200 /);
  });
});
