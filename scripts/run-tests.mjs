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
 *
 * Logs: the tests write every log line they capture, and every secret they were handed, to the
 * directory in `OPTIX_TEST_LOG_DIR` (test/helpers/log-capture.ts); the last file,
 * `test/zz-logs-have-no-secrets.test.ts`, searches them. Unless the variable is already set, a
 * temporary directory is made for the run and removed afterwards (kept, and named, when the run
 * failed).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const ownLogDir = !process.env.OPTIX_TEST_LOG_DIR;
const logDir = ownLogDir ? mkdtempSync(join(tmpdir(), 'optix-test-logs-')) : process.env.OPTIX_TEST_LOG_DIR;
writeFileSync(join(logDir, 'selected.json'), `${JSON.stringify(selected)}\n`);

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...nodeOptions, ...selected],
  { cwd: root, stdio: 'inherit', env: { ...process.env, OPTIX_TEST_LOG_DIR: logDir } },
);

/** Removes the run's log directory, or names it when the run failed. */
function cleanUp(failed) {
  if (!ownLogDir) return;
  if (failed) console.error(`Captured test logs kept in ${logDir}`);
  else rmSync(logDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`node --test was killed by ${signal}`);
    cleanUp(true);
    process.exit(1);
  }
  cleanUp(code !== 0);
  process.exit(code ?? 1);
});
