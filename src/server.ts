/**
 * The service's entry point: reads the environment (and `.env`), builds the container, listens,
 * runs the cleanup job, and shuts down gracefully on SIGTERM/SIGINT (stop accepting, drain
 * requests in flight, close Redis).
 *
 *   npm start                       # development: exec node --import tsx src/server.ts
 *   npm run start:prod              # production: exec node dist/server.js (after npm run build)
 *   node dist/server.js
 *   optix-sessions serve
 *
 * Exit codes: 0 clean shutdown, 1 failure, 69 Redis unreachable at start, 78 bad configuration.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TracerProvider } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { readEnv } from './config/env-file.js';
import { type Env, loadConfig } from './config/load.js';
import type { OptixConfig } from './config/types.js';
import { createOptix, type Optix } from './container.js';
import { ConfigError, isStoreFailure } from './core/errors.js';
import { buildApp, type OptixApp } from './http/app.js';
import { type CleanupJob, startCleanupJob } from './http/cleanup-job.js';
import { createLogger } from './http/logger.js';
import { describeError } from './connection/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_UNAVAILABLE = 69;
export const EXIT_CONFIG = 78;

/** How long the exit waits for the last spans to be exported. */
const TRACING_SHUTDOWN_MS = 3000;

/** How long shutdown waits for requests in flight before giving up. */
const DRAIN_TIMEOUT_MS = 10_000;
/** A signal this soon after the first is the same stop delivered twice (see `onSignal`). */
const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

export interface RunningServer {
  readonly app: OptixApp;
  readonly optix: Optix;
  readonly cleanup: CleanupJob | null;
  /** `http://host:port` actually bound. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, drains requests in flight, stops the cleanup job, closes Redis. Idempotent. */
  stop(): Promise<void>;
}

/** Builds and starts the service for `config`. Rejects (nothing left open) when Redis is unreachable. */
export async function startServer(
  config: OptixConfig,
  deps: { logger: Logger; tracerProvider?: TracerProvider },
): Promise<RunningServer> {
  const { logger, tracerProvider } = deps;
  const traced = tracerProvider !== undefined ? { tracerProvider } : {};
  const optix = await createOptix(config, { logger, ...traced });
  let app: OptixApp;
  try {
    app = await buildApp(optix, { logger, ...traced });
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await optix.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.http.port;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const cleanup =
    config.cleanupIntervalSeconds > 0
      ? startCleanupJob({
          optix,
          logger,
          metrics: app.metrics,
          intervalSeconds: config.cleanupIntervalSeconds,
        })
      : null;
  let stopping: Promise<void> | null = null;
  return {
    app,
    optix,
    cleanup,
    url: `http://${host}:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        app.lifecycle.draining = true;
        await cleanup?.stop();
        await app.close(); // onClose closes the container (Redis)
      })();
      return stopping;
    },
  };
}

function banner(config: OptixConfig, url: string): string {
  const lines = [
    '',
    '='.repeat(78),
    '  OPTIX Sessions is running in DEVELOPMENT MODE. Do not use this in production.',
    ...config.warnings.map((w) => `  - ${w}`),
  ];
  if (config.generated.serviceApiKey !== null) {
    lines.push('', '  Service key for this process (printed once; set SERVICE_API_KEYS to choose your own):');
    lines.push(`    ${config.generated.serviceApiKey}`);
  }
  lines.push('', `  Listening on ${url}   API docs: ${url}/docs`, '='.repeat(78), '');
  return lines.join('\n');
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * Runs the service until SIGTERM/SIGINT. Returns the exit code instead of exiting when `exit` is
 * given (the CLI's `serve` passes its own).
 */
export async function main(
  options: {
    /** The whole environment, used as it is (no `.env` is read). */
    env?: Env;
    /** Otherwise: the process environment (default `process.env`) over `envFile` (default `./.env`). */
    processEnv?: Env;
    envFile?: string;
    /** Variables set over whichever of the two (the CLI's `--redis-url`). */
    overrides?: Env;
    exit?: (code: number) => void;
  } = {},
): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let config: OptixConfig;
  // Misspelt names in the env file (`REDIS_ULR=`): logged once the logger exists.
  const envWarnings: string[] = [];
  try {
    const env =
      options.env ??
      readEnv({
        ...(options.envFile !== undefined ? { path: options.envFile } : {}),
        ...(options.processEnv !== undefined ? { env: options.processEnv } : {}),
        onWarning: (message) => envWarnings.push(message),
      });
    config = loadConfig(options.overrides !== undefined ? { ...env, ...options.overrides } : env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`optix-sessions: configuration error: ${err.message}\n`);
      exit(EXIT_CONFIG);
      return;
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  // The OpenTelemetry SDK is imported only when tracing is on.
  const tracing =
    config.tracing.exporter === 'none' ? null : (await import('./telemetry.js')).startTracing(config.tracing);
  let server: RunningServer;
  try {
    server = await startServer(config, {
      logger,
      ...(tracing !== null ? { tracerProvider: tracing.provider } : {}),
    });
  } catch (err) {
    await tracing?.shutdown().catch(() => {});
    const unavailable = isStoreFailure(err);
    logger.fatal({ error: describeError(err) }, 'startup_failed');
    await flush(logger);
    process.stderr.write(`optix-sessions: cannot start: ${describeError(err)}\n`);
    exit(unavailable ? EXIT_UNAVAILABLE : EXIT_FAILURE);
    return;
  }
  for (const w of config.warnings) logger.warn(w);
  for (const w of envWarnings) logger.warn(`env_file_unknown_variable: ${w}`);
  // An evicting Redis silently forgets revocations (README, "Memory"): say so at every start.
  const redis = server.optix.redis;
  if (redis !== null) {
    const report = await redis.checkEvictionPolicy().catch(() => null);
    if (report !== null && !report.safe) {
      logger.warn(
        { policy: report.policy, maxmemoryBytes: report.maxmemoryBytes },
        `redis_eviction_policy_unsafe: ${report.message}`,
      );
    }
  }
  logger.info(
    {
      url: server.url,
      backend: server.optix.backend,
      tracing: config.tracing.exporter,
      redis: config.redis?.redactedUrl ?? null,
      kid: config.jwt.activeKid,
    },
    'server_listening',
  );
  if (config.nodeEnv !== 'production' && config.warnings.length > 0) {
    process.stderr.write(banner(config, server.url));
  }

  let firstSignalAt: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== null) {
      // One stop can arrive twice: a terminal's Ctrl-C signals every process of the foreground
      // group, and `npm start` forwards the same signal to the server it runs. Only a second
      // signal sent on purpose, later, cuts the drain short.
      if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_WINDOW_MS) return;
      process.stderr.write(`optix-sessions: second ${signal}, exiting now\n`);
      exit(EXIT_FAILURE);
      return;
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, 'shutdown_started');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: DRAIN_TIMEOUT_MS }, 'shutdown_timed_out');
      void flush(logger).then(() => exit(EXIT_FAILURE));
    }, DRAIN_TIMEOUT_MS);
    timer.unref();
    server.stop().then(
      async () => {
        clearTimeout(timer);
        // The last spans (the requests drained above) are exported before the exit.
        // Bounded: an unreachable collector must not hold the exit.
        if (tracing !== null) {
          let bound: NodeJS.Timeout | undefined;
          await Promise.race([
            tracing.shutdown().catch((err: unknown) => {
              logger.warn({ error: describeError(err) }, 'tracing_shutdown_failed');
            }),
            new Promise<void>((resolve) => {
              bound = setTimeout(resolve, TRACING_SHUTDOWN_MS);
            }),
          ]);
          clearTimeout(bound);
        }
        logger.info('shutdown_completed');
        await flush(logger);
        exit(EXIT_OK);
      },
      async (err: unknown) => {
        clearTimeout(timer);
        logger.error({ error: describeError(err) }, 'shutdown_failed');
        await flush(logger);
        exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((err: unknown) => {
    process.stderr.write(`optix-sessions: ${describeError(err)}\n`);
    process.exit(EXIT_FAILURE);
  });
}
