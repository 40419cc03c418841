/**
 * Raw TCP probes of a plain test server (no TLS, no password): an inline `PING`, and how many
 * clients are connected. Cheaper than spawning `redis-cli` on every poll. Never throw.
 */
import { createConnection } from 'node:net';
import { HOST } from './ports.js';

/** Sends an inline `PING` over raw TCP; true when the answer is `+PONG`. Never throws. */
export function pingRedis(port: number, host = HOST, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    let answer = '';
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** How many clients are connected (counting this probe), or `null` when the server did not answer. */
export function connectedClients(port: number, timeoutMs = 500): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: HOST });
    let answer = '';
    let settled = false;
    const done = (count: number | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(count);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('error', () => done(null));
    socket.once('close', () => done(null));
    socket.once('connect', () => socket.write('INFO clients\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const m = /connected_clients:(\d+)/.exec(answer);
      if (m) done(Number(m[1]));
    });
  });
}
