/**
 * The consoles' plain words for security events (web/shared/events.ts): every event type the
 * service records has its own sentence (a new type without one fails here), and the sentences the
 * account console promises read as written.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SECURITY_EVENT_TYPES } from '../../src/core/types.js';
import { describeEvent, type SecurityEventView } from '../../web/shared/events.js';

const event = (type: string, extra: Partial<SecurityEventView> = {}): SecurityEventView => ({
  eventId: 'e1',
  type,
  severity: 'info',
  timestamp: 0,
  sessionId: null,
  ipAddress: null,
  userAgent: null,
  details: {},
  ...extra,
});

const chrome = {
  browser: 'Chrome',
  os: 'Windows 10',
  deviceType: 'desktop',
  summary: 'Chrome on Windows 10',
};

describe('security events in words', () => {
  test('every type the service records has its own sentence', () => {
    for (const type of [...SECURITY_EVENT_TYPES, 'trusted_device_evicted']) {
      const words = describeEvent(event(type));
      assert.doesNotMatch(words.title, /^Security event:/, `${type} has no words of its own`);
    }
    assert.equal(describeEvent(event('something_new')).title, 'Security event: something new');
  });

  test('the sentences of the issue', () => {
    assert.equal(
      describeEvent(event('session_created', { client: chrome })).title,
      'New sign-in from Chrome on Windows 10',
    );
    const reuse = describeEvent(event('token_reuse_detected', { severity: 'critical' }));
    assert.equal(reuse.title, 'Someone reused an old refresh token — we signed that session out');
    assert.equal(reuse.tone, 'critical');
    assert.ok(reuse.advice);
    assert.equal(
      describeEvent(event('session_terminated', { details: { reason: 'logout_others' } })).title,
      'A session ended: you signed out all other sessions',
    );
    assert.equal(describeEvent(event('session_created')).title, 'New sign-in', 'no client: no "from"');
    assert.equal(
      describeEvent(event('new_device', { client: chrome, severity: 'warning' })).title,
      'Sign-in from a new device: Chrome on Windows 10',
    );
  });
});
