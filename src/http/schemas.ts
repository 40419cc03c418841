/**
 * Shared TypeBox schemas: request pieces (ids, tokens) and response shapes. They are plain JSON
 * Schema, so they validate requests, serialize responses (only declared fields leave the server)
 * and document the API at `/docs/json`.
 */
import { isIP } from 'node:net';
import { Type } from 'typebox';
import { ClientView } from './user-agent.js';
import Format from 'typebox/format';
import { ERROR_CODES } from '../core/errors.js';
import { isUserId, MAX_USER_ID_BYTES } from '../core/ids.js';

// Formats a pattern cannot express. The registry is TypeBox's (process-wide); the names are ours.
Format.Set('optix-ip-address', (value) => isIP(value) !== 0);
Format.Set('optix-user-id', isUserId);
Format.Set('optix-time', (value) => parseApiTime(value) !== null);

/**
 * `x-words`: what a field must be, in words; a validation error says `<field> <x-words>` instead
 * of the schema keyword that failed (see `validation.ts`).
 */
export const WORDS = 'x-words';

/** A caller-supplied id that reaches a key in clear (device): the characters `assertId` accepts. */
export const IdString = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 256,
    pattern: '^[A-Za-z0-9._~@|+=-]+$',
    description,
    [WORDS]: 'must be 1-256 characters: letters, digits and . _ ~ @ | + = -',
  });

/** A user id: any printable Unicode, 1 to `MAX_USER_ID_BYTES` UTF-8 bytes (`assertUserId`). */
export const UserIdString = (description: string) =>
  Type.String({
    minLength: 1,
    format: 'optix-user-id',
    description: `${description}: printable Unicode text (e.g. \`tenant:kim\`), at most ${MAX_USER_ID_BYTES} bytes in UTF-8`,
    [WORDS]: `must be printable text of 1-${MAX_USER_ID_BYTES} bytes (UTF-8), without control characters`,
  });

/** An IPv4 or IPv6 address, checked as an address (`node:net` `isIP`). */
export const IpAddressString = (description: string) =>
  Type.String({
    maxLength: 45,
    format: 'optix-ip-address',
    description,
    [WORDS]: 'must be an IPv4 or IPv6 address',
  });

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A time as the API takes it: epoch milliseconds (digits) or an RFC 3339 date-time
 * (`2026-12-06T19:00:00Z`, `…+01:00`, fractions of a second), as the CLI does. `null` when it is
 * neither, or out of range.
 */
export function parseApiTime(value: string): number | null {
  if (/^\d{1,16}$/.test(value)) {
    const ms = Number(value);
    return ms <= 8_640_000_000_000_000 ? ms : null;
  }
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const ms = Date.parse(value.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : null;
}

/** A time parameter: epoch ms or RFC 3339 (converted with `parseApiTime`). */
export const TimeParam = (description: string) =>
  Type.String({
    format: 'optix-time',
    maxLength: 40,
    description: `${description}: ms since the epoch, or an RFC 3339 date-time (\`2026-12-06T19:00:00Z\`)`,
    [WORDS]: 'must be ms since the epoch or an RFC 3339 date-time (2026-12-06T19:00:00Z)',
  });

/**
 * A generated session id: `<22-char sealed user tag>.<22 random chars>`, or the old form issued
 * before the tags were sealed (`<16-char user tag>.<22 random chars>`). The shape only; the seal
 * is checked when the id is used (a forged one is `ERR_INVALID_ID`).
 */
export const SessionIdString = Type.String({
  minLength: 39,
  maxLength: 45,
  pattern: '^[A-Za-z0-9_-]{16}(?:[A-Za-z0-9_-]{6})?\\.[A-Za-z0-9_-]{22}$',
  description: 'Session id (an identifier, not a credential)',
  [WORDS]: 'must be a session id as the service issued it',
});

/** A token as sent by a client (opaque to the schema; checked by the JWT service). */
export const TokenString = (description: string) =>
  Type.String({ minLength: 1, maxLength: 8192, description });

/** Milliseconds since the Unix epoch. */
export const EpochMs = (description: string) =>
  Type.Integer({ description: `${description} (ms since the epoch)` });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum([...ERROR_CODES], {
        type: 'string',
        description: 'Stable error code (see docs/errors.md)',
      }),
      message: Type.String(),
    }),
  },
  { description: 'Every error response' },
);

/** A session as the API shows it (no fingerprint). */
export const SessionView = Type.Object({
  sessionId: SessionIdString,
  userId: Type.String(),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  ipAddress: Type.String(),
  userAgent: Type.String(),
  createdAt: EpochMs('Creation'),
  lastActivity: EpochMs('Last activity'),
  lastEndpoint: Type.Union([Type.String(), Type.Null()]),
  expiresAt: EpochMs('End if idle from now on'),
  absoluteExpiresAt: EpochMs('Hard end, never extended'),
  mfaVerified: Type.Boolean(),
});

export const SessionListView = Type.Object({
  sessions: Type.Array(
    Type.Object({
      ...SessionView.properties,
      current: Type.Optional(Type.Boolean({ description: 'The session of the calling token' })),
      client: Type.Optional(ClientView),
    }),
  ),
});

export const TrustedDeviceView = Type.Object({
  deviceId: Type.String(),
  deviceName: Type.String(),
  deviceType: Type.String(),
  trustedAt: EpochMs('Trusted since'),
  expiresAt: EpochMs('Trusted until'),
});

export const SecurityEventView = Type.Object({
  eventId: Type.String(),
  type: Type.String(),
  severity: Type.String(),
  timestamp: EpochMs('When'),
  sessionId: Type.Union([Type.String(), Type.Null()]),
  ipAddress: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  client: Type.Optional(Type.Union([ClientView, Type.Null()])),
  details: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
  ),
});

export const EventsQuery = Type.Object(
  {
    since: Type.Optional(TimeParam('Inclusive lower bound')),
    until: Type.Optional(TimeParam('Inclusive upper bound')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  },
  { additionalProperties: false },
);

export const TokenPairView = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});

/** Responses every authenticated route may give. */
export const authErrors = {
  400: ErrorResponse,
  401: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
};
