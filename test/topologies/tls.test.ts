/**
 * TLS with an ACL user: the store contract suites and the service tests, unchanged, over a TLS-only
 * server (certificates made with openssl at start) as the user `optix`, which may run only
 * `SERVICE_COMMANDS`. Then: the suites needed no other command, the user is refused everything
 * else, and certificate verification is on by default (a server certificate from another CA, or no
 * CA given, fails at once with a clear error).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { RedisClient } from '../../src/connection/client.js';
import {
  refreshFamiliesContract,
  revocationContract,
  runAllContracts,
  securityEventsContract,
  sessionStoreContract,
  tokenBlacklistContract,
  trustedDevicesContract,
} from '../contract/index.js';
import {
  generateCertificates,
  redisCli,
  SERVICE_COMMANDS,
  startTlsRedis,
  type TlsTopology,
} from './harness.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { createHarness } from '../http/harness.js';
import { connectClient, fileTopology, runTestFilesOn, topologyStores } from './support.js';

const topology = fileTopology(() => startTlsRedis());

runAllContracts('TLS + ACL user, real time', topologyStores(topology, false));

const manual = topologyStores(topology, true);
tokenBlacklistContract('TLS + ACL user, manual clock', manual);
sessionStoreContract('TLS + ACL user, manual clock', manual);
trustedDevicesContract('TLS + ACL user, manual clock', manual);
securityEventsContract('TLS + ACL user, manual clock', manual);
refreshFamiliesContract('TLS + ACL user, manual clock', manual);
revocationContract('TLS + ACL user, manual clock', manual);

it('the JWT service, session manager and guide examples pass over TLS as the ACL user', async () => {
  const run = await runTestFilesOn(await topology());
  console.log(`# service tests over TLS + ACL: ${run.pass} passed`);
});

it("the HTTP rate limiter's script runs as the ACL user: the limit holds, nothing fails open", async () => {
  // The limiter lets requests through when its store fails (skipOnError), so a command missing
  // from the ACL would show only as a limit that never trips.
  const t = await topology();
  const http = await createHarness({
    REDIS_URL: t.url,
    REDIS_TLS_CA_FILE: t.certificates.caFile,
    REDIS_KEY_PREFIX: uniquePrefix(),
    RATE_LIMIT_REVOKE_PER_MINUTE: '3',
  });
  try {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await http.inject({
        method: 'POST',
        url: '/v1/revoke',
        payload: { token: `not-a-token-${i}` },
      });
      codes.push(res.statusCode);
    }
    assert.deepEqual(codes, [200, 200, 200, 429]);
  } finally {
    await http.close(); // here: a hook registered inside a test is not the file's
  }
});

/** Commands the harness itself sends as the admin (readiness, these checks). */
const ADMIN_COMMANDS = new Set(['ping', 'info', 'acl|log', 'acl|whoami', 'auth', 'hello', 'command|docs']);

describe('ACL user', () => {
  it('the suites above needed no command outside SERVICE_COMMANDS, and none was denied', async () => {
    const t = await topology();
    const denied = await redisCli(t.cli, ['ACL', 'LOG']);
    assert.equal(denied, '', `commands were denied to the service user:\n${denied}`);
    const stats = await redisCli(t.cli, ['INFO', 'commandstats']);
    const used = [...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)]
      .filter((m) => Number(m[2]) > 0)
      .map((m) => m[1]!);
    const allowed = new Set(SERVICE_COMMANDS);
    const outside = used.filter((c) => !allowed.has(c) && !ADMIN_COMMANDS.has(c));
    assert.deepEqual(outside, [], 'commands ran that the service user may not run');
    const unused = SERVICE_COMMANDS.filter((c) => !used.includes(c));
    console.log(`# commands used: ${used.sort().join(' ')}; allowed but unused here: ${unused.join(' ')}`);
  });

  it('is refused administration, flushing and keyspace dumps (NOPERM)', async () => {
    const t = await topology();
    const raw = createClient({ url: t.url, socket: { tls: true, ca: t.tls.ca } });
    raw.on('error', () => {});
    await raw.connect();
    try {
      for (const command of [
        ['FLUSHALL'],
        ['FLUSHDB'],
        ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'],
        ['CONFIG', 'GET', 'requirepass'],
        ['KEYS', '*'],
        ['SHUTDOWN'],
        ['ACL', 'LIST'],
        ['SCRIPT', 'FLUSH'],
        ['MONITOR'],
        ['CLIENT', 'KILL', 'TYPE', 'normal'],
        ['REPLICAOF', '127.0.0.1', '1'],
        ['PUBLISH', 'c', 'm'],
      ]) {
        await assert.rejects(raw.sendCommand(command), /NOPERM/, command.join(' '));
      }
      // A script cannot reach past the ACL either: Redis checks each redis.call.
      await assert.rejects(
        raw.eval("return redis.call('FLUSHALL')", { keys: [], arguments: [] }),
        /can't run this command/,
      );
    } finally {
      raw.destroy();
    }
  });

  it('can run the eviction-policy start-up check (INFO memory, not CONFIG)', async () => {
    const client = await connectClient(await topology());
    const report = await client.checkEvictionPolicy();
    assert.equal(report.policy, 'noeviction');
    assert.equal(report.safe, true);
  });
});

describe('TLS verification (on by default)', () => {
  async function refused(t: TlsTopology, tls: { ca?: string } | undefined, pattern: RegExp) {
    const client = new RedisClient({ url: t.url, connectTimeoutMs: 5000, ...(tls ? { tls } : {}) });
    const start = performance.now();
    await assert.rejects(client.connect(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE');
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes(t.userPassword), 'the password is not in the error');
      return true;
    });
    const took = performance.now() - start;
    // Fails at once: not after connectTimeoutMs of silent retries.
    assert.ok(took < 2000, `refused after ${took.toFixed(0)} ms`);
    return took;
  }

  it('refuses a server certificate signed by another CA, with a clear error', async () => {
    const ours = await topology();
    const otherCerts = await generateCertificates(join(ours.dir, 'other-ca'), 'other');
    const impostor = await startTlsRedis({ certificates: otherCerts });
    try {
      const asOurs = { ...impostor, tls: ours.tls, url: impostor.url } as TlsTopology;
      const took = await refused(
        asOurs,
        ours.tls,
        /TLS certificate of the server rejected \([A-Z_]+: .*certificate/,
      );
      console.log(`# certificate from another CA refused in ${took.toFixed(0)} ms`);
    } finally {
      await impostor.stop();
    }
  });

  it('verifies against the system CAs when no CA is given: a private CA is refused', async () => {
    await refused(await topology(), undefined, /TLS certificate of the server rejected/);
  });

  it('connects with the right CA, and only with rejectUnauthorized: false otherwise', async () => {
    const t = await topology();
    const good = new RedisClient({ url: t.url, tls: t.tls });
    await good.connect();
    assert.ok((await good.ping()) >= 0);
    await good.close();
    const insecure = new RedisClient({ url: t.url, tls: { rejectUnauthorized: false } });
    await insecure.connect();
    await insecure.close();
  });

  it('a wrong password fails at once as an authentication error, without the password', async () => {
    const t = await topology();
    const wrong = { ...t, url: t.url.replace(`:${t.userPassword}@`, ':not-the-password@') };
    await refused(wrong, t.tls, /authentication refused by the server: WRONGPASS/);
  });
});
