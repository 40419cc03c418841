/**
 * revoke-all: every token of a user stops verifying ("log out everywhere", a compromised account).
 * Ours: jwt.revokeAllUserTokens — one watermark write (O(1), whatever the user holds) and a
 * security event. Peer: the per-jti blacklist the usual fast-jwt/jsonwebtoken + Redis setups need
 * for the same effect: read the user's jti set, blacklist each jti with a TTL, drop the set.
 */
import { randomBytes } from 'node:crypto';
import { type Contender, compare, type Phase } from '../support/measure.js';
import { ACCESS_TTL_SECONDS, createOurSide } from '../support/optix.js';
import { blacklistKey, connectIoredis } from '../support/peers.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';

const TOKENS_PER_USER = 5;

export const scenario: Scenario = {
  name: 'revoke-all',
  aliases: ['revoke'],
  title: "revoke all of a user's tokens",
  async run({ redis, settings, log }) {
    const our = await createOurSide(redis.url);
    const io = await connectIoredis(redis.url);
    const n = settings.freshOps;
    const tag = (phase: Phase) => (phase.kind === 'warmup' ? 'w' : String(phase.round));
    let ourTag = '';
    let theirTag = '';
    const tokenSet = (t: string, i: number) => `user:tokens:ra-${t}-${i}`;
    try {
      log(`  setup: per round, ${n} users on the peer side with ${TOKENS_PER_USER} live jtis each (untimed)`);
      const prepare = async (r: string) => {
        for (let start = 0; start < n; start += 1000) {
          const p = io.pipeline();
          for (let i = start; i < Math.min(n, start + 1000); i++) {
            const jtis = Array.from({ length: TOKENS_PER_USER }, () => randomBytes(16).toString('base64url'));
            p.sadd(tokenSet(r, i), ...jtis);
            p.expire(tokenSet(r, i), ACCESS_TTL_SECONDS);
          }
          await p.exec();
        }
      };
      const contenders: Contender[] = [
        {
          id: 'ours',
          label: 'ours: jwt.revokeAllUserTokens (watermark + event)',
          role: 'ours',
          before(phase) {
            ourTag = tag(phase);
          },
          async op(i) {
            await our.jwt.revokeAllUserTokens(`ra-${ourTag}-${i}`, 'bench');
          },
        },
        {
          id: 'jti-blacklist',
          label: `per-jti blacklist: ioredis SMEMBERS + ${TOKENS_PER_USER}× SET EX + DEL`,
          role: 'peer',
          async before(phase) {
            theirTag = tag(phase);
            await prepare(theirTag);
          },
          async op(i) {
            const key = tokenSet(theirTag, i);
            const jtis = await io.smembers(key);
            if (jtis.length !== TOKENS_PER_USER) throw new Error(`expected ${TOKENS_PER_USER} jtis`);
            const p = io.pipeline();
            for (const jti of jtis) p.set(blacklistKey(jti), 'revoke_all', 'EX', ACCESS_TTL_SECONDS);
            p.del(key);
            await p.exec();
          },
        },
      ];
      const load = { concurrency: settings.concurrency, ops: n };
      const results = await compare(contenders, {
        rounds: settings.rounds,
        load,
        warmup: { concurrency: settings.concurrency, ops: Math.ceil(n / 4) },
        log,
      });
      return {
        scenario: 'revoke-all',
        title: "revoke all of a user's tokens",
        measures:
          `Revoking everything of ${n} distinct users per round. Ours: one script raising the user's watermark (tokens issued before it fail verification), then a security event; the cost does not depend on how many tokens or sessions the user has. ` +
          `Peer: the per-jti blacklist (SMEMBERS of the user's jti set, then one pipelined SET EX per jti and a DEL), with ${TOKENS_PER_USER} live tokens per user.`,
        settings: { ...load, rounds: settings.rounds, tokensPerUserOnPeer: TOKENS_PER_USER },
        results,
        ratios: ratios(results, [
          {
            id: 'ours/jti-blacklist',
            label: 'ours / per-jti blacklist',
            numerator: 'ours',
            denominator: 'jti-blacklist',
          },
        ]),
        notes: [
          'No target. fast-jwt and jsonwebtoken have no revoke-all; the per-jti blacklist is what the guides built on them do, and its cost grows with the tokens a user holds (ours does not).',
          "The peer's jti sets are written before each of its runs, untimed.",
        ],
      };
    } finally {
      io.disconnect();
      await our.close();
    }
  },
};
