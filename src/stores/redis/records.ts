/**
 * How records are stored: sessions in a compact packed string (see `encodeSession`), the others as
 * JSON with the ports' field names. Readers are defensive: a value that does not parse into the
 * expected shape is treated as absent, never passed on half-read.
 */
import { Generations } from '../../core/generations.js';
import { trustedDeviceId } from '../../core/ids.js';
import type { BlacklistEntry, SecurityEvent, Session, TrustedDevice } from '../../core/types.js';

function parseObject(json: string | null): Record<string, unknown> | null {
  if (json === null) return null;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/**
 * The session record (`session:{tag}.<rest>`), one STRING, in one of two forms:
 *
 * - **compact** (every record the service writes): a header of base-36 integers
 *   `<createdAt>.<expiresAt − createdAt>.<absoluteExpiresAt − createdAt>.<lastActivity − createdAt>.<flags>`
 *   followed by six text fields, each after a `\x1f` (unit separator): userId, deviceId,
 *   deviceFingerprint, ipAddress, lastEndpoint, userAgent. `flags` (base 36) says which text fields
 *   are `null` and how two of them are packed: a device id equal to
 *   `trustedDeviceId(userId, deviceFingerprint)` (what the session manager derives) is left out, and a
 *   lowercase hex fingerprint is kept as base64url (64 hex → 43 characters), and the user agent's
 *   common tokens (`UA_TOKENS`) are one control character each. The session id is the
 *   key, so it is not repeated. Lua scripts read the first three numbers (`recordTimes` in the
 *   scripts) to learn the record's own expiry.
 * - **JSON** (`{…}`, the `Session` fields without `sessionId`), for what the compact form cannot hold
 *   losslessly: a time that is not a non-negative safe integer or comes before `createdAt`, a text
 *   field with a control character (U+0000–U+001F) or an unpaired surrogate.
 *
 * `docs/data-model.md` ("Session record encoding") shows both with their sizes.
 */
const SEP = '\x1f';
const FLAG_MFA = 1;
const FLAG_NO_DEVICE = 2;
const FLAG_DERIVED_DEVICE = 4;
const FLAG_NO_FINGERPRINT = 8;
const FLAG_HEX_FINGERPRINT = 16;
const FLAG_NO_ENDPOINT = 32;
const LOWER_HEX = /^(?:[0-9a-f]{2})+$/;

/**
 * The user-agent dictionary: character code `i + 1` (U+0001 to U+001E) stands for `UA_TOKENS[i]`.
 * Compact text never holds a control character, so the codes are unambiguous. Frozen: stored
 * records depend on it; new tokens may only be appended (up to U+001E, as U+001F is the separator).
 */
const UA_TOKENS: readonly string[] = [
  'Mozilla/5.0 (',
  'Windows NT 10.0; Win64; x64',
  'Windows NT ',
  '; Win64; x64',
  'Macintosh; Intel Mac OS X 10_15_7',
  'Macintosh; Intel Mac OS X ',
  'X11; Linux x86_64',
  'Linux; Android ',
  'iPhone; CPU iPhone OS ',
  'iPad; CPU OS ',
  ' like Mac OS X',
  ') AppleWebKit/537.36 (KHTML, like Gecko) Chrome/',
  ') AppleWebKit/605.1.15 (KHTML, like Gecko) ',
  ') AppleWebKit/537.36 (KHTML, like Gecko) ',
  '.0.0.0 Safari/537.36',
  '.0.0.0 Mobile Safari/537.36',
  ' Safari/537.36',
  ' Mobile Safari/537.36',
  'Version/',
  ' Mobile/15E148 Safari/604.1',
  ' Safari/605.1.15',
  '; rv:',
  ') Gecko/20100101 Firefox/',
  ' Edg/',
  '.0.0.0',
  'CriOS/',
  '; K',
  'Chrome/',
  'Firefox/',
  'Safari/',
];
/** Longest first, so the longer token wins where two overlap. */
const UA_ENCODE_ORDER = UA_TOKENS.map((token, i) => [token, String.fromCharCode(i + 1)] as const).sort(
  (a, b) => b[0].length - a[0].length,
);

/**
 * Packed user agents by their text: a fleet's logins and activity writes bring the same few agents
 * again and again, and packing one walks the 30 tokens (~5 µs for a Chrome agent).
 */
const packedAgents = new Generations<string, string>(500);

/** Replaces dictionary tokens by their codes (`text` has no control characters). */
function packUserAgent(text: string): string {
  const cached = packedAgents.get(text);
  if (cached !== undefined) return cached;
  let out = text;
  for (const [token, code] of UA_ENCODE_ORDER) if (out.includes(token)) out = out.split(token).join(code);
  packedAgents.set(text, out);
  return out;
}

function unpackUserAgent(packed: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < packed.length; i++) {
    const c = packed.charCodeAt(i);
    if (c >= 0x20) continue;
    const token = UA_TOKENS[c - 1];
    if (token === undefined) return packed;
    out += packed.slice(from, i) + token;
    from = i + 1;
  }
  return from === 0 ? packed : out + packed.slice(from);
}

/**
 * True for `null` and for text the compact form keeps losslessly: no control character (U+0000 to
 * U+001F; the separator is one) and no unpaired UTF-16 surrogate (UTF-8 cannot carry it).
 */
function compactText(value: string | null): boolean {
  if (value === null) return true;
  if (typeof value !== 'string') return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

function compactDelta(from: number, to: number): boolean {
  return Number.isSafeInteger(to) && to >= from;
}

export function encodeSession(session: Session): string {
  const { userId, deviceId, deviceFingerprint: fp, ipAddress, userAgent, lastEndpoint } = session;
  const c = session.createdAt;
  if (
    Number.isSafeInteger(c) &&
    c >= 0 &&
    compactDelta(c, session.expiresAt) &&
    compactDelta(c, session.absoluteExpiresAt) &&
    compactDelta(c, session.lastActivity) &&
    typeof session.mfaVerified === 'boolean' &&
    compactText(userId) &&
    compactText(deviceId) &&
    compactText(fp) &&
    compactText(ipAddress) &&
    compactText(lastEndpoint) &&
    compactText(userAgent) &&
    typeof userId === 'string' &&
    typeof ipAddress === 'string' &&
    typeof userAgent === 'string'
  ) {
    let flags = session.mfaVerified ? FLAG_MFA : 0;
    let device = deviceId ?? '';
    if (deviceId === null) flags |= FLAG_NO_DEVICE;
    else if (fp !== null && deviceId === trustedDeviceId(userId, fp)) {
      flags |= FLAG_DERIVED_DEVICE;
      device = '';
    }
    let fingerprint = fp ?? '';
    if (fp === null) flags |= FLAG_NO_FINGERPRINT;
    else if (LOWER_HEX.test(fp)) {
      flags |= FLAG_HEX_FINGERPRINT;
      fingerprint = Buffer.from(fp, 'hex').toString('base64url');
    }
    if (lastEndpoint === null) flags |= FLAG_NO_ENDPOINT;
    return (
      `${c.toString(36)}.${(session.expiresAt - c).toString(36)}.${(session.absoluteExpiresAt - c).toString(36)}` +
      `.${(session.lastActivity - c).toString(36)}.${flags.toString(36)}` +
      `${SEP}${userId}${SEP}${device}${SEP}${fingerprint}${SEP}${ipAddress}${SEP}${lastEndpoint ?? ''}${SEP}${packUserAgent(userAgent)}`
    );
  }
  return JSON.stringify({
    userId,
    deviceId,
    deviceFingerprint: fp,
    ipAddress,
    userAgent,
    createdAt: session.createdAt,
    lastActivity: session.lastActivity,
    lastEndpoint,
    expiresAt: session.expiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    mfaVerified: session.mfaVerified,
  });
}

const BASE36 = /^[0-9a-z]+$/;

function base36(value: string | undefined): number | null {
  if (value === undefined || !BASE36.test(value)) return null;
  const n = Number.parseInt(value, 36);
  return Number.isSafeInteger(n) ? n : null;
}

/** The session stored under `sessionId`'s key, or `null` when `value` is absent or malformed. */
export function decodeSession(sessionId: string, value: string | null): Session | null {
  if (value === null || value === '') return null;
  if (value.charCodeAt(0) === 123 /* { */) {
    const o = parseObject(value);
    if (
      o === null ||
      !isString(o.userId) ||
      !isStringOrNull(o.deviceId) ||
      !isNumber(o.createdAt) ||
      !isNumber(o.expiresAt) ||
      !isNumber(o.absoluteExpiresAt)
    ) {
      return null;
    }
    return {
      sessionId,
      userId: o.userId,
      deviceId: o.deviceId,
      deviceFingerprint: o.deviceFingerprint as string | null,
      ipAddress: o.ipAddress as string,
      userAgent: o.userAgent as string,
      createdAt: o.createdAt,
      lastActivity: o.lastActivity as number,
      lastEndpoint: o.lastEndpoint as string | null,
      expiresAt: o.expiresAt,
      absoluteExpiresAt: o.absoluteExpiresAt,
      mfaVerified: o.mfaVerified as boolean,
    };
  }
  const parts = value.split(SEP);
  if (parts.length !== 7) return null;
  const [header, userId, device, fingerprint, ipAddress, endpoint, userAgent] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const fields = header.split('.');
  if (fields.length !== 5) return null;
  const [c, e, a, l, f] = fields.map(base36);
  if (c == null || e == null || a == null || l == null || f == null) return null;
  const fp =
    f & FLAG_NO_FINGERPRINT
      ? null
      : f & FLAG_HEX_FINGERPRINT
        ? Buffer.from(fingerprint, 'base64url').toString('hex')
        : fingerprint;
  let deviceId: string | null = device;
  if (f & FLAG_NO_DEVICE) deviceId = null;
  else if (f & FLAG_DERIVED_DEVICE) {
    if (fp === null) return null;
    deviceId = trustedDeviceId(userId, fp);
  }
  return {
    sessionId,
    userId,
    deviceId,
    deviceFingerprint: fp,
    ipAddress,
    userAgent: unpackUserAgent(userAgent),
    createdAt: c,
    lastActivity: c + l,
    lastEndpoint: f & FLAG_NO_ENDPOINT ? null : endpoint,
    expiresAt: c + e,
    absoluteExpiresAt: c + a,
    mfaVerified: (f & FLAG_MFA) !== 0,
  };
}

/** Newest first by `createdAt`, then by id so equal timestamps have a stable order (as in memory). */
export function byCreatedAtDesc(a: Session, b: Session): number {
  return b.createdAt - a.createdAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0);
}

/** The blacklist record: the entry without its jti (the jti is in the key). */
export function encodeBlacklistEntry(entry: BlacklistEntry): string {
  return JSON.stringify({
    userId: entry.userId,
    reason: entry.reason,
    revokedAt: entry.revokedAt,
    expiresAt: entry.expiresAt,
  });
}

export function decodeBlacklistEntry(jti: string, json: string | null): BlacklistEntry | null {
  const o = parseObject(json);
  if (
    o === null ||
    !isStringOrNull(o.userId) ||
    !isString(o.reason) ||
    !isNumber(o.revokedAt) ||
    !isNumber(o.expiresAt)
  ) {
    return null;
  }
  return { jti, userId: o.userId, reason: o.reason, revokedAt: o.revokedAt, expiresAt: o.expiresAt };
}

export function encodeTrustedDevice(device: TrustedDevice): string {
  const d: TrustedDevice = {
    deviceId: device.deviceId,
    userId: device.userId,
    fingerprintHash: device.fingerprintHash,
    deviceName: device.deviceName,
    deviceType: device.deviceType,
    trustedAt: device.trustedAt,
    expiresAt: device.expiresAt,
  };
  return JSON.stringify(d);
}

export function decodeTrustedDevice(json: string | null): TrustedDevice | null {
  const o = parseObject(json);
  if (
    o === null ||
    !isString(o.deviceId) ||
    !isString(o.userId) ||
    !isNumber(o.trustedAt) ||
    !isNumber(o.expiresAt)
  ) {
    return null;
  }
  return o as unknown as TrustedDevice;
}

/** Most recently trusted first, then by id (as in memory). */
export function byTrustedAtDesc(a: TrustedDevice, b: TrustedDevice): number {
  return b.trustedAt - a.trustedAt || (a.deviceId < b.deviceId ? 1 : a.deviceId > b.deviceId ? -1 : 0);
}

/**
 * The event record: the `SecurityEvent` fields plus `expiresAt` (ms), the end of its retention
 * counted from when it was recorded. Redis expires the key at the same moment; the field lets a
 * reader with an injected clock agree.
 */
export function encodeSecurityEvent(event: SecurityEvent, expiresAt: number): string {
  return JSON.stringify({
    eventId: event.eventId,
    type: event.type,
    userId: event.userId,
    severity: event.severity,
    timestamp: event.timestamp,
    sessionId: event.sessionId,
    ipAddress: event.ipAddress,
    userAgent: event.userAgent,
    details: event.details,
    expiresAt,
  });
}

export function decodeSecurityEvent(json: string | null): { event: SecurityEvent; expiresAt: number } | null {
  const o = parseObject(json);
  if (
    o === null ||
    !isString(o.eventId) ||
    !isString(o.type) ||
    !isNumber(o.timestamp) ||
    !isNumber(o.expiresAt) ||
    typeof o.details !== 'object' ||
    o.details === null
  ) {
    return null;
  }
  const { expiresAt, ...event } = o;
  return { event: event as unknown as SecurityEvent, expiresAt: expiresAt as number };
}

/**
 * The revoke-all record: `{"beforeMs": ms, "expiresAt": ms, "gen": n}` (written by
 * `watermark_raise.lua`): the legacy watermark, or `null` when absent or expired at `now`.
 */
export function decodeWatermark(json: string | null, now: number): number | null {
  const o = parseObject(json);
  if (o === null || !isNumber(o.beforeMs) || !isNumber(o.expiresAt) || o.expiresAt <= now) return null;
  return o.beforeMs;
}

/**
 * The user's generation from the revoke-all record: 0 when there is none. Valid while the key
 * exists (as the scripts read it): it is not judged by the instance clock.
 */
export function decodeUserGeneration(json: string | null): number {
  const o = parseObject(json);
  return o !== null && isNumber(o.gen) ? o.gen : 0;
}
