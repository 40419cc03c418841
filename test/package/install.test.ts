/**
 * The package as its users get it: `npm pack`, installed from the tarball into an empty project
 * (its dependencies from the npm cache, the registry when not cached), imported from TypeScript
 * (the types resolve and are checked by tsc) and from plain JavaScript, a login → verify → revoke
 * flow on the memory backend, and the service started from the installed bin. The install prints
 * no warning of ours.
 *
 * It packs the current `dist/` (`--ignore-scripts`: `ensureBuilt()` has just made sure it is up to
 * date; `prepack` runs the same build for a real `npm pack`/`npm publish`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { recordSecrets } from '../helpers/log-capture.js';
import { freePort } from '../helpers/ports.js';
import { startService, stopAndCheck, waitHealthy } from '../helpers/service-process.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & {
  name: string;
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
  engines: { node: string };
};
const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * Engine warnings npm prints on Node 20 for packages deep in our dependencies' own trees, not
 * chosen by us: `cookie@2` (fastify → light-my-request) and `content-disposition@3`
 * (@fastify/swagger-ui → @fastify/static). Both declare Node ≥ 22 and run on 20 (the whole suite
 * passes there). On Node ≥ 22 the install prints no warning at all.
 */
const THIRD_PARTY_NODE20_ENGINE_WARNINGS = ['cookie@2', 'content-disposition@3'];

const work = mkdtempSync(join(tmpdir(), 'optix-pack-'));
const project = join(work, 'consumer');
after(() => rmSync(work, { recursive: true, force: true }));

let tarball = '';
let packedFiles: string[] = [];
let installOutput = '';

before(async () => {
  ensureBuilt();
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(packed);
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((f) => f.path);

  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: { [pkg.name]: `file:${tarball}` } }, null, 2)}\n`,
  );
  const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: project,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, npm_config_loglevel: 'warn', npm_config_update_notifier: 'false' },
  });
  installOutput = `${installed.stdout}\n${installed.stderr}`;
});

describe('the published package', () => {
  test('package.json: MIT licence, publishable, subpath exports, prepack builds', () => {
    assert.equal(pkg.license, 'MIT');
    assert.equal(pkg.private, undefined);
    for (const subpath of ['.', './redis', './memory', './package.json']) {
      assert.ok(subpath in pkg.exports, `exports ${subpath}`);
    }
    assert.equal(pkg.scripts.prepack, 'npm run build');
    assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
  });

  test('the tarball holds the compiled library, the bin, the Lua scripts, docs and licence; no sources or tests', () => {
    for (const file of [
      'package.json',
      'LICENSE',
      'README.md',
      'bin/optix-sessions.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/server.js',
      'dist/cli/main.js',
      'dist/stores/redis/index.d.ts',
      'dist/stores/memory/index.d.ts',
      'docs/operations.md',
    ]) {
      assert.ok(packedFiles.includes(file), `${file} is in the tarball`);
    }
    assert.ok(
      packedFiles.some((f) => /^dist\/stores\/redis\/lua\/.+\.lua$/.test(f)),
      'Lua scripts',
    );
    // Every export (today's and any added later, e.g. middleware) points at packed files.
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      const files = typeof target === 'string' ? [target] : Object.values(target as Record<string, string>);
      for (const file of files) {
        assert.ok(packedFiles.includes(file.replace(/^\.\//, '')), `${subpath} → ${file} is in the tarball`);
      }
    }
    const stray = packedFiles.filter((f) => /^(src|test|bench|scripts)\/|\.map$|^tsconfig|^\.env/.test(f));
    assert.deepEqual(stray, []);
  });

  test('installs into an empty project with no warning of ours', () => {
    const warnings = installOutput.split('\n').filter((line) => /\bwarn\b|WARN/i.test(line));
    const ours = warnings.filter((line) => !/EBADENGINE/.test(line));
    assert.deepEqual(ours, [], installOutput);
    const engineWarnings = installOutput.match(/package: '([^']+)'/g) ?? [];
    for (const warning of engineWarnings) {
      const name = /package: '([^']+)'/.exec(warning)?.[1] ?? '';
      assert.ok(
        nodeMajor === 20 && THIRD_PARTY_NODE20_ENGINE_WARNINGS.some((known) => name.startsWith(known)),
        `unexpected engine warning for ${name} on Node ${process.versions.node}`,
      );
      assert.notEqual(name.split('@')[0], pkg.name);
    }
    const installed = JSON.parse(
      readFileSync(join(project, 'node_modules', pkg.name, 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(installed.version, pkg.version);
  });

  test('TypeScript: the main entry and the ./memory and ./redis subpaths resolve with their types', async () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { createJwtService, createSessionManager } from 'optix-sessions';
import type { Session, TokenPair } from 'optix-sessions';
import { createMemoryStores } from 'optix-sessions/memory';
import { createRedisStores } from 'optix-sessions/redis';

export async function login(): Promise<TokenPair> {
  const stores = createMemoryStores();
  const jwt = createJwtService({ stores, keys: [{ kid: 'k1', alg: 'HS256', secret: 'x'.repeat(32) }], issuer: 'i', audience: 'a' });
  const sessions = createSessionManager({ stores });
  const session: Session = await sessions.createSession({ userId: 'alice', ipAddress: '203.0.113.1', userAgent: 'ts' });
  const id: string = session.sessionId;
  return jwt.issueTokenPair({ userId: 'alice', sessionId: id });
}
export const redisStores: typeof createRedisStores = createRedisStores;
// @ts-expect-error the options are typed: issuer must be a string
createJwtService({ stores: createMemoryStores(), keys: [], issuer: 42, audience: 'a' });
`,
    );
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).catch(
      (err: { stdout?: string; stderr?: string }) => {
        throw new Error(`tsc failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      },
    );
    assert.equal(result.stdout.trim(), '');
  });

  test('plain JavaScript: login → verify → revoke on the memory backend', async () => {
    writeFileSync(
      join(project, 'flow.mjs'),
      `import { createJwtService, createSessionManager, login, TokenRevokedError } from 'optix-sessions';
import { createMemoryStores } from 'optix-sessions/memory';

const stores = createMemoryStores();
const jwt = createJwtService({ stores, keys: [{ kid: 'k1', alg: 'HS256', secret: 'pack-test-secret-0123456789abcdef' }], issuer: 'optix-sessions', audience: 'optix' });
const sessions = createSessionManager({ stores });
const { session, tokens: pair } = await login({ sessions, jwt }, { userId: 'alice', ipAddress: '203.0.113.1', userAgent: 'pack-test' });
const verified = await jwt.verifyToken(pair.accessToken);
const revoked = await jwt.revokeAccessToken(pair.accessToken, 'user_logout');
let after = 'verified';
try {
  await jwt.verifyToken(pair.accessToken);
} catch (err) {
  after = err instanceof TokenRevokedError ? err.code : String(err);
}
console.log(JSON.stringify({ sub: verified.payload.sub, sid: verified.payload.sid === session.sessionId, revoked, after, secrets: [pair.accessToken, pair.refreshToken, session.sessionId] }));
`,
    );
    const { stdout } = await run(process.execPath, ['flow.mjs'], { cwd: project });
    const result = JSON.parse(stdout) as {
      sub: string;
      sid: boolean;
      revoked: boolean;
      after: string;
      secrets: string[];
    };
    recordSecrets(...result.secrets);
    assert.deepEqual(
      { sub: result.sub, sid: result.sid, revoked: result.revoked, after: result.after },
      { sub: 'alice', sid: true, revoked: true, after: 'ERR_TOKEN_REVOKED' },
    );
  });

  test('CommonJS: require() of the package and its subpaths works (require of ES modules, Node ≥ 20.19/22.12)', async () => {
    writeFileSync(
      join(project, 'consumer.cjs'),
      `const { createJwtService } = require('optix-sessions');
const { createMemoryStores } = require('optix-sessions/memory');
const { createRedisStores } = require('optix-sessions/redis');
console.log([createJwtService, createMemoryStores, createRedisStores].map((f) => typeof f).join(' '));
`,
    );
    const { stdout, stderr } = await run(process.execPath, ['consumer.cjs'], { cwd: project });
    assert.equal(stdout.trim(), 'function function function');
    assert.equal(stderr, '');
  });

  test('the installed bin serves: `optix-sessions serve` answers /healthz, SIGTERM → exit 0, port free', async (t) => {
    const port = await freePort();
    const service = startService(join(project, 'node_modules/.bin/optix-sessions'), ['serve'], {
      cwd: project,
      port,
    });
    const upMs = await waitHealthy(service);
    const health = await fetch(`${service.base}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const stopMs = await stopAndCheck(service, 'SIGTERM');
    t.diagnostic(`installed bin: /healthz after ${upMs} ms, stopped in ${stopMs} ms`);
  });
});
