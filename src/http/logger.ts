/**
 * Structured logs (pino). What must never be logged — tokens, refresh tokens, passwords, API keys,
 * session ids — is kept out twice: the app never logs bodies, headers or raw URLs (only route
 * patterns), and `redact` censors the usual places anyway. Where a session must be correlated
 * across lines, log `hashId(salt, id)`: a salted SHA-256 prefix, not the id (OWASP).
 */
import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, pino } from 'pino';
import { parseTraceparent } from './request-id.js';

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
  // Node's HTTP parser errors carry the raw request bytes (headers, keys) as `rawPacket`.
  'err.rawPacket',
  '*.rawPacket',
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
  return hash('sha256', `${salt}\0${id}`, 'base64url').slice(0, 16);
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger, made when the request first logs at an enabled level. Fastify gives every
 * request a pino child carrying its request id, and pino serializes (and redacts) a child's
 * bindings when the child is made: about 4% of the CPU of a warm introspection, which logs nothing
 * at the default level (successes log at debug). The lines written are exactly those of the
 * child it stands for.
 */
export class LazyRequestLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  /** Bindings a lazy child added (merged into `#bindings` only if the logger is ever made). */
  readonly #added: Bindings | undefined;
  readonly #options: ChildLoggerOptions;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings, options: ChildLoggerOptions, added?: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#added = added;
    this.#options = options;
  }

  /** The child logger, made now if it was not yet. */
  get logger(): Logger {
    this.#child ??= this.#parent.child(
      this.#added === undefined ? this.#bindings : { ...this.#bindings, ...this.#added },
      this.#options,
    );
    return this.#child;
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  #log(method: LogMethod, args: unknown[]): void {
    // A route's own log level (Fastify passes it as an option) lives only on the child.
    const target = this.#child ?? (this.#options.level === undefined ? this.#parent : this.logger);
    if (!target.isLevelEnabled(method)) return;
    (this.logger[method] as (...a: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#log('error', args);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }
  info(...args: unknown[]): void {
    this.#log('info', args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }
  silent(): void {}

  /**
   * A child that stays lazy too (a route adding `client` to its request's bindings must not make
   * a pino child per request); once this logger exists, a real pino child of it.
   */
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    if (this.#child !== undefined) return this.#child.child(bindings, options);
    // The merge waits until a line is written (most requests write none): no copy per request.
    return new LazyRequestLogger(
      this.#parent,
      this.#bindings,
      options === undefined ? this.#options : { ...this.#options, ...options },
      this.#added === undefined ? bindings : { ...this.#added, ...bindings },
    ) as unknown as Logger;
  }
}

/**
 * Fastify's `childLoggerFactory`: a `LazyRequestLogger` per request instead of a pino child. Its
 * bindings are the request id (`reqId`) and, when the caller sent a valid W3C `traceparent`, the
 * trace id (`traceId`), so every line of the request carries both.
 */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
  rawReq?: IncomingMessage,
): FastifyBaseLogger {
  const trace = rawReq === undefined ? null : parseTraceparent(rawReq.headers.traceparent);
  const all = trace === null ? bindings : { ...bindings, traceId: trace.traceId };
  return new LazyRequestLogger(logger as Logger, all, options) as unknown as FastifyBaseLogger;
}
