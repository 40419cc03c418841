/**
 * Security events in plain words, for the account console's timeline and the operator console.
 * The event types are the service's (`SECURITY_EVENT_TYPES` in src/core/types.ts); an unknown type
 * is shown by its name rather than hidden.
 */

/** How the API describes the browser and OS of a user agent (`client` on sessions and events). */
export interface ClientWords {
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  /** `Chrome on Windows`, `Safari on iPhone`, or `an unknown device`. */
  summary: string;
}

/** A security event as `/v1/me/security-events` returns it. */
export interface SecurityEventView {
  eventId: string;
  type: string;
  severity: string;
  timestamp: number;
  sessionId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  client?: ClientWords | null;
  details: Record<string, string | number | boolean | null>;
}

export type Tone = 'info' | 'warning' | 'critical';

export interface EventWords {
  /** One sentence: what happened. */
  title: string;
  /** What the user may want to do about it, if anything. */
  advice: string | null;
  tone: Tone;
}

/** Why a session ended, in words (`details.reason` of `session_terminated`). */
const END_REASONS: Record<string, string> = {
  logout: 'you signed out',
  browser_logout: 'you signed out',
  user_terminated: 'you signed it out from your devices page',
  logout_others: 'you signed out all other sessions',
  admin_terminated: 'an operator ended it',
  admin_revoke_user: 'an operator signed you out everywhere',
  rfc7009_revoke: 'the app signed it out',
  token_issue_failed: 'the sign-in could not be completed',
};

/** The event's client in words, or `null` when unknown. */
function clientOf(event: SecurityEventView): string | null {
  const summary = event.client?.summary;
  return summary && summary !== 'an unknown device' ? summary : null;
}

/** ` from Chrome on Windows 10`, or nothing when the client is unknown. */
const on = (event: SecurityEventView) => {
  const client = clientOf(event);
  return client !== null ? ` from ${client}` : '';
};

/** Plain words for one event. */
export function describeEvent(event: SecurityEventView): EventWords {
  const tone: Tone =
    event.severity === 'critical' ? 'critical' : event.severity === 'warning' ? 'warning' : 'info';
  const reason = typeof event.details.reason === 'string' ? event.details.reason : null;
  switch (event.type) {
    case 'session_created':
      return { title: `New sign-in${on(event)}`, advice: null, tone };
    case 'new_device':
      return {
        title:
          clientOf(event) !== null
            ? `Sign-in from a new device: ${clientOf(event)}`
            : 'Sign-in from a new device',
        advice: 'If this was not you, sign that session out and change your password.',
        tone,
      };
    case 'session_terminated': {
      const why = reason !== null ? END_REASONS[reason] : undefined;
      return { title: why ? `A session ended: ${why}` : 'A session was signed out', advice: null, tone };
    }
    case 'all_sessions_terminated': {
      const why = reason !== null ? END_REASONS[reason] : undefined;
      const title = why ? `Sessions were signed out: ${why}` : 'All your sessions were signed out';
      return { title, advice: null, tone };
    }
    case 'session_limit_eviction':
      return {
        title: 'Your oldest session was signed out: you reached the limit of sessions at once',
        advice: null,
        tone,
      };
    case 'session_rotated':
      return { title: 'Your session was renewed (new session id)', advice: null, tone };
    case 'token_revoked':
      return { title: 'An access token was revoked', advice: null, tone };
    case 'all_tokens_revoked':
      return {
        title: 'Every token of yours was revoked: all devices must sign in again',
        advice: null,
        tone,
      };
    case 'token_reuse_detected':
      return {
        title: 'Someone reused an old refresh token — we signed that session out',
        advice:
          'A copy of your sign-in may have been stolen. If you did not expect this, change your password.',
        tone: 'critical',
      };
    case 'token_family_revoked':
      return {
        title:
          event.details.sessionEnded === true
            ? 'A signed-in session was revoked and ended'
            : 'A sign-in (refresh token) was revoked',
        advice: null,
        tone,
      };
    case 'device_trusted':
      return { title: `You trusted a device${on(event)}`, advice: null, tone };
    case 'device_untrusted':
      return { title: 'You stopped trusting a device', advice: null, tone };
    case 'trusted_device_evicted':
      return {
        title: 'Your oldest trusted device was removed: you reached the limit of trusted devices',
        advice: null,
        tone,
      };
    case 'admin_action':
      return {
        title:
          event.details.action === 'revoke_user'
            ? 'An operator signed you out everywhere and revoked every token'
            : 'An operator ended one of your sessions',
        advice: null,
        tone,
      };
    case 'mfa_verified':
      return { title: `Two-step verification completed${on(event)}`, advice: null, tone };
    default:
      return { title: `Security event: ${event.type.replace(/_/g, ' ')}`, advice: null, tone };
  }
}
