/**
 * Reads the process environment plus a `.env` file (dotenv format), for the entry points only.
 * Variables already in the environment win over the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { ConfigError } from '../core/errors.js';
import type { Env } from './load.js';

/**
 * `process.env` merged over the `.env` file at `path` (default `./.env`; a missing default file is
 * fine, a missing explicit one is an error).
 * @throws ConfigError (path `ENV_FILE`) when an explicitly named file cannot be read.
 */
export function readEnv(options: { path?: string; env?: Env } = {}): Env {
  const env = options.env ?? process.env;
  const path = resolve(options.path ?? '.env');
  if (!existsSync(path)) {
    if (options.path !== undefined)
      throw new ConfigError('ENV_FILE', `cannot read "${options.path}" (ENOENT)`);
    return { ...env };
  }
  let parsed: Record<string, string>;
  try {
    parsed = parse(readFileSync(path));
  } catch (err) {
    throw new ConfigError(
      'ENV_FILE',
      `cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return { ...parsed, ...env };
}
