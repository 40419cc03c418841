/**
 * What every CLI command shares: where output goes, exit codes, and opening the container from the
 * environment with readable failures (a bad `REDIS_URL` is named without its password).
 */
import cliProgress from 'cli-progress';
import { readEnv } from '../config/env-file.js';
import { type Env, loadConfig } from '../config/load.js';
import type { OptixConfig } from '../config/types.js';
import { createOptix, type Optix } from '../container.js';
import { ConfigError, InvalidArgumentError, InvalidIdError, isOptixError } from '../core/errors.js';
import type { RedisClient } from '../redis/client.js';
import { describeError } from '../redis/errors.js';
import { ServiceClient } from './remote.js';

/** Exit codes (sysexits.h where one fits). */
export const EXIT = Object.freeze({
  OK: 0,
  /** The operation ran and failed (unhealthy, errors during a load test…). */
  FAILURE: 1,
  /** Bad command line or argument. */
  USAGE: 2,
  /** The named session or user had nothing to act on. */
  NOT_FOUND: 3,
  /** Redis or the service could not be reached (or answered 503). */
  UNAVAILABLE: 69,
  /** Another instance holds the cleanup lock: try again later. */
  TEMPFAIL: 75,
  /** The service refused the service key (`--url`). */
  NOPERM: 77,
  /** Bad configuration (environment or `.env`). */
  CONFIG: 78,
});

export interface Output {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** The environment (default `process.env`); `.env` is merged under it. */
  env: Env;
  /** Whether stderr is a terminal (progress bars). */
  isTTY: boolean;
}

/** A failure with its exit code and a message for the operator. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
    this.name = 'CliError';
  }
}

/** Options every command accepts. */
export interface GlobalOptions {
  /** `--config-file` (or its older name `--env-file`): read instead of `./.env`. */
  configFile?: string;
  redisUrl?: string;
  /** `--url`: act through a running service's admin API instead of on Redis. */
  url?: string;
  /** `--service-key` (else `OPTIX_SERVICE_KEY`): the service key for `--url`. */
  serviceKey?: string;
  json?: boolean;
}

/** The service client for `--url`, or `null` when the command acts on Redis directly. */
export function serviceFrom(io: CliIo, options: GlobalOptions): ServiceClient | null {
  if (options.url === undefined) return null;
  const key = options.serviceKey ?? io.env.OPTIX_SERVICE_KEY ?? null;
  return new ServiceClient(options.url, key === '' ? null : key);
}

/** Reads `.env` + environment (+ `--redis-url`) into the validated configuration. */
export function configFrom(io: CliIo, options: GlobalOptions): OptixConfig {
  const path = options.configFile;
  const env = readEnv({
    env: io.env,
    ...(path !== undefined ? { path } : {}),
    onWarning: (message) => void io.stderr.write(`optix-sessions: warning: ${message}\n`),
  });
  return loadConfig(options.redisUrl !== undefined ? { ...env, REDIS_URL: options.redisUrl } : env);
}

/**
 * Opens the container for a command, runs `fn`, and always closes it.
 * With `requireRedis`, a missing `REDIS_URL` is a configuration error: operator commands act on
 * the shared store, and an empty in-memory one would only mislead.
 */
export async function withOptix<T>(
  io: CliIo,
  options: GlobalOptions & { requireRedis?: boolean; config?: OptixConfig },
  fn: (optix: Optix) => Promise<T>,
): Promise<T> {
  const config = options.config ?? configFrom(io, options);
  if (options.requireRedis && config.redis === null) {
    throw new CliError(
      EXIT.CONFIG,
      'REDIS_URL is not set: this command acts on the shared Redis store (set REDIS_URL, use --redis-url or --config-file), or on a running service with --url <service URL> and OPTIX_SERVICE_KEY',
    );
  }
  // An operator waiting on a refused port learns it at once, not after REDIS_CONNECT_TIMEOUT_MS.
  const optix = await createOptix(config, { failFastOnRefused: true });
  try {
    return await fn(optix);
  } finally {
    await optix.close();
  }
}

/** Maps an error to its exit code and prints one readable line (never a stack, never a password). */
export function reportError(io: CliIo, err: unknown): number {
  if (err instanceof CliError) {
    io.stderr.write(`optix-sessions: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    io.stderr.write(`optix-sessions: configuration error: ${err.message}\n`);
    return EXIT.CONFIG;
  }
  if (isOptixError(err)) {
    const code = err.code;
    io.stderr.write(`optix-sessions: ${describeError(err)} (${code})\n`);
    if (code === 'ERR_STORE_UNAVAILABLE' || code === 'ERR_STORE_TIMEOUT') return EXIT.UNAVAILABLE;
    if (err instanceof InvalidIdError || err instanceof InvalidArgumentError) return EXIT.USAGE;
    return EXIT.FAILURE;
  }
  io.stderr.write(`optix-sessions: ${describeError(err)}\n`);
  return EXIT.FAILURE;
}

/** Prints `value` as JSON (for `--json`). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `2026-01-01T00:00:00.000Z` for an epoch-ms value (or `-`). */
export function iso(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '-';
}

/** A left-aligned text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Parses a positive integer option, or throws a usage error naming it. */
export function positiveInt(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new CliError(
      EXIT.USAGE,
      `${name} must be a whole number from 1 to ${max}, got "${value.slice(0, 32)}"`,
    );
  }
  return Number(value);
}

/** A progress bar; its total grows if the first estimate was low. */
export interface ProgressBar {
  update(done: number): void;
  /** Ends the bar at `done` when given (the final count). */
  stop(done?: number): void;
}

/** A bar on the command's stderr (a terminal): `label [███░░] n/total <unit>`. */
export function progressBar(io: CliIo, label: string, estimate: number, unit: string): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} ${unit}`,
      hideCursor: true,
      clearOnComplete: false,
      // Drawn on the command's stderr (a terminal: `io.isTTY`), not on process.stderr.
      stream: terminalStream(io.stderr),
    },
    cliProgress.Presets.shades_classic,
  );
  let total = Math.max(1, estimate);
  bar.start(total, 0);
  return {
    update(done) {
      if (done > total) {
        total = done;
        bar.setTotal(total);
      }
      bar.update(done);
    },
    stop(done) {
      if (done !== undefined) {
        bar.setTotal(Math.max(1, done));
        bar.update(done);
      }
      bar.stop();
    },
  };
}

/** A bar of keys scanned for a walk over the keyspace, its total estimated from `INFO keyspace`. */
export async function keyspaceBar(io: CliIo, redis: RedisClient, label: string): Promise<ProgressBar> {
  const keyspace = await redis.info('keyspace');
  const db = `db${redis.options.url.database}`;
  const estimate = Number(/keys=(\d+)/.exec(String(keyspace[db] ?? ''))?.[1] ?? 0);
  return progressBar(io, label, estimate, 'keys scanned');
}

/** `io.stderr` as the terminal stream cli-progress draws on (cursor moves are written to it). */
function terminalStream(out: CliIo['stderr']): NodeJS.WritableStream {
  const columns = (out as { columns?: unknown }).columns;
  return {
    isTTY: true,
    columns: typeof columns === 'number' && columns > 0 ? columns : 80,
    write: (chunk: string) => {
      out.write(chunk);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
}
