/**
 * Shared TypeBox schemas: request pieces (ids, tokens) and response shapes. They are plain JSON
 * Schema, so they validate requests, serialize responses (only declared fields leave the server)
 * and document the API at `/docs/json`.
 */
import { Type } from 'typebox';
import { ERROR_CODES } from '../core/errors.js';

/** A caller-supplied id (user, device): the characters `assertId` accepts. */
export const IdString = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._~@|+=-]+$', description });

/** A generated session id: `<16-char user tag>.<22 random chars>`. */
export const SessionIdString = Type.String({
  minLength: 39,
  maxLength: 39,
  pattern: '^[A-Za-z0-9_-]{16}\\.[A-Za-z0-9_-]{22}$',
  description: 'Session id (an identifier, not a credential)',
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
  details: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
  ),
});

export const EventsQuery = Type.Object(
  {
    since: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Inclusive lower bound (ms since the epoch)' }),
    ),
    until: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Inclusive upper bound (ms since the epoch)' }),
    ),
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
