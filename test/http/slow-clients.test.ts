/**
 * Slow clients against a listening server (real sockets, not `inject`): a request that sends its
 * headers and part of its body and then stalls is cut at HTTP_REQUEST_TIMEOUT_MS, 500 of them at
 * once do not stop the service from answering others, and connections past HTTP_MAX_CONNECTIONS
 * are closed as they arrive.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { connectionsCheckingIntervalMs } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { BASE_ENV } from './harness.js';

async function start(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({ ...BASE_ENV, LOG_LEVEL: 'silent', PORT: '0', ...env });
  return startServer(config, { logger: createLogger({ level: 'silent' }) });
}

/** Opens a socket, sends `data`, and resolves with the socket once it is connected and written. */
function openAndSend(
  port: number,
  data: string,
): Promise<{ socket: Socket; closed: Promise<number>; sentAt: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('data', () => {}); // a 408 may be written before the close
    const closed = new Promise<number>((done) => socket.on('close', () => done(performance.now())));
    socket.once('error', () => {}); // a reset is a close too
    socket.once('connect', () =>
      socket.write(data, (err) =>
        err ? reject(err) : resolve({ socket, closed, sentAt: performance.now() }),
      ),
    );
  });
}

const STALLED_BODY =
  'POST /v1/token/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"refreshToken":"';

describe('slow clients', () => {
  test('500 stalled bodies are all closed by the request deadline and the service keeps answering', async (t) => {
    const deadlineMs = 1000;
    const server = await start({
      HTTP_REQUEST_TIMEOUT_MS: String(deadlineMs),
      HTTP_HEADERS_TIMEOUT_MS: '1000',
    });
    try {
      const checkMs = connectionsCheckingIntervalMs(server.app.optix.config.http);
      const started = performance.now();
      const sockets: Array<{ socket: Socket; closed: Promise<number>; sentAt: number }> = [];
      for (let i = 0; i < 10; i++) {
        sockets.push(
          ...(await Promise.all(Array.from({ length: 50 }, () => openAndSend(server.port, STALLED_BODY)))),
        );
      }
      const opened = performance.now();

      // Meanwhile the service answers others.
      const answers: number[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const res = await fetch(`${server.url}/healthz`);
          answers.push(res.status);
          await res.arrayBuffer();
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      // Waits for every socket to close, but no longer than the deadline, one check interval and
      // a slack for this shared, loaded machine (today's main never closes them).
      const bound = deadlineMs + checkMs + 5000;
      const closedAt = await Promise.all(
        sockets.map((s) =>
          Promise.race([
            s.closed,
            new Promise<number>((r) => setTimeout(() => r(Number.NaN), bound + s.sentAt - performance.now())),
          ]),
        ),
      );
      polling = false;
      await poller;
      const open = closedAt.filter((at) => Number.isNaN(at)).length;
      const held = closedAt.map((at, i) => at - sockets[i]!.sentAt).filter((h) => !Number.isNaN(h));
      t.diagnostic(
        `opened 500 in ${Math.round(opened - started)} ms; held ${Math.round(Math.min(...held))} to ${Math.round(Math.max(...held))} ms after the last byte (deadline ${deadlineMs} ms, checked every ${checkMs} ms); ${answers.length} probes answered meanwhile`,
      );
      for (const s of sockets) s.socket.destroy();
      assert.equal(
        open,
        0,
        `${open} of 500 stalled sockets were still open ${bound} ms after their last byte`,
      );
      assert.ok(Math.min(...held) >= deadlineMs - 50, 'cut by the deadline, not before');
      assert.ok(answers.length >= 3, `the service answered ${answers.length} probes meanwhile`);
      assert.deepEqual(new Set(answers), new Set([200]));
      // And after: still serving.
      const after = await fetch(`${server.url}/healthz`);
      assert.equal(after.status, 200);
    } finally {
      await server.stop();
    }
  });

  test('a stalled body is answered 408 and closed', async () => {
    const server = await start({ HTTP_REQUEST_TIMEOUT_MS: '600', HTTP_HEADERS_TIMEOUT_MS: '600' });
    try {
      const { socket, closed } = await openAndSend(server.port, STALLED_BODY);
      let reply = '';
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('latin1');
      });
      const t0 = performance.now();
      const at = await closed;
      assert.ok(at - t0 < 600 + 150 + 1000, `closed after ${Math.round(at - t0)} ms`);
      assert.match(reply, /^HTTP\/1\.1 408 /);
    } finally {
      await server.stop();
    }
  });

  test('connections beyond HTTP_MAX_CONNECTIONS are closed as they arrive', async () => {
    const server = await start({ HTTP_MAX_CONNECTIONS: '5' });
    try {
      const held = [];
      for (let i = 0; i < 5; i++)
        held.push(await openAndSend(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      const extra = await openAndSend(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      let extraReply = '';
      extra.socket.on('data', (c: Buffer) => {
        extraReply += c.toString('latin1');
      });
      await extra.closed;
      assert.equal(extraReply, '', 'the sixth connection got no answer');
      for (const h of held) h.socket.destroy();
      await Promise.all(held.map((h) => h.closed));
      // Below the cap again: served.
      const res = await fetch(`${server.url}/healthz`, { headers: { connection: 'close' } });
      assert.equal(res.status, 200);
    } finally {
      await server.stop();
    }
  });
});
