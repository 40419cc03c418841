/**
 * `optix-sessions/express`: an Express middleware (tested on Express 5; it uses only the
 * connect-style `(req, res, next)` signature and Node's own request and response) that
 * verifies the bearer token of every request and puts the caller on `req.auth`.
 *
 * @example
 * import { optixAuth } from 'optix-sessions/express';
 * const auth = optixAuth({ mode: 'remote', url: 'http://sessions:8080',
 *   credentials: { serviceKey: process.env.OPTIX_SERVICE_KEY! } });
 * app.get('/status', (req, res) => res.json({ ok: true }));  // before `app.use(auth)`: public
 * app.use(auth);
 * app.get('/orders', auth.require({ roles: ['trader'], mfa: true }), (req, res) =>
 *   res.json(listOrders(req.auth!.userId)));
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CheckedRequirements, createAdapterCore, failureResponse } from './core.js';
import type { AuthRequirements, AuthVerifier, OptixAuth, OptixAuthOptions } from './types.js';

export type * from './types.js';

declare global {
  // Express's own way of typing what middleware adds to a request.
  namespace Express {
    interface Request {
      /** The verified caller (set by the optix-sessions middleware). */
      auth?: OptixAuth;
    }
  }
}

/** A connect-style request as far as this middleware uses it. */
type Req = IncomingMessage & { auth?: OptixAuth; baseUrl?: string; path?: string };
type Next = (err?: unknown) => void;
/** A connect-style middleware. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** The middleware, with route-level requirements and the verifier it uses. */
export interface OptixExpressAuth extends Middleware {
  /**
   * A route middleware: verifies the token if `auth` itself did not run before, then answers 403
   * `ERR_FORBIDDEN` unless the caller has every listed role, permission and scope (and MFA).
   * @throws ConfigError (ERR_CONFIG) at once for requirements that are not lists of strings.
   */
  require(requirements: AuthRequirements): Middleware;
  readonly verifier: AuthVerifier;
  /** Drops cached answers (remote mode). */
  close(): Promise<void>;
}

/** Options of the middleware: either mode's options. */
export type OptixExpressOptions = OptixAuthOptions;

function send(res: ServerResponse, next: Next, err: unknown, hadToken: boolean): void {
  const failure = failureResponse(err, hadToken);
  if (failure === null) {
    next(err); // not ours: the app's error handler
    return;
  }
  const body = JSON.stringify(failure.body);
  res.statusCode = failure.status;
  for (const [name, value] of Object.entries(failure.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** The route recorded as the session's last endpoint: the path, without the query. */
function endpointOf(req: Req): string {
  if (typeof req.path === 'string') return `${req.baseUrl ?? ''}${req.path}`;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Builds the middleware for either mode.
 * @throws ConfigError (ERR_CONFIG) for options that cannot work.
 */
export function optixAuth(options: OptixExpressOptions): OptixExpressAuth {
  const core = createAdapterCore(options);
  const { verifier } = core;
  // Requests this middleware verified. Not `req.auth`: another library may have set that.
  const verified = new WeakMap<IncomingMessage, OptixAuth>();

  async function authenticate(req: Req, res: ServerResponse, next: Next, r: CheckedRequirements | null) {
    const known = verified.get(req);
    const result = await core.authorize(
      {
        authorization: req.headers.authorization,
        endpoint: () => endpointOf(req),
        ...(known !== undefined ? { verified: known } : {}),
      },
      r,
    );
    if (known === undefined && result.auth !== null) {
      verified.set(req, result.auth);
      req.auth = result.auth;
    }
    if (!result.ok) return send(res, next, result.error, result.hadToken);
    next();
  }

  const middleware = ((req, res, next) => {
    authenticate(req as Req, res, next, null).catch(next);
  }) as OptixExpressAuth;
  Object.defineProperties(middleware, {
    require: {
      value(requirements: AuthRequirements): Middleware {
        const r = core.requirements(requirements);
        return (req, res, next) => {
          authenticate(req as Req, res, next, r).catch(next);
        };
      },
    },
    verifier: { value: verifier, enumerable: true },
    close: { value: () => verifier.close() },
  });
  return middleware;
}

export default optixAuth;
