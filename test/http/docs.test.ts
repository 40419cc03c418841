/** The README, docs/operations.md and docker-compose.yml say what the code does. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { OptixConfig } from '../../src/config/types.js';
import { ENV_VARIABLES } from '../../src/config/variables.js';
import { createIdCodec } from '../../src/core/ids.js';
import { createKeySchema } from '../../src/stores/redis/keys.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const operations = read('docs/operations.md');
/** `loadConfig` and the section modules it reads through (not the variable table itself). */
const loader = readdirSync(new URL('../../src/config/', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !['variables.ts', 'types.ts', 'index.ts', 'env-file.ts'].includes(f))
  .map((f) => read(`src/config/${f}`))
  .join('\n');
const compose = read('docker-compose.yml');
const dataModel = read('docs/data-model.md');

describe('configuration documentation', () => {
  test('README and docs/operations.md have a row for every variable, with its default', () => {
    for (const v of ENV_VARIABLES) {
      for (const [name, doc] of [
        ['README.md', readme],
        ['docs/operations.md', operations],
      ] as const) {
        const row = doc.split('\n').find((line) => line.startsWith(`| \`${v.name}\` |`));
        assert.ok(row, `${name} has no row for ${v.name}`);
        if (v.default !== '') assert.ok(row.includes(v.default), `${name}: ${v.name} default ${v.default}`);
      }
    }
  });

  test('both tables are written from src/config/variables.ts: each row is exactly its entry', () => {
    const expected = (v: (typeof ENV_VARIABLES)[number]) => {
      const shown = v.default === '' ? '—' : v.default.startsWith('(') ? v.default : `\`${v.default}\``;
      return `| \`${v.name}\` | ${shown} | ${v.description} |`;
    };
    for (const [name, doc] of [
      ['README.md', readme],
      ['docs/operations.md', operations],
    ] as const) {
      const rows = doc.split('\n').filter((line) => /^\| `[A-Z][A-Z0-9_]+` \|/.test(line));
      assert.deepEqual(rows, ENV_VARIABLES.map(expected), `${name}: the table, row by row and in order`);
    }
  });

  test('every concrete documented default is what the loader uses when the variable is unset', () => {
    // With REDIS_URL set (Redis defaults apply) and nothing else: development mode.
    const c = loadConfig({ REDIS_URL: 'redis://redis.internal:6379/0' });
    const actual: Record<string, (config: OptixConfig) => unknown> = {
      NODE_ENV: (x) => x.nodeEnv,
      HOST: (x) => x.http.host,
      PORT: (x) => x.http.port,
      TRUST_PROXY: (x) => x.http.trustProxy,
      BODY_LIMIT_BYTES: (x) => x.http.bodyLimitBytes,
      HTTP_REQUEST_TIMEOUT_MS: (x) => x.http.requestTimeoutMs,
      HTTP_HEADERS_TIMEOUT_MS: (x) => x.http.headersTimeoutMs,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: (x) => x.http.keepAliveTimeoutMs,
      HTTP_CONNECTION_TIMEOUT_MS: (x) => x.http.connectionTimeoutMs,
      HTTP_MAX_CONNECTIONS: (x) => x.http.maxConnections,
      REDIS_SHED_ABOVE_PERCENT: (x) => x.redis?.shedAbovePercent,
      REDIS_MEMORY_SAMPLE_INTERVAL_MS: (x) => x.redis?.memorySampleIntervalMs,
      MAX_TRUSTED_DEVICES_PER_USER: (x) => x.sessions.maxTrustedDevicesPerUser,
      MAX_SECURITY_EVENTS_PER_USER: (x) => x.sessions.maxSecurityEventsPerUser,
      RATE_LIMIT_ME_WRITES_PER_MINUTE: (x) => x.rateLimits.meWritesPerMinute,
      LOG_LEVEL: (x) => x.logLevel,
      REDIS_MAX_CONNECTIONS: (x) => x.redis?.maxConnections,
      REDIS_SOCKET_TIMEOUT_MS: (x) => x.redis?.socketTimeoutMs,
      REDIS_CONNECT_TIMEOUT_MS: (x) => x.redis?.connectTimeoutMs,
      REDIS_COMMAND_TIMEOUT_MS: (x) => x.redis?.commandTimeoutMs,
      REDIS_RETRY_ON_TIMEOUT: (x) => x.redis?.retryOnTimeout,
      REDIS_CLIENT_CACHE: (x) => x.redis?.clientCache,
      REDIS_CLIENT_CACHE_MODE: (x) => x.redis?.clientCacheMode,
      REDIS_FIRST_SIGHT: (x) => x.redis?.firstSight,
      MAX_CLOCK_SKEW_MS: (x) => x.redis?.maxClockSkewMs,
      REDIS_KEY_PREFIX: (x) => x.redis?.keyPrefix,
      JWT_ALG: () => loadConfigWithKey().jwt.keys[0]?.alg,
      JWT_ISSUER: (x) => x.jwt.issuer,
      JWT_AUDIENCE: (x) => x.jwt.audience,
      JWT_CLOCK_TOLERANCE_SECONDS: (x) => x.jwt.clockToleranceSeconds,
      ACCESS_TOKEN_TTL_SECONDS: (x) => x.jwt.accessTokenTtlSeconds,
      REFRESH_TOKEN_TTL_SECONDS: (x) => x.jwt.refreshTokenTtlSeconds,
      REFRESH_GRACE_SECONDS: (x) => x.jwt.refreshGraceSeconds,
      SESSION_IDLE_TIMEOUT_MINUTES: (x) => x.sessions.idleTimeoutMinutes,
      SESSION_ABSOLUTE_TIMEOUT_MINUTES: (x) => x.sessions.absoluteTimeoutMinutes,
      MAX_SESSIONS_PER_USER: (x) => x.sessions.maxSessionsPerUser,
      SESSION_LIMIT_POLICY: (x) => x.sessions.limitPolicy,
      RATE_LIMIT_REFRESH_PER_MINUTE: (x) => x.rateLimits.refreshPerMinute,
      RATE_LIMIT_REVOKE_PER_MINUTE: (x) => x.rateLimits.revokePerMinute,
      RATE_LIMIT_INTROSPECT_PER_MINUTE: (x) => x.rateLimits.introspectPerMinute,
      CLEANUP_INTERVAL_SECONDS: (x) => x.cleanupIntervalSeconds,
      BROWSER_HANDOFF_TTL_SECONDS: (x) => x.browser.handoffTtlSeconds,
      ADMIN_ROLE: (x) => x.adminRole,
      OTEL_SERVICE_NAME: (x) => x.tracing.serviceName,
    };
    for (const v of ENV_VARIABLES) {
      // '' (no default) and '(…)' (a description, e.g. "generated") are not values to compare.
      if (v.default === '' || v.default.startsWith('(')) {
        assert.equal(actual[v.name], undefined, `${v.name}: a concrete default belongs in variables.ts`);
        continue;
      }
      const read = actual[v.name];
      assert.ok(read, `${v.name} has a documented default (${v.default}) this test does not check`);
      assert.equal(String(read(c)), v.default, `${v.name}: documented ${v.default}`);
    }
  });

  test('the loader reads only documented variables, and every documented one', () => {
    const read = new Set([...loader.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!));
    const documented = new Set(ENV_VARIABLES.map((v) => v.name));
    for (const name of read) {
      if (name.startsWith('ERR_') || ['HS256', 'EDDSA', 'ES256'].includes(name.toUpperCase())) continue;
      assert.ok(documented.has(name), `src/config reads undocumented ${name}`);
    }
    for (const name of documented) assert.ok(read.has(name), `${name} is documented but never read`);
  });
});

/** A configuration with a private key file and no JWT_ALG: the signing algorithm is the default. */
function loadConfigWithKey(): OptixConfig {
  const dir = mkdtempSync(join(tmpdir(), 'optix-docs-'));
  try {
    const file = join(dir, 'ed.pem');
    writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return loadConfig({ JWT_PRIVATE_KEY_FILE: file });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('production notes', () => {
  test('README explains the eviction policy, persistence and every URL form', () => {
    assert.match(readme, /allkeys-lru/);
    assert.match(readme, /maxmemory-policy noeviction/);
    assert.match(readme, /appendonly yes/);
    assert.match(readme, /appendfsync everysec/);
    assert.match(readme, /save 900 1/);
    assert.match(readme, /\?sentinel=mymaster/);
    assert.match(readme, /redis:\/\/node1:6379,node2:6379,node3:6379/);
    assert.match(readme, /rediss:\/\//);
    assert.match(readme, /npm ci && npm start/);
    assert.match(readme, /npm ci && npm test/);
  });

  test('docker-compose.yml: the guide’s Redis with AOF, noeviction, localhost only', () => {
    assert.match(compose, /image: redis:7-alpine/);
    assert.match(compose, /--appendonly\n\s+- "yes"/);
    assert.match(compose, /--maxmemory-policy\n\s+- noeviction/);
    assert.match(compose, /"127\.0\.0\.1:6379:6379"/);
    assert.match(compose, /redis-cli", "ping"/);
    assert.doesNotMatch(compose.replace(/^#.*$/gm, ''), /allkeys-lru/);
    assert.doesNotMatch(compose, /^version:/m);
  });
});

describe('docs/data-model.md', () => {
  test('documents every key the key schema builds (src/stores/redis/keys.ts)', () => {
    const ids = createIdCodec(Buffer.alloc(32, 7));
    const keys = createKeySchema('', ids);
    const userId = 'user-42';
    const scoped = ids.newId(userId);
    const SAMPLE = 'SAMPLE-ID';
    // Every builder, called with sample ids; `…Of` builders derive a key another builder names.
    const built: Record<string, string> = {
      blacklist: keys.blacklist(SAMPLE),
      blacklistIndex: keys.blacklistIndex(),
      family: keys.family(scoped),
      familyRevoked: keys.familyRevoked(scoped),
      revokedFamilies: keys.revokedFamilies(),
      userFamilies: keys.userFamilies(userId),
      session: keys.session(scoped),
      userSessions: keys.userSessions(userId),
      userSessionsCreated: keys.userSessionsCreated(userId),
      userSweptSessions: keys.userSweptSessions(userId),
      deviceSessions: keys.deviceSessions(SAMPLE),
      trustedDevice: keys.trustedDevice(userId, SAMPLE),
      userTrustedDevices: keys.userTrustedDevices(userId),
      securityEvent: keys.securityEvent(scoped),
      userSecurityEvents: keys.userSecurityEvents(userId),
      userWatermark: keys.userWatermark(userId),
      idTagSecret: keys.idTagSecret(),
      cleanupLock: keys.cleanupLock(),
      cleanupSchedule: keys.cleanupSchedule(),
      rateLimit: keys.rateLimit(SAMPLE),
      handoff: keys.handoff(SAMPLE.repeat(2)),
      activity: keys.activity(0, 'logins'),
    };
    const derived: Record<string, string> = {
      userSessionsOf: keys.userSessionsOf(scoped),
      userSecurityEventsOf: keys.userSecurityEventsOf(scoped),
      userFamiliesOf: keys.userFamiliesOf(scoped),
      userSweptSessionsOf: keys.userSweptSessionsOf(scoped),
    };
    const builders = Object.entries(keys)
      .filter(([, v]) => typeof v === 'function')
      .map(([name]) => name)
      .sort();
    assert.deepEqual(builders, [...Object.keys(built), ...Object.keys(derived)].sort(), 'a new key builder');
    assert.equal(derived.userSessionsOf, built.userSessions);
    assert.equal(derived.userSecurityEventsOf, built.userSecurityEvents);
    assert.equal(derived.userFamiliesOf, built.userFamilies);
    assert.equal(derived.userSweptSessionsOf, built.userSweptSessions);
    // The broadcast prefixes of the client-side cache name exactly the key kinds read through it,
    // and the family revocation marks (heard, never read); the revocation-only ones, exactly the
    // kinds written only to revoke.
    const kinds = (prefixes: readonly string[]) =>
      prefixes.map((prefix) => Object.keys(built).filter((name) => built[name]!.startsWith(prefix)));
    assert.deepEqual(kinds(keys.trackedPrefixes), [
      ['blacklist'],
      ['family'],
      ['familyRevoked'],
      ['userWatermark'],
      ['userSessions'],
      ['session'],
    ]);
    assert.deepEqual(kinds(keys.revocationOnlyPrefixes), [['blacklist'], ['familyRevoked']]);
    for (const [name, key] of Object.entries(built)) {
      // The fixed part of the key name: up to its hash tag's `{`, or up to the sample id.
      const cut = [key.indexOf('{'), key.indexOf(SAMPLE)].filter((i) => i >= 0);
      const stem = cut.length === 0 ? key : key.slice(0, Math.min(...cut) + (key.includes('{') ? 1 : 0));
      assert.ok(dataModel.includes(stem), `docs/data-model.md does not mention ${stem}… (${name})`);
    }
  });
});
