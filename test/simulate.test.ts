/**
 * The day in the life (`npm run simulate`), shortened: simulated users on two instances over one
 * Redis (and over memory), driven through HTTP, every invariant counted after each simulated hour.
 * Zero violations, and enough of each kind of traffic that the zero means something.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSimulation, VIOLATION_KEYS } from '../scripts/lib/simulation.js';
import { getTestRedisUrl } from './helpers/redis-server.js';

function assertClean(result: Awaited<ReturnType<typeof runSimulation>>) {
  const c = result.counts;
  for (const k of VIOLATION_KEYS) assert.equal(c[k], 0, `${k}: ${result.violations.join('\n')}`);
  // The run did what it says: logins, refreshes past several access-token lives, gateway traffic,
  // sessions that ended as they should, and thefts caught.
  assert.ok(c.logins > 20, `logins ${c.logins}`);
  assert.ok(c.refreshes > 50, `refreshes ${c.refreshes}`);
  assert.ok(c.introspections > 1000, `introspections ${c.introspections}`);
  assert.ok(c.expectedLogouts > 0, `expected logouts ${c.expectedLogouts}`);
  for (const [kind, n] of Object.entries(c.scenarios)) assert.ok(n > 0, `scenario ${kind} was never played`);
  assert.ok(c.theftsDetected > 0, 'a replayed refresh token was caught');
}

describe('a day in the life, shortened', () => {
  test('on Redis: 30 users, 3 simulated hours, two instances', async () => {
    const result = await runSimulation({ redisUrl: await getTestRedisUrl(), users: 30, hours: 3, seed: 11 });
    assertClean(result);
    const last = result.hours.at(-1)!;
    assert.ok(last.bytes !== null && last.bytes.users > 0, 'bytes per user were measured');
  });

  test('in memory: 20 users, 2 simulated hours', async () => {
    assertClean(await runSimulation({ redisUrl: null, users: 20, hours: 2, seed: 5 }));
  });
});
