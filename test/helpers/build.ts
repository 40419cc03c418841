/**
 * The compiled `dist/` that the production start, the Dockerfile and the packed tarball run.
 * CI builds before it tests (`.ci/run`: `npm run build`, then `npm test`); a test that needs
 * `dist/` calls `ensureBuilt()`, which rebuilds only when `dist/` is missing or older than a
 * source file, so a test never runs a stale build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Newest modification time (ms) of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** `true` when `dist/` holds a build at least as new as every file under `src/`, `web/` and the build config. */
export function isBuilt(): boolean {
  const marker = join(ROOT, 'dist/server.js');
  if (!existsSync(marker)) return false;
  const sources = Math.max(
    newestMtime(join(ROOT, 'src')),
    newestMtime(join(ROOT, 'web')),
    statSync(join(ROOT, 'tsconfig.json')).mtimeMs,
    statSync(join(ROOT, 'tsconfig.build.json')).mtimeMs,
  );
  // The build empties dist/ first and then writes every file, so its oldest file is its start.
  return statSync(marker).mtimeMs >= sources;
}

let built = false;

/** Runs `npm run build` unless `dist/` is already up to date (once per test process). */
export function ensureBuilt(): void {
  if (built || isBuilt()) {
    built = true;
    return;
  }
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}
