/** The README, docs/operations.md and docker-compose.yml say what the code does. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ENV_VARIABLES } from '../../src/config/variables.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const operations = read('docs/operations.md');
const loader = read('src/config/load.ts');
const compose = read('docker-compose.yml');

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

  test('the loader reads only documented variables, and every documented one', () => {
    const read = new Set([...loader.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!));
    const documented = new Set(ENV_VARIABLES.map((v) => v.name));
    for (const name of read) {
      if (name.startsWith('ERR_') || ['HS256', 'EDDSA', 'ES256'].includes(name.toUpperCase())) continue;
      assert.ok(documented.has(name), `load.ts reads undocumented ${name}`);
    }
    for (const name of documented) assert.ok(read.has(name), `${name} is documented but never read`);
  });
});

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
