/**
 * Real Redis topologies for tests and manual use, from Debian's `redis-server` and `redis-cli`
 * (settings from `../shared/NOTES.md`):
 *
 * - `startTlsRedis()`: one TLS-only server (`--port 0 --tls-port P`), certificates made with openssl
 *   at start, `requirepass` for the default user and an ACL user limited to `SERVICE_COMMANDS`;
 * - `startSentinel()`: a master, one replica and three sentinels (quorum 2);
 * - `startCluster()`: three masters and three replicas;
 * - `startStandalone()`: one plain server with the persistence and memory settings a fault test
 *   wants, that can be SIGKILLed and restarted on the same port and directory.
 *
 * Every process is spawned (never `--daemonize`), waited on by asking it (PING, replication and
 * cluster state, sentinel views; never a fixed sleep) and stopped by its own pid. Nothing here
 * imports `node:test`, so `scripts/redis-topology.ts` can use it too.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HOST = '127.0.0.1';
const POLL_MS = 25;
const KILL_AFTER_MS = 2000;

/**
 * The commands the service sends, found by running the contract and service suites against a server
 * and reading `INFO commandstats` (`tls.test.ts` checks the list again each run). Commands called
 * inside Lua scripts count: Redis checks the caller's ACL on each `redis.call`. `hello`, `auth`,
 * `ping`, `client|setname` and `select` are what node-redis needs to connect and check health;
 * `info` feeds `healthCheck()` and `checkEvictionPolicy()`; `incrby` is the HTTP rate limiter's
 * script. Nothing that changes server settings, flushes, or runs server-side admin is allowed.
 * Keys are `~*` here; in production give each service its own prefix and `~prefix*`.
 */
export const SERVICE_COMMANDS: readonly string[] = [
  'hello',
  'auth',
  'ping',
  'info',
  'client|setname',
  // The client-side cache of revocation checks turns tracking on for its connection.
  'client|tracking',
  'select',
  'get',
  'set',
  // Browser hand-off codes are taken once (HandoffStore.take).
  'getdel',
  'del',
  'exists',
  'mget',
  'incrby',
  'pexpire',
  'pttl',
  // The families of ended sessions leave the user's family index (family_drop.lua).
  'hdel',
  'hget',
  'hgetall',
  'hmget',
  'hset',
  'zadd',
  'zcard',
  'zcount',
  'zrange',
  'zrem',
  'zremrangebyrank',
  'zremrangebyscore',
  'zscore',
  'scan',
  'evalsha',
  // Revocation-class writes wait for their replica on Sentinel and Cluster (RedisClient.replicaAcks).
  'wait',
  'eval',
];

/** The ACL rule list of the service user (after `on >password`). */
export function serviceAclRules(): string[] {
  return ['~*', 'resetchannels', '-@all', ...SERVICE_COMMANDS.map((c) => `+${c}`)];
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/** One spawned server process, stopped by its own pid. */
export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  isRunning(): boolean;
  /** The last 4 kB of its stdout and stderr. */
  output(): string;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after 2 s; waits for the exit. Idempotent. */
  stop(): Promise<void>;
}

/** Every process still running, killed by pid if the test process exits without stopping them. */
const live = new Set<ServerProcess>();
process.once('exit', () => {
  for (const p of live) if (p.isRunning()) p.child.kill('SIGKILL');
});

/** Spawns `command args`; rejects when the binary cannot be started at all (e.g. not installed). */
export async function spawnProcess(
  name: string,
  port: number,
  command: string,
  args: readonly string[],
): Promise<ServerProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let running = true;
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => {
      running = false;
      reject(new Error(`cannot start ${command} (${name}): ${err.message}`));
    });
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running = false;
      resolve();
    });
  });
  await spawned;
  const proc: ServerProcess = {
    name,
    port,
    child,
    pid: child.pid!,
    exited,
    isRunning: () => running,
    output: () => out,
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (running) child.kill('SIGKILL');
      }, KILL_AFTER_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Fails loudly (never skips) when a binary the topologies need is missing. */
export function requireBinaries(names: readonly string[] = ['redis-server', 'redis-cli', 'openssl']): void {
  for (const name of names) {
    const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
    if (r.error) {
      throw new Error(
        `${name} is required for the topology tests and was not found on PATH (${r.error.message}); ` +
          'install redis-server, redis-tools and openssl (Debian packages)',
      );
    }
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago, from 20000–44999 (below the kernel's ephemeral range, so
 * outgoing connections do not take it); with `bus`, port + 10000 (the cluster bus) is free too.
 */
export async function freePort(
  options: { bus?: boolean; avoid?: ReadonlySet<number> } = {},
): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + (randomBytes(2).readUInt16BE(0) % 25000);
    if (options.avoid?.has(port) || (options.bus && options.avoid?.has(port + 10000))) continue;
    if (!(await portIsFree(port))) continue;
    if (options.bus && !(await portIsFree(port + 10000))) continue;
    return port;
  }
  throw new Error('no free port found in 200 tries');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every 25 ms until it returns a value other than `undefined`/`false`. Rejects after
 * `timeoutMs` with `what` and the last error, or at once when `abort()` says why it cannot happen.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false>,
  abort?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const why = abort?.();
    if (why !== undefined) throw new Error(`${what}: ${why}`);
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${String(last)})`}`,
      );
    }
    await delay(POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// redis-cli
// ---------------------------------------------------------------------------------------------

/** How `redis-cli` reaches one server. */
export interface CliTarget {
  port: number;
  /** CA file: connect with TLS. */
  caFile?: string;
  user?: string;
  password?: string;
}

/** Runs `redis-cli` against one server (2 s timeout) and resolves with its trimmed stdout. */
export function redisCli(target: CliTarget, args: readonly string[], timeoutMs = 2000): Promise<string> {
  const base = ['-h', HOST, '-p', String(target.port)];
  if (target.caFile) base.push('--tls', '--cacert', target.caFile);
  if (target.user) base.push('--user', target.user);
  if (target.password) base.push('--pass', target.password, '--no-auth-warning');
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...base, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** `INFO section` of one server as key → value. */
export async function infoOf(target: CliTarget, section: string): Promise<Record<string, string>> {
  const text = await redisCli(target, ['INFO', section]);
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

async function answersPing(target: CliTarget): Promise<boolean> {
  return (await redisCli(target, ['PING'], 1000)) === 'PONG';
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

interface ServerSpec {
  name: string;
  dir: string;
  /** Arguments after `--port P` (or before, for sentinel: the config file comes first). */
  args: (port: number) => string[];
  /** Port to use; a free one otherwise (retried when taken between probe and bind). */
  port?: number;
  bus?: boolean;
  cli?: Omit<CliTarget, 'port'>;
  avoid?: Set<number>;
  startTimeoutMs?: number;
}

/** Starts one redis-server and waits for it to answer PING; retries with another port if taken. */
async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port =
      spec.port ?? (await freePort({ bus: spec.bus ?? false, ...(spec.avoid ? { avoid: spec.avoid } : {}) }));
    spec.avoid?.add(port);
    const proc = await spawnProcess(spec.name, port, 'redis-server', spec.args(port));
    try {
      await waitFor(
        `${spec.name} on port ${port} answering PING`,
        spec.startTimeoutMs ?? 10_000,
        () => answersPing({ port, ...spec.cli }),
        () => (proc.isRunning() ? undefined : `exited; its output:\n${proc.output()}`),
      );
      return proc;
    } catch (err) {
      await proc.stop();
      const taken = /address already in use/i.test(proc.output());
      if (!taken || spec.port !== undefined) throw err;
    }
  }
  throw new Error(`${spec.name}: no free port after 5 tries`);
}

/** What every topology returns. */
export interface Topology {
  readonly kind: 'tls' | 'sentinel' | 'cluster' | 'standalone';
  /** The `REDIS_URL` the service would use (with the service user's password on TLS). */
  readonly url: string;
  /** The CA to give `RedisClient` as `tls: { ca }` (TLS only). */
  readonly tls?: { ca: string };
  /** Working directory (configs, certificates, data), removed by `stop()`. */
  readonly dir: string;
  /** The processes started, for inspection. */
  readonly processes: readonly ServerProcess[];
  /** Stops every process by pid and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

function makeDir(kind: string): string {
  return mkdtempSync(join(tmpdir(), `optix-${kind}-`));
}

async function stopAll(procs: readonly ServerProcess[], dir: string): Promise<void> {
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
}

const BASE_ARGS = (dir: string) => ['--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'];

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

/** A CA and a server certificate it signed, as files and PEM text. */
export interface TestCertificates {
  caFile: string;
  caPem: string;
  certFile: string;
  keyFile: string;
}

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 20_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

/**
 * Makes a CA (`<name>-ca.crt`) and a server certificate for `localhost`/`127.0.0.1` signed by it
 * (`<name>-server.crt`, key `<name>-server.key`) in `dir`, with P-256 keys, valid for 2 days.
 */
export async function generateCertificates(dir: string, name = 'optix'): Promise<TestCertificates> {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = `${name}-ca`;
  const server = `${name}-server`;
  await openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name} test CA`,
    ],
    dir,
  );
  await openssl(
    ['req', ...ec, '-keyout', `${server}.key`, '-out', `${server}.csr`, '-subj', '/CN=localhost'],
    dir,
  );
  writeFileSync(
    join(dir, `${server}.ext`),
    [
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${server}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${server}.crt`,
      '-days',
      '2',
      '-extfile',
      `${server}.ext`,
    ],
    dir,
  );
  const caFile = join(dir, `${ca}.crt`);
  return {
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    certFile: join(dir, `${server}.crt`),
    keyFile: join(dir, `${server}.key`),
  };
}

export interface TlsTopology extends Topology {
  readonly kind: 'tls';
  readonly tls: { ca: string };
  readonly port: number;
  readonly certificates: TestCertificates;
  /** The ACL user the service connects as, and its password. */
  readonly user: string;
  readonly userPassword: string;
  /** The default user's password (`requirepass`): for administration, not the service. */
  readonly adminPassword: string;
  /** `rediss://default:…@127.0.0.1:P` (all commands). */
  readonly adminUrl: string;
  /** How redis-cli reaches it as the admin. */
  readonly cli: CliTarget;
}

export interface TlsOptions {
  /** Certificates to serve (default: a fresh CA and server certificate). */
  certificates?: TestCertificates;
  /** Rules of the service user after `on >password` (default `serviceAclRules()`). */
  aclRules?: readonly string[];
  /** Extra server arguments. */
  args?: readonly string[];
}

/**
 * A TLS-only server (no plaintext port) with `requirepass` and the ACL user `optix` limited to
 * `SERVICE_COMMANDS`. Clients need `tls: { ca }`; certificates are checked (`--tls-auth-clients no`
 * only means clients need no certificate of their own).
 */
export async function startTlsRedis(options: TlsOptions = {}): Promise<TlsTopology> {
  requireBinaries();
  const dir = makeDir('tls');
  const procs: ServerProcess[] = [];
  try {
    const certs = options.certificates ?? (await generateCertificates(join(dir, 'certs')));
    const adminPassword = randomBytes(18).toString('base64url');
    const userPassword = randomBytes(18).toString('base64url');
    const user = 'optix';
    const rules = options.aclRules ?? serviceAclRules();
    const proc = await startServer({
      name: 'redis-tls',
      dir,
      args: (port) => [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        certs.certFile,
        '--tls-key-file',
        certs.keyFile,
        '--tls-ca-cert-file',
        certs.caFile,
        '--tls-auth-clients',
        'no',
        ...BASE_ARGS(dir),
        '--requirepass',
        adminPassword,
        '--user',
        user,
        'on',
        `>${userPassword}`,
        ...rules,
        ...(options.args ?? []),
      ],
      cli: { caFile: certs.caFile, password: adminPassword },
    });
    procs.push(proc);
    const port = proc.port;
    return {
      kind: 'tls',
      url: `rediss://${user}:${userPassword}@127.0.0.1:${port}/0`,
      adminUrl: `rediss://default:${adminPassword}@127.0.0.1:${port}/0`,
      tls: { ca: certs.caPem },
      dir,
      processes: procs,
      port,
      certificates: certs,
      user,
      userPassword,
      adminPassword,
      cli: { port, caFile: certs.caFile, password: adminPassword },
      stop: () => stopAll(procs, dir),
    };
  } catch (err) {
    await stopAll(procs, dir);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Sentinel
// ---------------------------------------------------------------------------------------------

export interface SentinelTopology extends Topology {
  readonly kind: 'sentinel';
  readonly masterName: string;
  readonly sentinelPorts: readonly number[];
  /** The data nodes' ports (master first at start). */
  readonly dataPorts: readonly number[];
  /** The current master's port, as the sentinels report it (majority answer). */
  masterPort(): Promise<number>;
  /**
   * SIGKILLs the current master. Resolves with its port and `performance.now()` of the kill.
   * The process stays dead (a test can `restartNode(port)` it as a replica).
   */
  killMaster(): Promise<{ port: number; killedAt: number }>;
  /** Waits until the sentinels name a master other than `oldPort`, which answers as a master. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
}

export interface SentinelOptions {
  masterName?: string;
  /** `down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** `failover-timeout` (default 5000). */
  failoverTimeoutMs?: number;
}

/**
 * Master + one `--replicaof` replica + three sentinels (`sentinel monitor NAME 127.0.0.1 PORT 2`).
 * Ready when the replica is in sync and every sentinel sees the master, the replica and both other
 * sentinels (a failover needs them to know each other).
 */
export async function startSentinel(options: SentinelOptions = {}): Promise<SentinelTopology> {
  requireBinaries(['redis-server', 'redis-cli']);
  const name = options.masterName ?? 'mymaster';
  const downAfter = options.downAfterMs ?? 1000;
  const failoverTimeout = options.failoverTimeoutMs ?? 5000;
  const dir = makeDir('sentinel');
  const procs: ServerProcess[] = [];
  const avoid = new Set<number>();
  try {
    const nodeArgs = (sub: string, extra: string[]) => (port: number) => {
      const d = join(dir, sub);
      mkdirSync(d, { recursive: true });
      return ['--port', String(port), ...BASE_ARGS(d), '--repl-diskless-sync-delay', '0', ...extra];
    };
    const master = await startServer({ name: 'sentinel-master', dir, args: nodeArgs('n0', []), avoid });
    procs.push(master);
    const replica = await startServer({
      name: 'sentinel-replica',
      dir,
      args: nodeArgs('n1', ['--replicaof', HOST, String(master.port)]),
      avoid,
    });
    procs.push(replica);
    await waitFor('replica in sync', 10_000, async () => {
      const info = await infoOf({ port: replica.port }, 'replication');
      const seen = await infoOf({ port: master.port }, 'replication');
      return info.master_link_status === 'up' && /state=online/.test(seen.slave0 ?? '');
    });

    const sentinelPorts: number[] = [];
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        const s = await startServer({
          name: `sentinel-${i}`,
          dir,
          avoid,
          args: (port) => {
            // Sentinels rewrite their config file: each gets its own, writable, in the temp dir.
            const file = join(dir, `sentinel-${i}.conf`);
            writeFileSync(
              file,
              [
                `port ${port}`,
                `bind ${HOST}`,
                `dir ${dir}`,
                `sentinel monitor ${name} ${HOST} ${master.port} 2`,
                `sentinel down-after-milliseconds ${name} ${downAfter}`,
                `sentinel failover-timeout ${name} ${failoverTimeout}`,
                `sentinel parallel-syncs ${name} 1`,
                '',
              ].join('\n'),
            );
            return [file, '--sentinel'];
          },
        });
        procs.push(s);
        sentinelPorts.push(s.port);
      }),
    );
    await Promise.all(
      sentinelPorts.map((port) =>
        waitFor(`sentinel ${port} seeing master, replica and 2 other sentinels`, 20_000, async () => {
          const fields = (await redisCli({ port }, ['SENTINEL', 'MASTER', name])).split('\n');
          const get = (k: string) => fields[fields.indexOf(k) + 1];
          return (
            get('flags') === 'master' &&
            Number(get('num-slaves')) >= 1 &&
            Number(get('num-other-sentinels')) >= 2
          );
        }),
      ),
    );

    const byPort = new Map(procs.map((p) => [p.port, p]));
    const sentinelMaster = async (): Promise<number> => {
      const answers = await Promise.all(
        sentinelPorts.map((port) =>
          redisCli({ port }, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]).then(
            (out) => Number(out.split('\n')[1]),
            () => 0,
          ),
        ),
      );
      const counts = new Map<number, number>();
      for (const a of answers) if (a > 0) counts.set(a, (counts.get(a) ?? 0) + 1);
      const best = [...counts].sort((x, y) => y[1] - x[1])[0];
      if (!best || best[1] < 2) throw new Error(`sentinels disagree on the master: ${answers.join(', ')}`);
      return best[0];
    };
    return {
      kind: 'sentinel',
      url: `redis://${sentinelPorts.map((p) => `${HOST}:${p}`).join(',')}/0?sentinel=${name}`,
      masterName: name,
      sentinelPorts,
      dataPorts: [master.port, replica.port],
      dir,
      processes: procs,
      masterPort: sentinelMaster,
      async killMaster() {
        const port = await sentinelMaster();
        const proc = byPort.get(port);
        if (!proc) throw new Error(`master on port ${port} was not started here`);
        proc.child.kill('SIGKILL');
        const killedAt = performance.now();
        await proc.exited;
        return { port, killedAt };
      },
      async waitForFailover(oldPort, timeoutMs = 20_000) {
        return waitFor(`sentinels promoting a new master instead of ${oldPort}`, timeoutMs, async () => {
          const port = await sentinelMaster();
          if (port === oldPort) return false;
          const role = await infoOf({ port }, 'replication');
          return role.role === 'master' ? port : false;
        });
      },
      stop: () => stopAll(procs, dir),
    };
  } catch (err) {
    await stopAll(procs, dir);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

export interface ClusterTopology extends Topology {
  readonly kind: 'cluster';
  readonly ports: readonly number[];
  /** The port of the master serving `key` now (`CLUSTER KEYSLOT` + `CLUSTER SLOTS`). */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the master serving `key` (default: slot 0's). */
  killMaster(key?: string): Promise<{ port: number; killedAt: number }>;
  /** Waits until every live node reports `cluster_state:ok` and no slot is served by `deadPort`. */
  waitForFailover(deadPort: number, timeoutMs?: number): Promise<void>;
}

export interface ClusterOptions {
  /** `--cluster-node-timeout` in ms (default 2000). */
  nodeTimeoutMs?: number;
}

interface SlotRange {
  from: number;
  to: number;
  masterPort: number;
}

function parseClusterShards(text: string): SlotRange[] {
  // `redis-cli CLUSTER SLOTS` prints a flat list: from, to, then per node ip, port, id (, hostname…).
  // Using CLUSTER NODES instead: "<id> <ip:port@bus> <flags> <master> … <slot ranges>".
  const ranges: SlotRange[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const flags = parts[2]!;
    if (!flags.includes('master') || flags.includes('fail')) continue;
    const port = Number(parts[1]!.split('@')[0]!.split(':')[1]);
    for (const r of parts.slice(8)) {
      if (r.startsWith('[')) continue;
      const [a, b] = r.split('-');
      ranges.push({ from: Number(a), to: Number(b ?? a), masterPort: port });
    }
  }
  return ranges;
}

/**
 * Six nodes with `--cluster-enabled yes --cluster-node-timeout 2000
 * --cluster-replica-validity-factor 0`, joined by `redis-cli --cluster create … --cluster-replicas 1
 * --cluster-yes`. Ready when every node reports `cluster_state:ok`, knows all six nodes, and every
 * replica is in sync.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<ClusterTopology> {
  requireBinaries(['redis-server', 'redis-cli']);
  const nodeTimeout = options.nodeTimeoutMs ?? 2000;
  const dir = makeDir('cluster');
  const procs: ServerProcess[] = [];
  const avoid = new Set<number>();
  try {
    const started = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        startServer({
          name: `cluster-${i}`,
          dir,
          bus: true,
          avoid,
          args: (port) => {
            const d = join(dir, `n${i}`);
            mkdirSync(d, { recursive: true });
            return [
              '--port',
              String(port),
              ...BASE_ARGS(d),
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              join(d, 'nodes.conf'),
              '--cluster-node-timeout',
              String(nodeTimeout),
              '--cluster-replica-validity-factor',
              '0',
              '--repl-diskless-sync-delay',
              '0',
            ];
          },
        }),
      ),
    );
    procs.push(...started);
    const ports = started.map((p) => p.port);
    await new Promise<void>((resolve, reject) => {
      execFile(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((p) => `${HOST}:${p}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`redis-cli --cluster create failed: ${stderr || stdout || err.message}`));
          else resolve();
        },
      );
    });
    await Promise.all(
      ports.map((port) =>
        waitFor(`cluster node ${port} ready`, 20_000, async () => {
          const info = await infoOf({ port }, 'replication');
          const cluster = await redisCli({ port }, ['CLUSTER', 'INFO']);
          if (!cluster.includes('cluster_state:ok') || !cluster.includes('cluster_known_nodes:6'))
            return false;
          // A master counts its replica in sync only after the replica's first ack (`state=online`):
          // until then a WAIT for it waits in vain.
          if (info.role === 'master') return /state=online/.test(info.slave0 ?? '');
          return info.master_link_status === 'up';
        }),
      ),
    );
    const byPort = new Map(procs.map((p) => [p.port, p]));
    const liveTarget = () => {
      const p = procs.find((x) => x.isRunning());
      if (!p) throw new Error('no cluster node is running');
      return { port: p.port };
    };
    const masterOf = async (key: string): Promise<number> => {
      const target = liveTarget();
      const slot = Number(await redisCli(target, ['CLUSTER', 'KEYSLOT', key]));
      const ranges = parseClusterShards(await redisCli(target, ['CLUSTER', 'NODES']));
      const range = ranges.find((r) => slot >= r.from && slot <= r.to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range.masterPort;
    };
    return {
      kind: 'cluster',
      url: `redis://${ports
        .slice(0, 3)
        .map((p) => `${HOST}:${p}`)
        .join(',')}`,
      ports,
      dir,
      processes: procs,
      masterOf,
      async killMaster(key = '{a}') {
        const port = await masterOf(key);
        const proc = byPort.get(port)!;
        proc.child.kill('SIGKILL');
        const killedAt = performance.now();
        await proc.exited;
        return { port, killedAt };
      },
      async waitForFailover(deadPort, timeoutMs = 30_000) {
        const alive = procs.filter((p) => p.isRunning()).map((p) => p.port);
        await Promise.all(
          alive.map((port) =>
            waitFor(`cluster node ${port} ok after losing ${deadPort}`, timeoutMs, async () => {
              const info = await redisCli({ port }, ['CLUSTER', 'INFO']);
              if (!info.includes('cluster_state:ok')) return false;
              const ranges = parseClusterShards(await redisCli({ port }, ['CLUSTER', 'NODES']));
              const covered = ranges.reduce((n, r) => n + (r.to - r.from + 1), 0);
              return covered === 16384 && ranges.every((r) => r.masterPort !== deadPort);
            }),
          ),
        );
      },
      stop: () => stopAll(procs, dir),
    };
  } catch (err) {
    await stopAll(procs, dir);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Standalone with persistence (fault tests)
// ---------------------------------------------------------------------------------------------

export interface StandaloneTopology extends Topology {
  readonly kind: 'standalone';
  readonly port: number;
  readonly process: ServerProcess;
  /** SIGKILL: no shutdown, no final fsync. Resolves with `performance.now()` of the kill. */
  kill(): Promise<number>;
  /**
   * Starts the server again on the same port, directory and arguments; resolves with
   * `performance.now()` at which it first answered PING (after loading its AOF/RDB).
   */
  restart(): Promise<number>;
  readonly cli: CliTarget;
}

export interface StandaloneOptions {
  /** `--appendonly yes --appendfsync <this>`; absent: no persistence. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** e.g. `'8mb'`. */
  maxmemory?: string;
  maxmemoryPolicy?: string;
  args?: readonly string[];
}

/** One plain server in its own directory, for kills, restarts and memory pressure. */
export async function startStandalone(options: StandaloneOptions = {}): Promise<StandaloneTopology> {
  requireBinaries(['redis-server', 'redis-cli']);
  const dir = makeDir('standalone');
  const args = (port: number) => [
    '--port',
    String(port),
    ...BASE_ARGS(dir),
    ...(options.appendfsync
      ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync, '--aof-use-rdb-preamble', 'yes']
      : []),
    ...(options.maxmemory ? ['--maxmemory', options.maxmemory] : []),
    ...(options.maxmemoryPolicy ? ['--maxmemory-policy', options.maxmemoryPolicy] : []),
    ...(options.args ?? []),
  ];
  let current: ServerProcess;
  const all: ServerProcess[] = [];
  try {
    current = await startServer({ name: 'redis-standalone', dir, args });
    all.push(current);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = current.port;
  return {
    kind: 'standalone',
    url: `redis://${HOST}:${port}/0`,
    port,
    dir,
    get process() {
      return current;
    },
    get processes() {
      return [...all];
    },
    cli: { port },
    async kill() {
      current.child.kill('SIGKILL');
      const at = performance.now();
      await current.exited;
      return at;
    },
    async restart() {
      await current.kill();
      // Same port: clients reconnect to it. Loading the AOF can take a moment: wait on PING.
      current = await startServer({ name: 'redis-standalone', dir, args, port, startTimeoutMs: 30_000 });
      all.push(current);
      return performance.now();
    },
    stop: () => stopAll(all, dir),
  };
}
