/**
 * The client-side cache's rule for this process's own writes: a write drops the local cache
 * entries of the keys it wrote once Redis has answered (or failed), so this process never reads
 * its own write's old value from the cache (the invalidation push may not have arrived yet).
 */
import type { RedisCommands } from './commands.js';
import type { TrackingController } from './tracking.js';

/** The `RedisCommands` methods that write, each taking its key(s) first. */
const WRITE_COMMANDS: ReadonlySet<string | symbol> = new Set([
  'set',
  'del',
  'pExpire',
  'zAdd',
  'zRem',
  'zRemRangeByScore',
]);

/** `commands` whose writes invalidate the local cache entries of their keys. */
export function invalidatingWrites(commands: RedisCommands, tracking: TrackingController): RedisCommands {
  return new Proxy(commands, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (!WRITE_COMMANDS.has(prop)) return value.bind(target);
      return (keys: string | string[], ...rest: unknown[]) =>
        (value.call(target, keys, ...rest) as Promise<unknown>).finally(() =>
          tracking.invalidateLocal(typeof keys === 'string' ? [keys] : keys),
        );
    },
  }) as RedisCommands;
}
