/**
 * verify (warm): the same already-seen, unrevoked access tokens verified again and again — what
 * every request of a logged-in user costs.
 */
import { compareTimed } from '../support/measure.js';
import { createOurSide } from '../support/optix.js';
import { connectIoredis } from '../support/peers.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';
import { createSessions, issueAccessTokens } from '../support/tokens.js';
import { verifyContenders, verifyRatios } from '../support/verify.js';

const TOKENS = 1000;

export const scenario: Scenario = {
  name: 'verify-warm',
  aliases: ['verify', 'warm'],
  title: 'verify an already-seen access token',
  async run({ redis, settings, log }) {
    const our = await createOurSide(redis.url);
    const io = await connectIoredis(redis.url);
    try {
      log(`  setup: ${TOKENS} sessions (one per user) and one token pair each`);
      const sessions = await createSessions(our, 'vw', TOKENS);
      const tokens = await issueAccessTokens(our, sessions, TOKENS);
      // Every token is seen once before anything is measured.
      for (const t of tokens) await our.jwt.verifyToken(t);
      const contenders = verifyContenders(our, io, () => tokens, {
        fastJwtCache: TOKENS * 2,
        sequential: true,
      });
      const { load, results } = await compareTimed(contenders, settings, log);
      return {
        scenario: 'verify-warm',
        title: 'verify an already-seen access token',
        measures:
          `Verifying one of ${TOKENS} access tokens (HS256, issued by issueTokenPair: sid and fid claims), each already verified once, round-robin. ` +
          'Ours checks signature (kid-pinned alg), exp/iat/iss/aud/sub/jti and four revocations (jti blacklist, user watermark, refresh family, session). ' +
          'Peers check signature, exp, iss, aud and one blacklist key (EXISTS).',
        settings: {
          ...load,
          rounds: settings.rounds,
          warmupMs: settings.warmupMs,
          tokens: TOKENS,
          fastJwtCacheSize: TOKENS * 2,
          ioredis: { enableAutoPipelining: true },
        },
        results,
        ratios: ratios(results, verifyRatios(false, undefined, true)),
        notes: [
          'jsonwebtoken is given the secret as a KeyObject: with a string or Buffer secret it builds one per call and ran ~2.8k verifies/s here (its common use), ~30-50× slower.',
          "fast-jwt's own verified-token cache is on (size 2000, all 1000 tokens fit): the strongest fast-jwt setup for repeated tokens.",
          'Targets are judged at the scenario concurrency, where ioredis auto-pipelining helps the peers most. The rows "one at a time" (concurrency 1) show the other end: each peer request then waits a full round trip.',
          'The bare verify is synchronous and runs one at a time whatever the concurrency; it parses only the payload (no header, no iss/aud).',
        ],
      };
    } finally {
      io.disconnect();
      await our.close();
    }
  },
};
