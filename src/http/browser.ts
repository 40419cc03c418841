/**
 * Browser mode's HTTP plumbing: CORS for an explicit allow-list (`CORS_ORIGINS`), the CSRF check
 * of cookie-authenticated routes, and the refresh cookie's attributes. The routes are in
 * `routes/browser.ts`; the flow is in the README ("Browser apps").
 *
 * CORS applies to two path families only: `/v1/browser/*` (the cookie routes; credentials
 * allowed) and `/v1/me/*` (the page's in-memory access token as a Bearer header). Service and
 * admin routes never answer a browser: their keys must never be in one. With `CORS_ORIGINS`
 * unset, no response carries any `Access-Control-*` header.
 */
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpError } from './errors.js';

/**
 * The refresh cookie. `__Secure-` (not `__Host-`): `__Host-` requires `Path=/`, and this cookie is
 * scoped to the browser routes so that it travels with no other request. The prefix makes the
 * browser refuse it unless it is `Secure` and set by a secure origin, so a man in the middle on
 * plain HTTP cannot plant one.
 */
export const REFRESH_COOKIE = '__Secure-optix_refresh';
/** Every cookie route is under this path, and the cookie is sent to nothing else. */
export const BROWSER_PATH = '/v1/browser';
/** The header a cookie route requires: a page on another origin cannot send it without a preflight. */
export const CSRF_HEADER = 'x-optix-csrf';

const CORS_METHODS = ['GET', 'POST', 'DELETE'];
const CORS_HEADERS = ['authorization', 'content-type', CSRF_HEADER];
/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q === -1 ? request.url : request.url.slice(0, q);
}

const isBrowserPath = (path: string) => path.startsWith(`${BROWSER_PATH}/`);
const isMePath = (path: string) => path.startsWith('/v1/me/');

/**
 * Registers `@fastify/cookie` (parsing and `setCookie`) and `@fastify/cors` with a per-request
 * decision: an allowed origin on a browser or `/v1/me` path gets its own origin echoed (never
 * `*`), `Vary: Origin`, and on `/v1/browser/*` `Access-Control-Allow-Credentials`. A preflight
 * from any other origin to those paths is refused (403 `ERR_ORIGIN_NOT_ALLOWED`, no CORS header);
 * everything else gets no CORS header at all.
 *
 * `scope` is the encapsulated scope of the browser and `/v1/me` routes (`app.ts`), and CORS's
 * catch-all `OPTIONS *` route, which answers every preflight: the plugins' hooks run for those
 * routes only. Run on every request, they cost a warm introspection ~11% of the service's CPU
 * (`@fastify/cors` re-normalizes the delegator's options per request; `@fastify/cookie` gives
 * every request a cookie map), for routes that never answer a browser. What they gave every other
 * answer is kept by `app.ts`: `Vary: Origin` on every response, and `unmatchedCors` on 404/405.
 */
export async function registerBrowserSupport(
  scope: FastifyInstance,
  corsOrigins: readonly string[],
): Promise<void> {
  const allowed = new Set(corsOrigins);
  await scope.register(cookie);
  // Runs before the CORS hook (registered first): a refused preflight never reaches it.
  scope.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'OPTIONS') {
      const path = pathOf(request);
      const origin = request.headers.origin;
      if ((isBrowserPath(path) || isMePath(path)) && (typeof origin !== 'string' || !allowed.has(origin))) {
        done(httpError('ERR_ORIGIN_NOT_ALLOWED', 'this origin is not allowed (CORS_ORIGINS)'));
        return;
      }
    }
    done();
  });
  await scope.register(cors, {
    hideOptionsRoute: true,
    delegator: (request, callback) => {
      const origin = request.headers.origin;
      const path = pathOf(request);
      const browser = isBrowserPath(path);
      if (typeof origin !== 'string' || !allowed.has(origin) || !(browser || isMePath(path))) {
        callback(null, { origin: false });
        return;
      }
      callback(null, {
        origin,
        credentials: browser,
        methods: CORS_METHODS,
        allowedHeaders: CORS_HEADERS,
        maxAge: PREFLIGHT_MAX_AGE_SECONDS,
      });
    },
  });
}

/**
 * The CORS headers `@fastify/cors` gave a 404 or 405 answer when it ran on every request: for an
 * allowed origin on a browser or `/v1/me` path, its origin echoed, and on `/v1/browser/*`
 * `Access-Control-Allow-Credentials` (so a page can read why its request failed). `Vary: Origin`
 * is on every answer already (`app.ts`).
 */
export function unmatchedCors(corsOrigins: readonly string[]) {
  const allowed = new Set(corsOrigins);
  return (request: FastifyRequest, reply: FastifyReply): void => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !allowed.has(origin)) return;
    const path = pathOf(request);
    const browser = isBrowserPath(path);
    if (!browser && !isMePath(path)) return;
    reply.header('access-control-allow-origin', origin);
    if (browser) reply.header('access-control-allow-credentials', 'true');
  };
}

/**
 * onRequest hook of the cookie routes (CSRF defence). A browser attaches the refresh cookie to
 * any request to its path — including one a hostile page triggers, and `SameSite=Strict` does not
 * help when that page is same-site (another port or subdomain). So the cookie is only honoured
 * when the request proves it comes from `fetch` on an allowed page:
 *
 * - `Origin` is present and listed in `CORS_ORIGINS` (browsers always send it on cross-origin
 *   requests and on every POST; a page cannot forge it). No `Origin` (an old browser, a privacy
 *   proxy) is refused rather than trusted.
 * - `Sec-Fetch-Mode`, when sent (Fetch Metadata), is `cors` or `same-origin`: a form post or a
 *   link (`navigate`) and a `no-cors` request are refused.
 * - The custom header `X-OPTIX-CSRF: 1` is present: it makes every cross-origin request a
 *   preflighted one, which the CORS allow-list refuses for other origins, so such a page cannot
 *   even send the request. This is OWASP's "custom request header" defence; with it and the
 *   Origin check, a synchronizer token would add nothing (a page that could read one could also
 *   call the route itself).
 */
export function requireBrowserOrigin(corsOrigins: readonly string[]) {
  const allowed = new Set(corsOrigins);
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !allowed.has(origin)) {
      throw httpError(
        'ERR_ORIGIN_NOT_ALLOWED',
        allowed.size === 0
          ? 'browser mode is off (CORS_ORIGINS is empty)'
          : 'the Origin header is missing or not allowed (CORS_ORIGINS)',
      );
    }
    const mode = request.headers['sec-fetch-mode'];
    if (mode !== undefined && mode !== 'cors' && mode !== 'same-origin') {
      throw httpError('ERR_ORIGIN_NOT_ALLOWED', `a ${String(mode)} request cannot use the refresh cookie`);
    }
    if (request.headers[CSRF_HEADER] !== '1') {
      throw httpError('ERR_ORIGIN_NOT_ALLOWED', 'the X-OPTIX-CSRF: 1 header is required');
    }
  };
}

/** Sets the refresh cookie: HttpOnly, Secure, SameSite=Strict, on the browser routes only. */
export function setRefreshCookie(reply: FastifyReply, refreshToken: string, maxAgeSeconds: number): void {
  reply.setCookie(REFRESH_COOKIE, refreshToken, {
    path: BROWSER_PATH,
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    maxAge: maxAgeSeconds,
  });
}

/** Expires the refresh cookie (same name, path and attributes, `Max-Age=0`). */
export function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, { path: BROWSER_PATH, httpOnly: true, secure: true, sameSite: 'strict' });
}
