/**
 * The timeline of a Sentinel failover as node-redis's Sentinel client lives it, for the
 * "Failover and recovery" section of docs/operations.md (and to measure again after a node-redis
 * upgrade): starts its own master, replica and three sentinels (test/topologies), connects the
 * service's Sentinel client (the options `createNodeRedis` builds), keeps three writers going,
 * SIGKILLs the master and prints, in ms after the kill, what each sentinel reports of the master
 * (`SENTINEL MASTER` flags and port), node-redis's own trace of its re-discovery (`setTracer`) and
 * the first write that succeeded again.
 *
 *   npx tsx scripts/sentinel-failover-trace.ts
 */
import { createClient } from '@redis/client';
import { resolveRedisOptions } from '../src/connection/config.js';
import { createNodeRedis } from '../src/connection/connection.js';
import { HOST, startSentinel } from '../test/topologies/harness.js';

const topology = await startSentinel();
const lines: Array<[number, string]> = [];
let killedAt = Number.POSITIVE_INFINITY;
const note = (what: string) => {
  if (performance.now() >= killedAt) lines.push([performance.now() - killedAt, what]);
};

const client = createNodeRedis(resolveRedisOptions({ url: topology.url, clientSideCache: false }));
client.on('error', () => {});
await client.connect();
client.setTracer({
  push: (msg: string) => !msg.startsWith('attemping to send') && note(`node-redis: ${msg}`),
});
const sentinels = await Promise.all(
  topology.sentinelPorts.map(async (port) => {
    const c = createClient({ socket: { host: HOST, port } });
    c.on('error', () => {});
    await c.connect();
    return c;
  }),
);

let writing = true;
let lastFailure = 0;
let resumed = 0;
const writer = async () => {
  while (writing) {
    const failed = await Promise.race([
      client.set('trace', 'x').then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 500)),
    ]).catch(() => true);
    const at = performance.now() - killedAt;
    if (failed) lastFailure = at;
    else if (lastFailure > 0 && resumed === 0) resumed = at;
    await new Promise((r) => setTimeout(r, 10));
  }
};
const writers = [writer(), writer(), writer()];

const killed = await topology.killMaster();
killedAt = killed.killedAt;
const seen = ['', '', ''];
while (performance.now() - killedAt < 6000) {
  await Promise.all(
    sentinels.map(async (c, i) => {
      const reply = (await c.sendCommand(['SENTINEL', 'MASTER', topology.masterName])) as unknown;
      const get = (k: string) =>
        Array.isArray(reply) ? reply[reply.indexOf(k) + 1] : (reply as Record<string, string>)[k];
      const state = `port ${get('port')}, flags ${get('flags')}`;
      if (state !== seen[i]) {
        seen[i] = state;
        note(`sentinel ${i}: ${state}`);
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 20));
}
writing = false;
await Promise.all(writers);

console.log(`master ${killed.port} SIGKILLed at 0 ms`);
for (const [at, what] of lines.sort((a, b) => a[0] - b[0]))
  console.log(`${at.toFixed(0).padStart(6)} ms  ${what}`);
console.log(
  `writes: last failure ${lastFailure.toFixed(0)} ms, first success after it ${resumed.toFixed(0)} ms`,
);
await Promise.all(sentinels.map((c) => c.destroy()));
await client.destroy();
await topology.stop();
