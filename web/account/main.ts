/**
 * The account console (`/account`): where the user is signed in (this device marked), their
 * trusted devices, and their security timeline, with sign-out of one session or all others and
 * "stop trusting". Everything through the public API with the user's own access token.
 */
import { ApiError, createApiClient, type DeviceView } from '../shared/api.js';
import { announce, byId, confirmAction, formatTime, h, replaceChildren, timeElement } from '../shared/dom.js';
import type { ClientWords, SecurityEventView } from '../shared/events.js';
import { signIn } from '../shared/sign-in.js';
import { timelineItem } from '../shared/timeline.js';

/** Events per timeline page. */
const PAGE_SIZE = 20;

interface SessionView {
  sessionId: string;
  ipAddress: string;
  userAgent: string;
  createdAt: number;
  lastActivity: number;
  current?: boolean;
  client?: ClientWords;
}
interface EventPage {
  events: SecurityEventView[];
  nextUntil?: number | null;
}

const api = createApiClient({ onSignedOut: showSignedOut });

function showSignedOut(): void {
  byId('console').hidden = true;
  byId('sign-out').hidden = true;
  byId('who').textContent = '';
  byId('signed-out').hidden = false;
  announce('You are signed out.');
}

/** Shows an error in words; a lost session shows the signed-out state instead. */
function report(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) return; // onSignedOut has run
  const message = err instanceof ApiError ? err.message : 'Something went wrong. Please try again.';
  announce(message, 'error');
}

function describeClient(client: ClientWords | undefined, userAgent: string): string {
  if (client !== undefined) return client.summary;
  return userAgent === '' ? 'An unknown device' : userAgent;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function loadSessions(): Promise<void> {
  const { sessions } = await api.call<{ sessions: SessionView[] }>('GET', '/v1/me/sessions');
  // This device first, then the most recently active.
  sessions.sort(
    (a, b) => Number(b.current ?? false) - Number(a.current ?? false) || b.lastActivity - a.lastActivity,
  );
  const list = byId('sessions');
  if (sessions.length === 0) {
    replaceChildren(list, h('li', { class: 'empty' }, 'No live sessions.'));
    return;
  }
  replaceChildren(
    list,
    ...sessions.map((s) => {
      const name = capitalised(describeClient(s.client, s.userAgent));
      const titleId = `session-${s.sessionId.replace(/[^A-Za-z0-9_-]/g, '')}`;
      return h(
        'li',
        { class: 'item', 'aria-labelledby': titleId, 'data-session-id': s.sessionId },
        h(
          'div',
          { class: 'item-main' },
          h(
            'h3',
            { class: 'item-title', id: titleId },
            name,
            s.current ? ' ' : null,
            s.current ? h('span', { class: 'badge' }, 'This device') : null,
          ),
          h('p', { class: 'item-meta' }, `IP address ${s.ipAddress || 'unknown'}`),
          h(
            'p',
            { class: 'item-meta' },
            'Signed in ',
            timeElement(s.createdAt),
            ` (${formatTime(s.createdAt)})`,
          ),
          h('p', { class: 'item-meta' }, 'Last active ', timeElement(s.lastActivity)),
        ),
        s.current
          ? null
          : h(
              'button',
              {
                type: 'button',
                class: 'button',
                'aria-label': `Sign out ${name}, IP address ${s.ipAddress}`,
                onclick: () => void signOutSession(s, name),
              },
              'Sign out',
            ),
      );
    }),
  );
  const others = sessions.filter((s) => !s.current).length;
  const button = byId<HTMLButtonElement>('sign-out-others');
  button.hidden = others === 0;
}

async function signOutSession(session: SessionView, name: string): Promise<void> {
  const ok = await confirmAction({
    title: 'Sign out this session?',
    message: `${name} (IP address ${session.ipAddress}) will be signed out at once and must sign in again.`,
    confirmLabel: 'Sign out',
    danger: true,
  });
  if (!ok) return;
  try {
    await api.call('DELETE', `/v1/me/sessions/${encodeURIComponent(session.sessionId)}`);
    announce(`${name} was signed out.`);
    await Promise.all([loadSessions(), reloadTimeline()]);
    // Its button is gone with it: keep keyboard focus on the list rather than lose it.
    byId('sessions-title').focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      announce('That session had already ended.');
      await loadSessions();
      return;
    }
    report(err);
  }
}

async function signOutOthers(): Promise<void> {
  const ok = await confirmAction({
    title: 'Sign out all other sessions?',
    message: 'Every session except this one will be signed out at once. This device stays signed in.',
    confirmLabel: 'Sign out all others',
    danger: true,
  });
  if (!ok) return;
  try {
    const { ended } = await api.call<{ ended: number }>('POST', '/v1/me/logout-others');
    announce(ended === 1 ? '1 other session was signed out.' : `${ended} other sessions were signed out.`);
    await Promise.all([loadSessions(), reloadTimeline()]);
    // The button hides when no other session is left: keep keyboard focus on the list.
    byId('sessions-title').focus();
  } catch (err) {
    report(err);
  }
}

async function loadDevices(): Promise<void> {
  const { devices } = await api.call<{ devices: DeviceView[] }>('GET', '/v1/me/devices');
  const list = byId('devices');
  if (devices.length === 0) {
    replaceChildren(list, h('li', { class: 'empty' }, 'You trust no device.'));
    return;
  }
  replaceChildren(
    list,
    ...devices.map((d) =>
      h(
        'li',
        { class: 'item' },
        h(
          'div',
          { class: 'item-main' },
          h('h3', { class: 'item-title' }, d.deviceName),
          h(
            'p',
            { class: 'item-meta' },
            `${capitalised(d.deviceType)} · trusted since ${formatTime(d.trustedAt)}`,
          ),
          h(
            'p',
            { class: 'item-meta' },
            'Trust expires ',
            timeElement(d.expiresAt),
            ` (${formatTime(d.expiresAt)})`,
          ),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'button',
            'aria-label': `Stop trusting ${d.deviceName}`,
            onclick: () => void untrust(d),
          },
          'Stop trusting',
        ),
      ),
    ),
  );
}

async function untrust(device: DeviceView): Promise<void> {
  const ok = await confirmAction({
    title: 'Stop trusting this device?',
    message: `${device.deviceName} will need two-step verification at its next sign-in.`,
    confirmLabel: 'Stop trusting',
    danger: true,
  });
  if (!ok) return;
  try {
    await api.call('DELETE', `/v1/me/devices/${encodeURIComponent(device.deviceId)}`);
    announce(`You no longer trust ${device.deviceName}.`);
    byId('devices-title').focus();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) {
      report(err);
      return;
    }
  }
  await Promise.all([loadDevices(), reloadTimeline()]);
}

/** The `until` of the next (older) timeline page; `null` when the last page is shown. */
let nextUntil: number | null = null;

function eventItem(event: SecurityEventView): HTMLLIElement {
  return timelineItem(event, event.ipAddress ? [`IP address ${event.ipAddress}`] : [], { advice: true });
}

async function loadTimelinePage(append: boolean): Promise<void> {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (append && nextUntil !== null) query.set('until', String(nextUntil));
  const page = await api.call<EventPage>('GET', `/v1/me/security-events?${query}`);
  nextUntil = page.nextUntil ?? null;
  const list = byId('timeline');
  const items = page.events.map(eventItem);
  if (append) list.append(...items);
  else replaceChildren(list, ...(items.length > 0 ? items : [h('li', { class: 'empty' }, 'Nothing yet.')]));
  byId('timeline-more').hidden = nextUntil === null;
}

function reloadTimeline(): Promise<void> {
  return loadTimelinePage(false);
}

async function loadMore(): Promise<void> {
  const button = byId<HTMLButtonElement>('timeline-more');
  button.disabled = true;
  try {
    const before = byId('timeline').children.length;
    await loadTimelinePage(true);
    const added = byId('timeline').children.length - before;
    announce(added === 1 ? '1 older event shown.' : `${added} older events shown.`);
    // Keyboard users land on the first new event, not back at the top.
    const first = byId('timeline').children[before] as HTMLElement | undefined;
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

async function signOutHere(): Promise<void> {
  try {
    await api.signOut();
  } catch (err) {
    report(err);
  }
}

async function start(): Promise<void> {
  byId('sign-out-others').addEventListener('click', () => void signOutOthers());
  byId('timeline-more').addEventListener('click', () => void loadMore());
  byId('sign-out').addEventListener('click', () => void signOutHere());
  try {
    if ((await signIn(api)) === 'signed-out') {
      showSignedOut();
      document.body.dataset.ready = 'signed-out';
      return;
    }
    const sub = api.claims()?.sub;
    byId('who').textContent = typeof sub === 'string' ? `Signed in as ${sub}` : '';
    byId('sign-out').hidden = false;
    byId('signed-out').hidden = true;
    await Promise.all([loadSessions(), loadDevices(), reloadTimeline()]);
    byId('console').hidden = false;
    document.body.dataset.ready = 'true';
  } catch (err) {
    report(err);
    document.body.dataset.ready = 'error';
  }
}

void start();
