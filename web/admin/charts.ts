/**
 * Hand-written SVG charts of the operator overview: one bar per minute over the last hour. No
 * library and no inline style (the CSP forbids it): geometry in SVG attributes, colours by class
 * (`admin.css`). Each chart is a `<figure>` whose SVG is one image for assistive technology, named
 * by a sentence (total, peak, latest), with the numbers also in a table under a disclosure.
 */

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;
const PAD_TOP = 14;
const PAD_BOTTOM = 18;

export interface Series {
  /** Start of each minute (ms), oldest first. */
  minutes: readonly number[];
  /** One value per minute; `null`: not measured. */
  values: ReadonlyArray<number | null>;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
export const minuteLabel = (ms: number) => clock.format(new Date(ms));

/** A sentence for screen readers: what the chart shows. */
export function describeSeries(title: string, series: Series, format: (n: number) => string): string {
  const measured = series.values
    .map((v, i) => ({ v, i }))
    .filter((x): x is { v: number; i: number } => x.v !== null);
  if (measured.length === 0) return `${title}: no data in the last hour.`;
  const peak = measured.reduce((a, b) => (b.v > a.v ? b : a));
  const latest = measured[measured.length - 1]!;
  return `${title}, last hour: peak ${format(peak.v)} at ${minuteLabel(series.minutes[peak.i]!)}, latest ${format(latest.v)} at ${minuteLabel(series.minutes[latest.i]!)}.`;
}

/**
 * Draws (or redraws into `figure`) a bar chart of `series`. `kind` picks the colour class.
 * `total` adds the hour's sum to the caption (counts, not gauges or ratios).
 */
export function renderBarChart(
  figure: HTMLElement,
  options: {
    id: string;
    title: string;
    series: Series;
    kind: string;
    format?: (n: number) => string;
    max?: number;
    total?: boolean;
  },
): void {
  const format = options.format ?? ((n: number) => String(n));
  const { minutes, values } = options.series;
  const peak = Math.max(options.max ?? 0, ...values.map((v) => v ?? 0));
  const scale = peak > 0 ? (HEIGHT - PAD_TOP - PAD_BOTTOM) / peak : 0;
  const slot = WIDTH / Math.max(1, values.length);
  const titleId = `${options.id}-title`;
  const descId = `${options.id}-desc`;
  const root = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: `chart chart-${options.kind}`,
    role: 'img',
    'aria-labelledby': titleId,
    'aria-describedby': descId,
    preserveAspectRatio: 'none',
    focusable: 'false',
  });
  const titleEl = svg('title', { id: titleId });
  titleEl.textContent = options.title;
  const descEl = svg('desc', { id: descId });
  descEl.textContent = describeSeries(options.title, options.series, format);
  root.append(titleEl, descEl);
  root.append(
    svg('line', { x1: 0, x2: WIDTH, y1: HEIGHT - PAD_BOTTOM, y2: HEIGHT - PAD_BOTTOM, class: 'axis' }),
  );
  values.forEach((v, i) => {
    if (v === null || v <= 0) return;
    const h = Math.max(1, v * scale);
    root.append(
      svg('rect', {
        x: (i * slot + 1).toFixed(1),
        y: (HEIGHT - PAD_BOTTOM - h).toFixed(1),
        width: Math.max(1, slot - 2).toFixed(1),
        height: h.toFixed(1),
        class: 'bar',
      }),
    );
  });
  // Time marks: the first minute, every 15 minutes, and now.
  for (const i of [0, 15, 30, 45, values.length - 1]) {
    const m = minutes[i];
    if (m === undefined) continue;
    const label = svg('text', {
      x: Math.min(WIDTH - 2, Math.max(2, i * slot + slot / 2)).toFixed(1),
      y: HEIGHT - 4,
      class: 'tick',
      'text-anchor': i === 0 ? 'start' : i === values.length - 1 ? 'end' : 'middle',
    });
    label.textContent = i === values.length - 1 ? 'now' : minuteLabel(m);
    root.append(label);
  }
  const peakLabel = svg('text', { x: 2, y: 11, class: 'tick' });
  peakLabel.textContent = `max ${format(peak)}`;
  root.append(peakLabel);

  const measured = values.filter((v): v is number => v !== null);
  const caption = document.createElement('figcaption');
  const strong = document.createElement('strong');
  strong.textContent = options.title;
  caption.append(strong);
  const latest = measured.length > 0 ? measured[measured.length - 1]! : null;
  const sum = measured.reduce((a, b) => a + b, 0);
  caption.append(
    options.total
      ? ` — ${format(sum)} in the last hour`
      : latest !== null
        ? ` — now ${format(latest)}`
        : ' — no data yet',
  );

  // The numbers as a table, for anyone who wants them exactly (minutes with data only).
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'Show the numbers';
  const table = document.createElement('table');
  table.className = 'numbers';
  const head = table.createTHead().insertRow();
  for (const text of ['Minute', options.title]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    head.append(th);
  }
  const body = table.createTBody();
  minutes.forEach((m, i) => {
    const v = values[i];
    if (v === null || v === undefined || (options.total && v === 0)) return;
    const row = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = minuteLabel(m);
    row.append(th);
    row.insertCell().textContent = format(v);
  });
  if (body.rows.length === 0) body.insertRow().insertCell().textContent = 'No data in the last hour.';
  details.append(summary, table);
  const wasOpen = figure.querySelector('details')?.open ?? false;
  details.open = wasOpen;
  figure.replaceChildren(caption, root, details);
}
