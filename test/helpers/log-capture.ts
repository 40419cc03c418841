/**
 * Suite-wide log capture. `scripts/run-tests.mjs` sets `OPTIX_TEST_LOG_DIR` to a fresh temporary
 * directory; every test that builds an app, a server process or a logger writes what it logged
 * there (`logDestination`, `appendCapturedLog`) and records every secret it was handed
 * (`recordSecrets`: service keys, access and refresh tokens, session ids, passwords). The last test
 * file of the suite (`test/zz-logs-have-no-secrets.test.ts`) searches all captured logs for all
 * recorded secrets.
 *
 * Without `OPTIX_TEST_LOG_DIR` (a test file run directly with `node --test`) nothing is written and
 * the streams only pass lines on to `onChunk`.
 *
 * Files in the directory (one set per test process; `<source>` is the test file, `/` → `_`):
 *   `<source>.<pid>.log`      the captured log text, as written
 *   `<source>.<pid>.secrets`  one JSON string per line
 *   `<source>.<pid>.producer` written at the first capture: this file meant to log
 *   `selected.json`           the test files the runner selected (written by the runner)
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const LOG_DIR_ENV = 'OPTIX_TEST_LOG_DIR';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FLUSH_AT = 256 * 1024;

/** The capture directory, or `null` when the suite runner did not set one. */
export function captureDir(): string | null {
  const dir = process.env[LOG_DIR_ENV];
  return dir !== undefined && dir !== '' ? dir : null;
}

/** The test file this process runs, relative to the repository (`test/http/me.test.ts`). */
export function currentTestFile(): string {
  const entry = process.argv[1] ?? 'unknown';
  return relative(ROOT, entry).split('\\').join('/');
}

function stem(): string {
  return `${currentTestFile().replace(/[^A-Za-z0-9._-]+/g, '_')}.${process.pid}`;
}

let pendingLog = '';
let pendingSecrets = '';
let announced = false;

function flush(): void {
  const dir = captureDir();
  if (dir === null) {
    pendingLog = '';
    pendingSecrets = '';
    return;
  }
  if (pendingLog !== '') {
    appendFileSync(join(dir, `${stem()}.log`), pendingLog);
    pendingLog = '';
  }
  if (pendingSecrets !== '') {
    appendFileSync(join(dir, `${stem()}.secrets`), pendingSecrets);
    pendingSecrets = '';
  }
}

process.once('exit', flush);

function announce(): void {
  if (announced) return;
  announced = true;
  const dir = captureDir();
  if (dir !== null) writeFileSync(join(dir, `${stem()}.producer`), `${currentTestFile()}\n`);
}

/** Appends log text (pino JSON lines, or a child process's stdout) to this file's capture. */
export function appendCapturedLog(text: string): void {
  announce();
  if (captureDir() === null || text === '') return;
  pendingLog += text.endsWith('\n') ? text : `${text}\n`;
  if (pendingLog.length >= FLUSH_AT) flush();
}

/**
 * A pino destination that captures every line for the suite-wide check and passes each chunk on
 * to `onChunk` (for a test's own assertions).
 */
export function logDestination(onChunk?: (chunk: string) => void): Writable {
  announce();
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      appendCapturedLog(text);
      onChunk?.(text);
      cb();
    },
  });
}

/**
 * A secret and the parts of it that are secrets on their own: a JWT's payload (it carries the
 * session id) and signature, a refresh token's secret (`<tag>.<random>.<secret>`), the random part
 * of a session id (`<tag>.<random>`).
 */
export function secretParts(secret: string): string[] {
  const out = [secret];
  const segments = secret.split('.');
  if (!segments.every((s) => /^[A-Za-z0-9_-]+$/.test(s))) return out;
  if (segments.length === 3 && segments[0]!.startsWith('eyJ')) out.push(segments[1]!, segments[2]!);
  else if (segments.length === 3) out.push(segments[2]!);
  else if (segments.length === 2 && segments[1]!.length >= 16) out.push(segments[1]!);
  return out;
}

/** Records secrets the test was handed; the suite-wide check searches the logs for each of them. */
export function recordSecrets(...secrets: Array<string | null | undefined>): void {
  if (captureDir() === null) return;
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < 8) continue;
    for (const part of secretParts(secret)) {
      if (part.length >= 8) pendingSecrets += `${JSON.stringify(part)}\n`;
    }
  }
  if (pendingSecrets.length >= FLUSH_AT) flush();
}
