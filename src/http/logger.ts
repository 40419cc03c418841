/**
 * Structured logs (pino). What must never be logged — tokens, refresh tokens, passwords, API keys,
 * session ids — is kept out twice: the app never logs bodies, headers or raw URLs (only route
 * patterns), and `redact` censors the usual places anyway. Where a session must be correlated
 * across lines, log `hashId(salt, id)`: a salted SHA-256 prefix, not the id (OWASP).
 */
import { createHash } from 'node:crypto';
import { type DestinationStream, type Logger, pino } from 'pino';

/** Paths censored in every log line (defence in depth; the app does not log these on purpose). */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.body',
  'body',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'password',
  'secret',
  'apiKey',
  'sessionId',
  'sid',
  '*.authorization',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.sessionId',
  '*.sid',
];

export interface CreateLoggerOptions {
  level: string;
  /** Where lines go (default stdout). Tests pass a stream that captures them. */
  destination?: DestinationStream;
}

/** The service's logger: JSON lines, ISO times, `redact` on. */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'optix-sessions' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A salted hash of an id for logs: 16 base64url characters, stable for one salt. */
export function hashId(salt: string, id: string): string {
  return createHash('sha256').update(salt).update('\0').update(id).digest('base64url').slice(0, 16);
}
