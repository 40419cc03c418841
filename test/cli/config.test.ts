/** Environment → configuration: defaults, production rules, and errors that name the variable. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { readEnv } from '../../src/config/env-file.js';
import { type Env, loadConfig } from '../../src/config/load.js';
import { createOptix } from '../../src/container.js';
import { ConfigError } from '../../src/core/errors.js';
import { startRedisServer } from '../helpers/redis-server.js';

const SECRET = 'a-real-secret-of-at-least-32-bytes-0123456789';
const KEY = 'service-key-0123456789abcdef-0123456789';
const PROD: Env = {
  NODE_ENV: 'production',
  REDIS_URL: 'redis://redis.internal:6379/0',
  JWT_SECRET: SECRET,
  SERVICE_API_KEYS: KEY,
  OPS_API_KEYS: 'ops-key-0123456789abcdef-0123456789abcdef',
};

const execFileAsync = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'optix-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'ERR_CONFIG');
    return err;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  test('nothing set: development on 127.0.0.1:8080, in memory, generated secret and key, warnings', () => {
    const c = loadConfig({});
    assert.equal(c.nodeEnv, 'development');
    assert.equal(c.http.host, '127.0.0.1');
    assert.equal(c.http.port, 8080);
    assert.equal(c.redis, null);
    assert.equal(c.generated.jwtSecret, true);
    assert.match(c.generated.serviceApiKey ?? '', /^dev-[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(c.serviceApiKeys, [c.generated.serviceApiKey]);
    assert.equal(c.warnings.length, 3);
    assert.equal(c.jwt.accessTokenTtlSeconds, 900);
    assert.equal(c.jwt.refreshTokenTtlSeconds, 2_592_000);
    assert.equal(c.jwt.refreshGraceSeconds, 10);
    assert.equal(c.sessions.idleTimeoutMinutes, 30);
    assert.equal(c.sessions.absoluteTimeoutMinutes, 720);
    assert.equal(c.sessions.maxSessionsPerUser, 5);
    assert.equal(c.sessions.limitPolicy, 'evict-oldest');
    assert.equal(c.cleanupIntervalSeconds, 300);
    assert.equal(c.logLevel, 'info');
    // Two processes get different ephemeral secrets.
    assert.notEqual(loadConfig({}).generated.serviceApiKey, c.generated.serviceApiKey);
  });

  test('the result is frozen, and neither JSON nor inspect shows a secret', () => {
    const c = loadConfig({ ...PROD, REDIS_URL: 'redis://user:pa55word@redis:6379/0' });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.jwt));
    assert.ok(Object.isFrozen(c.serviceApiKeys));
    assert.throws(() => {
      (c as { logLevel: string }).logLevel = 'trace';
    }, TypeError);
    for (const text of [JSON.stringify(c), inspect(c, { depth: 10 })]) {
      assert.ok(!text.includes(SECRET));
      assert.ok(!text.includes(KEY));
      assert.ok(!text.includes('pa55word'));
    }
    assert.match(JSON.stringify(c), /redis:\/\/user:\*\*\*@redis:6379\/0/);
  });

  test('production with everything set: no warnings, nothing generated', () => {
    const c = loadConfig(PROD);
    assert.equal(c.nodeEnv, 'production');
    assert.deepEqual(c.warnings, []);
    // Without ops keys, production says that /metrics and the details of /readyz are public.
    const { OPS_API_KEYS: _ops, ...open } = PROD;
    assert.deepEqual(loadConfig(open).warnings, [
      'OPS_API_KEYS is not set: /metrics and the Redis details of /readyz are public',
    ]);
    assert.equal(c.generated.jwtSecret, false);
    assert.equal(c.generated.serviceApiKey, null);
    assert.equal(c.redis?.url, PROD.REDIS_URL);
    assert.equal(c.redis?.keyPrefix, 'optix:');
    assert.equal(c.jwt.keys[0]?.alg, 'HS256');
    assert.match(c.jwt.activeKid, /^hs256-/);
    // Same secret, same kid: instances agree.
    assert.equal(loadConfig(PROD).jwt.activeKid, c.jwt.activeKid);
  });

  test('production without REDIS_URL, a secret and service keys: one error naming all three', () => {
    const err = configError({ NODE_ENV: 'production' });
    assert.equal(err.path, 'REDIS_URL');
    assert.match(err.message, /REDIS_URL/);
    assert.match(err.message, /JWT_SECRET/);
    assert.match(err.message, /SERVICE_API_KEYS/);
  });

  test('each bad value is reported with its variable', () => {
    const cases: Array<[Env, string]> = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ PORT: '-1' }, 'PORT'],
      [{ HOST: 'a b' }, 'HOST'],
      [{ NODE_ENV: 'prod' }, 'NODE_ENV'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ BODY_LIMIT_BYTES: '10' }, 'BODY_LIMIT_BYTES'],
      [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
      [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
      [{ REDIS_URL: 'redis://localhost:6379/99' }, 'REDIS_URL'],
      [{ REDIS_MAX_CONNECTIONS: '0' }, 'REDIS_MAX_CONNECTIONS'],
      [{ REDIS_COMMAND_TIMEOUT_MS: '1.5' }, 'REDIS_COMMAND_TIMEOUT_MS'],
      [{ REDIS_RETRY_ON_TIMEOUT: 'sometimes' }, 'REDIS_RETRY_ON_TIMEOUT'],
      [{ REDIS_CLIENT_CACHE: 'maybe' }, 'REDIS_CLIENT_CACHE'],
      [{ REDIS_CLIENT_CACHE_MODE: 'bcast' }, 'REDIS_CLIENT_CACHE_MODE'],
      [{ REDIS_REPLICA_ACKS: '-1' }, 'REDIS_REPLICA_ACKS'],
      [{ REDIS_REPLICA_ACKS: 'one' }, 'REDIS_REPLICA_ACKS'],
      [{ REDIS_URL: 'redis://h:6379', REDIS_KEY_PREFIX: 'a{b}' }, 'REDIS_KEY_PREFIX'],
      [{ REDIS_KEY_PREFIX: 'a b' }, 'REDIS_KEY_PREFIX'],
      [{ REDIS_TLS_CA_FILE: '/x.pem' }, 'REDIS_TLS_CA_FILE'],
      [{ REDIS_URL: 'redis://h:6379', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, 'REDIS_TLS_CA_FILE'],
      [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
      [{ JWT_SECRET: SECRET, JWT_PRIVATE_KEY_FILE: '/x.pem' }, 'JWT_SECRET'],
      [{ JWT_ALG: 'ES256' }, 'JWT_ALG'],
      [{ JWT_ALG: 'RS256', JWT_PRIVATE_KEY_FILE: '/x.pem' }, 'JWT_ALG'],
      [{ JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }, 'JWT_PRIVATE_KEY_FILE'],
      [{ JWT_KID: 'has space' }, 'JWT_KID'],
      [{ JWT_PREVIOUS_KEYS: 'nonsense' }, 'JWT_PREVIOUS_KEYS[0]'],
      [{ JWT_PREVIOUS_KEYS: 'RS256:k:x' }, 'JWT_PREVIOUS_KEYS[0]'],
      [{ JWT_PREVIOUS_KEYS: `HS256:k1:${SECRET},HS256:k2:short` }, 'JWT_PREVIOUS_KEYS[1]'],
      [{ ACCESS_TOKEN_TTL_SECONDS: '0' }, 'ACCESS_TOKEN_TTL_SECONDS'],
      [{ ACCESS_TOKEN_TTL_SECONDS: '3600', REFRESH_TOKEN_TTL_SECONDS: '600' }, 'REFRESH_TOKEN_TTL_SECONDS'],
      [{ REFRESH_GRACE_SECONDS: '301' }, 'REFRESH_GRACE_SECONDS'],
      [
        { SESSION_IDLE_TIMEOUT_MINUTES: '60', SESSION_ABSOLUTE_TIMEOUT_MINUTES: '30' },
        'SESSION_ABSOLUTE_TIMEOUT_MINUTES',
      ],
      [{ MAX_SESSIONS_PER_USER: '0' }, 'MAX_SESSIONS_PER_USER'],
      [{ SESSION_LIMIT_POLICY: 'kick' }, 'SESSION_LIMIT_POLICY'],
      [{ SERVICE_API_KEYS: 'short' }, 'SERVICE_API_KEYS'],
      [{ SERVICE_API_KEYS: `${KEY},has space in it 0123456789abcdef0123` }, 'SERVICE_API_KEYS'],
      [{ RATE_LIMIT_REFRESH_PER_MINUTE: '-1' }, 'RATE_LIMIT_REFRESH_PER_MINUTE'],
      [{ CLEANUP_INTERVAL_SECONDS: 'often' }, 'CLEANUP_INTERVAL_SECONDS'],
    ];
    for (const [env, name] of cases) {
      const err = configError(env);
      assert.equal(err.path, name, `${JSON.stringify(env)} → ${err.message}`);
      assert.ok(err.message.startsWith(`${name}: `), err.message);
    }
  });

  test('TRUST_PROXY: a hop count or proxy addresses/CIDR ranges; true refused in production', () => {
    assert.equal(loadConfig({}).http.trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: '0' }).http.trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).http.trustProxy, 1, '1 is one hop, not "every hop"');
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy, 2);
    assert.deepEqual(
      loadConfig({ TRUST_PROXY: ' 10.0.0.0/8, fd00::/8 ,127.0.0.1,loopback' }).http.trustProxy,
      ['10.0.0.0/8', 'fd00::/8', '127.0.0.1', 'loopback'],
    );
    assert.ok(
      !loadConfig({ ...PROD, TRUST_PROXY: '10.0.0.0/8' }).warnings.some((w) => w.includes('TRUST_PROXY')),
    );
    const dev = loadConfig({ TRUST_PROXY: 'true' });
    assert.equal(dev.http.trustProxy, true);
    assert.ok(dev.warnings.some((w) => w.startsWith('TRUST_PROXY=true')));
    for (const value of ['true', 'yes', 'ON']) {
      const err = configError({ ...PROD, TRUST_PROXY: value });
      assert.equal(err.path, 'TRUST_PROXY');
      assert.match(err.message, /production/);
    }
    for (const value of [
      '33',
      '10.0.0.0/33',
      '10.0.0/8',
      'fd00::/129',
      'proxy.internal',
      '10.0.0.1/8/8',
      '1,',
    ]) {
      assert.equal(configError({ TRUST_PROXY: value }).path, 'TRUST_PROXY', value);
    }
  });

  test('a bad REDIS_URL never shows its password', () => {
    for (const url of [
      'redis://:hunter2@host:99999/0',
      'redis://user:hunter2@host/abc',
      'rediss://:hunter2@h/0?x=1',
    ]) {
      const err = configError({ REDIS_URL: url });
      assert.equal(err.path, 'REDIS_URL');
      assert.ok(!err.message.includes('hunter2'), err.message);
    }
  });

  test('0 is a value, not "unset"', () => {
    const c = loadConfig({
      CLEANUP_INTERVAL_SECONDS: '0',
      RATE_LIMIT_REVOKE_PER_MINUTE: '0',
      PORT: '0',
      REFRESH_GRACE_SECONDS: '0',
    });
    assert.equal(c.cleanupIntervalSeconds, 0);
    assert.equal(c.rateLimits.revokePerMinute, 0);
    assert.equal(c.http.port, 0);
    assert.equal(c.jwt.refreshGraceSeconds, 0);
  });

  test('HTTP limits are read and checked against each other', () => {
    const c = loadConfig({
      HTTP_REQUEST_TIMEOUT_MS: '5000',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      HTTP_CONNECTION_TIMEOUT_MS: '9000',
      HTTP_MAX_CONNECTIONS: '300',
    });
    assert.equal(c.http.requestTimeoutMs, 5000);
    assert.equal(c.http.headersTimeoutMs, 2000);
    assert.equal(c.http.keepAliveTimeoutMs, 65000);
    assert.equal(c.http.connectionTimeoutMs, 9000);
    assert.equal(c.http.maxConnections, 300);
    assert.equal(
      configError({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' }).path,
      'HTTP_HEADERS_TIMEOUT_MS',
    );
    assert.equal(configError({ HTTP_REQUEST_TIMEOUT_MS: '0' }).path, 'HTTP_REQUEST_TIMEOUT_MS');
  });

  test('Redis options and TLS files are read', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const c = loadConfig({
      REDIS_URL: 'rediss://redis.internal:6380/2',
      REDIS_MAX_CONNECTIONS: '10',
      REDIS_SOCKET_TIMEOUT_MS: '0',
      REDIS_CONNECT_TIMEOUT_MS: '2000',
      REDIS_COMMAND_TIMEOUT_MS: '250',
      REDIS_RETRY_ON_TIMEOUT: 'false',
      REDIS_CLIENT_CACHE: 'false',
      REDIS_CLIENT_CACHE_MODE: 'default',
      REDIS_FIRST_SIGHT: 'read',
      MAX_CLOCK_SKEW_MS: '2000',
      REDIS_REPLICA_ACKS: '0',
      REDIS_KEY_PREFIX: 'prod:',
      REDIS_SHED_ABOVE_PERCENT: '80',
      REDIS_MEMORY_SAMPLE_INTERVAL_MS: '250',
      REDIS_TLS_CA_FILE: ca,
    });
    assert.deepEqual(
      { ...c.redis, tls: undefined },
      {
        url: 'rediss://redis.internal:6380/2',
        redactedUrl: 'rediss://redis.internal:6380/2',
        maxConnections: 10,
        socketTimeoutMs: 0,
        connectTimeoutMs: 2000,
        commandTimeoutMs: 250,
        retryOnTimeout: false,
        clientCache: false,
        clientCacheMode: 'default',
        firstSight: 'read',
        maxClockSkewMs: 2000,
        replicaAcks: 0,
        keyPrefix: 'prod:',
        shedAbovePercent: 80,
        memorySampleIntervalMs: 250,
        tls: undefined,
      },
    );
    assert.match(String(c.redis?.tls?.ca), /BEGIN CERTIFICATE/);
    const defaults = loadConfig({ REDIS_URL: 'redis://h:6379' }).redis;
    assert.equal(defaults?.firstSight, 'watch');
    assert.equal(defaults?.maxClockSkewMs, 5000);
    assert.throws(
      () => loadConfig({ REDIS_URL: 'redis://h:6379', REDIS_FIRST_SIGHT: 'peek' }),
      /REDIS_FIRST_SIGHT/,
    );
    assert.throws(
      () => loadConfig({ REDIS_URL: 'redis://h:6379', MAX_CLOCK_SKEW_MS: '60001' }),
      /MAX_CLOCK_SKEW_MS/,
    );
    // Unset: left to the client, which picks by topology (1 on Sentinel and Cluster).
    assert.equal(loadConfig({ REDIS_URL: 'redis://h:6379' }).redis?.replicaAcks, undefined);
  });

  test('EdDSA and ES256 key files; a key of the wrong type is refused', () => {
    const ed = join(dir, 'ed.pem');
    const ec = join(dir, 'ec.pem');
    const ecPub = join(dir, 'ec-pub.pem');
    const rsa = join(dir, 'rsa.pem');
    writeFileSync(ed, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(ec, ecPair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(ecPub, ecPair.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );

    const c = loadConfig({
      JWT_PRIVATE_KEY_FILE: ed,
      JWT_PREVIOUS_KEYS: `ES256:old-ec:${ecPub},HS256:old-hs:${SECRET}`,
    });
    assert.equal(c.jwt.asymmetric, true);
    assert.deepEqual(
      c.jwt.keys.map((k) => `${k.alg}:${k.kid}`),
      [`EdDSA:${c.jwt.activeKid}`, 'ES256:old-ec', 'HS256:old-hs'],
    );
    assert.match(c.jwt.activeKid, /^eddsa-/);
    const retired = c.jwt.keys[1] as { privateKeyPem?: string; publicKeyPem?: string };
    assert.equal(retired.privateKeyPem, undefined, 'retired keys only verify');

    assert.equal(
      loadConfig({ JWT_PRIVATE_KEY_FILE: ec, JWT_ALG: 'ES256', JWT_KID: 'k1' }).jwt.activeKid,
      'k1',
    );
    assert.equal(configError({ JWT_PRIVATE_KEY_FILE: ec }).path, 'JWT_PRIVATE_KEY_FILE'); // EdDSA by default
    assert.equal(configError({ JWT_PRIVATE_KEY_FILE: rsa, JWT_ALG: 'ES256' }).path, 'JWT_PRIVATE_KEY_FILE');
    assert.equal(configError({ JWT_PRIVATE_KEY_FILE: ecPub, JWT_ALG: 'ES256' }).path, 'JWT_PRIVATE_KEY_FILE');
    assert.equal(
      configError({ JWT_PRIVATE_KEY_FILE: ed, JWT_KID: 'same', JWT_PREVIOUS_KEYS: `HS256:same:${SECRET}` })
        .path,
      'JWT_PREVIOUS_KEYS',
    );
  });
});

describe('readEnv (.env)', () => {
  test('merges the file under the environment; a missing default file is fine', () => {
    const file = join(dir, '.env');
    writeFileSync(file, 'PORT=9999\nLOG_LEVEL=debug\n# comment\nJWT_ISSUER="quoted issuer"\n');
    const env = readEnv({ path: file, env: { LOG_LEVEL: 'warn' } });
    assert.equal(env.PORT, '9999');
    assert.equal(env.LOG_LEVEL, 'warn', 'the environment wins');
    assert.equal(env.JWT_ISSUER, 'quoted issuer');
    assert.deepEqual(readEnv({ path: undefined, env: { A: '1' } }).A, '1');
  });

  test('an explicitly named file that does not exist is a ConfigError', () => {
    assert.throws(() => readEnv({ path: join(dir, 'missing.env'), env: {} }), ConfigError);
  });
});

describe('REDIS_MAX_CONNECTIONS', () => {
  test('is validated but changes nothing: one pipelined connection whatever its value (standalone)', async () => {
    const server = await startRedisServer();
    const connections = async () => {
      const { stdout } = await execFileAsync('redis-cli', ['-p', String(server.port), 'CLIENT', 'LIST']);
      const names = stdout.split('\n').flatMap((line) => /\bname=(\S*)/.exec(line)?.[1] ?? []);
      return {
        main: names.filter((n) => n === 'optix-sessions').length,
        all: names.filter((n) => n.startsWith('optix-sessions')).length,
      };
    };
    try {
      const seen: Array<{ main: number; all: number }> = [];
      for (const max of ['1', '500']) {
        const config = loadConfig({ REDIS_URL: server.url, REDIS_MAX_CONNECTIONS: max, JWT_SECRET: SECRET });
        assert.equal(config.redis?.maxConnections, Number(max));
        const optix = await createOptix(config);
        try {
          // A burst of concurrent work: a pool would grow here; a pipelined connection does not.
          await Promise.all(
            Array.from({ length: 200 }, (_, i) =>
              optix.sessions.createSession({
                userId: `conn-user-${i}`,
                ipAddress: '203.0.113.1',
                userAgent: 't',
              }),
            ),
          );
          seen.push(await connections());
        } finally {
          await optix.close();
        }
      }
      assert.equal(seen[0]!.main, 1, 'REDIS_MAX_CONNECTIONS=1: one command connection');
      assert.equal(seen[1]!.main, 1, 'REDIS_MAX_CONNECTIONS=500: still one command connection');
      assert.equal(seen[1]!.all, seen[0]!.all, 'the same connections in both cases');
    } finally {
      await server.stop();
    }
  });
});
