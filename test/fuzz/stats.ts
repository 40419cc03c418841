/** What the fuzzer did: actions and their outcomes per target, merged across workers. */
export class FuzzStats {
  cases = 0;
  actions = 0;
  readonly byTarget = new Map<string, Map<string, number>>();
  logBytes = 0;

  count(target: string, outcome: string): void {
    this.actions++;
    let m = this.byTarget.get(target);
    if (!m) {
      m = new Map();
      this.byTarget.set(target, m);
    }
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
  }

  merge(other: FuzzStats): void {
    this.cases += other.cases;
    this.actions += other.actions;
    this.logBytes += other.logBytes;
    for (const [t, m] of other.byTarget) {
      let mine = this.byTarget.get(t);
      if (!mine) {
        mine = new Map();
        this.byTarget.set(t, mine);
      }
      for (const [o, n] of m) mine.set(o, (mine.get(o) ?? 0) + n);
    }
  }

  outcomes(target: string): Map<string, number> {
    return this.byTarget.get(target) ?? new Map();
  }

  summary(): string {
    const lines = [...this.byTarget.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, m]) => {
        const total = [...m.values()].reduce((a, b) => a + b, 0);
        const top = [...m.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([o, n]) => `${o}×${n}`)
          .join(' ');
        return `  ${t.padEnd(52)} ${String(total).padStart(6)}  ${top}`;
      });
    return lines.join('\n');
  }
}
