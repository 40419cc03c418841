/**
 * What both framework adapters share: the bearer token of a request, the verifier of either mode,
 * the check of a route's requirements, and the error response in the project's format
 * (`{ error: { code, message } }`, statuses from `src/http/errors.ts`).
 */
import { ConfigError, isOptixError, OptixError } from '../core/errors.js';
import { HTTP_STATUS } from '../http/errors.js';
import { createLocalVerifier } from './local.js';
import { createRemoteVerifier } from './remote.js';
import type { AuthRequirements, AuthVerifier, OptixAuth, OptixAuthOptions } from './types.js';

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

/** The bearer token of an `Authorization` header value, or `null`. */
export function bearerFrom(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = BEARER.exec(header);
  return m ? m[1]! : null;
}

/**
 * The verifier of the mode the options name.
 * @throws ConfigError (ERR_CONFIG) for options that cannot work.
 */
export function createVerifier(options: OptixAuthOptions): AuthVerifier {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'must be an object');
  const onUnavailable = options.onUnavailable;
  if (onUnavailable !== undefined && onUnavailable !== 'deny' && onUnavailable !== 'allow') {
    throw new ConfigError('onUnavailable', "must be 'deny' or 'allow'");
  }
  if (options.mode === 'local') {
    if (!options.jwt || !options.sessions) {
      throw new ConfigError(
        'jwt',
        'local mode needs `jwt` (createJwtService) and `sessions` (createSessionManager)',
      );
    }
    return createLocalVerifier(options);
  }
  if (options.mode === 'remote') return createRemoteVerifier(options);
  throw new ConfigError('mode', "must be 'local' or 'remote'");
}

function stringList(path: string, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new ConfigError(path, 'must be an array of non-empty strings');
  }
  return Object.freeze([...value]);
}

/** Requirements checked once, when the route is declared. */
export interface CheckedRequirements {
  roles: readonly string[];
  permissions: readonly string[];
  scopes: readonly string[];
  mfa: boolean;
}

/** @throws ConfigError for requirements that are not lists of strings. */
export function checkRequirements(requirements: AuthRequirements | undefined): CheckedRequirements {
  const r = requirements ?? {};
  if (r === null || typeof r !== 'object') throw new ConfigError('requirements', 'must be an object');
  if (r.mfa !== undefined && typeof r.mfa !== 'boolean')
    throw new ConfigError('requirements.mfa', 'must be a boolean');
  return Object.freeze({
    roles: stringList('requirements.roles', r.roles),
    permissions: stringList('requirements.permissions', r.permissions),
    scopes: stringList('requirements.scopes', r.scopes),
    mfa: r.mfa === true,
  });
}

/** Thrown when the caller is authenticated but lacks what the route requires. */
class ForbiddenError extends OptixError {
  /** The scopes the route requires, for `WWW-Authenticate` (RFC 6750 §3). */
  readonly scopes: readonly string[];
  constructor(message: string, scopes: readonly string[]) {
    super('ERR_FORBIDDEN', message);
    this.scopes = scopes;
  }
}

/** `null` when `auth` meets the requirements, otherwise the 403 to answer. */
export function unmet(auth: OptixAuth, r: CheckedRequirements): OptixError | null {
  const missing = (needed: readonly string[], held: readonly string[]) =>
    needed.filter((n) => !held.includes(n));
  const roles = missing(r.roles, auth.roles);
  if (roles.length > 0) return new ForbiddenError(`requires role ${roles.join(', ')}`, r.scopes);
  const permissions = missing(r.permissions, auth.permissions);
  if (permissions.length > 0)
    return new ForbiddenError(`requires permission ${permissions.join(', ')}`, r.scopes);
  const scopes = missing(r.scopes, auth.scope);
  if (scopes.length > 0) return new ForbiddenError(`requires scope ${scopes.join(', ')}`, r.scopes);
  if (r.mfa && !auth.mfa) return new ForbiddenError('requires a session with MFA verified', r.scopes);
  return null;
}

/** The 401 of a request without a bearer token. */
export function missingToken(): OptixError {
  return new OptixError('ERR_UNAUTHORIZED', 'an access token is required (Authorization: Bearer <token>)');
}

/**
 * What one request's check came to: `auth` when its token verified (also when the route's
 * requirements then refused it), `error` (with whether a token was presented) when it is refused.
 */
export type Authorization =
  | { ok: true; auth: OptixAuth }
  | { ok: false; auth: OptixAuth | null; error: unknown; hadToken: boolean };

/**
 * The check both adapters make of a request: its bearer token (unless `verified` already holds
 * this request's caller), the verification, then the route's requirements (`r`; `null`: none).
 * `endpoint` is read only when a token is verified.
 */
export async function authorize(
  verifier: AuthVerifier,
  request: { authorization: string | string[] | undefined; endpoint: () => string; verified?: OptixAuth },
  r: CheckedRequirements | null,
): Promise<Authorization> {
  let auth = request.verified;
  if (auth === undefined) {
    const token = bearerFrom(request.authorization);
    if (token === null) return { ok: false, auth: null, error: missingToken(), hadToken: false };
    try {
      auth = await verifier.verify(token, request.endpoint());
    } catch (err) {
      return { ok: false, auth: null, error: err, hadToken: true };
    }
  }
  const denied = r === null ? null : unmet(auth, r);
  if (denied !== null) return { ok: false, auth, error: denied, hadToken: true };
  return { ok: true, auth };
}

/** What an adapter is built on: the verifier, requirement checks and the check of a request. */
export interface AdapterCore {
  readonly verifier: AuthVerifier;
  /**
   * `requirements` checked (once per object: a route's are declared once and reused per request).
   * @throws ConfigError for requirements that are not lists of strings.
   */
  requirements(requirements: AuthRequirements | undefined): CheckedRequirements;
  /** `authorize()` with this verifier. */
  authorize(
    request: { authorization: string | string[] | undefined; endpoint: () => string; verified?: OptixAuth },
    r: CheckedRequirements | null,
  ): Promise<Authorization>;
}

/**
 * The core both framework adapters wrap: the verifier of the mode `options` name, and memoized
 * requirement checks.
 * @throws ConfigError (ERR_CONFIG) for options that cannot work.
 */
export function createAdapterCore(options: OptixAuthOptions): AdapterCore {
  const verifier = createVerifier(options);
  const checked = new WeakMap<object, CheckedRequirements>();
  const NONE = checkRequirements(undefined);
  return {
    verifier,
    requirements(requirements) {
      if (requirements === undefined) return NONE;
      if (requirements === null || typeof requirements !== 'object') return checkRequirements(requirements);
      let r = checked.get(requirements);
      if (r === undefined) {
        r = checkRequirements(requirements);
        checked.set(requirements, r);
      }
      return r;
    },
    authorize: (request, r) => authorize(verifier, request, r),
  };
}

/** A response: status, headers and the JSON body. */
export interface FailureResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string } };
}

const SERVER_MESSAGES: Record<string, string> = {
  ERR_STORE_UNAVAILABLE: 'token verification is unavailable; retry shortly',
  ERR_STORE_TIMEOUT: 'token verification did not answer in time; retry shortly',
};

/**
 * The response for a typed error, or `null` for anything else (a bug: left to the framework's
 * error handler). A 5xx carries a fixed sentence, never the cause.
 */
export function failureResponse(err: unknown, hadToken: boolean): FailureResponse | null {
  if (!isOptixError(err)) return null;
  const status = HTTP_STATUS[err.code];
  const headers: Record<string, string> = {};
  if (status === 401) {
    // RFC 6750 §3.1: a request that carried no token gets no error code.
    headers['www-authenticate'] = hadToken
      ? `Bearer error="invalid_token", error_description="${err.code}"`
      : 'Bearer';
  } else if (status === 403) {
    const scopes =
      err instanceof ForbiddenError && err.scopes.length > 0 ? `, scope="${err.scopes.join(' ')}"` : '';
    headers['www-authenticate'] =
      `Bearer error="insufficient_scope", error_description="${err.code}"${scopes}`;
  } else if (status === 503) {
    headers['retry-after'] = '1';
  }
  const message = status >= 500 ? (SERVER_MESSAGES[err.code] ?? 'internal error') : err.message;
  return { status, headers, body: { error: { code: err.code, message } } };
}
