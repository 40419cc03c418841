/**
 * create session: a login. Ours: sessionManager.createSession (the per-user cap, the indexes, the
 * new-device check, the security events). Peer: connect-redis `set` (what express-session's save
 * does at login: one SET with a TTL, no index, no audit).
 */
import type { SessionData } from 'express-session';
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
        ]),
        notes: [
          'Target (issue 17): ≥ 0.5×. connect-redis does a fraction of the work (no per-user index or cap, no device check, no audit events); its number is the floor of "one write per login".',
        ],
      };
    } finally {
      await peer.close();
      await our.close();
    }
  },
};
