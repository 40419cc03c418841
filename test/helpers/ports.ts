/**
 * The one port finder of the tests: every spawned server (a plain test Redis, a topology node, a
 * service process) takes its port from `freePort`. Imports nothing of `node:test`, so scripts can
 * use it too.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
 * The first port of the kernel's ephemeral range (outgoing connections take their local port from
 * it, so a port chosen there can be taken between the check and the server's listen): Linux's
 * `ip_local_port_range`, 32768 when it cannot be read.
 */
function ephemeralStart(): number {
  try {
    const start = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(start) && start > 20_000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

/** Test ports: from 10000 up to the ephemeral range (see `ephemeralStart`). */
const LOWEST = 10_000;
const BELOW = ephemeralStart();

/**
 * A port that was free a moment ago, from 10000 up to below the kernel's ephemeral range (so no
 * outgoing connection takes it meanwhile); with `bus`, port + 10000 (the cluster bus) is free and
 * below that range too.
 */
export async function freePort(
  options: { bus?: boolean; avoid?: ReadonlySet<number> } = {},
): Promise<number> {
  const span = BELOW - LOWEST - (options.bus ? 10_000 : 0);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + (randomBytes(2).readUInt16BE(0) % span);
    if (options.avoid?.has(port) || (options.bus && options.avoid?.has(port + 10000))) continue;
    if (!(await portIsFree(port))) continue;
    if (options.bus && !(await portIsFree(port + 10000))) continue;
    return port;
  }
  throw new Error('no free port found in 200 tries');
}
