/** Summarises a `.cpuprofile` (bench/profile.ts --profile FILE): `node bench/support/cpuprofile.mjs FILE [N] [--callers NAME]` prints self time by file and by function (top N), and with `--callers` the call chains that lead to the functions named NAME. */

import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const N = Number(process.argv[3] ?? 40);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const d = dt[i] ?? 0;
  total += d;
  self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + d);
}
const byFile = new Map(),
  byFn = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const f = cf.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/') || cf.functionName || '(native)';
  byFile.set(f, (byFile.get(f) ?? 0) + t);
  const k = `${cf.functionName || '(anon)'} ${f}:${cf.lineNumber + 1}`;
  byFn.set(k, (byFn.get(k) ?? 0) + t);
}
const show = (m, title) => {
  console.log(`== ${title}`);
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, N)
    .forEach(([k, t]) => {
      console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
    });
};
show(byFile, 'by file');
show(byFn, 'by function');
// `--callers NAME`: who calls the functions named NAME (self time attributed to each caller chain, 3 frames).
const ci = process.argv.indexOf('--callers');
if (ci !== -1) {
  const name = process.argv[ci + 1];
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const chains = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (n.callFrame.functionName !== name) continue;
    const chain = [];
    let cur = parent.get(id);
    for (let k = 0; k < 4 && cur !== undefined; k++) {
      const cf = byId.get(cur).callFrame;
      chain.push(`${cf.functionName || '(anon)'}@${cf.url.replace(/^.*\//, '')}:${cf.lineNumber + 1}`);
      cur = parent.get(cur);
    }
    const key = chain.join(' < ');
    chains.set(key, (chains.get(key) ?? 0) + t);
  }
  show(chains, `callers of ${name}`);
}
