/**
 * Reads the process environment plus a `.env` file (dotenv format), for the entry points only.
 * Variables already in the environment win over the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { ConfigError } from '../core/errors.js';
import type { Env } from './load.js';
import { ENV_VARIABLES } from './variables.js';

/** Variables read outside `loadConfig`: the CLI's service key for `--url`. */
export const CLI_VARIABLES: readonly string[] = Object.freeze(['OPTIX_SERVICE_KEY']);

const KNOWN = new Set([...ENV_VARIABLES.map((v) => v.name), ...CLI_VARIABLES]);
/** Prefixes of our variables: an unknown name with one of them is a misspelling of ours. */
const OUR_PREFIXES =
  /^(REDIS_|JWT_|SESSION_|RATE_LIMIT_|SERVICE_|LOG_|ACCESS_TOKEN|REFRESH_|CLEANUP_|MAX_SESSIONS|TRUST_|BODY_|OPTIX_)/;

/**
 * Edit distance of two short names. Written here: a dependency for a dozen lines over names of
 * under 40 characters is not worth its weight.
 */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * One warning per name in `names` that is not a variable of ours but looks like one: it has one of
 * our prefixes (`REDIS_ULR`), or is one or two edits from a known name (`PROT`). The closest known
 * name is suggested. `OTEL_*` names are left alone (the OpenTelemetry SDK reads many more).
 */
export function unknownVariableWarnings(names: Iterable<string>): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (KNOWN.has(name) || name.startsWith('OTEL_')) continue;
    let best: string | null = null;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const known of KNOWN) {
      const d = distance(name.toUpperCase(), known);
      if (d < bestDistance) {
        best = known;
        bestDistance = d;
      }
    }
    if (!OUR_PREFIXES.test(name.toUpperCase()) && bestDistance > 2) continue;
    const hint = best !== null && bestDistance <= 3 ? ` (did you mean ${best}?)` : '';
    out.push(`unknown variable ${name.slice(0, 64)}${hint}: ignored`);
  }
  return out;
}

/**
 * `process.env` merged over the `.env` file at `path` (default `./.env`; a missing default file is
 * fine, a missing explicit one is an error).
 * @throws ConfigError (path `ENV_FILE`) when an explicitly named file cannot be read.
 */
export function readEnv(
  options: {
    path?: string;
    env?: Env;
    /** Told about each name in the file that looks like a misspelt variable of ours. */
    onWarning?: (message: string) => void;
  } = {},
): Env {
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
  if (options.onWarning !== undefined) {
    for (const w of unknownVariableWarnings(Object.keys(parsed))) options.onWarning(`${path}: ${w}`);
  }
  return { ...parsed, ...env };
}
