/**
 * Runs last (the runner sorts files and runs them one at a time): every log line captured during
 * the suite — the HTTP apps of test/http and test/fuzz at trace/debug level, the cleanup job, the
 * stdout of the server processes — is searched for every secret the tests were handed: service
 * keys, JWT signing secrets, access tokens (whole, payload, signature), refresh tokens (whole and
 * their secret), session ids, Redis passwords. See test/helpers/log-capture.ts.
 *
 * It cannot pass vacuously: it fails when nothing was logged or no secret was recorded, and when a
 * selected test file that builds an app or a server left no capture.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { captureDir, currentTestFile } from './helpers/log-capture.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = captureDir();
/** Calls that make a file (or a module it imports) a log producer. */
const PRODUCER_CALL = /\b(createHarness|logDestination|appendCapturedLog)\(/;
const WINDOW = 16;

/** True when `file`, or a local module it imports (one level deep), captures logs. */
function producesLogs(file: string): boolean {
  const path = join(ROOT, file);
  if (!existsSync(path)) return false;
  const source = readFileSync(path, 'utf8');
  if (PRODUCER_CALL.test(source)) return true;
  for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
    const imported = join(dirname(path), `${m[1]}.ts`);
    if (existsSync(imported) && !imported.endsWith('log-capture.ts')) {
      const text = readFileSync(imported, 'utf8');
      // The harness builds apps only when a test calls createHarness (checked above).
      if (!imported.endsWith('/http/harness.ts') && PRODUCER_CALL.test(text)) return true;
    }
  }
  return false;
}

interface Leak {
  file: string;
  secret: string;
  context: string;
}

/** Every occurrence of any secret in `text` (windowed hash lookup: linear in the text). */
function findLeaks(file: string, text: string, long: Map<string, string[]>, short: string[]): Leak[] {
  const leaks: Leak[] = [];
  const context = (at: number, secret: string) =>
    text.slice(Math.max(0, at - 60), at).replace(/\s+/g, ' ') + `«${secret.slice(0, 6)}…»`;
  for (let i = 0; i + WINDOW <= text.length; i++) {
    const candidates = long.get(text.slice(i, i + WINDOW));
    if (candidates === undefined) continue;
    for (const secret of candidates) {
      if (text.startsWith(secret, i)) leaks.push({ file, secret, context: context(i, secret) });
    }
  }
  for (const secret of short) {
    const at = text.indexOf(secret);
    if (at !== -1) leaks.push({ file, secret, context: context(at, secret) });
  }
  return leaks;
}

describe('logs captured during the whole suite', () => {
  test('contain no token, refresh token, password, API key or session id', {
    skip: dir === null ? 'needs OPTIX_TEST_LOG_DIR: run it with node scripts/run-tests.mjs' : false,
  }, (t) => {
    const root = dir!;
    const names = readdirSync(root);
    const logFiles = names.filter((n) => n.endsWith('.log'));
    const secrets = new Set<string>();
    for (const name of names.filter((n) => n.endsWith('.secrets'))) {
      for (const line of readFileSync(join(root, name), 'utf8').split('\n')) {
        if (line !== '') secrets.add(JSON.parse(line) as string);
      }
    }
    const logs = logFiles.map((name) => ({ name, text: readFileSync(join(root, name), 'utf8') }));
    const bytes = logs.reduce((n, l) => n + l.text.length, 0);
    const lines = logs.reduce((n, l) => n + l.text.split('\n').length - 1, 0);
    assert.ok(bytes > 0, `no log was captured in ${root}: the check would pass vacuously`);
    assert.ok(secrets.size > 0, 'no secret was recorded: the check would pass vacuously');

    // Every selected file that builds an app or a server must have captured something.
    const selectedFile = join(root, 'selected.json');
    const selected = existsSync(selectedFile)
      ? (JSON.parse(readFileSync(selectedFile, 'utf8')) as string[])
      : [];
    const producers = new Set(
      names.filter((n) => n.endsWith('.producer')).map((n) => readFileSync(join(root, n), 'utf8').trim()),
    );
    const expected = selected.filter((f) => f !== currentTestFile() && producesLogs(f));
    const missing = expected.filter((f) => !producers.has(f));
    assert.deepEqual(missing, [], 'test files that build an app or a server captured no log');
    const silent = [...producers].filter(
      (f) => !logs.some((l) => l.name.startsWith(`${f.replace(/[^A-Za-z0-9._-]+/g, '_')}.`)),
    );
    assert.deepEqual(silent, [], 'test files that capture logs wrote none');

    const long = new Map<string, string[]>();
    const short: string[] = [];
    for (const secret of secrets) {
      if (secret.length < WINDOW) short.push(secret);
      else {
        const key = secret.slice(0, WINDOW);
        const list = long.get(key);
        if (list) list.push(secret);
        else long.set(key, [secret]);
      }
    }
    const leaks = logs.flatMap((l) => findLeaks(l.name, l.text, long, short));
    t.diagnostic(
      `searched ${lines} log lines (${(bytes / 1e6).toFixed(1)} MB, ${logs.length} files from ` +
        `${producers.size} test files) for ${secrets.size} secrets: ${leaks.length} found`,
    );
    assert.deepEqual(
      leaks.slice(0, 10).map((l) => `${l.file}: …${l.context}`),
      [],
      `${leaks.length} secret(s) found in the logs`,
    );
  });
});
