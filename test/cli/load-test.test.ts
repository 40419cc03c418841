/**
 * `load-test` measures what it says: `verify` verifies a distinct token per operation (each
 * checked in full), `verify-warm` one token again and again (the cached path). On memory and
 * Redis.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runLoadTest } from '../../src/cli/commands/load-test.js';
import { loadConfig } from '../../src/config/load.js';
import { createOptix, type Optix } from '../../src/container.js';
import { getTestRedisUrl, uniquePrefix } from '../helpers/redis-server.js';

const BASE = {
  NODE_ENV: 'test',
  JWT_SECRET: 'load-test-secret-0123456789abcdef-0123456789',
  SERVICE_API_KEYS: 'load-test-service-key-0123456789abcdef',
  LOG_LEVEL: 'silent',
};

/** Runs a scenario and returns the result and the tokens `verifyToken` was given. */
async function observe(optix: Optix, scenario: 'verify' | 'verify-warm', ops: number) {
  const seen: string[] = [];
  const jwt = optix.jwt as { verifyToken: Optix['jwt']['verifyToken'] };
  const original = optix.jwt.verifyToken;
  jwt.verifyToken = (token, options) => {
    seen.push(token);
    return original(token, options);
  };
  try {
    const result = await runLoadTest(optix, { scenario, ops, concurrency: 10 });
    return { result, seen };
  } finally {
    jwt.verifyToken = original;
  }
}

for (const backend of ['memory', 'redis'] as const) {
  describe(`load-test verify scenarios (${backend})`, () => {
    test('verify: a distinct token per operation, all valid; verify-warm: one token', async () => {
      const env =
        backend === 'memory'
          ? BASE
          : { ...BASE, REDIS_URL: await getTestRedisUrl(), REDIS_KEY_PREFIX: uniquePrefix() };
      const optix = await createOptix(loadConfig(env));
      try {
        const full = await observe(optix, 'verify', 500);
        assert.equal(full.result.errors, 0, full.result.firstError ?? '');
        assert.equal(full.seen.length, 500);
        assert.equal(new Set(full.seen).size, 500, 'every operation verifies a token never seen before');
        assert.equal(full.result.distinctTokens, 500);

        const warm = await observe(optix, 'verify-warm', 200);
        assert.equal(warm.result.errors, 0);
        assert.equal(new Set(warm.seen).size, 1);
        assert.equal(warm.result.distinctTokens, 1);
      } finally {
        await optix.close();
      }
    });
  });
}
