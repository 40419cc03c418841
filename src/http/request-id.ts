/**
 * Request ids and W3C trace context on the way in. A caller's `X-Request-Id` is kept when it is
 * safe to echo and to log (bounded, a small character set: no spaces, quotes, control characters
 * or anything a log reader would take for structure); anything else is replaced by a fresh UUID.
 * The id is echoed in `X-Request-Id` on every answer and is the `reqId` of every log line of the
 * request. A valid `traceparent` adds its trace id (`traceId`) to those lines; with tracing on,
 * the request's span continues that trace.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Longest `X-Request-Id` kept (longer ones are replaced, not cut: a cut id matches nothing). */
export const REQUEST_ID_MAX_LENGTH = 128;

const SAFE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+=/-]*$/;

/** The caller's request id if it is safe to keep, else `null`. */
export function acceptRequestId(value: unknown): string | null {
  if (typeof value !== 'string') return null; // absent, or sent twice (Node gives an array)
  if (value.length === 0 || value.length > REQUEST_ID_MAX_LENGTH) return null;
  return SAFE_REQUEST_ID.test(value) ? value : null;
}

/** Fastify's `genReqId`: the caller's `X-Request-Id` when acceptable, otherwise a new UUID. */
export function genReqId(req: IncomingMessage): string {
  return acceptRequestId(req.headers[REQUEST_ID_HEADER]) ?? randomUUID();
}

export interface TraceParent {
  readonly traceId: string;
  readonly parentId: string;
  readonly flags: string;
}

// W3C Trace Context level 1, §3.2: version-traceid-parentid-flags, lower-case hex. A later
// version may append fields after a dash; version ff is invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** A valid `traceparent` header, parsed; `null` for anything else (which is then ignored). */
export function parseTraceparent(value: unknown): TraceParent | null {
  if (typeof value !== 'string' || value.length > 512) return null;
  const m = TRACEPARENT.exec(value);
  if (m === null) return null;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === 'ff') return null;
  if (version === '00' && rest !== undefined) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { traceId, parentId, flags };
}
