/**
 * The direction of imports is enforced by the linter (biome.json, `noRestrictedImports` for
 * src/http, src/cli and src/middleware; and for src/core and src/config, which import nothing above
 * them): a file planted there that imports a store or Redis internal fails `biome lint`; the same file in src/services, or one importing ports and services
 * from src/http, passes. The planted files are removed afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const biome = join(root, 'node_modules', '.bin', 'biome');

/** Writes `source` to `<folder>/zz-planted-<random>.ts`, lints it, removes it. */
function lintPlanted(folder: string, source: string): { status: number | null; output: string } {
  const file = join(root, folder, `zz-planted-${randomBytes(6).toString('hex')}.ts`);
  writeFileSync(file, source);
  try {
    const r = spawnSync(biome, ['lint', '--colors=off', file], { cwd: root, encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  } finally {
    rmSync(file, { force: true });
  }
}

const INTO_STORES = `import { createKeySchema } from '../stores/redis/keys.js';
export const planted = createKeySchema;
`;
const INTO_REDIS = `import { RedisClient } from '../connection/client.js';
export const planted = RedisClient;
`;
const INTO_MEMORY = `import { createMemoryStores } from '../stores/memory/index.js';
export const planted = createMemoryStores;
`;

describe('import direction (biome noRestrictedImports)', () => {
  for (const folder of ['src/http', 'src/cli', 'src/middleware']) {
    test(`${folder}: an import of stores/redis fails the lint`, () => {
      const r = lintPlanted(folder, INTO_STORES);
      assert.notEqual(r.status, 0, r.output);
      assert.match(r.output, /noRestrictedImports/);
    });
  }

  test('src/http: an import of redis/ (the connection) or stores/memory fails too', () => {
    for (const source of [INTO_REDIS, INTO_MEMORY]) {
      const r = lintPlanted('src/http', source);
      assert.notEqual(r.status, 0, r.output);
      assert.match(r.output, /noRestrictedImports/);
    }
  });

  test('src/http may import ports and services; npm packages named redis are not caught', () => {
    const r = lintPlanted(
      'src/http',
      `import type { RateLimitStore } from '../core/ports.js';
import { login } from '../services/login.js';
import { createClient } from '@redis/client';
export const planted: [RateLimitStore | null, unknown, unknown] = [null, login, createClient];
`,
    );
    assert.equal(r.status, 0, r.output);
  });

  for (const folder of ['src/core', 'src/config']) {
    test(`${folder}: an import of services/ fails the lint (shared types live in core/)`, () => {
      const r = lintPlanted(
        folder,
        `import type { JwtService } from '../services/types.js';
export type Planted = JwtService;
`,
      );
      assert.notEqual(r.status, 0, r.output);
      assert.match(r.output, /noRestrictedImports/);
    });
  }

  test('the rule is per folder: the same import from src/services passes', () => {
    const r = lintPlanted('src/services', INTO_STORES);
    assert.equal(r.status, 0, r.output);
  });
});
