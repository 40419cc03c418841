import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { RedisClient } from '../../src/connection/client.js';
import { parseInfo } from '../../src/connection/diagnostics.js';
import { parseRedisUrl, redactRedisUrl, resolveRedisOptions } from '../../src/connection/config.js';
import { createKeySchema } from '../../src/stores/redis/keys.js';

describe('REDIS_URL parsing', () => {
  it('reads every form of the guide', () => {
    assert.deepEqual(
      { ...parseRedisUrl('redis://localhost:6379/0') },
      {
        topology: 'standalone',
        nodes: [{ host: 'localhost', port: 6379 }],
        tls: false,
        username: undefined,
        database: 0,
        sentinelName: undefined,
      },
    );
    const pw = parseRedisUrl('redis://:p%40ss@localhost:6380/3');
    assert.equal(pw.password, 'p@ss');
    assert.equal(pw.username, undefined);
    assert.equal(pw.database, 3);
    assert.equal(pw.nodes[0]?.port, 6380);
    const acl = parseRedisUrl('redis://optix:s3cret@redis.internal/1');
    assert.equal(acl.username, 'optix');
    assert.equal(acl.password, 's3cret');
    assert.equal(acl.nodes[0]?.port, 6379);
    const tls = parseRedisUrl('rediss://localhost:6379/0');
    assert.equal(tls.tls, true);
    const sentinel = parseRedisUrl('redis://sentinel1:26379,sentinel2:26379/0?sentinel=mymaster');
    assert.equal(sentinel.topology, 'sentinel');
    assert.equal(sentinel.sentinelName, 'mymaster');
    assert.deepEqual(sentinel.nodes, [
      { host: 'sentinel1', port: 26379 },
      { host: 'sentinel2', port: 26379 },
    ]);
    assert.equal(parseRedisUrl('redis://s1/0?sentinel=m').nodes[0]?.port, 26379, 'sentinel default port');
    const cluster = parseRedisUrl('redis://node1:6379,node2:6379,node3:6379/0');
    assert.equal(cluster.topology, 'cluster');
    assert.equal(cluster.nodes.length, 3);
    assert.equal(parseRedisUrl('redis://seed:7000?cluster=true').topology, 'cluster');
    assert.deepEqual(parseRedisUrl('redis://[::1]:6390').nodes, [{ host: '::1', port: 6390 }]);
  });

  it('refuses bad URLs with ConfigError naming REDIS_URL, never the password', () => {
    const bad = [
      '',
      'http://localhost',
      'localhost:6379',
      'redis://',
      'redis://host:99999',
      'redis://host:abc',
      'redis://host/16',
      'redis://host/x',
      'redis://a:1,b:2/3',
      'redis://host?foo=bar',
      'redis://h1,,h2',
      'redis://host?sentinel=bad%20name',
      'redis://:topsecret@host:notaport/0',
      'redis://:topsecret@ho st/0',
      'redis://:%zz@host',
    ];
    for (const url of bad) {
      assert.throws(
        () => parseRedisUrl(url),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, url);
          assert.equal(err.code, 'ERR_CONFIG');
          assert.match(err.message, /^REDIS_URL: /);
          assert.equal(err.message.includes('topsecret'), false, err.message);
          return true;
        },
      );
    }
  });

  it('redacts passwords in URLs, toString, inspect and JSON', () => {
    assert.equal(redactRedisUrl('redis://:pw@h:1/0'), 'redis://:***@h:1/0');
    assert.equal(redactRedisUrl('rediss://user:pw@h/0'), 'rediss://user:***@h/0');
    assert.equal(redactRedisUrl('redis://h:1/0'), 'redis://h:1/0');
    const parsed = parseRedisUrl('redis://u:hunter2@h/0');
    assert.equal(JSON.stringify(parsed).includes('hunter2'), false);
    assert.equal(inspect(parsed).includes('hunter2'), false);
    const client = new RedisClient({ url: 'redis://u:hunter2@127.0.0.1:1/0' });
    for (const text of [String(client), inspect(client), JSON.stringify(client), inspect(client.options)]) {
      assert.equal(text.includes('hunter2'), false, text);
    }
  });

  it('validates options with ?? defaults and paths in errors', () => {
    const o = resolveRedisOptions({ url: 'redis://h/0' });
    assert.equal(o.maxConnections, 50);
    assert.equal(o.commandTimeoutMs, 1000);
    assert.equal(o.socketTimeoutMs, 5000);
    assert.equal(resolveRedisOptions({ url: 'redis://h/0', socketTimeoutMs: 0 }).socketTimeoutMs, 0);
    assert.ok(Object.isFrozen(o));
    for (const [opt, path] of [
      [{ maxConnections: 0 }, 'maxConnections'],
      [{ commandTimeoutMs: -1 }, 'commandTimeoutMs'],
      [{ connectTimeoutMs: 1.5 }, 'connectTimeoutMs'],
      [{ keyPrefix: 'a{b}' }, 'keyPrefix'],
      [{ tls: { ca: 'x' } }, 'tls'],
    ] as const) {
      assert.throws(() => resolveRedisOptions({ url: 'redis://h/0', ...opt }), { code: 'ERR_CONFIG', path });
    }
    assert.equal(
      resolveRedisOptions({ url: 'rediss://h/0', tls: { ca: 'x' } }).tls?.rejectUnauthorized,
      true,
    );
  });

  it('broadcast prefixes of the client-side cache: sorted, and refused when one prefixes another', () => {
    const cache = (broadcastPrefixes: readonly string[] | undefined) =>
      resolveRedisOptions({ url: 'redis://h/0', clientSideCache: { broadcastPrefixes } }).clientSideCache;
    assert.deepEqual(cache(undefined)?.broadcastPrefixes, []);
    assert.deepEqual(cache(['p:session:', 'p:token:blacklist:', 'p:session:'])?.broadcastPrefixes, [
      'p:session:',
      'p:token:blacklist:',
    ]);
    // The service's own list (every key kind read through the tracked connection, and the family
    // revocation marks') is accepted.
    assert.equal(cache(createKeySchema('optix:').trackedPrefixes)?.broadcastPrefixes.length, 6);
    assert.equal(cache(createKeySchema('').trackedPrefixes)?.broadcastPrefixes.length, 6);
    for (const bad of [['a:', 'a:b'], ['a:', 'b:', 'a:b:c'], [''], ['a b'], 'a:' as unknown as string[]]) {
      assert.throws(() => cache(bad), { code: 'ERR_CONFIG', path: 'clientSideCache.broadcastPrefixes' });
    }
  });

  it('revocations wait for one replica by default on Sentinel and Cluster, none on a standalone server', () => {
    assert.equal(resolveRedisOptions({ url: 'redis://h/0' }).replicaAcks, 0);
    assert.equal(resolveRedisOptions({ url: 'redis://s1:26379,s2:26379/0?sentinel=m' }).replicaAcks, 1);
    assert.equal(resolveRedisOptions({ url: 'redis://n1:7000,n2:7001' }).replicaAcks, 1);
    assert.equal(resolveRedisOptions({ url: 'redis://n1:7000,n2:7001', replicaAcks: 0 }).replicaAcks, 0);
    assert.equal(resolveRedisOptions({ url: 'redis://h/0', replicaAcks: 2 }).replicaAcks, 2);
    assert.equal(resolveRedisOptions({ url: 'redis://h/0' }).replicaAckTimeoutMs, 50);
    for (const bad of [-1, 1.5, 17]) {
      assert.throws(() => resolveRedisOptions({ url: 'redis://h/0', replicaAcks: bad }), {
        code: 'ERR_CONFIG',
        path: 'replicaAcks',
      });
    }
  });

  it('constructs clients for standalone, TLS, Sentinel and Cluster without connecting', async () => {
    for (const url of [
      'redis://127.0.0.1:1/0',
      'rediss://127.0.0.1:1/0',
      'redis://127.0.0.1:1,127.0.0.1:2/0?sentinel=mymaster',
      'redis://127.0.0.1:1,127.0.0.1:2,127.0.0.1:3/0',
    ]) {
      const c = new RedisClient({ url, connectTimeoutMs: 200 });
      assert.equal(c.isConnected, false);
      assert.equal(c.topology, parseRedisUrl(url).topology);
      const health = await c.healthCheck();
      assert.equal(health.status, 'unhealthy');
      await c.close();
    }
  });

  it('connect() to nothing fails with StoreUnavailableError within the connect timeout', async () => {
    const c = new RedisClient({ url: 'redis://:secret-pw@127.0.0.1:1/0', connectTimeoutMs: 300 });
    const start = Date.now();
    await assert.rejects(c.connect(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_STORE_UNAVAILABLE');
      assert.equal(err.message.includes('secret-pw'), false);
      return true;
    });
    assert.ok(Date.now() - start < 2000);
  });

  it('parses INFO text', () => {
    const info = parseInfo(
      '# Clients\r\nconnected_clients:3\r\nredis_version:7.0.15\r\nused_memory_human:1.2M\r\n',
    );
    assert.deepEqual(info, { connected_clients: 3, redis_version: '7.0.15', used_memory_human: '1.2M' });
  });
});
