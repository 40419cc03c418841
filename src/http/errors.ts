/**
 * The one table from error `code` to HTTP status, and the translation of everything that can go
 * wrong in a request (our typed errors, Fastify's framework errors, schema validation) into
 * `{ error: { code, message } }`. A client mistake is always a 4xx with a stable code; a 5xx body
 * never carries an internal message or a stack.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError } from 'fastify';
import { type ErrorCode, isOptixError, OptixError } from '../core/errors.js';

/** HTTP status of every code. `Record<ErrorCode, …>`: a new code does not compile without a row. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  ERR_CONFIG: 500,
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_ID: 400,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_STORE_TIMEOUT: 503,
  ERR_STORE_BUSY: 503,
  ERR_SESSION_LIMIT: 409,
  ERR_SESSION_NOT_FOUND: 404,
  ERR_MFA_REQUIRED: 403,
  ERR_JWT_MALFORMED: 401,
  ERR_JWT_SIGNATURE: 401,
  ERR_JWT_ALGORITHM: 401,
  ERR_JWT_KEY_UNKNOWN: 401,
  ERR_JWT_EXPIRED: 401,
  ERR_JWT_NOT_YET_VALID: 401,
  ERR_JWT_CLAIM: 401,
  ERR_TOKEN_REVOKED: 401,
  ERR_REFRESH_INVALID: 401,
  ERR_REFRESH_REUSED: 401,
  ERR_REFRESH_REVOKED: 401,
  ERR_HANDOFF_INVALID: 401,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_ORIGIN_NOT_ALLOWED: 403,
  ERR_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_VALIDATION: 400,
  ERR_MALFORMED_REQUEST: 400,
  ERR_REQUEST_TIMEOUT: 408,
  ERR_HEADERS_TOO_LARGE: 431,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_RATE_LIMITED: 429,
  ERR_INTERNAL: 500,
});

/** The body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export interface HttpErrorView {
  status: number;
  body: ErrorBody;
  /** The error was the server's fault (logged with its cause); otherwise the client's. */
  serverFault: boolean;
}

/** What a client is told of a server-side failure (the details are logged). */
const SERVER_MESSAGES: Partial<Record<ErrorCode, string>> = {
  ERR_STORE_UNAVAILABLE: 'the session store is unavailable; retry shortly',
  ERR_STORE_TIMEOUT: 'the session store did not answer in time; retry shortly',
  ERR_STORE_BUSY: 'the session store is short of memory; retry later (revocations still work)',
};

/** Fastify's own error codes that are client mistakes, mapped to ours. */
const FRAMEWORK_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_VALIDATION',
  FST_ERR_CTP_INVALID_TYPE: 'ERR_VALIDATION',
  FST_ERR_CTP_INVALID_CONTENT_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'ERR_VALIDATION',
  // Only parametric routes have parameters: an over-long one is an id that cannot be valid.
  FST_ERR_MAX_PARAM_LENGTH: 'ERR_INVALID_ID',
  FST_ERR_NOT_FOUND: 'ERR_NOT_FOUND',
};

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'ERR_VALIDATION',
  401: 'ERR_UNAUTHORIZED',
  403: 'ERR_FORBIDDEN',
  404: 'ERR_NOT_FOUND',
  413: 'ERR_PAYLOAD_TOO_LARGE',
  415: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  429: 'ERR_RATE_LIMITED',
};

const ID_FIELD = /Id$/;
/** Schema keywords whose failure on an `…Id` field means a malformed id. */
const ID_KEYWORDS = new Set(['pattern', 'format', 'minLength', 'maxLength']);

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
}

/** A schema failure on a path parameter or on an `…Id` body field's pattern is a bad id. */
function validationCode(err: FastifyError): ErrorCode {
  if (err.validationContext === 'params') return 'ERR_INVALID_ID';
  const issues = (err.validation ?? []) as ValidationIssue[];
  const first = issues[0];
  if (first && ID_KEYWORDS.has(first.keyword ?? '') && ID_FIELD.test(first.instancePath ?? '')) {
    return 'ERR_INVALID_ID';
  }
  return 'ERR_VALIDATION';
}

/** Client-facing wording for framework errors whose own message says too little or too much. */
function frameworkMessage(code: string, err: FastifyError): string {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return 'the body is not valid JSON';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the body is empty but Content-Type is application/json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'the body is larger than the limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported Content-Type (use application/json)';
    // Fastify's own messages quote the path, which can hold ids.
    case 'FST_ERR_BAD_URL':
      return 'the URL is not valid (malformed percent-encoding)';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'a path parameter is longer than any valid id';
    default:
      return err.message;
  }
}

/** Builds an error to throw from a route: `throw httpError('ERR_NOT_FOUND', 'no such device')`. */
export function httpError(code: ErrorCode, message: string): OptixError {
  return new OptixError(code, message);
}

/**
 * Translates any thrown value into the status and body sent to the client. `describeValidation`
 * words a schema failure (see `validation.ts`); without it the validator's own message is used.
 */
export function toHttpError(
  err: unknown,
  describeValidation?: (err: { validation?: unknown; validationContext?: string | undefined }) => string,
): HttpErrorView {
  if (isOptixError(err)) {
    const status = HTTP_STATUS[err.code];
    const serverFault = status >= 500;
    // A 5xx message would describe our insides (a Redis reply, a script, an address): the client
    // gets a fixed sentence, the log gets the error.
    const message = serverFault ? (SERVER_MESSAGES[err.code] ?? 'internal error') : err.message;
    return { status, body: { error: { code: err.code, message } }, serverFault };
  }
  const fe = err as Partial<FastifyError> & { code?: string; statusCode?: number };
  if (fe && typeof fe === 'object') {
    if (Array.isArray(fe.validation)) {
      const code = validationCode(fe as FastifyError);
      const message = describeValidation ? describeValidation(fe as FastifyError) : String(fe.message);
      return { status: 400, body: { error: { code, message } }, serverFault: false };
    }
    if (typeof fe.code === 'string' && fe.code in FRAMEWORK_CODES) {
      const code = FRAMEWORK_CODES[fe.code]!;
      return {
        status: HTTP_STATUS[code],
        body: { error: { code, message: frameworkMessage(fe.code, fe as FastifyError) } },
        serverFault: false,
      };
    }
    // A JSON.parse failure in a content-type parser surfaces as a SyntaxError with status 400.
    if (err instanceof SyntaxError) {
      return {
        status: 400,
        body: { error: { code: 'ERR_VALIDATION', message: 'the body is not valid JSON' } },
        serverFault: false,
      };
    }
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = BY_STATUS[status] ?? 'ERR_VALIDATION';
      return {
        status: HTTP_STATUS[code],
        body: { error: { code, message: String(fe.message ?? code) } },
        serverFault: false,
      };
    }
  }
  return {
    status: 500,
    body: { error: { code: 'ERR_INTERNAL', message: 'internal error' } },
    serverFault: true,
  };
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request: a malformed request line,
 * `Content-Length` or chunk (400), headers over Node's limit (431), a request not received in time
 * (408). Fastify's default handler answers with a body of its own and logs the error at trace
 * with `rawPacket`, the raw request bytes (`Authorization` included); this one answers with the
 * catalog's body and logs only the parser's code. The connection is closed, as Node does.
 */
export function clientErrorHandler(
  this: { log: { debug(obj: object, msg: string): void } },
  err: Error & { code?: string },
  socket: Duplex,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'ERR_REQUEST_TIMEOUT'
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? 'ERR_HEADERS_TOO_LARGE'
        : 'ERR_MALFORMED_REQUEST';
  const status = HTTP_STATUS[code];
  // The request never parsed, so the caller's X-Request-Id is unknown: a new id, logged and sent.
  const reqId = randomUUID();
  this.log.debug({ reqId, code, parserCode: err.code, statusCode: status }, 'client_error');
  if (socket.writable) {
    const body = JSON.stringify({ error: { code, message: CLIENT_ERROR_MESSAGES[code] } });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nX-Request-Id: ${reqId}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const CLIENT_ERROR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  ERR_REQUEST_TIMEOUT: 'the request was not received in time',
  ERR_HEADERS_TOO_LARGE: 'the request headers are too large',
  ERR_MALFORMED_REQUEST: 'the request is not valid HTTP/1.1',
};
