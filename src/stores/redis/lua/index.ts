/**
 * The Lua scripts of the Redis stores, read once at module load from `./scripts/*.lua` (copied next
 * to the compiled module by `scripts/copy-lua.mjs`). Each file's header lists its `KEYS`, `ARGV`
 * (with units) and return value. `RedisClient.runScript` sends `EVALSHA` and falls back to `EVAL`
 * on `NOSCRIPT`.
 *
 * Every key a script touches is passed in `KEYS`, and all keys of one call share one hash slot
 * (the user's `{tag}`, or a single key). `test/redis/scripts.test.ts` checks the sources.
 *
 * Beside each `<name>.lua` that has one, `<name>.ts` is its typed wrapper (as node-redis keeps a
 * command's arguments and reply transform in one module): it takes its input by name, builds
 * `KEYS` and `ARGV` in the order the header documents, and parses the reply. Stores call the
 * wrapper, never `runScript` with a hand-built argument list.
 */
import { readFileSync } from 'node:fs';
import { type LuaScript, luaScript } from '../../../connection/commands.js';

/** `numberOfKeys` of a script that takes a variable number of keys (given per call). */
export const VARIADIC_KEYS = -1;

/**
 * A script's source with each `-- #include <lib>` line replaced by `./lib/<lib>.lua`:
 * Redis has no module system, and a helper several scripts share (the record decoder) is kept
 * once. The SHA1 is taken over the result.
 */
export function scriptSource(name: string): string {
  const source = readFileSync(new URL(`./${name}.lua`, import.meta.url), 'utf8');
  return source.replace(/^-- #include ([a-z_]+)\b.*$/gm, (_line, lib: string) =>
    readFileSync(new URL(`./lib/${lib}.lua`, import.meta.url), 'utf8').trimEnd(),
  );
}

function load(name: string, numberOfKeys: number, options: { durable?: boolean } = {}): LuaScript {
  return luaScript(name, scriptSource(name), numberOfKeys, options);
}

/** Revocation-class writes: confirmed on the replicas before they resolve (see LuaScript). */
const DURABLE = { durable: true };

/** Every script, by file name. */
export const SCRIPTS = {
  session_create: load('session_create', VARIADIC_KEYS),
  session_get: load('session_get', 2),
  session_sweep_check: load('session_sweep_check', 3),
  session_update: load('session_update', 2),
  session_delete: load('session_delete', 2, DURABLE),
  session_rotate: load('session_rotate', 3, DURABLE),
  session_delete_all: load('session_delete_all', VARIADIC_KEYS, DURABLE),
  session_prune: load('session_prune', VARIADIC_KEYS),
  index_add: load('index_add', 1),
  session_device_add: load('session_device_add', 1),
  family_create: load('family_create', 5),
  family_drop: load('family_drop', VARIADIC_KEYS),
  family_revoke: load('family_revoke', 2, DURABLE),
  family_rotate: load('family_rotate', 5, DURABLE),
  family_revoke_token: load('family_revoke_token', 2, DURABLE),
  watermark_raise: load('watermark_raise', 1, DURABLE),
  blacklist_set: load('blacklist_set', 1, DURABLE),
  event_record: load('event_record', VARIADIC_KEYS),
  device_trust: load('device_trust', VARIADIC_KEYS),
  device_revoke: load('device_revoke', 2),
  lock_release: load('lock_release', 1),
  id_secret_init: load('id_secret_init', 1),
  rate_limit_incr: load('rate_limit_incr', 1),
  activity_add: load('activity_add', VARIADIC_KEYS),
  revocation_read: load('revocation_read', 4),
  revocation_read_batch: load('revocation_read_batch', VARIADIC_KEYS),
} as const satisfies Record<string, LuaScript>;

export type ScriptName = keyof typeof SCRIPTS;

/**
 * Sends a script: `RedisClient.runScript` (the main connection), or `RedisTracking.runScript` (the
 * tracked one, for read-only scripts whose keys the client-side cache must follow).
 */
export type ScriptRunner = (
  script: LuaScript,
  keys: string[],
  args: string[],
  /** The keys a tracked read may hold (see `RedisClient.runScript`); default: all of `keys`. */
  tracked?: readonly string[],
) => Promise<unknown>;
