/** The HTTP routes the fuzzer knows: auth, parameters, body kind, and how each answers errors. */

export type AuthKind = 'service' | 'user' | 'none';
export type BodyKind =
  | 'createSession'
  | 'refresh'
  | 'oauthRefresh'
  | 'token'
  | 'trustDevice'
  | 'rotateSession'
  | 'checkDevice';
export type ParamName = 'userId' | 'sessionId' | 'deviceId' | '*';

export interface RouteSpec {
  method: string;
  url: string;
  auth: AuthKind;
  params?: readonly ParamName[];
  query?: boolean;
  body?: BodyKind;
  /** Takes form bodies too. */
  form?: boolean;
  /** Revokes what its parameter names: never given the bystander's ids. */
  destructive?: boolean;
  /** Answers errors as RFC 6749 §5.2 (`{ error, error_description }`), not the catalog. */
  oauthErrors?: boolean;
  /** Never acts in the fuzz world (browser mode is off there): coverage asks for its refusals. */
  refusedInWorld?: boolean;
}

/** Every route the app serves. The tests fail when the app has a route this list lacks. */
export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', url: '/docs', auth: 'none' },
  { method: 'GET', url: '/docs/json', auth: 'none' },
  { method: 'GET', url: '/docs/yaml', auth: 'none' },
  { method: 'GET', url: '/docs/static/index.html', auth: 'none' },
  { method: 'GET', url: '/docs/static/swagger-initializer.js', auth: 'none' },
  { method: 'GET', url: '/docs/static/*', auth: 'none', params: ['*'] },
  { method: 'GET', url: '/healthz', auth: 'none' },
  { method: 'GET', url: '/readyz', auth: 'none' },
  { method: 'GET', url: '/metrics', auth: 'none' },
  { method: 'GET', url: '/.well-known/jwks.json', auth: 'none' },
  { method: 'GET', url: '/.well-known/oauth-authorization-server', auth: 'none' },
  {
    method: 'POST',
    url: '/v1/oauth/token',
    auth: 'none',
    body: 'oauthRefresh',
    form: true,
    oauthErrors: true,
  },
  { method: 'POST', url: '/v1/sessions', auth: 'service', body: 'createSession' },
  {
    method: 'POST',
    url: '/v1/sessions/:sessionId/mfa',
    auth: 'service',
    params: ['sessionId'],
    destructive: true,
  },
  {
    method: 'POST',
    url: '/v1/sessions/:sessionId/rotate',
    auth: 'service',
    params: ['sessionId'],
    body: 'rotateSession',
    destructive: true,
  },
  { method: 'POST', url: '/v1/devices/check', auth: 'service', body: 'checkDevice' },
  { method: 'POST', url: '/v1/token/refresh', auth: 'none', body: 'refresh' },
  { method: 'POST', url: '/v1/revoke', auth: 'none', body: 'token', form: true },
  { method: 'POST', url: '/v1/introspect', auth: 'service', body: 'token', form: true },
  { method: 'GET', url: '/v1/me/sessions', auth: 'user' },
  { method: 'DELETE', url: '/v1/me/sessions/:sessionId', auth: 'user', params: ['sessionId'] },
  { method: 'POST', url: '/v1/me/logout', auth: 'user' },
  { method: 'POST', url: '/v1/me/logout-others', auth: 'user' },
  { method: 'GET', url: '/v1/me/devices', auth: 'user' },
  { method: 'POST', url: '/v1/me/devices', auth: 'user', body: 'trustDevice' },
  { method: 'DELETE', url: '/v1/me/devices/:deviceId', auth: 'user', params: ['deviceId'] },
  { method: 'GET', url: '/v1/me/security-events', auth: 'user', query: true },
  { method: 'GET', url: '/v1/admin/users/:userId/sessions', auth: 'service', params: ['userId'] },
  {
    method: 'DELETE',
    url: '/v1/admin/users/:userId/sessions',
    auth: 'service',
    params: ['userId'],
    destructive: true,
  },
  {
    method: 'DELETE',
    url: '/v1/admin/sessions/:sessionId',
    auth: 'service',
    params: ['sessionId'],
    destructive: true,
  },
  {
    method: 'GET',
    url: '/v1/admin/users/:userId/security-events',
    auth: 'service',
    params: ['userId'],
    query: true,
  },
  { method: 'GET', url: '/v1/admin/stats', auth: 'service' },
  { method: 'POST', url: '/v1/admin/cleanup', auth: 'service' },
  // Browser mode is off in the fuzz world (no CORS_ORIGINS): these never act.
  { method: 'POST', url: '/v1/browser/session', auth: 'none', refusedInWorld: true },
  { method: 'POST', url: '/v1/browser/refresh', auth: 'none', refusedInWorld: true },
  { method: 'POST', url: '/v1/browser/logout', auth: 'none', refusedInWorld: true },
  { method: 'GET', url: '/v1/admin/overview', auth: 'service' },
  // The operator console's routes need ADMIN_ROLE, which no token of the fuzz world carries.
  { method: 'GET', url: '/v1/operator/me', auth: 'user', refusedInWorld: true },
  { method: 'GET', url: '/v1/operator/overview', auth: 'user', refusedInWorld: true },
  {
    method: 'GET',
    url: '/v1/operator/users/:userId',
    auth: 'user',
    params: ['userId'],
    refusedInWorld: true,
  },
  {
    method: 'GET',
    url: '/v1/operator/users/:userId/events',
    auth: 'user',
    params: ['userId'],
    query: true,
    refusedInWorld: true,
  },
  {
    method: 'POST',
    url: '/v1/operator/sessions/:sessionId/end',
    auth: 'user',
    params: ['sessionId'],
    destructive: true,
    refusedInWorld: true,
  },
  {
    method: 'POST',
    url: '/v1/operator/users/:userId/revoke',
    auth: 'user',
    params: ['userId'],
    destructive: true,
    refusedInWorld: true,
  },
  // The web consoles: static pages and assets (src/http/console.ts).
  { method: 'GET', url: '/account', auth: 'none' },
  { method: 'GET', url: '/admin', auth: 'none' },
  { method: 'GET', url: '/console/*', auth: 'none', params: ['*'] },
];

export function routeKey(method: string, url: string): string {
  return `${method} ${url}`;
}

/** Routes of the app with no entry in ROUTES (HEAD is covered by its GET). */
export function unmodelledRoutes(routes: ReadonlyArray<{ method: string; url: string }>): string[] {
  const known = new Set(ROUTES.map((r) => routeKey(r.method, r.url)));
  return routes
    .filter((r) => !known.has(routeKey(r.method === 'HEAD' ? 'GET' : r.method, r.url)))
    .map((r) => routeKey(r.method, r.url));
}
