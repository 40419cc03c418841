/**
 * create session: a login. Ours: sessionManager.createSession (the per-user cap, the indexes, the
 * new-device check, the security events). Peer: connect-redis `set` (what express-session's save
 * does at login: one SET with a TTL, no index, no audit). Reference: the login's script call
 * alone, replayed by a bare client (`support/login-script.ts`): the ceiling Redis's own work puts
 * on a login whatever the client does.
 */
import type { SessionData } from 'express-session';
import { captureLoginCall, loginReplayer } from '../support/login-script.js';
import { type Contender, compareTimed } from '../support/measure.js';
import { createOurSide } from '../support/optix.js';
import { expressSession, expressSessionId, IDLE_MS, sessionInput } from '../support/payload.js';
import { connectRedisStore } from '../support/peers.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';

export const scenario: Scenario = {
  name: 'create-session',
  aliases: ['create'],
  title: 'create a session (login)',
  async run({ redis, settings, log }) {
    const our = await createOurSide(redis.url);
    const peer = await connectRedisStore(redis.url, IDLE_MS / 1000);
    const replay = await loginReplayer(redis.url, await captureLoginCall(our, 'cs-template'));
    let ourUsers = 0;
    let theirUsers = 0;
    try {
      const contenders: Contender[] = [
        {
          id: 'ours',
          label: 'ours: sessions.createSession (cap, indexes, events)',
          role: 'ours',
          async op(i) {
            await our.sessions.createSession(sessionInput(`cs-${ourUsers++}`, i));
          },
        },
        {
          id: 'connect-redis',
          label: 'connect-redis set (SET EX, node-redis)',
          role: 'peer',
          async op(i) {
            await peer.store.set(
              expressSessionId(),
              expressSession(`cs-${theirUsers++}`, i) as unknown as SessionData,
            );
          },
        },
        {
          id: 'login-script-alone',
          label: 'the login script alone: the same call, no client work',
          role: 'reference',
          op: () => replay.login(),
        },
      ];
      const { load, results } = await compareTimed(contenders, settings, log);
      return {
        scenario: 'create-session',
        title: 'create a session (login)',
        measures:
          'A login by a user with no session yet, on a new device (realistic payload). Ours: one script (off Cluster) that enforces the cap, writes the session, its user and device indexes, decides new-device (user index, device index, trusted device) and records the session_created and new_device security events. ' +
          'connect-redis: one SET EX of the serialized session.',
        settings: {
          ...load,
          rounds: settings.rounds,
          warmupMs: settings.warmupMs,
          users: 'a new user per operation',
          maxSessionsPerUser: 5,
        },
        results,
        ratios: ratios(results, [
          {
            id: 'ours/connect-redis',
            label: 'ours / connect-redis set',
            numerator: 'ours',
            denominator: 'connect-redis',
            target: { min: 0.5, note: 'issue 17: a login at least half as fast as one SET EX' },
          },
          {
            id: 'login-script-alone/connect-redis',
            label: 'the login script alone / connect-redis set (the ceiling)',
            numerator: 'login-script-alone',
            denominator: 'connect-redis',
          },
          {
            id: 'ours/login-script-alone',
            label: 'ours / the login script alone',
            numerator: 'ours',
            denominator: 'login-script-alone',
          },
        ]),
        notes: [
          'Target (issue 17): ≥ 0.5×. connect-redis does a fraction of the work (no per-user index or cap, no device check, no audit events); its number is the floor of "one write per login".',
          "Reference row: the session_create call of one real login (keys and arguments as the store built them), replayed by a bare node-redis client with a new user and device each time: no ids, records, events or checks built, no client-side cache. Redis does the same work as for ours (the instance's tracked connection is open, as in production): its ratio to connect-redis is the most any client could reach with this key schema on this machine.",
        ],
      };
    } finally {
      await replay.close();
      await peer.close();
      await our.close();
    }
  },
};
