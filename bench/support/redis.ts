/**
 * A throwaway redis-server for the benchmarks: Debian's `redis-server`, spawned (never daemonized)
 * on a spare port with persistence off and its own temporary directory, waited on by PING, and
 * stopped by its own pid. The shared server on 6379 is never used.
 *
 * (test/helpers/redis-server.ts does the same for the tests but registers node:test hooks on
 * import, so the benchmarks keep their own small copy.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOST = '127.0.0.1';

export interface BenchRedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** `redis_version` from INFO server. */
  readonly version: string;
  /** Sends one inline command over a raw socket and returns the raw reply (for FLUSHALL, INFO...). */
  command(line: string): Promise<string>;
  /** SIGTERM by pid, SIGKILL after 2 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Sends an inline command; resolves with the whole reply once `complete(reply)` says so. */
function rawCommand(port: number, line: string, complete: (reply: string) => boolean, timeoutMs = 2000) {
  return new Promise<string>((resolve, reject) => {
    const socket = createConnection({ port, host: HOST });
    let reply = '';
    let settled = false;
    const done = (err: Error | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(reply);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`redis ${line}: no answer within ${timeoutMs} ms`)));
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(complete(reply) ? null : new Error(`redis ${line}: connection closed`)));
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (complete(reply)) done(null);
    });
  });
}

/** A bulk string reply (`$<len>\r\n<data>\r\n`) is complete once all its bytes arrived. */
function bulkComplete(reply: string): boolean {
  if (reply.startsWith('+') || reply.startsWith('-') || reply.startsWith(':')) return reply.endsWith('\r\n');
  const m = /^\$(-?\d+)\r\n/.exec(reply);
  if (!m) return false;
  const len = Number(m[1]);
  return len < 0 || Buffer.byteLength(reply, 'latin1') >= m[0].length + len + 2;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForPing(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited before answering PING:\n${output()}`);
    }
    try {
      if ((await rawCommand(port, 'PING', (r) => r.endsWith('\r\n'), 500)).startsWith('+PONG')) return;
    } catch {
      // not up yet
    }
    await delay(20);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${output()}`);
}

/** Starts `redis-server` on a spare port (never 6379) and resolves once it answers PING. */
export async function startRedis(extraArgs: readonly string[] = []): Promise<BenchRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'optix-bench-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        HOST,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const keep = (chunk: Buffer) => {
      out = (out + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (err) => {
        keep(Buffer.from(`\n${String(err)}\n`));
        if (child.pid === undefined) resolve();
      });
    });
    const killOnExit = () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    };
    process.once('exit', killOnExit);
    try {
      await waitForPing(child, port, () => out);
    } catch (err) {
      lastError = err;
      process.off('exit', killOnExit);
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      await exited;
      if (/address already in use/i.test(out)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const pid = child.pid!;
    const info = await rawCommand(port, 'INFO server', bulkComplete);
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    let stopping: Promise<void> | null = null;
    return {
      port,
      url: `redis://${HOST}:${port}`,
      pid,
      version,
      command: (line) => rawCommand(port, line, bulkComplete, 30_000),
      stop() {
        stopping ??= (async () => {
          process.off('exit', killOnExit);
          if (child.exitCode === null && child.signalCode === null) {
            process.kill(pid, 'SIGTERM');
            const timer = setTimeout(() => {
              if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
            }, 2000);
            await exited;
            clearTimeout(timer);
          }
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error('redis-server could not bind a spare port');
}
