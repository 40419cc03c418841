/**
 * Redis failures: what the server's error replies mean, and how a node-redis failure becomes one of
 * the library's store errors. Protocol strings (`NOSCRIPT`, `OOM`, `WRONGPASS` …) are matched here
 * and nowhere else.
 */
import { ErrorReply } from '@redis/client';
import { describeError, StoreBusyError, StoreTimeoutError, StoreUnavailableError } from '../core/errors.js';

/** Re-exported for this module's importers; the one definition is in `core/errors.ts`. */
export { describeError };

/** True for the server's NOSCRIPT reply. */
export function isNoScriptError(err: unknown): boolean {
  return err instanceof ErrorReply && err.message.startsWith('NOSCRIPT');
}

/** `OOM command not allowed when used memory > 'maxmemory'` (noeviction, Redis full). */
export function isOomError(err: unknown): boolean {
  return err instanceof ErrorReply && err.message.includes('OOM command not allowed');
}

/**
 * A connection error that retrying cannot cure, described for the operator, or `null`: the server's
 * certificate refused (TLS verification is on by default) or the credentials refused.
 */
export function fatalConnectError(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS_|ERR_SSL_/.test(code)) {
      return (
        `TLS certificate of the server rejected (${code}: ${describeError(e)}); ` +
        'give the CA that signed it as tls.ca (verification stays on)'
      );
    }
    if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(e.message)) {
      return `authentication refused by the server: ${describeError(e)}`;
    }
  }
  return null;
}

/**
 * A node-redis failure as a store error: `OOM` → `StoreBusyError`; anything else →
 * `StoreUnavailableError` (with `cause`). Store errors pass through unchanged.
 */
export function toStoreError(operation: string, err: unknown): Error {
  if (
    err instanceof StoreUnavailableError ||
    err instanceof StoreTimeoutError ||
    err instanceof StoreBusyError
  )
    return err;
  if (isOomError(err)) {
    return new StoreBusyError(operation, {
      cause: err,
      message: `Redis ${operation} refused: ${describeError(err)}`,
    });
  }
  return new StoreUnavailableError(`Redis ${operation} failed: ${describeError(err)}`, { cause: err });
}
