/** The revocation-propagation results as a scenario report (bench/results/revocation-propagation.json). */
import { type ConditionResult, FORMS, GOAL_P99_MS, type PropagationSettings } from './propagation.js';
import type { ScenarioReport } from './report.js';

export function propagationReport(
  results: readonly ConditionResult[],
  settings: PropagationSettings,
): ScenarioReport {
  return {
    scenario: 'revocation-propagation',
    title: `revoke through instance A, seen by instance B in another process (p99 ≤ ${GOAL_P99_MS} ms)`,
    measures:
      `Two OPTIX instances, each its own composition root (createOptix, NODE_ENV=production, client-side cache on), A in the bench process and B in a child process, on the bench's redis-server over loopback. ` +
      `Per sample A logs a user in, B verifies the access token twice (warm) and then again and again; A revokes with one of ${FORMS.join(', ')} in turn. ` +
      `B polls either once per turn of its event loop (immediate: it spins) or sleeps and verifies on the turn after each invalidation push and every 5 ms (event: a gateway that waits for requests); modes run: ${settings.modes.join(', ')}. ` +
      `Delay = start of B's first failing verification − A's revoke call resolved, both on performance.timeOrigin + performance.now() (ms; negative: B saw it before A's reply arrived). ` +
      `Conditions: idle (B does nothing else) and loaded (B also verifies warm tokens of ${settings.loadUsers} other users at ${settings.loadRatePerSec}/s; A runs ${settings.stormConcurrency} logins in flight beside the revokes).`,
    settings: { ...settings },
    results: [],
    ratios: [],
    checks: results.map((r) => ({
      label: `revoke seen by another instance, p99 (${r.condition}, ${r.mode} polls)`,
      met: r.met,
      verdict:
        `${r.met ? 'met' : 'missed'}: p99 ${r.overall.p99} ms against ≤ ${GOAL_P99_MS} ms over ${r.samples} samples` +
        (r.missed > 0 ? `, ${r.missed} revokes not seen within ${settings.timeoutMs} ms` : '') +
        ` (p50 ${r.overall.p50}, p99.9 ${r.overall.p999}, max ${r.overall.max}; load average ${r.loadAverage.start[0]}–${r.loadAverage.max1m})`,
    })),
    latency: results,
    notes: [
      "Milliseconds throughout. The slowest samples carry what else happened in their window: B garbage collection (PerformanceObserver gc), a lease PING of B, when the invalidation push reached B, the gap in B's poll loop, and the run-queue wait of B's, A's and Redis's main threads (/proc/<pid>/schedstat).",
      'cpu.otherCores is the CPU the machine spent outside A, B and Redis while the condition ran: other work on a shared machine.',
    ],
  };
}
