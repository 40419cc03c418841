/**
 * verify (first sight): every operation verifies a token never seen before (a new jti, a new
 * refresh family, a known session) — what the first request after each login or refresh costs.
 */
import { compare } from '../support/measure.js';
import { createOurSide, pastStartUpWindow } from '../support/optix.js';
import { connectIoredis } from '../support/peers.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';
import { createSessions, issueAccessTokens } from '../support/tokens.js';
import { verifyContenders, verifyRatios } from '../support/verify.js';

const SESSIONS = 1000;

export const scenario: Scenario = {
  name: 'verify-first-sight',
  aliases: ['first-sight', 'verify-first'],
  title: 'verify an access token seen for the first time',
  async run({ redis, settings, log }) {
    const our = await createOurSide(redis.url);
    const io = await connectIoredis(redis.url);
    try {
      const n = settings.freshOps;
      log(`  setup: ${SESSIONS} sessions; ${n} fresh tokens per round (issueTokenPair, untimed)`);
      const sessions = await createSessions(our, 'vf', SESSIONS);
      await pastStartUpWindow(our);
      let pool = await issueAccessTokens(our, sessions, Math.max(1000, Math.floor(n / 2)));
      const contenders = verifyContenders(our, io, () => pool, { fastJwtCache: false });
      const load = { concurrency: settings.concurrency, ops: n };
      const results = await compare(contenders, {
        rounds: settings.rounds,
        load,
        warmup: { concurrency: settings.concurrency, ops: pool.length },
        async beforeRound() {
          pool = await issueAccessTokens(our, sessions, n);
        },
        log,
      });
      return {
        scenario: 'verify-first-sight',
        title: 'verify an access token seen for the first time',
        measures:
          `Each contender verifies the same ${n} fresh tokens once per round (new jti and refresh family, known session; HS256, sid and fid claims), so nothing about the token itself is in any cache (its user and session were seen before, as on a running gateway). ` +
          'Same checks as verify-warm.',
        settings: {
          ...load,
          rounds: settings.rounds,
          sessions: SESSIONS,
          fastJwtCache: false,
          ioredis: { enableAutoPipelining: true },
        },
        results,
        ratios: ratios(
          results,
          verifyRatios(
            true,
            "issue 6's verify targets, applied for information: a token never seen needs one Redis round trip",
            false,
            true,
          ),
        ),
        notes: [
          'jsonwebtoken is given the secret as a KeyObject: with a string or Buffer secret it builds one per call and ran ~2.8k verifies/s here (its common use), ~30-50× slower.',
          'Peers see each token once too: fast-jwt runs without its cache (it could not hit), the bare verify has no state.',
          'Tokens are made between rounds, untimed; the pool of a round is shared by all contenders (each sees each token once), each token a flat string as a request delivers it.',
          "Tokens are minted once the instance has listened longer than its clock-skew allowance (5 s): a running instance's steady state, where a first sight of a token of a known user and session is answered from the broadcast it has heard (REDIS_FIRST_SIGHT=watch) without a read.",
        ],
      };
    } finally {
      io.disconnect();
      await our.close();
    }
  },
};
