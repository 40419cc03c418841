/**
 * The operator console (`/admin`): a live overview of the whole deployment (activity per minute,
 * revocation cache, store health), and a user's sessions, trusted devices and security timeline,
 * with "end this session" and "revoke everything", each with a reason the service records in the
 * user's security timeline together with the operator's identity.
 *
 * Everything goes through `/v1/operator/*` with the operator's own access token (browser mode);
 * the service refuses those routes (403) to any token without the admin role, so this page shows
 * nothing to anyone else.
 */
import { ApiError, createApiClient, type DeviceView } from '../shared/api.js';
import { announce, byId, formatTime, h, replaceChildren, timeElement } from '../shared/dom.js';
import type { ClientWords, SecurityEventView } from '../shared/events.js';
import { signIn } from '../shared/sign-in.js';
import { timelineItem } from '../shared/timeline.js';
import { renderBarChart } from './charts.js';

/** How often the overview is refreshed while the page is visible, in ms. */
const OVERVIEW_EVERY_MS = 5000;

interface OverviewMinute {
  minute: number;
  logins: number;
  refreshes: number;
  revocations: number;
  reuse: number;
  sessions: number | null;
  cacheHitRatio: number | null;
}
interface SlowlogEntry {
  id: number;
  timestamp: number;
  durationMicros: number;
  command: string;
  script: string | null;
  argumentCount: number;
  node: string;
}
interface Overview {
  generatedAt: number;
  backend: 'memory' | 'redis';
  minutes: OverviewMinute[];
  lastHour: { logins: number; refreshes: number; revocations: number; reuse: number };
  revocationCache: { enabled: boolean; hits: number; misses: number; hitRatio: number | null };
  redis: null | {
    status: 'healthy' | 'unhealthy';
    topology: string;
    latencyMs: number | null;
    usedMemoryBytes: number | null;
    maxmemoryBytes: number | null;
    maxmemoryPolicy: string | null;
    memoryPercent: number | null;
    connectedClients: number | null;
    opsPerSec: number | null;
    slowlog: { entries: SlowlogEntry[]; error: string | null };
    error: string | null;
  };
  flushIntervalMs: number;
}
interface SessionView {
  sessionId: string;
  userId: string;
  ipAddress: string;
  userAgent: string;
  createdAt: number;
  lastActivity: number;
  lastEndpoint: string | null;
  mfaVerified: boolean;
  client?: ClientWords;
}
interface UserView {
  userId: string;
  sessions: SessionView[];
  devices: DeviceView[];
  events: SecurityEventView[];
  nextUntil: number | null;
}

const api = createApiClient({ onSignedOut: showSignedOut });
let timer: ReturnType<typeof setTimeout> | undefined;
let currentUser: string | null = null;
/** The `until` of the next (older) page of the user's timeline; `null`: all shown. */
let nextUntil: number | null = null;

function showSignedOut(): void {
  clearTimeout(timer);
  byId('console').hidden = true;
  byId('forbidden').hidden = true;
  byId('sign-out').hidden = true;
  byId('who').textContent = '';
  byId('signed-out').hidden = false;
  announce('You are signed out.');
}

function showForbidden(): void {
  clearTimeout(timer);
  byId('console').hidden = true;
  byId('forbidden').hidden = false;
  announce('This account is not an operator.', 'error');
}

function report(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) return; // onSignedOut has run
  if (err instanceof ApiError && err.status === 403 && err.code === 'ERR_FORBIDDEN') {
    showForbidden();
    return;
  }
  announce(err instanceof ApiError ? err.message : 'Something went wrong. Please try again.', 'error');
}

const integer = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const count = (n: number) => integer.format(n);
const stamp = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const ratio = (n: number) => percent.format(n);

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 10 || u === 0 ? 0 : 1)} ${units[u]}`;
}

// ------------------------------------------------------------------------------------------
// Overview

function tile(label: string, value: string, tone: 'info' | 'warning' | 'critical' = 'info'): HTMLElement[] {
  return [h('div', { class: `tile tile-${tone}` }, h('dt', {}, label), h('dd', {}, value))];
}

function renderOverview(o: Overview): void {
  const minutes = o.minutes.map((m) => m.minute);
  const lastSessions = [...o.minutes].reverse().find((m) => m.sessions !== null)?.sessions ?? null;
  const r = o.redis;
  replaceChildren(
    byId('tiles'),
    ...tile('Live sessions', lastSessions === null ? '…' : count(lastSessions)),
    ...tile('Logins, last hour', count(o.lastHour.logins)),
    ...tile('Refreshes, last hour', count(o.lastHour.refreshes)),
    ...tile('Revocations, last hour', count(o.lastHour.revocations)),
    ...tile(
      'Token reuse detected, last hour',
      count(o.lastHour.reuse),
      o.lastHour.reuse > 0 ? 'critical' : 'info',
    ),
    ...tile(
      'Revocation cache hit ratio',
      !o.revocationCache.enabled
        ? 'off'
        : o.revocationCache.hitRatio === null
          ? 'no lookups'
          : ratio(o.revocationCache.hitRatio),
    ),
    ...tile(
      'Store',
      r === null ? 'in memory' : `${r.status === 'healthy' ? 'healthy' : 'UNHEALTHY'} · ${r.topology}`,
      r !== null && r.status !== 'healthy' ? 'critical' : 'info',
    ),
  );

  const charts = byId('charts');
  const specs: Array<{
    id: string;
    title: string;
    kind: string;
    values: Array<number | null>;
    total?: boolean;
    format?: (n: number) => string;
    max?: number;
  }> = [
    {
      id: 'chart-sessions',
      title: 'Live sessions',
      kind: 'sessions',
      values: o.minutes.map((m) => m.sessions),
    },
    {
      id: 'chart-logins',
      title: 'Logins per minute',
      kind: 'logins',
      values: o.minutes.map((m) => m.logins),
      total: true,
    },
    {
      id: 'chart-refreshes',
      title: 'Refreshes per minute',
      kind: 'refreshes',
      values: o.minutes.map((m) => m.refreshes),
      total: true,
    },
    {
      id: 'chart-revocations',
      title: 'Revocations per minute',
      kind: 'revocations',
      values: o.minutes.map((m) => m.revocations),
      total: true,
    },
    {
      id: 'chart-reuse',
      title: 'Token reuse detected per minute',
      kind: 'reuse',
      values: o.minutes.map((m) => m.reuse),
      total: true,
    },
    {
      id: 'chart-cache',
      title: 'Revocation cache hit ratio',
      kind: 'cache',
      values: o.minutes.map((m) => m.cacheHitRatio),
      format: ratio,
      max: 1,
    },
  ];
  for (const spec of specs) {
    let figure = document.getElementById(spec.id);
    if (figure === null) {
      figure = h('figure', { id: spec.id, class: 'chart-figure' });
      charts.append(figure);
    }
    renderBarChart(figure, {
      id: `${spec.id}-svg`,
      title: spec.title,
      series: { minutes, values: spec.values },
      kind: spec.kind,
      ...(spec.total ? { total: true } : {}),
      ...(spec.format ? { format: spec.format } : {}),
      ...(spec.max !== undefined ? { max: spec.max } : {}),
    });
  }
  byId('overview-updated').textContent =
    `Updated at ${stamp.format(o.generatedAt)}; other instances' counts arrive within ${Math.round(o.flushIntervalMs / 1000)} s.`;
  renderRedis(o);
}

function renderRedis(o: Overview): void {
  const r = o.redis;
  const box = byId('redis');
  if (r === null) {
    replaceChildren(box, h('p', { class: 'hint' }, 'The in-memory backend: no Redis (development only).'));
    return;
  }
  const memory =
    r.usedMemoryBytes === null
      ? 'unknown'
      : r.maxmemoryBytes !== null && r.maxmemoryBytes > 0
        ? `${bytes(r.usedMemoryBytes)} of ${bytes(r.maxmemoryBytes)} (${r.memoryPercent ?? 0}%)`
        : `${bytes(r.usedMemoryBytes)} (no maxmemory set)`;
  const meter =
    r.usedMemoryBytes !== null && r.maxmemoryBytes !== null && r.maxmemoryBytes > 0
      ? h('meter', {
          class: 'memory-meter',
          min: 0,
          max: r.maxmemoryBytes,
          low: r.maxmemoryBytes * 0.7,
          high: r.maxmemoryBytes * 0.9,
          optimum: 0,
          value: r.usedMemoryBytes,
          'aria-label': `Memory used: ${memory}`,
        })
      : null;
  const rows: Array<[string, string]> = [
    ['Status', r.status === 'healthy' ? 'Healthy' : `Unhealthy: ${r.error ?? 'unknown error'}`],
    ['Topology', r.topology],
    ['Latency (PING)', r.latencyMs === null ? 'unknown' : `${r.latencyMs.toFixed(2)} ms`],
    ['Memory', memory],
    ['Eviction policy', r.maxmemoryPolicy ?? 'unknown'],
    ['Clients', r.connectedClients === null ? 'unknown' : count(r.connectedClients)],
    ['Operations per second', r.opsPerSec === null ? 'unknown' : count(r.opsPerSec)],
  ];
  const slow = r.slowlog;
  const slowTable =
    slow.error !== null
      ? h('p', { class: 'hint' }, `Slow log unavailable: ${slow.error}`)
      : slow.entries.length === 0
        ? h('p', { class: 'hint' }, 'No slow commands logged.')
        : h(
            'div',
            { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Slow log' },
            h(
              'table',
              { class: 'numbers' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  h('th', { scope: 'col' }, 'When'),
                  h('th', { scope: 'col' }, 'Command'),
                  h('th', { scope: 'col' }, 'Took'),
                  h('th', { scope: 'col' }, 'Node'),
                ),
              ),
              h(
                'tbody',
                {},
                ...slow.entries.map((e) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, formatTime(e.timestamp)),
                    h('td', {}, e.script !== null ? `${e.command} (${e.script})` : e.command),
                    h('td', {}, `${(e.durationMicros / 1000).toFixed(2)} ms`),
                    h('td', {}, e.node || '—'),
                  ),
                ),
              ),
            ),
          );
  replaceChildren(
    box,
    h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    meter,
    h('h3', { class: 'subhead' }, 'Slow log (newest first)'),
    slowTable,
  );
}

async function refreshOverview(): Promise<void> {
  clearTimeout(timer);
  try {
    renderOverview(await api.call<Overview>('GET', '/v1/operator/overview'));
    document.body.dataset.overview = String(Date.now());
  } catch (err) {
    report(err);
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return;
  }
  if (!document.hidden) timer = setTimeout(() => void refreshOverview(), OVERVIEW_EVERY_MS);
}

// ------------------------------------------------------------------------------------------
// A user

/** Asks for a reason in a modal dialog; resolves with it, or `null` when cancelled. */
function askReason(options: {
  title: string;
  message: string;
  confirmLabel: string;
}): Promise<string | null> {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    const input = h('textarea', {
      id: 'reason',
      class: 'input',
      name: 'reason',
      rows: 3,
      required: true,
      minlength: 3,
      maxlength: 500,
      'aria-describedby': 'reason-hint reason-error',
    });
    const error = h('p', { id: 'reason-error', class: 'field-error', 'aria-live': 'assertive' });
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const confirm = h('button', { type: 'submit', class: 'button button-danger' }, options.confirmLabel);
    const form = h(
      'form',
      { method: 'dialog', novalidate: true },
      h('h2', { id: 'reason-title', class: 'dialog-title' }, options.title),
      h('p', { id: 'reason-desc' }, options.message),
      h('label', { for: 'reason' }, 'Reason (recorded in the user’s security timeline)'),
      input,
      h('p', { id: 'reason-hint', class: 'hint' }, 'At least 3 characters, e.g. a ticket number.'),
      error,
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'reason-title', 'aria-describedby': 'reason-desc' },
      form,
    );
    let answer: string | null = null;
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', (event) => {
      const value = input.value.trim();
      if (value.length < 3) {
        event.preventDefault();
        error.textContent = 'Please give a reason of at least 3 characters.';
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      answer = value;
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener?.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

function sessionItem(s: SessionView): HTMLLIElement {
  const titleId = `s-${s.sessionId.replace(/[^A-Za-z0-9_-]/g, '')}`;
  const words = s.client?.summary ?? (s.userAgent === '' ? 'an unknown device' : s.userAgent);
  const name = words.charAt(0).toUpperCase() + words.slice(1);
  return h(
    'li',
    { class: 'item', 'aria-labelledby': titleId, 'data-session-id': s.sessionId },
    h(
      'div',
      { class: 'item-main' },
      h('h4', { class: 'item-title', id: titleId }, name),
      h(
        'p',
        { class: 'item-meta' },
        `IP address ${s.ipAddress || 'unknown'}${s.mfaVerified ? ' · two-step verified' : ''}`,
      ),
      h('p', { class: 'item-meta' }, 'Signed in ', timeElement(s.createdAt), ` (${formatTime(s.createdAt)})`),
      h(
        'p',
        { class: 'item-meta' },
        'Last active ',
        timeElement(s.lastActivity),
        s.lastEndpoint ? ` at ${s.lastEndpoint}` : '',
      ),
      s.client !== undefined && s.userAgent !== ''
        ? h('p', { class: 'item-meta' }, `User agent: ${s.userAgent}`)
        : null,
      h('p', { class: 'item-meta mono' }, `Session ${s.sessionId}`),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'button',
        'aria-label': `End session from ${name}, IP address ${s.ipAddress}`,
        onclick: () => void endSession(s),
      },
      'End session',
    ),
  );
}

function eventItem(event: SecurityEventView): HTMLLIElement {
  const d = event.details;
  const extra: string[] = [];
  if (event.type === 'admin_action') {
    if (typeof d.operator === 'string') extra.push(`operator ${d.operator}`);
    if (typeof d.reason === 'string') extra.push(`reason: “${d.reason}”`);
  } else if (typeof d.reason === 'string') extra.push(`reason ${d.reason}`);
  if (event.ipAddress) extra.push(`IP address ${event.ipAddress}`);
  return timelineItem(event, extra, { advice: false });
}

async function loadUser(userId: string, focus: boolean): Promise<void> {
  const view = await api.call<UserView>('GET', `/v1/operator/users/${encodeURIComponent(userId)}`);
  currentUser = userId;
  const title = byId('user-title');
  title.textContent = `User ${view.userId}`;
  replaceChildren(
    byId('user-sessions'),
    ...(view.sessions.length > 0
      ? view.sessions.map(sessionItem)
      : [h('li', { class: 'empty' }, 'No live session.')]),
  );
  replaceChildren(
    byId('user-devices'),
    ...(view.devices.length > 0
      ? view.devices.map((d) =>
          h(
            'li',
            { class: 'item' },
            h(
              'div',
              { class: 'item-main' },
              h('h4', { class: 'item-title' }, d.deviceName),
              h('p', { class: 'item-meta' }, `${d.deviceType} · trusted since ${formatTime(d.trustedAt)}`),
              h('p', { class: 'item-meta' }, 'Trust expires ', timeElement(d.expiresAt)),
            ),
          ),
        )
      : [h('li', { class: 'empty' }, 'No trusted device.')]),
  );
  replaceChildren(
    byId('user-timeline'),
    ...(view.events.length > 0 ? view.events.map(eventItem) : [h('li', { class: 'empty' }, 'No events.')]),
  );
  nextUntil = view.nextUntil;
  byId('timeline-more').hidden = nextUntil === null;
  byId('user').hidden = false;
  byId('revoke-all').setAttribute(
    'aria-label',
    `Sign out everywhere and revoke every token (${view.userId})`,
  );
  if (focus) title.focus();
}

async function loadOlderEvents(): Promise<void> {
  const userId = currentUser;
  if (userId === null || nextUntil === null) return;
  const button = byId<HTMLButtonElement>('timeline-more');
  button.disabled = true;
  try {
    const query = new URLSearchParams({ until: String(nextUntil), limit: '50' });
    const page = await api.call<{ events: SecurityEventView[]; nextUntil: number | null }>(
      'GET',
      `/v1/operator/users/${encodeURIComponent(userId)}/events?${query}`,
    );
    const list = byId('user-timeline');
    const before = list.children.length;
    list.append(...page.events.map(eventItem));
    nextUntil = page.nextUntil;
    button.hidden = nextUntil === null;
    announce(page.events.length === 1 ? '1 older event shown.' : `${page.events.length} older events shown.`);
    const first = list.children[before] as HTMLElement | undefined;
    if (first) {
      first.tabIndex = -1;
      first.focus();
    }
  } catch (err) {
    report(err);
  } finally {
    button.disabled = false;
  }
}

async function find(event: Event): Promise<void> {
  event.preventDefault();
  const input = byId<HTMLInputElement>('user-id');
  const userId = input.value.trim();
  if (userId === '') {
    announce('Type a user id to find.', 'error');
    input.focus();
    return;
  }
  try {
    await loadUser(userId, true);
    announce(`Showing ${userId}.`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) {
      announce(`“${userId}” is not a valid user id.`, 'error');
      return;
    }
    report(err);
  }
}

async function endSession(s: SessionView): Promise<void> {
  const reason = await askReason({
    title: 'End this session?',
    message: `The session from IP address ${s.ipAddress} ends at once; its tokens stop working.`,
    confirmLabel: 'End session',
  });
  if (reason === null) return;
  try {
    await api.call('POST', `/v1/operator/sessions/${encodeURIComponent(s.sessionId)}/end`, { reason });
    announce('The session was ended.');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) announce('That session had already ended.');
    else {
      report(err);
      return;
    }
  }
  if (currentUser !== null) await loadUser(currentUser, false).catch(report);
  void refreshOverview();
}

async function revokeAll(): Promise<void> {
  const userId = currentUser;
  if (userId === null) return;
  const reason = await askReason({
    title: `Revoke everything of ${userId}?`,
    message: `Every session of ${userId} ends and every token stops working at once, on every device.`,
    confirmLabel: 'Revoke everything',
  });
  if (reason === null) return;
  try {
    const { ended } = await api.call<{ ended: number }>(
      'POST',
      `/v1/operator/users/${encodeURIComponent(userId)}/revoke`,
      { reason },
    );
    announce(`${userId} was signed out everywhere (${ended} session${ended === 1 ? '' : 's'} ended).`);
    await loadUser(userId, false);
    void refreshOverview();
  } catch (err) {
    report(err);
  }
}

async function start(): Promise<void> {
  byId('find-form').addEventListener('submit', (e) => void find(e));
  byId('revoke-all').addEventListener('click', () => void revokeAll());
  byId('timeline-more').addEventListener('click', () => void loadOlderEvents());
  byId('sign-out').addEventListener('click', () => {
    api.signOut().catch(report);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !byId('console').hidden) void refreshOverview();
  });
  try {
    if ((await signIn(api)) === 'signed-out') {
      showSignedOut();
      document.body.dataset.ready = 'signed-out';
      return;
    }
    byId('sign-out').hidden = false;
    const me = await api.call<{ userId: string; email: string | null }>('GET', '/v1/operator/me');
    byId('who').textContent = `Operator ${me.email ?? me.userId}`;
    byId('console').hidden = false;
    await refreshOverview();
    document.body.dataset.ready = 'true';
  } catch (err) {
    report(err);
    document.body.dataset.ready = err instanceof ApiError && err.status === 403 ? 'forbidden' : 'error';
  }
}

void start();
