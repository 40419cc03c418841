/**
 * `npx tsx bench/count-commands.ts`: the Redis commands and round trips one call of each hot path
 * costs, steady state (scripts loaded, caches warm where the path allows), seen with `MONITOR` on a
 * throwaway redis-server. Commands a script runs are counted apart. Round trips are estimated as
 * groups of commands Redis received less than 150 µs after the previous one (commands sent
 * together arrive together): on a loaded machine read them as approximate, and check against the
 * code. Then each path is timed one call at a time (no concurrency: the latency of one call,
 * median and p90 of 300). The numbers go into docs/performance.md.
 */
import { createClient } from '@redis/client';
import { createOurSide } from './support/optix.js';
import { startRedis } from './support/redis.js';

interface Seen {
  at: number;
  line: string;
  /** Run by a script (MONITOR shows `[0 lua]`), not sent by the client. */
  inScript: boolean;
}

async function main(): Promise<void> {
  const server = await startRedis();
  const our = await createOurSide(server.url);
  const monitor = createClient({ url: server.url });
  monitor.on('error', () => {});
  await monitor.connect();
  let seen: Seen[] = [];
  await monitor.monitor((reply: string) => {
    // `1733520000.123456 [0 127.0.0.1:1234] "GET" "key"`
    const m = /^(\d+\.\d+) \[([^\]]*)\] (.*)$/.exec(reply);
    if (!m) return;
    const line = m[3]!;
    if (/^"(?:PING|ping|CLIENT|client|INFO|info|WAIT|wait)"/.test(line)) return;
    seen.push({ at: Number(m[1]), line, inScript: /\blua\b/.test(m[2]!) });
  });

  const quiet = async () => {
    // Let MONITOR's stream catch up: a PING through the monitored server and back.
    await server.command('PING');
    await new Promise((r) => setImmediate(r));
    await server.command('PING');
  };

  async function count(label: string, fn: () => Promise<unknown>): Promise<void> {
    // Two warm-up calls of the same kind are made by the caller; measure one.
    await quiet();
    seen = [];
    await fn();
    await quiet();
    const inner = seen.filter((s) => s.inScript).length;
    const calls = seen.filter((s) => !s.inScript);
    let trips = 0;
    let last = Number.NEGATIVE_INFINITY;
    for (const s of calls) {
      if (s.at - last > 0.00015) trips++;
      last = s.at;
    }
    const names = calls.map((s) => {
      const words = s.line.split('" "').map((w) => w.replace(/^"|"$/g, ''));
      const cmd = words[0]!.toUpperCase();
      if (cmd === 'EVALSHA' || cmd === 'EVAL') return `${cmd}(${scriptName(words[1] ?? '')})`;
      return cmd;
    });
    console.log(
      `${label}: ${calls.length} commands sent (${inner} more run inside scripts), ~${trips} round trips: ${names.join(', ')}`,
    );
  }

  const shaToName = new Map<string, string>();
  const { SCRIPTS } = await import('../src/stores/redis/lua/index.js');
  for (const s of Object.values(SCRIPTS)) shaToName.set(s.sha1, s.name);
  const scriptName = (sha: string) => shaToName.get(sha) ?? `${sha.slice(0, 8)}…`;

  const mk = (i: number) => ({
    userId: `count-user-${i}`,
    ipAddress: '10.0.0.1',
    userAgent: 'bench',
    deviceFingerprint: `fp-${i}`,
  });
  try {
    // Warm: scripts loaded, connections up.
    for (let i = 0; i < 3; i++) {
      const s = await our.sessions.createSession(mk(100 + i));
      const pair = await our.jwt.issueTokenPair({ userId: s.userId, sessionId: s.sessionId });
      await our.jwt.verifyToken(pair.accessToken);
      await our.jwt.refreshTokens(pair.refreshToken);
      await our.sessions.validateSession(s.sessionId, { endpoint: '/a' });
    }
    await count('createSession (new user, new device)', () => our.sessions.createSession(mk(1)));
    const s = await our.sessions.createSession(mk(2));
    await count('createSession (same user, known device)', () => our.sessions.createSession(mk(2)));
    const pair = await our.jwt.issueTokenPair({ userId: s.userId, sessionId: s.sessionId });
    await count('issueTokenPair', () => our.jwt.issueTokenPair({ userId: s.userId, sessionId: s.sessionId }));
    await count('verifyToken (first sight)', () => our.jwt.verifyToken(pair.accessToken));
    await count('verifyToken (warm)', () => our.jwt.verifyToken(pair.accessToken));
    await count('refreshTokens', () => our.jwt.refreshTokens(pair.refreshToken));
    const v = await our.sessions.createSession(mk(3));
    await count('validateSession (first sight, no write)', () =>
      our.sessions.validateSession(v.sessionId, { endpoint: '/a' }),
    );
    await count('validateSession (warm, endpoint changes)', () =>
      our.sessions.validateSession(v.sessionId, { endpoint: '/b' }),
    );
    await monitor.close().catch(() => {});
    console.log('\none call at a time (µs, median / p90 of 300):');
    const N = 300;
    const timed = async (label: string, fn: (i: number) => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < N; i++) {
        const t0 = performance.now();
        await fn(i);
        samples.push((performance.now() - t0) * 1000);
      }
      samples.sort((a, b) => a - b);
      const at = (q: number) => Math.round(samples[Math.floor(q * (samples.length - 1))]!);
      console.log(`  ${label}: ${at(0.5)} / ${at(0.9)}`);
    };
    await timed('createSession (new user, new device)', (i) => our.sessions.createSession(mk(10_000 + i)));
    const users = await Promise.all(
      Array.from({ length: N }, (_, i) => our.sessions.createSession(mk(20_000 + i))),
    );
    const pairs: Array<{ accessToken: string; refreshToken: string }> = [];
    for (const u of users)
      pairs.push(await our.jwt.issueTokenPair({ userId: u.userId, sessionId: u.sessionId }));
    await timed('verifyToken (first sight)', (i) => our.jwt.verifyToken(pairs[i]!.accessToken));
    await timed('verifyToken (warm)', (i) => our.jwt.verifyToken(pairs[i]!.accessToken));
    await timed('refreshTokens', (i) => our.jwt.refreshTokens(pairs[i]!.refreshToken));
    await timed('validateSession (session seen for the first time)', (i) =>
      our.sessions.validateSession(users[i]!.sessionId, { endpoint: `/e${i % 7}` }),
    );
  } finally {
    await monitor.close().catch(() => {});
    await our.close();
    await server.stop();
  }
}

await main();
