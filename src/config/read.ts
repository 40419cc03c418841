/**
 * Reading environment variables: trimmed values, whole numbers in a range, booleans, one of a
 * set, files, URLs. A problem is collected (named by its variable) rather than thrown, so that one
 * start-up attempt reports every problem.
 */
import { ConfigError } from '../core/errors.js';
import type { IntegerBound } from '../core/limits.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Collects problems so that one start-up attempt reports all of them. */
export class Problems {
  readonly list: Array<{ path: string; message: string }> = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  throwIfAny(): void {
    const [first, ...rest] = this.list;
    if (first === undefined) return;
    const more = rest.map((p) => `; ${p.path}: ${p.message}`).join('');
    throw new ConfigError(first.path, `${first.message}${more}`);
  }
}

/** Reads one variable: `undefined` when unset or blank. */
export function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** A whole number from `min` to `max`; `fallback` when unset (or wrong, with a problem). */
export function int(env: Env, p: Problems, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) {
    p.add(name, `must be a whole number from ${min} to ${max}, got "${v.slice(0, 32)}"`);
    return fallback;
  }
  const n = Number(v);
  if (n < min || n > max) {
    p.add(name, `must be from ${min} to ${max}, got ${n}`);
    return fallback;
  }
  return n;
}

/** `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`; `fallback` when unset. */
export function bool(env: Env, p: Problems, name: string, fallback: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  p.add(name, `must be true or false, got "${v.slice(0, 32)}"`);
  return fallback;
}

/** One of `allowed`; `fallback` when unset. */
/** `int` over a bound written in `core/limits.ts` (the range the library itself accepts). */
export function bounded(env: Env, p: Problems, name: string, bound: IntegerBound): number {
  return int(env, p, name, bound.default, bound.min, bound.max);
}

export function oneOf<T extends string>(
  env: Env,
  p: Problems,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  p.add(name, `must be one of ${allowed.join(', ')}, got "${v.slice(0, 32)}"`);
  return fallback;
}

/** The content of the file at `path`, or `undefined` (problem added) when it cannot be read. */
export function file(
  p: Problems,
  name: string,
  path: string,
  readFile: (path: string) => string,
): string | undefined {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    p.add(name, `cannot read "${path}"${code ? ` (${code})` : ''}`);
    return undefined;
  }
}

/** An http(s) URL, or `undefined` (problem added when set but not one). */
export function httpUrl(p: Problems, name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  p.add(name, `must be an http:// or https:// URL, got "${value.slice(0, 64)}"`);
  return undefined;
}
