/**
 * revocation-propagation: how long after a revoke through one instance another instance, in
 * another process, stops accepting the token (issue 17: p99 ≤ 5 ms). Both conditions (B idle, B
 * loaded), each with B polling in a tight loop and with B asleep until a push arrives; see
 * bench/support/propagation.ts. `npx tsx bench/propagation.ts` runs it alone with
 * more options (`--samples N`, `--loaded`).
 */
import {
  DEFAULT_PROPAGATION,
  GOAL_P99_MS,
  measurePropagation,
  printPropagation,
} from '../support/propagation.js';
import { propagationReport } from '../support/propagation-report.js';
import type { Scenario } from '../support/scenario.js';

export const scenario: Scenario = {
  name: 'revocation-propagation',
  aliases: ['propagation'],
  title: `revoke through instance A, seen by instance B in another process (p99 ≤ ${GOAL_P99_MS} ms)`,
  async run({ redis, settings, log }) {
    const propagation = { ...DEFAULT_PROPAGATION, samples: settings.propagationSamples };
    const results = await measurePropagation({
      redisUrl: redis.url,
      redisPid: redis.pid,
      conditions: ['idle', 'loaded'],
      settings: propagation,
      log,
      redisCommand: (line) => redis.command(line),
    });
    printPropagation(results, log);
    return propagationReport(results, propagation);
  },
};
