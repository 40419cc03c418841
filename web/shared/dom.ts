/**
 * DOM helpers of the consoles. Text always goes in as text (`textContent`, never `innerHTML`):
 * session user agents, reasons and ids come from other people's input. No inline style or script
 * (the CSP forbids them): presentation is by class names defined in `console.css`.
 */

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/**
 * Creates an element: `attrs` are attributes (`true` → present, `false`/`null` → absent), except
 * `on<event>` functions, which become listeners; children are nodes or text.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** The element with `id`, of the expected type; throws when the page lacks it (a bug). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** Replaces an element's children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(
    ...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false),
  );
}

let liveRegion: HTMLElement | null = null;
/**
 * Says `message` to screen readers (a polite live region) and shows it in the status line.
 * `#status` must be on the page (`role="status"`).
 */
export function announce(message: string, tone: 'info' | 'error' = 'info'): void {
  liveRegion ??= byId('status');
  liveRegion.className = `status status-${tone}`;
  // Cleared first so that the same message twice is announced twice.
  liveRegion.textContent = '';
  requestAnimationFrame(() => {
    if (liveRegion) liveRegion.textContent = message;
  });
}

/**
 * Asks for confirmation in a modal `<dialog>` (focus moves into it and stays there, Escape
 * cancels, focus returns to the button that opened it). Resolves `true` when confirmed.
 */
export function confirmAction(options: {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
}): Promise<boolean> {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
  const descId = `${titleId}-desc`;
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const confirm = h(
      'button',
      { type: 'button', class: options.danger ? 'button button-danger' : 'button button-primary' },
      options.confirmLabel,
    );
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': descId },
      h('h2', { id: titleId, class: 'dialog-title' }, options.title),
      h('p', { id: descId }, options.message),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener?.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** A moment as the reader's locale writes it (`6 Dec 2026, 22:40`). */
export function formatTime(ms: number): string {
  return dateTime.format(new Date(ms));
}

/** A moment relative to now, in words (`5 minutes ago`, `in 3 days`). */
export function fromNow(ms: number, now = Date.now()): string {
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? 'just now' : 'in a few seconds';
  if (abs < 45 * 60) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 22 * 3600) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 45 * 86400) return relative.format(Math.round(seconds / 86400), 'day');
  if (abs < 320 * 86400) return relative.format(Math.round(seconds / (30 * 86400)), 'month');
  return relative.format(Math.round(seconds / (365 * 86400)), 'year');
}

/** A `<time>` element: relative words shown, the exact time in `datetime` and the tooltip. */
export function timeElement(ms: number): HTMLTimeElement {
  return h('time', { datetime: new Date(ms).toISOString(), title: formatTime(ms) }, fromNow(ms));
}
