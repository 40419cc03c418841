/**
 * The one port finder of the tests: every spawned server (a plain test Redis, a topology node, a
 * service process) takes its port from `freePort`. Imports nothing of `node:test`, so scripts can
 * use it too.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

/** Where every test server listens. */
export const HOST = '127.0.0.1';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago, from 20000–44999 (below the kernel's ephemeral range, so
 * outgoing connections do not take it); with `bus`, port + 10000 (the cluster bus) is free too.
 */
export async function freePort(
  options: { bus?: boolean; avoid?: ReadonlySet<number> } = {},
): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + (randomBytes(2).readUInt16BE(0) % 25000);
    if (options.avoid?.has(port) || (options.bus && options.avoid?.has(port + 10000))) continue;
    if (!(await portIsFree(port))) continue;
    if (options.bus && !(await portIsFree(port + 10000))) continue;
    return port;
  }
  throw new Error('no free port found in 200 tries');
}
