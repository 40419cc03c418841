/**
 * `npx tsx bench/login-redis-cost.ts [--ops N] [--tracking]`: what a login costs Redis itself, by part. One
 * real login's `session_create` call (`support/login-script.ts`) is replayed, 64 in flight, for
 * new users and devices against a throwaway redis-server, through variants of the script, and
 * `INFO commandstats` gives the server's µs per `EVALSHA` and the share of the commands run
 * inside it, `INFO cpu` the server's whole CPU per login (the call's I/O too). `--tracking` opens a
 * connection tracking the service's prefixes in broadcasting mode (as every instance has), so
 * Redis also pushes the login's tracked keys:
 * - `real`: the script as shipped;
 * - `arguments only`: the same call returning at once (the call, its 8 keys and 30 arguments);
 * - `without events`: the script with the events' block skipped;
 * - `the writes alone`: only the login's seven writes (record, user index, device index, two
 *   event records and their index entries): no cap, pruning, TTL upkeep or new-device decision.
 * docs/performance.md ("The ceilings") quotes it.
 */
import { createClient } from '@redis/client';
import { createKeySchema } from '../src/stores/redis/keys.js';
import { scriptSource } from '../src/stores/redis/lua/index.js';
import { captureLoginCall, keysForNewUser } from './support/login-script.js';
import { createOurSide, KEY_PREFIX } from './support/optix.js';
import { startRedis } from './support/redis.js';

const at = process.argv.indexOf('--ops');
const OPS = at === -1 ? 30_000 : Number(process.argv[at + 1]);
const tracking = process.argv.includes('--tracking');
const server = await startRedis();
const client = createClient({ url: server.url });
client.on('error', () => {});
// RESP3, where tracking's invalidations arrive as pushes on the connection itself.
const listener = createClient({ url: server.url, RESP: 3 });
listener.on('error', () => {});
try {
  const our = await createOurSide(server.url);
  const call = await captureLoginCall(our, 'cost-template');
  await our.close();
  await client.connect();
  if (tracking) {
    await listener.connect();
    const prefixes = createKeySchema(KEY_PREFIX).trackedPrefixes.flatMap((p) => ['PREFIX', p]);
    await listener.sendCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', ...prefixes]);
  }
  const cpu = async () => {
    const info = String(await client.sendCommand(['INFO', 'cpu']));
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
    return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
  };
  const source = scriptSource('session_create');
  const variants: [string, string][] = [
    ['real', source],
    ['arguments only', `do return {'ok', {}, {}, 0, 1, 1, 0} end\n${source}`],
    ['without events', source.replace('if eventKeys > 0 then', 'if false then')],
    [
      'the writes alone',
      [
        "redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])",
        "redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])",
        "redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])",
        "redis.call('SET', KEYS[6], ARGV[18], 'PX', ARGV[17])",
        "redis.call('ZADD', KEYS[5], ARGV[16], ARGV[15])",
        "redis.call('SET', KEYS[7], ARGV[22], 'PX', ARGV[21])",
        "redis.call('ZADD', KEYS[5], ARGV[20], ARGV[19])",
        "return {'ok', {}, {}, 0, 1, 1, 0}",
      ].join('\n'),
    ],
  ];
  if (call.keys.length !== 8)
    throw new Error(`expected a login with events (8 keys), got ${call.keys.length}`);
  const keysFor = keysForNewUser(call);
  let n = 0;
  for (let round = 1; round <= 2; round++) {
    for (const [name, script] of variants) {
      const sha = String(await client.sendCommand(['SCRIPT', 'LOAD', script]));
      const one = () => {
        const keys = keysFor(`~${n++}`);
        return client
          .sendCommand(['EVALSHA', sha, String(keys.length), ...keys, ...call.args])
          .then((reply) => {
            // Every variant answers as a login that wrote its session (and its events, but the
            // variant without them) would.
            const r = reply as unknown as unknown[];
            if (r[0] !== 'ok' || r[4] !== (name === 'without events' ? 0 : 1))
              throw new Error(`${name}: unexpected reply ${JSON.stringify(r)}`);
          });
      };
      const run = async (count: number) => {
        let i = 0;
        await Promise.all(
          Array.from({ length: 64 }, async () => {
            while (i++ < count) await one();
          }),
        );
      };
      await run(3000);
      await client.sendCommand(['CONFIG', 'RESETSTAT']);
      const cpu0 = await cpu();
      await run(OPS);
      const redisCpu = ((await cpu()) - cpu0) / OPS;
      const stats = String(await client.sendCommand(['INFO', 'commandstats']));
      const evalsha = /cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats);
      let inner = 0;
      for (const m of stats.matchAll(/cmdstat_(\w+):calls=\d+,usec=(\d+)/g)) {
        if (m[1] !== 'evalsha' && m[1] !== 'config') inner += Number(m[2]);
      }
      console.log(
        `round ${round}  ${name.padEnd(17)} EVALSHA ${(Number(evalsha?.[1]) / OPS).toFixed(1).padStart(5)} µs per login, of which commands inside ${(inner / OPS).toFixed(1).padStart(5)} µs; Redis CPU ${redisCpu.toFixed(1).padStart(5)} µs per login${tracking ? ' (tracked)' : ''}`,
      );
      await client.sendCommand(['FLUSHALL']);
    }
  }
} finally {
  await client.close().catch(() => {});
  if (tracking) await listener.close().catch(() => {});
  await server.stop();
}
