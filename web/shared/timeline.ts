/**
 * One security event as a timeline item, the same in both consoles: its title in plain words (an
 * alert announced as such to screen readers), when and from where, and, for the account console,
 * the advice that goes with it.
 */
import { formatTime, h, timeElement } from './dom.js';
import { describeEvent, type SecurityEventView } from './events.js';

export function timelineItem(
  event: SecurityEventView,
  meta: readonly string[],
  options: { advice: boolean },
): HTMLLIElement {
  const words = describeEvent(event);
  return h(
    'li',
    { class: `item event event-${words.tone}` },
    h(
      'div',
      { class: 'item-main' },
      h(
        'p',
        { class: 'item-title' },
        words.tone === 'critical' ? h('span', { class: 'visually-hidden' }, 'Alert: ') : null,
        words.title,
      ),
      h(
        'p',
        { class: 'item-meta' },
        timeElement(event.timestamp),
        ` · ${formatTime(event.timestamp)}`,
        ...meta.map((m) => ` · ${m}`),
      ),
      options.advice && words.advice !== null ? h('p', { class: 'item-meta' }, words.advice) : null,
    ),
  );
}
