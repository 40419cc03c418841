/**
 * Checks that a fuzz run reached what it claims to test (so it cannot pass by sending only junk):
 * every modelled route was hit, answered a success to a well-formed request and refused hostile
 * ones, and every service call both succeeded and failed.
 */
import assert from 'node:assert/strict';
import { ROUTES } from './routes.js';
import type { FuzzStats } from './stats.js';

const SERVICE_TARGETS = [
  'svc verify',
  'svc refresh',
  'svc revokeAccess',
  'svc revokeRefresh',
  'svc revokeToken',
  'svc blacklist',
  'svc events',
  'svc trust',
  'svc session',
  'svc config',
];

export function assertCoverage(stats: FuzzStats): void {
  const missing: string[] = [];
  for (const spec of ROUTES) {
    const outcomes = stats.outcomes(`http ${spec.method} ${spec.url}`);
    const statuses = [...outcomes.keys()].map(Number);
    if (spec.refusedInWorld) {
      if (!statuses.some((s) => s >= 400 && s < 500)) missing.push(`${spec.method} ${spec.url}: no 4xx`);
      continue;
    }
    if (!statuses.some((s) => s >= 200 && s < 400)) missing.push(`${spec.method} ${spec.url}: no success`);
    const refusable = spec.auth !== 'none' || spec.body !== undefined || spec.params !== undefined;
    if (refusable && !statuses.some((s) => s >= 400 && s < 500))
      missing.push(`${spec.method} ${spec.url}: no 4xx`);
  }
  for (const target of SERVICE_TARGETS) {
    const outcomes = [...stats.outcomes(target).keys()];
    if (!outcomes.some((o) => /^(ok|accepted|true|get:object|validate:object|terminate:boolean)$/.test(o))) {
      missing.push(`${target}: never succeeded`);
    }
    if (!outcomes.some((o) => /ERR_|false|null/.test(o))) missing.push(`${target}: never refused`);
  }
  assert.deepEqual(missing, [], 'the fuzz run did not reach everything it tests');
}
