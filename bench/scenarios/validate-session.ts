/**
 * validate session: read a live session and record the activity (sliding idle timeout) — what a
 * session-cookie request costs. Peer: connect-redis `get` + `touch`, what express-session does on
 * every request with a rolling session.
 */
import type { SessionData } from 'express-session';
import { type Contender, compareTimed } from '../support/measure.js';
import { createOurSide } from '../support/optix.js';
import { expressSession, expressSessionId, IDLE_MS } from '../support/payload.js';
import { connectRedisStore } from '../support/peers.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';
import { createSessions } from '../support/tokens.js';

const SESSIONS = 1000;
const ENDPOINT = '/v1/orders';
/** For the reference row where each validation of a session names another endpoint than the last. */
const ENDPOINTS = ['/v1/orders', '/v1/positions', '/v1/quotes', '/v1/account', '/v1/history'];

export const scenario: Scenario = {
  name: 'validate-session',
  aliases: ['validate'],
  title: 'validate a session (read + sliding expiry)',
  async run({ redis, settings, log }) {
    const our = await createOurSide(redis.url);
    const peer = await connectRedisStore(redis.url, IDLE_MS / 1000);
    try {
      log(`  setup: ${SESSIONS} sessions on each side (one per user, realistic payload)`);
      const ours = (await createSessions(our, 'vs', SESSIONS)).map((s) => s.sessionId);
      const theirs: string[] = [];
      for (let i = 0; i < SESSIONS; i++) {
        const sid = expressSessionId();
        await peer.store.set(sid, expressSession(`vs-${i}`, i) as unknown as SessionData);
        theirs.push(sid);
      }
      const contenders: Contender[] = [
        {
          id: 'ours',
          label: 'ours: sessions.validateSession (same endpoint each time)',
          role: 'ours',
          async op(i) {
            const s = await our.sessions.validateSession(ours[i % SESSIONS]!, { endpoint: ENDPOINT });
            if (s === null || 'unverified' in s) throw new Error('session not valid');
          },
        },
        {
          id: 'connect-redis',
          label: 'connect-redis get + touch (node-redis)',
          role: 'peer',
          async op(i) {
            const sid = theirs[i % SESSIONS]!;
            const sess = (await peer.store.get(sid)) as { cookie: { expires: Date | string } } | null;
            if (sess === null) throw new Error('session not found');
            // What express-session's rolling touch does before calling store.touch.
            sess.cookie.expires = new Date(Date.now() + IDLE_MS);
            await peer.store.touch(sid, sess as unknown as SessionData);
          },
        },
        {
          id: 'ours-endpoint-changes',
          label: 'ours, another endpoint at each validation',
          role: 'reference',
          async op(i) {
            const endpoint = ENDPOINTS[Math.floor(i / SESSIONS) % ENDPOINTS.length]!;
            const s = await our.sessions.validateSession(ours[i % SESSIONS]!, { endpoint });
            if (s === null || 'unverified' in s) throw new Error('session not valid');
          },
        },
      ];
      const { load, results } = await compareTimed(contenders, settings, log);
      return {
        scenario: 'validate-session',
        title: 'validate a session (read + sliding expiry)',
        measures:
          `Validating one of ${SESSIONS} live sessions, round-robin: ours reads the session, checks idle and absolute expiry, and records the activity (lastActivity/lastEndpoint and the new expiry, written at most once per activityWriteIntervalSeconds whatever the endpoint, and only while the session is still live); ` +
          'connect-redis GETs and parses the session, then EXPIREs it (express-session rolling touch: nothing of the session is written).',
        settings: {
          ...load,
          rounds: settings.rounds,
          warmupMs: settings.warmupMs,
          sessions: SESSIONS,
          endpoint: ENDPOINT,
          connectRedis: {
            client: 'redis (node-redis)',
            commandOptions: { timeout: 0 },
            ttlSeconds: IDLE_MS / 1000,
          },
        },
        results,
        ratios: ratios(results, [
          {
            id: 'ours/connect-redis',
            label: 'ours / connect-redis get+touch',
            numerator: 'ours',
            denominator: 'connect-redis',
            target: { min: 1.5 },
          },
          {
            id: 'ours-endpoint-changes/connect-redis',
            label: 'ours (endpoint changes) / connect-redis get+touch',
            numerator: 'ours-endpoint-changes',
            denominator: 'connect-redis',
          },
        ]),
        notes: [
          `The measured row passes the same endpoint (${ENDPOINT}) every time: activity is then written at most once per activityWriteIntervalSeconds (15 s). The reference row names another endpoint at each validation of a session: a change of endpoint alone writes nothing (before issue 14 it forced a write, and that row ran at 0.16× of connect-redis).`,
          'connect-redis 10 needs Node 22; 9.x (the newest that runs on Node 20) is measured, over redis (node-redis) 6, with the per-command timeout off as ours.',
          'Payload on both sides: 110-character user agent, 64-hex fingerprint, IPv4, timestamps, MFA flag (plus the express-session cookie on theirs).',
        ],
      };
    } finally {
      await peer.close();
      await our.close();
    }
  },
};
