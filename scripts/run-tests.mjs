#!/usr/bin/env node
/**
 * Runs the test suite with node's own runner. Node 20 finds no files in a directory argument, so
 * this lists `test/**\/*.test.ts` itself and passes them explicitly, one file at a time
 * (`--test-concurrency=1`: suites that start Redis servers must not fight over CPU and ports).
 *
 *   node scripts/run-tests.mjs                    # every test file
 *   node scripts/run-tests.mjs memory redis/ttl   # files whose path contains any of these
 *   node scripts/run-tests.mjs --test-name-pattern=rotate memory
 *
 * Arguments starting with `-` go to node; the others select files (an existing path, or a
 * substring of the path relative to the repository). The exit code is node's.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const testDir = join(root, 'test');

const args = process.argv.slice(2);
const nodeOptions = args.filter((arg) => arg.startsWith('-'));
const filters = args.filter((arg) => !arg.startsWith('-'));

/** Relative paths (with `/`) of every `*.test.ts` under `test/`, sorted. */
function findTestFiles() {
  if (!existsSync(testDir)) return [];
  return readdirSync(testDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) =>
      relative(root, join(entry.parentPath ?? entry.path, entry.name))
        .split(sep)
        .join('/'),
    )
    .filter((file) => !file.split('/').includes('node_modules'))
    .sort();
}

const all = findTestFiles();
const selected =
  filters.length === 0
    ? all
    : all.filter((file) =>
        filters.some((filter) => {
          const asPath = relative(root, resolve(filter)).split(sep).join('/');
          return file === asPath || file.startsWith(`${asPath}/`) || file.includes(filter);
        }),
      );

if (selected.length === 0) {
  console.error(
    filters.length === 0 ? 'No test files found under test/.' : `No test file matches: ${filters.join(' ')}`,
  );
  process.exit(1);
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...nodeOptions, ...selected],
  { cwd: root, stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`node --test was killed by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
