/**
 * Redis bytes per session, both indexes included (issue 6, "Compact sessions").
 *
 *   npm run session-bytes                                   # 100k sessions, 5 per user, 1 per device
 *   npx tsx scripts/session-bytes.ts --sessions=100000 --per-user=1 --per-device=1 --prefix=optix:
 *
 * Starts its own redis-server on a spare port (persistence off), creates the sessions through the
 * public store API (`createRedisStores(...).sessionStore.createSession`), and reports
 * `used_memory` after minus before, divided by the number of sessions, plus `MEMORY USAGE` of every
 * key summed per kind (session record, user index, device index, ...). What `MEMORY USAGE` does not
 * see (the expires dict entries and the two hash tables' bucket arrays) is shown as "keyspace tables".
 *
 * Then, on the emptied server, the same payload the way connect-redis 9 stores an express-session
 * (`SET sess:<32-char sid> <JSON with the cookie> EX <ttl>`, no index), as the reference.
 */
import { randomBytes } from 'node:crypto';
import { RedisClient } from '../src/connection/client.js';
import { createRedisStores } from '../src/stores/redis/index.js';
import {
  type Admin,
  fmt,
  IDLE_MS,
  info,
  type Login,
  makeLogin,
  makeSession,
  makeUserId,
  runPool,
  startBenchRedis,
  USER_AGENT,
  usedMemory,
  BENCH_IDS,
} from './lib/bench-redis.js';

function option(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

const SESSIONS = Number(option('sessions', '100000'));
const PER_USER = Number(option('per-user', '5'));
const PER_DEVICE = Number(option('per-device', '1'));
const PREFIX = option('prefix', 'optix:');
const CONCURRENCY = Number(option('concurrency', '128'));

/** Sums `MEMORY USAGE key SAMPLES 0` over every key, per kind. */
async function memoryByKind(
  admin: Admin,
  kinds: ReadonlyArray<[name: string, prefix: string]>,
): Promise<Map<string, { keys: number; bytes: number }>> {
  const out = new Map<string, { keys: number; bytes: number }>();
  for (const [name] of kinds) out.set(name, { keys: 0, bytes: 0 });
  out.set('other', { keys: 0, bytes: 0 });
  let cursor = '0';
  do {
    const reply = await admin.scan(cursor, { COUNT: 1000 });
    cursor = String(reply.cursor);
    const sizes = await Promise.all(reply.keys.map((k) => admin.memoryUsage(k, { SAMPLES: 0 })));
    reply.keys.forEach((key, i) => {
      const kind = kinds.find(([, prefix]) => key.startsWith(prefix))?.[0] ?? 'other';
      const slot = out.get(kind)!;
      slot.keys++;
      slot.bytes += Number(sizes[i] ?? 0);
    });
  } while (cursor !== '0');
  return out;
}

async function settle(admin: Admin): Promise<void> {
  // Let an incremental rehash of the main dict finish (a few cron ticks) before reading memory.
  await new Promise((r) => setTimeout(r, 300));
  await admin.sendCommand(['MEMORY', 'PURGE']).catch(() => {});
}

async function main(): Promise<void> {
  const redis = await startBenchRedis();
  const { admin } = redis;
  const server = await info(admin, 'server');
  const client = new RedisClient({ url: redis.url, commandTimeoutMs: 30_000 });
  await client.connect();
  try {
    const stores = createRedisStores(client, { keyPrefix: PREFIX, ids: BENCH_IDS });
    const store = stores.sessionStore;

    // Warm up: load every session script into the script cache, then empty the keyspace, so the
    // measured difference holds only the sessions.
    {
      const userId = makeUserId();
      const now = Date.now();
      const s = makeSession(userId, makeLogin(), now);
      await store.createSession(s, { maxSessions: 5 });
      await store.getSession(s.sessionId);
      await store.updateSession({ ...s, lastActivity: now + 1 }, { extendTtl: true });
      await store.getUserSessions(userId);
      await store.deleteSession(s.sessionId);
      await admin.flushAll('SYNC' as never);
    }

    await settle(admin);
    const before = await usedMemory(admin);
    const users = Math.ceil(SESSIONS / PER_USER);
    const userIds = Array.from({ length: users }, makeUserId);
    // Sessions of one user come from ceil(PER_USER / PER_DEVICE) devices.
    const logins = new Map<string, Login>();
    const loginOf = (i: number): Login => {
      const user = Math.floor(i / PER_USER);
      const device = Math.floor((i % PER_USER) / PER_DEVICE);
      const key = `${user}.${device}`;
      let login = logins.get(key);
      if (login === undefined) {
        login = makeLogin();
        logins.set(key, login);
      }
      return login;
    };
    const started = performance.now();
    await runPool(
      SESSIONS,
      CONCURRENCY,
      async (i) => {
        const userId = userIds[Math.floor(i / PER_USER)]!;
        await store.createSession(makeSession(userId, loginOf(i), Date.now()), { maxSessions: PER_USER });
      },
      (done) => process.stderr.write(`  created ${done}/${SESSIONS}\r`),
    );
    const fillSeconds = (performance.now() - started) / 1000;
    process.stderr.write('\n');
    await settle(admin);
    const after = await usedMemory(admin);
    const dbsize = await admin.dbSize();

    const kinds: Array<[string, string]> = [
      ['session record', `${PREFIX}session:`],
      ['user index', `${PREFIX}user:sessions:`],
      ['created-order index', `${PREFIX}user:sessions_created:`],
      ['device index', `${PREFIX}device:sessions:`],
    ];
    const byKind = await memoryByKind(admin, kinds);

    // One record and its key, as stored.
    let sampleKey = '';
    for await (const keys of admin.scanIterator({ MATCH: `${PREFIX}session:*`, COUNT: 100 })) {
      if (keys[0] !== undefined) {
        sampleKey = keys[0];
        break;
      }
    }
    const type = await admin.type(sampleKey);
    const encoding = await admin.sendCommand(['OBJECT', 'ENCODING', sampleKey]);
    const sampleValue =
      type === 'hash' ? JSON.stringify(await admin.hGetAll(sampleKey)) : String(await admin.get(sampleKey));
    const sampleUsage = await admin.memoryUsage(sampleKey, { SAMPLES: 0 });

    // connect-redis reference: same payload, no index.
    await admin.flushAll('SYNC' as never);
    await settle(admin);
    const refBefore = await usedMemory(admin);
    await runPool(SESSIONS, CONCURRENCY, async (i) => {
      const now = Date.now();
      const login = loginOf(i);
      const userId = userIds[Math.floor(i / PER_USER)]!;
      const s = makeSession(userId, login, now);
      // What express-session hands connect-redis (Cookie#toJSON drops undefined fields).
      const sess = {
        cookie: {
          originalMaxAge: IDLE_MS,
          expires: new Date(now + IDLE_MS).toISOString(),
          secure: true,
          httpOnly: true,
          path: '/',
          sameSite: 'strict',
        },
        userId,
        deviceId: s.deviceId,
        deviceFingerprint: s.deviceFingerprint,
        ipAddress: s.ipAddress,
        userAgent: USER_AGENT,
        createdAt: s.createdAt,
        lastActivity: s.lastActivity,
        mfaVerified: s.mfaVerified,
      };
      // connect-redis 9 `set`: SET prefix+sid JSON.stringify(sess) EX ceil(maxAge / 1000).
      const sid = randomBytes(24).toString('base64url');
      await admin.set(`sess:${sid}`, JSON.stringify(sess), {
        expiration: { type: 'EX', value: IDLE_MS / 1000 },
      });
    });
    await settle(admin);
    const refAfter = await usedMemory(admin);

    const total = after - before;
    const perSession = total / SESSIONS;
    const measured = [...byKind.values()].reduce((a, b) => a + b.bytes, 0);
    const lines: string[] = [];
    lines.push(
      `redis ${server.redis_version} (${server.arch_bits}-bit, ${(await info(admin, 'memory')).mem_allocator})`,
    );
    lines.push(
      `${SESSIONS} sessions, ${users} users (${PER_USER} per user), ${PER_DEVICE} session(s) per device, ` +
        `key prefix '${PREFIX}'; ${dbsize} keys; filled in ${fmt(fillSeconds)} s`,
    );
    lines.push('');
    lines.push(`used_memory after - before: ${total} bytes = ${fmt(perSession)} bytes/session`);
    lines.push('');
    lines.push('| part | keys | MEMORY USAGE bytes/session |');
    lines.push('|---|---:|---:|');
    for (const [name, v] of byKind) {
      if (v.keys === 0) continue;
      lines.push(`| ${name} | ${v.keys} | ${fmt(v.bytes / SESSIONS)} |`);
    }
    lines.push(
      `| keyspace tables (expires entries, dict buckets; not in MEMORY USAGE) | | ${fmt((total - measured) / SESSIONS)} |`,
    );
    lines.push(`| **total (used_memory)** | ${dbsize} | **${fmt(perSession)}** |`);
    lines.push('');
    lines.push(
      `connect-redis reference (same payload, no index): ${fmt((refAfter - refBefore) / SESSIONS)} bytes/session`,
    );
    lines.push('');
    lines.push(
      `sample record: ${sampleKey} (${type}, ${String(encoding)}, MEMORY USAGE ${sampleUsage} bytes)`,
    );
    lines.push(`  ${JSON.stringify(sampleValue)} (${Buffer.byteLength(sampleValue)} bytes)`);
    console.log(lines.join('\n'));
  } finally {
    await client.close().catch(() => {});
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
