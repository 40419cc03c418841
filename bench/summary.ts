/**
 * `npx tsx bench/summary.ts [DIR]`: prints the results in bench/results (or DIR) as the Markdown
 * tables of docs/performance.md, so the document can be brought up to date after a run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Result {
  id: string;
  label: string;
  role: string;
  median: { opsPerSec: number; p50Us: number; p99Us: number };
}
interface Ratio {
  label: string;
  median: number;
  rounds: number[];
  /** Absent in results written before 2026-11-26. */
  noisy?: boolean;
  denominatorSpread?: number;
  target: null | { min: number; informational: boolean; met: boolean; verdict: string };
}
interface File {
  scenario: string;
  title: string;
  date: string;
  node: string;
  redis: { version: string };
  code: { commit: string; uncommittedSrc: string[] };
  machine: { cpuModel: string; cpus: number; loadAverageAtStart: number[] };
  settings: Record<string, unknown>;
  results: Result[];
  ratios: Ratio[];
  /** Latency scenarios (revocation-propagation): goals that are not ratios. */
  checks?: Array<{ label: string; met: boolean; verdict: string }>;
}

const ORDER = [
  'verify-warm',
  'verify-first-sight',
  'validate-session',
  'create-session',
  'refresh-rotation',
  'revoke-all',
  'http-introspect',
  'revocation-propagation',
];
const dir = process.argv[2] ?? fileURLToPath(new URL('./results/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as File)
  .sort((a, b) => ORDER.indexOf(a.scenario) - ORDER.indexOf(b.scenario));

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const us = (v: number) => (v >= 100 ? n(v) : String(v));
const first = files[0];
if (first) {
  const commits = [...new Set(files.map((f) => f.code.commit.slice(0, 7)))].join(', ');
  console.log(
    `Run of ${first.date.slice(0, 10)}: commit ${commits}, node ${first.node}, redis ${first.redis.version}, ${first.machine.cpus} × ${first.machine.cpuModel}.\n`,
  );
}
for (const f of files) {
  const load = f.machine.loadAverageAtStart.join(' / ');
  console.log(`#### ${f.scenario}: ${f.title}\n`);
  if (f.results.length === 0) {
    // A latency scenario: its table is in its own section of docs/performance.md.
    console.log(`Load average at start ${load}.\n`);
    for (const c of f.checks ?? [])
      console.log(`- ${c.label}: **${c.met ? 'met' : 'missed'}** (${c.verdict})`);
    console.log('');
    continue;
  }
  const inFlight =
    f.settings.connections === undefined
      ? `Concurrency ${f.settings.concurrency}`
      : `${f.settings.connections} connections`;
  console.log(`${inFlight}; load average at start ${load}.\n`);
  console.log('| side | ops/s | p50 µs | p99 µs |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of f.results) {
    const label = r.role === 'ours' ? `**${r.label}**` : `${r.label} (${r.role})`;
    console.log(`| ${label} | ${n(r.median.opsPerSec)} | ${us(r.median.p50Us)} | ${us(r.median.p99Us)} |`);
  }
  console.log('\n| ratio (median of rounds) | value | per round | target |');
  console.log('| --- | ---: | --- | --- |');
  for (const q of f.ratios) {
    const t = q.target
      ? `≥ ${q.target.min}×: **${q.target.met ? 'met' : 'missed'}**${q.target.informational ? ' (informational)' : ''}` +
        (q.noisy ? ` (noisy run: the peer varied ${q.denominatorSpread}× across rounds)` : '')
      : '—';
    console.log(
      `| ${q.label} | ${q.median.toFixed(2)}× | ${q.rounds.map((v) => v.toFixed(2)).join(' ')} | ${t} |`,
    );
  }
  console.log('');
}
