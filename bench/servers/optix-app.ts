/**
 * Child process of the http-introspect scenario: the real service, started the way `npm start`
 * starts it (`startServer` over `loadConfig`, NODE_ENV=production), on a spare port. Logs go to
 * /dev/null at the configured level (the cost of writing them is kept, the terminal is spared).
 * Before answering "ready" it creates sessions and token pairs through its own container, and
 * hands the access tokens to the parent.
 *
 * Environment: BENCH_REDIS_URL, BENCH_SERVICE_KEY, BENCH_JWT_SECRET, BENCH_TOKENS, BENCH_LOG_LEVEL,
 * BENCH_RATE_LIMIT_PER_MINUTE.
 */
import { USER_AGENT } from '../support/payload.js';
import { need, startBenchService } from '../support/service.js';

const server = await startBenchService({
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
  // The default (600,000/min per caller) could turn a fast run into 429s: the limiter still runs
  // (its in-process counter is paid per request) but never trips.
  // BENCH_RATE_LIMIT_PER_MINUTE=0 turns it off (a diagnostic variant).
  rateLimitPerMinute: process.env.BENCH_RATE_LIMIT_PER_MINUTE ?? '10000000',
});

const count = Number(need('BENCH_TOKENS'));
const tokens: string[] = [];
for (let i = 0; i < count; i++) {
  const { tokens: pair } = await server.optix.login({
    userId: `http-${i}`,
    ipAddress: `203.0.113.${1 + (i % 254)}`,
    userAgent: USER_AGENT,
    mfaVerified: true,
    email: `http-${i}@example.com`,
    roles: ['trader'],
    permissions: ['orders:read', 'orders:write'],
  });
  tokens.push(pair.accessToken);
}

process.on('message', (message) => {
  if (message === 'stop') void server.stop().finally(() => process.exit(0));
});
process.send?.({ type: 'ready', port: server.port, tokens });
