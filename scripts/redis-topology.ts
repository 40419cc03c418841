/**
 * Starts one Redis test topology for manual use and keeps it running until Ctrl-C:
 *
 *   npx tsx scripts/redis-topology.ts tls        # TLS-only server, requirepass + ACL user `optix`
 *   npx tsx scripts/redis-topology.ts sentinel   # master, replica, three sentinels
 *   npx tsx scripts/redis-topology.ts cluster    # three masters, three replicas
 *
 * Prints `REDIS_URL=…` (and for TLS `REDIS_TLS_CA_FILE=…`) ready to export, then how to reach each
 * process with redis-cli. Ctrl-C (or SIGTERM) stops exactly the processes it started and removes
 * their temporary directory.
 */
import {
  requireBinaries,
  startCluster,
  startSentinel,
  startTlsRedis,
  type Topology,
} from '../test/topologies/harness.js';

const KINDS = ['tls', 'sentinel', 'cluster'] as const;
type Kind = (typeof KINDS)[number];

async function main(): Promise<void> {
  const kind = process.argv[2] as Kind | undefined;
  if (kind === undefined || !KINDS.includes(kind)) {
    console.error(`usage: tsx scripts/redis-topology.ts ${KINDS.join('|')}`);
    process.exit(2);
  }
  requireBinaries();
  const started = performance.now();
  let topology: Topology;
  const lines: string[] = [];
  if (kind === 'tls') {
    const t = await startTlsRedis();
    topology = t;
    lines.push(
      `REDIS_URL='${t.url}'`,
      `REDIS_TLS_CA_FILE='${t.certificates.caFile}'`,
      '',
      `# admin: redis-cli --tls --cacert ${t.certificates.caFile} -p ${t.port} --pass '${t.adminPassword}'`,
      `# as the service user: redis-cli --tls --cacert ${t.certificates.caFile} -p ${t.port} --user ${t.user} --pass '${t.userPassword}'`,
    );
  } else if (kind === 'sentinel') {
    const t = await startSentinel();
    topology = t;
    lines.push(
      `REDIS_URL='${t.url}'`,
      '',
      `# master ${t.dataPorts[0]}, replica ${t.dataPorts[1]}, sentinels ${t.sentinelPorts.join(', ')}`,
      `# redis-cli -p ${t.sentinelPorts[0]} SENTINEL GET-MASTER-ADDR-BY-NAME ${t.masterName}`,
      `# fail over: kill -9 <pid of the master> (pids below)`,
    );
  } else {
    const t = await startCluster();
    topology = t;
    lines.push(`REDIS_URL='${t.url}'`, '', `# nodes ${t.ports.join(', ')}: redis-cli -c -p ${t.ports[0]}`);
  }
  lines.push(
    `# processes: ${topology.processes.map((p) => `${p.name}=${p.pid} (port ${p.port})`).join(', ')}`,
    `# data in ${topology.dir}`,
    `# started in ${((performance.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops everything`,
  );
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping ${topology.processes.length} processes`);
    await topology.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Report a process that dies on its own (a crash or a manual kill) without stopping the rest.
  for (const p of topology.processes) {
    void p.exited.then(() => {
      if (!stopping) console.error(`# ${p.name} (pid ${p.pid}, port ${p.port}) exited`);
    });
  }
  // Keep the event loop alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
