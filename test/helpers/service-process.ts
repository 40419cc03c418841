/**
 * Starts the service the way an operator does (a command, in its own process group), waits for
 * `/healthz`, and stops it with a signal sent to the pid that was started: the check behind every
 * documented start command (README "Production"). Whatever is left of the group is killed after
 * the test file, so a server orphaned by a wrapper (npm, npx, a shell) cannot outlive the test
 * and is reported as a failure first.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { after } from 'node:test';
import { appendCapturedLog } from './log-capture.js';

/** How long the service waits for requests in flight on SIGTERM/SIGINT (src/server.ts). */
export const DRAIN_DEADLINE_MS = 10_000;

export interface StartedService {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly base: string;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Process groups started by a test file (`detached`); whatever is left of them is killed after it. */
const groups = new Set<number>();

/** Kills the group `pgid` after the file unless `killGroup` ends it first. */
export function trackGroup(pgid: number): void {
  groups.add(pgid);
}

/** `true` while any process of the group `pgid` is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killGroup(pgid: number): void {
  groups.delete(pgid);
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // nothing left of it
  }
}

after(() => {
  for (const pgid of groups) killGroup(pgid);
});

/**
 * Spawns `command args` in `cwd` with `env` (PATH and HOME are passed on) as the leader of a new
 * process group, listening on `port`.
 */
export function startService(
  command: string,
  args: readonly string[],
  options: { cwd: string; port: number; env?: Record<string, string> },
): StartedService {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? options.cwd,
      PORT: String(options.port),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  assert.ok(pid !== undefined, `${command} did not start`);
  groups.add(pid);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      appendCapturedLog(out);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    pid,
    port: options.port,
    base: `http://127.0.0.1:${options.port}`,
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}

/** Waits until `/healthz` answers 200; returns how long it took (ms). */
export async function waitHealthy(service: StartedService, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(`exited before /healthz answered:\n${service.stderr()}\n${service.stdout()}`);
    }
    try {
      const res = await fetch(`${service.base}/healthz`);
      await res.arrayBuffer();
      if (res.ok) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no /healthz within ${timeoutMs} ms:\n${service.stderr()}`);
}

/** `true` when nothing accepts connections on 127.0.0.1:`port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/**
 * Sends `signal` to the started pid (or, with `group`, to its whole process group, as a
 * terminal's Ctrl-C does) and asserts what an orchestrator relies on: within the drain deadline
 * the port is free, the started process exited with code 0 (not killed by the signal), and no
 * process of its group is left behind. Returns how long the stop took (ms).
 */
export async function stopAndCheck(
  service: StartedService,
  signal: 'SIGTERM' | 'SIGINT',
  options: {
    group?: boolean;
    /** Runs once the signal is sent, while the service drains (e.g. finishes a request in flight). */
    whileDraining?: () => Promise<void>;
  } = {},
): Promise<number> {
  const sent = Date.now();
  process.kill(options.group === true ? -service.pid : service.pid, signal);
  await options.whileDraining?.();
  const deadline = new Promise<'deadline'>((resolve) => {
    const timer = setTimeout(() => resolve('deadline'), DRAIN_DEADLINE_MS + 2_000);
    timer.unref();
  });
  const outcome = await Promise.race([service.exited, deadline]);
  assert.notEqual(outcome, 'deadline', `still running ${DRAIN_DEADLINE_MS + 2_000} ms after ${signal}`);
  const tookMs = Date.now() - sent;
  assert.deepEqual(outcome, { code: 0, signal: null }, service.stderr());
  assert.ok(tookMs <= DRAIN_DEADLINE_MS, `stopped after ${tookMs} ms`);
  assert.equal(await portFree(service.port), true, `port ${service.port} still accepts connections`);
  // A wrapper that died without passing the signal on leaves the server running, re-parented to
  // init but still in this group, for good: so waiting up to 5 s (a loaded machine can take over a
  // second to reap a process that is already exiting) cannot hide an orphan.
  for (let i = 0; i < 100 && groupAlive(service.pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(
    groupAlive(service.pid),
    false,
    'a process of the started group outlived it (orphaned server)',
  );
  killGroup(service.pid);
  return tookMs;
}
