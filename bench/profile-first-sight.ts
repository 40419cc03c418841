/**
 * `npx tsx bench/profile-first-sight.ts [--profile FILE]`: the client CPU one first-sight
 * verification costs (6,000 fresh tokens, 64 in flight, in process, against a throwaway
 * redis-server; `process.cpuUsage`, so it counts this process only, not Redis), and with
 * `--profile` a CPU profile of that phase (`.cpuprofile`, Chrome DevTools format, sampled every
 * 100 µs). docs/performance.md quotes both.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createOurSide } from './support/optix.js';
import { startRedis } from './support/redis.js';

const TOKENS = 6000;
const USERS = 200;
const IN_FLIGHT = 64;

const at = process.argv.indexOf('--profile');
const profileFile = at === -1 ? null : (process.argv[at + 1] ?? 'first-sight.cpuprofile');

const server = await startRedis();
const our = await createOurSide(server.url);
try {
  const users = [];
  for (let i = 0; i < USERS; i++)
    users.push(await our.sessions.createSession({ userId: `p-${i}`, ipAddress: '10.0.0.1', userAgent: 'x' }));
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) {
    const u = users[i % USERS]!;
    tokens.push((await our.jwt.issueTokenPair({ userId: u.userId, sessionId: u.sessionId })).accessToken);
  }
  const inspector = new Session();
  if (profileFile !== null) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < tokens.length) await our.jwt.verifyToken(tokens[next++]!);
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (profileFile !== null) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
  }
  console.log(
    `first-sight: ${TOKENS} verifications in ${elapsed.toFixed(0)} ms; client CPU ${((cpu.user + cpu.system) / TOKENS).toFixed(1)} µs per verification`,
  );
} finally {
  await our.close();
  await server.stop();
}
