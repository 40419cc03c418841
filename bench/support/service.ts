/**
 * The service as the HTTP bench servers start it (`bench/servers/optix-app.ts`,
 * `bench/servers/introspect-floor.ts`): `startServer` over `loadConfig`, NODE_ENV=production, on a
 * spare port, logs written to /dev/null at the given level (the cost of writing them is kept, the
 * terminal is spared). Environment: BENCH_REDIS_URL, BENCH_SERVICE_KEY, BENCH_JWT_SECRET.
 */
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/http/logger.js';
import { startServer } from '../../src/server.js';

/** The environment variable `name`, which the parent must set. */
export function need(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
}

/** `rateLimitPerMinute`: the introspection limit per caller ('0' turns the limiter off). */
export function startBenchService(options: { logLevel: string; rateLimitPerMinute: string }) {
  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    REDIS_URL: need('BENCH_REDIS_URL'),
    JWT_SECRET: need('BENCH_JWT_SECRET'),
    SERVICE_API_KEYS: need('BENCH_SERVICE_KEY'),
    LOG_LEVEL: options.logLevel,
    RATE_LIMIT_INTROSPECT_PER_MINUTE: options.rateLimitPerMinute,
  });
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.destination({ dest: '/dev/null', sync: false }),
  });
  return startServer(config, { logger });
}
