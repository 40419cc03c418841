/**
 * `npm run simulate`: a day in the life (scripts/lib/simulation.ts): simulated users on two
 * instances over one Redis (its own redis-server on a spare port), driven through HTTP, with the
 * invariants checked after every simulated hour. Prints the counts; exits 1 on any violation.
 *
 *   npm run simulate                                  # 100 users, 12 simulated hours, on Redis
 *   npm run simulate -- --users=50 --hours=4 --seed=7
 *   npm run simulate -- --backend=memory              # both instances on one in-memory container
 */
import { runSimulation, VIOLATION_KEYS } from './lib/simulation.js';
import { startBenchRedis } from './lib/bench-redis.js';

function option(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

const users = Number(option('users', '100'));
const hours = Number(option('hours', '12'));
const seed = Number(option('seed', '1'));
const backend = option('backend', 'redis');
if (
  !Number.isInteger(users) ||
  users < 1 ||
  !Number.isInteger(hours) ||
  hours < 1 ||
  !['redis', 'memory'].includes(backend)
) {
  console.error('usage: simulate [--users=N] [--hours=N] [--seed=N] [--backend=redis|memory]');
  process.exit(2);
}

const redis = backend === 'redis' ? await startBenchRedis() : null;
const started = Date.now();
console.log(
  `simulate: ${users} users + 1 hostile account, ${hours} simulated hours, two instances on ${backend}, seed ${seed}`,
);
try {
  const result = await runSimulation({
    redisUrl: redis?.url ?? null,
    users,
    hours,
    seed,
    onHour(r) {
      const c = r.counts;
      const bytes = r.bytes
        ? `, Redis bytes per user max ${r.bytes.max} mean ${r.bytes.mean} (${r.bytes.users} users), hostile ${r.bytes.hostile}`
        : '';
      console.log(
        `hour ${String(r.hour).padStart(2)}: ${c.requests} requests, ${c.logins} logins, ${c.refreshes} refreshes, ` +
          `${c.introspections} introspections, ${c.expectedLogouts} expected logouts, ${c.theftsDetected} thefts detected, ` +
          `violations ${VIOLATION_KEYS.reduce((n, k) => n + c[k], 0)}${bytes} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    },
  });
  console.log('');
  console.log(`scenarios played: ${JSON.stringify(result.counts.scenarios)}`);
  for (const k of VIOLATION_KEYS) console.log(`${k.padEnd(26)} ${result.counts[k]}`);
  for (const v of result.violations) console.log(`  ${v}`);
  const total = VIOLATION_KEYS.reduce((n, k) => n + result.counts[k], 0);
  console.log(total === 0 ? '\nsimulate: no violations' : `\nsimulate: ${total} violations`);
  process.exitCode = total === 0 ? 0 : 1;
} finally {
  await redis?.stop();
}
