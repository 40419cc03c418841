/**
 * What the fuzzer expects of a case's victim: which of its access tokens are live, where its
 * refresh family stands, whether its session lives, which devices it trusts. Only an accepted
 * request made with the victim's own, unaltered credentials (or an operator's) may change it;
 * `cases.ts` applies those effects and `checkVictim` compares the model with the service.
 */
import { identity } from './tokens.js';
import type { Creds } from './world.js';

export type TokenState = 'live' | 'dead' | 'unknown';

export interface ModelToken {
  token: string;
  identity: string;
  jti: string;
  state: TokenState;
  /** Why a dead token is dead: only a blacklist entry (which expires), or its session/family/user. */
  deadBy: 'blacklist' | 'session' | null;
}

export type RefreshOutcome = 'rotate' | 'grace' | 'reuse' | 'reject';

export class VictimModel {
  readonly userId: string;
  readonly sessionId: string;
  readonly familyId: string;
  readonly tokens: ModelToken[] = [];
  /** The family's refresh tokens, oldest first; the last one is current. */
  readonly refresh: string[] = [];
  prevPair: { accessToken: string; refreshToken: string } | null = null;
  familyRevoked = false;
  userRevoked = false;
  sessionLive = true;
  readonly devices = new Set<string>();
  /** Sessions (of other users) created by this case through POST /v1/sessions. */
  readonly otherSessions = new Set<string>();

  constructor(creds: Creds) {
    this.userId = creds.userId;
    this.sessionId = creds.sessionId;
    this.familyId = creds.familyId;
    this.addAccess(creds.access, creds.jti);
    this.refresh.push(creds.refresh);
    if (creds.deviceId !== undefined) this.devices.add(creds.deviceId);
  }

  addAccess(token: string, jti: string): void {
    this.tokens.push({ token, identity: identity(token), jti, state: 'live', deadBy: null });
  }

  /** The model token this string names (same header and payload), if any. */
  find(token: unknown): ModelToken | undefined {
    if (typeof token !== 'string') return undefined;
    const id = identity(token);
    return this.tokens.find((t) => t.identity === id);
  }

  accessStrings(): string[] {
    return this.tokens.map((t) => t.token);
  }

  endSession(): void {
    this.sessionLive = false;
    for (const t of this.tokens) {
      t.state = 'dead';
      t.deadBy = 'session';
    }
  }

  /** A blacklist entry for this token (RFC 7009, logout, revokeToken) outlives the case. */
  blacklisted(t: ModelToken): void {
    if (t.state === 'dead') return;
    t.state = 'dead';
    t.deadBy = 'blacklist';
  }

  revokeFamily(): void {
    this.familyRevoked = true;
    this.endSession();
  }

  revokeUser(): void {
    this.userRevoked = true;
    this.endSession();
  }

  /** What presenting `value` to the refresh endpoint must do (the clock does not move in a case). */
  refreshOutcome(value: unknown): RefreshOutcome {
    if (typeof value !== 'string') return 'reject';
    const i = this.refresh.indexOf(value);
    if (i === -1 || this.familyRevoked || this.userRevoked) return 'reject';
    const current = this.refresh.length - 1;
    if (i === current) return this.sessionLive ? 'rotate' : 'reject';
    if (i === current - 1) return this.sessionLive ? 'grace' : 'reject';
    return 'reuse';
  }

  /** Applies a refresh the service accepted (`rotate`) or a grace answer. */
  rotated(pair: { accessToken: string; refreshToken: string }, jti: string): void {
    this.addAccess(pair.accessToken, jti);
    this.refresh.push(pair.refreshToken);
    this.prevPair = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
  }
}

/** The jti of an access token (payload claim), or '' when it cannot be read. */
export function jtiOf(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      jti?: unknown;
    };
    return typeof payload.jti === 'string' ? payload.jti : '';
  } catch {
    return '';
  }
}
