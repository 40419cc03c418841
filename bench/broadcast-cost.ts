/**
 * `npx tsx bench/broadcast-cost.ts [broadcast|default] [--logins N]`: what a login storm on one
 * instance costs another instance that serves nothing, per tracking mode of the client-side cache.
 * In broadcasting mode Redis pushes every write under the tracked prefixes (a login writes the
 * session record, the user index and the family) to every instance; in default mode only keys an
 * instance read. Instance A (this process) makes N logins, 64 in flight; instance B (a child
 * process, idle but for its lease PINGs) counts the keys it was told about and its own CPU
 * (`process.cpuUsage`) over the storm. A throwaway redis-server; the shared one is never used.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clientSideCacheFor, login } from '../src/index.js';
import { createOurSide, KEY_PREFIX } from './support/optix.js';
import { sessionInput } from './support/payload.js';
import { startRedis } from './support/redis.js';

type Mode = 'broadcast' | 'default';
const args = process.argv.slice(2);

if (args[0] === '--idle') {
  // Instance B.
  const [, url, mode] = args as [string, string, Mode];
  const b = await createOurSide(url, { clientSideCache: clientSideCacheFor(KEY_PREFIX, mode) });
  // biome-ignore lint/suspicious/noExplicitAny: node-redis's provider and PING, reached through the reader
  const reader = b.redis.tracking!.commands as any;
  const provider = reader.clientSideCache as { invalidate(key: unknown): void };
  const invalidate = provider.invalidate;
  let keys = 0;
  let pushes = 0;
  let inJsUs = 0;
  let inPush = false;
  provider.invalidate = function (this: unknown, key: unknown) {
    keys++;
    // The keys of one push are handed over in one synchronous loop.
    if (!inPush) {
      inPush = true;
      pushes++;
      queueMicrotask(() => {
        inPush = false;
      });
    }
    const t = performance.now();
    try {
      return invalidate.call(this, key);
    } finally {
      inJsUs += (performance.now() - t) * 1000;
    }
  };
  let cpu0 = process.cpuUsage();
  process.on('message', async (msg: string) => {
    if (msg === 'start') {
      keys = 0;
      pushes = 0;
      inJsUs = 0;
      cpu0 = process.cpuUsage();
      process.send!({ started: true });
    } else if (msg === 'stop') {
      // Every push for a write made before this PING is read before its reply.
      await reader.ping();
      const cpu = process.cpuUsage(cpu0);
      process.send!({ keys, pushes, cpuUs: cpu.user + cpu.system, userUs: cpu.user, inJsUs });
    } else {
      await b.close();
      process.exit(0);
    }
  });
  process.send!({ ready: true });
} else {
  const mode = (args[0] ?? 'broadcast') as Mode;
  const at = args.indexOf('--logins');
  const logins = at === -1 ? 10_000 : Number(args[at + 1]);
  const server = await startRedis();
  const child = fork(fileURLToPath(import.meta.url), ['--idle', server.url, mode], {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.IDLE_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.IDLE_PROF}`] : []),
    ],
  });
  const reply = () => new Promise<Record<string, number>>((resolve) => child.once('message', resolve));
  try {
    await reply();
    const a = await createOurSide(server.url, { clientSideCache: clientSideCacheFor(KEY_PREFIX, mode) });
    let n = 0;
    const storm = async (count: number) => {
      const end = n + count;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (n < end) {
            const i = n++;
            await login(a, { ...sessionInput(`bc-${i}`, i), roles: ['trader'] });
          }
        }),
      );
    };
    await storm(1000); // warm-up (scripts loaded, JIT)
    const serverCpu = async () => {
      const info = await server.command('INFO cpu');
      const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
      return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
    };
    child.send('start');
    await reply();
    const cpu0 = await serverCpu();
    const t0 = performance.now();
    await storm(logins);
    const ms = performance.now() - t0;
    const serverUs = ((await serverCpu()) - cpu0) / logins;
    child.send('stop');
    const { keys = 0, pushes = 0, cpuUs = 0, userUs = 0, inJsUs = 0 } = await reply();
    console.log(
      `${mode}: ${logins} logins in ${ms.toFixed(0)} ms (${Math.round((logins * 1000) / ms)}/s); the idle instance was told ${(keys / logins).toFixed(2)} keys per login in ${pushes} pushes (${(keys / Math.max(1, pushes)).toFixed(1)} keys each) and spent ${(cpuUs / logins).toFixed(2)} µs CPU per login (${(cpuUs / 1000).toFixed(0)} ms in all, ${(userUs / 1000).toFixed(0)} ms user, lease PINGs included; ${(inJsUs / 1000).toFixed(0)} ms inside invalidate); Redis ${serverUs.toFixed(1)} µs CPU per login`,
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('close');
    await Promise.all([a.close(), exited]);
  } finally {
    child.kill();
    await server.stop();
  }
}
