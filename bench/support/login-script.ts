/**
 * The login's own Redis work, without the client: the `session_create.lua` call of one real
 * `createSession` (keys and arguments as the store built them), replayed by a bare node-redis
 * client for new users and devices. It answers "how fast could a login go if everything the
 * client does cost nothing?": the ceiling the key schema and Redis put on `createSession`
 * (docs/performance.md, "The ceilings"). The arguments are replayed as captured, clock readings
 * included: the scores and TTLs stay in the future for the minutes a run lasts.
 */
import { createClient } from '@redis/client';
import { SCRIPTS } from '../../src/stores/redis/lua/index.js';
import { KEY_PREFIX, type OurSide } from './optix.js';
import { sessionInput } from './payload.js';

export interface LoginCall {
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

type RunScript = OurSide['redis']['runScript'];

/**
 * Makes one real login through `our` (user `userId`, a new device) and returns the
 * `session_create` call it sent (its first: off Cluster a login is that one call).
 */
export async function captureLoginCall(our: OurSide, userId: string): Promise<LoginCall> {
  const redis = our.redis;
  const original: RunScript = redis.runScript;
  let call: LoginCall | null = null;
  const recording: RunScript = (script, keys, args, tracked) => {
    if (script.name === 'session_create' && call === null) call = { keys: [...keys], args: [...args] };
    return original.call(redis, script, keys, args, tracked);
  };
  redis.runScript = recording;
  try {
    await our.sessions.createSession(sessionInput(userId, 0));
  } finally {
    // The own property goes; the prototype's method is back.
    delete (redis as { runScript?: RunScript }).runScript;
  }
  if (call === null) throw new Error('the login sent no session_create call');
  return call;
}

/** Which part of the login's script call to replay. */
export type LoginReplayPart = 'full' | 'without-events';

/**
 * The keys of `call` for a new user and a new device: the user's hash tag and the device index key
 * get `suffix`, so every key the login touches is new, as in the scenario's logins.
 */
export function keysForNewUser(call: LoginCall): (suffix: string) => string[] {
  const tag = /\{([^}]+)\}/.exec(call.keys[0] ?? '')?.[1];
  if (tag === undefined) throw new Error('the user index key has no hash tag');
  const deviceIndex = `${KEY_PREFIX}device:sessions:`;
  return (suffix) =>
    call.keys.map((key) =>
      key.startsWith(deviceIndex) ? key + suffix : key.replace(`{${tag}}`, `{${tag}${suffix}}`),
    );
}

/**
 * A bare node-redis client (no client-side cache, no tracking) replaying `call` for a new user and
 * a new device each time (`keysForNewUser`). `without-events` drops the event keys and arguments
 * (ARGV[11] = 0): the session, its indexes and the cap only.
 */
export async function loginReplayer(url: string, call: LoginCall, part: LoginReplayPart = 'full') {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const keysFor = keysForNewUser(call);
  // Without events: KEYS[1..4] (user index, record, swept set, device index); ARGV[1..12], E = 0.
  const keyCount = part === 'without-events' ? 4 : call.keys.length;
  const args = part === 'without-events' ? call.args.slice(0, 12) : [...call.args];
  if (part === 'without-events') args[10] = '0';
  const head = ['EVALSHA', SCRIPTS.session_create.sha1, String(keyCount)];
  await client.sendCommand(['SCRIPT', 'LOAD', SCRIPTS.session_create.source]);
  let n = 0;
  return {
    async login(): Promise<void> {
      const command = [...head, ...keysFor(`~${n++}`).slice(0, keyCount), ...args];
      const reply = (await client.sendCommand(command)) as unknown[];
      // The replay must do a login's whole work: the session in, and (full) both events written
      // here (1), the device new to the user (1); a ceiling that skipped work would prove nothing.
      if (reply[0] !== 'ok') throw new Error(`session_create answered ${String(reply[0])}`);
      if (part === 'full' && (reply[4] !== 1 || reply[5] !== 1)) {
        throw new Error(
          `session_create wrote no events (events ${String(reply[4])}, new device ${String(reply[5])})`,
        );
      }
    },
    close: () => client.close(),
  };
}
