/**
 * One fuzz case: a fresh victim, then one to three actions — HTTP requests to any route (a valid
 * request with up to three hostile changes: credentials, path parameters, query, body fields, the
 * whole body, content type, headers, method, path) or direct calls of the services (verify,
 * refresh, revoke, blacklist with hostile TTLs, event listing with hostile limits, device trust,
 * session lookups, configuration) — then checks.
 *
 * Checked at every action: nothing throws out of the service, no 5xx, every error is
 * `{ error: { code, message } }` with a catalog code whose status is the one `HTTP_STATUS` gives,
 * every 401 carries `WWW-Authenticate`; nothing is accepted on a credential that is not live and
 * genuine (introspection answers exactly `{"active":false}` otherwise); a genuine live credential
 * in a well-formed request is accepted. After the case: the victim's tokens, family, session and
 * devices are exactly what the model says (hostile input revoked nothing, a reported revocation
 * took effect), the bystander is untouched, and no secret reached the logs.
 *
 * This module runs a case and checks it; `routes.ts` lists the routes (every route the app serves
 * must be there), `recipes.ts` generates cases, `stats.ts` counts outcomes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import { ERROR_CODES, type ErrorCode, isOptixError } from '../../src/core/errors.js';
import { newUserScopedId } from '../../src/core/ids.js';
import { HTTP_STATUS } from '../../src/http/errors.js';
import { jtiOf, VictimModel } from './model.js';
import type {
  Action,
  CaseRecipe,
  CleanChoice,
  Enc,
  HttpMutation,
  IdChoice,
  NumValue,
  ParamRecipe,
  Party,
  RawBody,
} from './recipes.js';
import { type BodyKind, type ParamName, ROUTES, type RouteSpec } from './routes.js';
import type { FuzzStats } from './stats.js';
import { identity, type JsonLike, resolveToken } from './tokens.js';
import { poolsFor, type World } from './world.js';

class Violation extends Error {}

function fail(message: string): never {
  throw new Violation(message);
}

/**
 * Bugs found by the fuzzer in code this suite does not own, reported and awaiting a fix: counted
 * (and shown in the summary) instead of failing, unless FUZZ_STRICT=1.
 */
export const KNOWN_ISSUES: Readonly<Record<string, string>> = {};

/** Counts a known issue (or fails on it with FUZZ_STRICT=1). None is open at the moment. */
export function knownIssue(ctx: CaseContext, id: keyof typeof KNOWN_ISSUES): void {
  if (process.env.FUZZ_STRICT === '1') fail(`known issue ${id}: ${KNOWN_ISSUES[id]}`);
  ctx.stats.count('known issues (FUZZ_STRICT=1 fails on them)', id);
}

export interface CaseContext {
  world: World;
  model: VictimModel;
  stats: FuzzStats;
  trace: string[];
}

function poolsOf(ctx: CaseContext) {
  return poolsFor(ctx.world, { access: ctx.model.accessStrings(), refresh: ctx.model.refresh });
}

function pickOf<T>(list: readonly T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}

/** An id of a party, for a parameter or a service argument. */
function partyId(ctx: CaseContext, name: ParamName, p: Party, index: number, destructive: boolean): string {
  const { world, model } = ctx;
  const who = destructive && p === 'bystander' ? 'dead' : p;
  switch (name) {
    case 'userId':
      if (who === 'victim') return model.userId;
      if (who === 'bystander') return world.bystander.userId;
      if (who === 'dead') return pickOf(world.dead.userIds, index) ?? 'nobody';
      return world.freshUserId('fresh');
    case 'sessionId':
      if (who === 'victim') return model.sessionId;
      if (who === 'bystander') return pickOf(world.bystander.creds, index)!.sessionId;
      if (who === 'dead')
        return (
          pickOf([...world.dead.sessionIds, ...world.dead.liveSessionIds], index) ?? newUserScopedId('x')
        );
      return newUserScopedId(world.freshUserId('fresh'));
    case 'deviceId':
      if (who === 'victim') return pickOf([...model.devices], index) ?? `device-${index}`;
      if (who === 'bystander') return world.bystander.deviceId;
      if (who === 'dead') return `dead-device-${index}`;
      return randomBytes(16).toString('base64url').slice(0, 22);
    case '*':
      return (
        pickOf(
          [
            'index.html',
            'swagger-ui.css',
            'swagger-ui-bundle.js',
            'favicon-32x32.png',
            'oauth2-redirect.html',
            'nope.txt',
            // /console/* (the docs answer 404 for these, the consoles for the docs' names)
            'shared/console.css',
            'account/main.js',
          ],
          index,
        ) ?? 'index.html'
      );
  }
}

const LOOSE_KEEP = /%(2A|5B|5D|3A|7B|7D|40|7C|2B|3D|7E|21|24|26|27|28|29|3B|2C)/g;

function encodeParam(value: string, e: Enc | 'raw-slash'): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // Lone surrogates cannot be encoded: percent-encode their code units as UTF-8 would not.
    encoded = [...value]
      .map((c) => (c.length === 1 && /[\ud800-\udfff]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c)))
      .join('');
  }
  switch (e) {
    case 'component':
      return encoded;
    case 'loose':
      return encoded.replace(LOOSE_KEEP, (m) => decodeURIComponent(m));
    case 'double':
      return encoded.replace(/%/g, '%25');
    case 'badpct':
      return `${encoded}%ZZ`;
    case 'raw-slash':
      return encoded.replace(/%2F/gi, '/');
  }
}

function paramValue(ctx: CaseContext, name: ParamName, recipe: ParamRecipe, destructive: boolean): string {
  const e = name === '*' && recipe.k !== 'long' && recipe.enc === 'component' ? 'raw-slash' : undefined;
  switch (recipe.k) {
    case 'ref':
      return encodeParam(partyId(ctx, name, recipe.party, recipe.index, destructive), e ?? recipe.enc);
    case 'mutate': {
      const base = partyId(ctx, name, recipe.party, recipe.index, destructive);
      let out = base;
      const pools = poolsOf(ctx);
      for (const op of recipe.ops) {
        out = resolveToken(
          { t: 'mutate', base: { who: 'dead', kind: 'access', index: 0 }, ops: [op] },
          {
            ...pools,
            deadAccess: [out],
          },
        );
      }
      if (out === base) out = `${base}A`;
      return encodeParam(out, e ?? recipe.enc);
    }
    case 'value':
      return encodeParam(recipe.value, e ?? recipe.enc);
    case 'long':
      return 'a'.repeat(recipe.n);
  }
}

function sampleUserAgent(n: number): string {
  return pickOf(['Mozilla/5.0 (X11; Linux x86_64)', 'optix-ios/3.2', 'curl/8.5.0', ''], n) ?? '';
}

interface BuiltBody {
  payload: string | Buffer | undefined;
  contentType: string | undefined;
  /** The parsed values the service sees, when the body is a plain object of fields. */
  fields: Record<string, unknown> | null;
  /** Exactly the route's schema: required fields, valid values, nothing else. */
  clean: boolean;
}

function deepBody(depth: number, shape: 'array' | 'object' | 'proto' | 'string'): string {
  switch (shape) {
    case 'array':
      return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    case 'object':
      return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    case 'proto':
      return `${'{"a":'.repeat(depth)}{"__proto__":{"x":1}}${'}'.repeat(depth)}`;
    case 'string':
      return `{"token":${'['.repeat(depth)}"x"${']'.repeat(depth)}}`;
  }
}

function rawPayload(body: RawBody): { payload: string | Buffer; ct: string } {
  switch (body.k) {
    case 'json':
      return { payload: JSON.stringify(body.value) ?? 'null', ct: 'application/json' };
    case 'text':
      return { payload: body.value, ct: 'application/json' };
    case 'bytes':
      return { payload: Buffer.from(body.bytes), ct: 'application/json' };
    case 'deep':
      return { payload: deepBody(body.depth, body.shape), ct: 'application/json' };
    case 'huge':
      return body.json
        ? { payload: JSON.stringify({ token: 'x'.repeat(body.n) }), ct: 'application/json' }
        : { payload: 'x'.repeat(body.n), ct: 'application/json' };
  }
}

/** The same JSON with the letters and non-ASCII characters of every string written as \\uXXXX. */
function escapeJson(json: string): string {
  return json.replace(/"(?:[^"\\]|\\.)*"/g, (literal) =>
    literal.replace(/\\.|[^\x20-\x40\x5b-\x60\x7b-\x7e]/g, (c) =>
      c.length === 2 ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    ),
  );
}

function formEncode(fields: Record<string, unknown>): string {
  const parts: string[] = [];
  const enc = (s: string) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
    }
  };
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    for (const item of values)
      parts.push(`${enc(k)}=${enc(typeof item === 'string' ? item : (JSON.stringify(item) ?? ''))}`);
  }
  return parts.join('&');
}

/** A trust-device or create-session body of valid values, varied by `n`. */
function cleanFields(
  ctx: CaseContext,
  kind: BodyKind,
  c: CleanChoice,
  revoke: boolean,
): Record<string, unknown> {
  const pools = poolsOf(ctx);
  switch (kind) {
    case 'createSession': {
      const n = c.optional;
      const fields: Record<string, unknown> = {
        userId: ctx.world.freshUserId('created'),
        ipAddress: pickOf(['203.0.113.9', '2001:db8::1', '::1', '198.51.100.250'], n),
        userAgent: sampleUserAgent(n >> 2),
      };
      if (n & 1) fields.email = 'someone@example.com';
      if (n & 2) fields.roles = ['user', 'trader'];
      if (n & 4) fields.permissions = ['read', 'trade:equities'];
      if (n & 8) fields.deviceFingerprint = `fp-${n}`;
      if (n & 16) fields.deviceId = `device-${n}`;
      if (n & 32) fields.mfaVerified = (n & 64) !== 0;
      return fields;
    }
    case 'refresh':
    case 'oauthRefresh': {
      const list = c.token.party === 'victim' ? ctx.model.refresh : pools.deadRefresh;
      // Mostly the current token; sometimes an older one (grace, reuse) or a dead one.
      const token =
        c.token.party === 'victim' && c.token.index % 4 !== 0
          ? list[list.length - 1]
          : (pickOf(list, c.token.index) ?? '');
      // The OAuth token endpoint: the same token as an RFC 6749 §6 refresh grant.
      return kind === 'refresh'
        ? { refreshToken: token }
        : { grant_type: 'refresh_token', refresh_token: token };
    }
    case 'token': {
      const t = c.token;
      const lists = {
        victim: { access: ctx.model.accessStrings(), refresh: ctx.model.refresh },
        bystander: { access: pools.bystanderAccess, refresh: pools.bystanderRefresh },
        dead: { access: pools.deadAccess, refresh: pools.deadRefresh },
      };
      let who = t.party;
      // Revoke is destructive (and refresh tokens are spent): never the bystander's, unaltered.
      if (who === 'bystander' && (revoke || t.kind === 'refresh')) who = 'dead';
      const token = pickOf(lists[who][t.kind], t.index) ?? 'x';
      return { token, ...(c.hint !== null ? { token_type_hint: c.hint } : {}) };
    }
    case 'rotateSession':
      return c.optional & 1 ? { roles: ['trader'] } : {};
    case 'checkDevice':
      return { userId: ctx.model.userId, deviceFingerprint: `fp-${c.optional}-${c.index}` };
    case 'trustDevice':
      // No fingerprint: the route trusts the session's own device.
      return {
        deviceName: pickOf(['Work laptop', 'Phone', 'Tablet'], c.optional) ?? 'x',
        deviceType: pickOf(['desktop', 'mobile', 'tablet'], c.index) ?? 'x',
        ...(c.days !== null ? { durationDays: c.days } : {}),
      };
  }
}

function isValidTokenString(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= 8192;
}

function buildBody(
  ctx: CaseContext,
  spec: RouteSpec,
  action: Extract<Action, { a: 'http' }>,
  revokeRoute: boolean,
): BuiltBody {
  const muts = action.mutations;
  const whole = muts.filter((m): m is Extract<HttpMutation, { m: 'body' }> => m.m === 'body').at(-1);
  const ct = muts.filter((m): m is Extract<HttpMutation, { m: 'ct' }> => m.m === 'ct').at(-1);
  const encMut = muts.filter((m): m is Extract<HttpMutation, { m: 'encoding' }> => m.m === 'encoding').at(-1);
  if (whole) {
    const raw = rawPayload(whole.body);
    return { payload: raw.payload, contentType: ct ? ct.ct : raw.ct, fields: null, clean: false };
  }
  const fieldMuts = muts.filter((m) => m.m === 'field' || m.m === 'extraField' || m.m === 'dropField');
  if (!spec.body) {
    // Routes without a body: a field mutation still sends one.
    if (fieldMuts.length === 0 && !ct)
      return { payload: undefined, contentType: undefined, fields: null, clean: true };
    const fields: Record<string, unknown> = {};
    for (const m of fieldMuts) if (m.m === 'extraField') fields[m.name] = m.value;
    return {
      payload: JSON.stringify(fields),
      contentType: ct ? ct.ct : 'application/json',
      fields: null,
      clean: false,
    };
  }
  const fields = cleanFields(ctx, spec.body, action.clean, revokeRoute);
  let clean = true;
  const pools = poolsOf(ctx);
  for (const m of fieldMuts) {
    if (m.m === 'field') {
      clean = false;
      let token: string | JsonLike;
      if (m.value.k === 'token') {
        // Altered credentials only: an exact victim token comes from the clean choice.
        token = resolveToken(
          m.value.token.t === 'exact' ? { t: 'mutate', base: m.value.token.base, ops: [] } : m.value.token,
          pools,
        );
      } else token = m.value.value;
      // Never create sessions for the bystander (the cap would evict its sessions).
      if (m.name === 'userId' && token === ctx.world.bystander.userId) token = `${token}x`;
      fields[m.name] = token;
    } else if (m.m === 'extraField') {
      clean = false;
      if (m.name !== '__proto__') fields[m.name] = m.value;
    } else {
      if (m.name in fields) clean = false;
      delete fields[m.name];
    }
  }
  if (spec.body === 'token' && !isValidTokenString(fields.token)) clean = false;
  if (spec.body === 'refresh' && !isValidTokenString(fields.refreshToken)) clean = false;
  if (spec.body === 'oauthRefresh' && !isValidTokenString(fields.refresh_token)) clean = false;
  const encoding = encMut?.enc ?? (spec.form ? action.clean.enc : 'json');
  if (encMut?.enc === 'form' && !spec.form) clean = false;
  let payload: string;
  let contentType: string;
  if (encoding === 'form') {
    payload = formEncode(fields);
    contentType = 'application/x-www-form-urlencoded';
    // Form values are strings: a non-string field cannot round-trip.
    if (Object.values(fields).some((v) => typeof v !== 'string')) clean = false;
  } else {
    payload = encoding === 'json-escaped' ? escapeJson(JSON.stringify(fields)) : JSON.stringify(fields);
    contentType = 'application/json';
  }
  if (ct) clean = false;
  return { payload, contentType: ct ? ct.ct : contentType, fields, clean };
}

interface BuiltAuth {
  header: string | string[] | undefined;
  /** 'service' when the header carries a configured key as the service expects it. */
  legitService: boolean;
  /** The bearer token as the service reads it, when the header has the expected shape. */
  bearer: string | null;
  clean: boolean;
}

/** The bearer credential of an Authorization value as RFC 6750 reads it (scheme case-insensitive). */
const BEARER = /^bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i;

function buildAuth(ctx: CaseContext, spec: RouteSpec, action: Extract<Action, { a: 'http' }>): BuiltAuth {
  const mut = action.mutations
    .filter((m): m is Extract<HttpMutation, { m: 'auth' }> => m.m === 'auth')
    .at(-1);
  const keys = ctx.world.serviceKeys;
  if (!mut) {
    if (spec.auth === 'service') {
      const key = keys[action.clean.serviceKey];
      return { header: `Bearer ${key}`, legitService: true, bearer: key, clean: true };
    }
    if (spec.auth === 'user') {
      const token = ctx.model.tokens.at(-1)!.token;
      return { header: `Bearer ${token}`, legitService: false, bearer: token, clean: true };
    }
    return { header: undefined, legitService: false, bearer: null, clean: true };
  }
  const a = mut.auth;
  let header: string | string[] | undefined;
  switch (a.k) {
    case 'none':
      header = undefined;
      break;
    case 'service':
      header = `${a.scheme}${keys[a.which]}${a.trail}`;
      break;
    case 'token':
      header = `${a.scheme}${resolveToken(a.token, poolsOf(ctx))}${a.trail}`;
      break;
    case 'raw':
      header = a.value;
      break;
    case 'multi':
      header = a.values;
      break;
  }
  // What the service may take from it: one header, `Bearer <credential>` (any whitespace around).
  const bearer = typeof header === 'string' ? (BEARER.exec(header)?.[1] ?? null) : null;
  const legitService = bearer !== null && (keys as readonly string[]).includes(bearer);
  return { header, legitService, bearer, clean: a.k === 'service' && legitService };
}

const STACK = /\n\s+at /;

/** The properties every response has. Returns the parsed JSON body (or null). */
/** RFC 6749 §5.2 error codes (plus the registered extensions the token endpoint uses). */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'invalid_scope',
  'unsupported_grant_type',
  'slow_down',
  'temporarily_unavailable',
]);

function checkOAuthError(res: LightMyRequestResponse, method: string, where: string, body: unknown): void {
  // OPTIONS is the CORS plugin's preflight route, not the token endpoint: it answers the catalog.
  if (
    res.statusCode < 400 ||
    method === 'HEAD' ||
    method === 'OPTIONS' ||
    res.statusCode === 404 ||
    res.statusCode === 405
  )
    return;
  const b = body as { error?: unknown; error_description?: unknown } | null;
  if (!b || typeof b.error !== 'string' || !OAUTH_ERRORS.has(b.error))
    fail(`${where}: ${res.statusCode} without an RFC 6749 error body: ${res.body.slice(0, 200)}`);
  if (Object.keys(b).sort().join(',') !== 'error,error_description')
    fail(`${where}: error body has keys ${Object.keys(b)}`);
  if (typeof b.error_description !== 'string' || STACK.test(b.error_description))
    fail(`${where}: bad error_description ${String(b.error_description)}`);
}

function checkResponse(
  res: LightMyRequestResponse,
  method: string,
  where: string,
  spec?: RouteSpec,
  routeIntact = true,
): unknown {
  if (res.statusCode >= 500) fail(`${where}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  let body: unknown = null;
  const type = String(res.headers['content-type'] ?? '');
  if (method !== 'HEAD' && type.startsWith('application/json')) {
    try {
      body = JSON.parse(res.body);
    } catch {
      fail(`${where}: ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`);
    }
  }
  if (method === 'HEAD' && res.body !== '') fail(`${where}: HEAD answered with a body`);
  if (spec?.oauthErrors && routeIntact) {
    checkOAuthError(res, method, where, body);
    return body;
  }
  if (res.statusCode >= 400 && method !== 'HEAD') {
    const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (!err || typeof err !== 'object')
      fail(`${where}: ${res.statusCode} without an error body: ${res.body.slice(0, 200)}`);
    const keys = Object.keys(body as object).join(',');
    if (keys !== 'error') fail(`${where}: error body has other keys: ${keys}`);
    if (Object.keys(err).sort().join(',') !== 'code,message')
      fail(`${where}: error has keys ${Object.keys(err)}`);
    if (typeof err.code !== 'string' || !(ERROR_CODES as readonly string[]).includes(err.code)) {
      fail(`${where}: code ${String(err.code)} is not in the catalog`);
    }
    if (HTTP_STATUS[err.code as ErrorCode] !== res.statusCode) {
      fail(
        `${where}: ${err.code} answered with ${res.statusCode}, the catalog says ${HTTP_STATUS[err.code as ErrorCode]}`,
      );
    }
    if (typeof err.message !== 'string' || STACK.test(err.message))
      fail(`${where}: bad message ${String(err.message)}`);
  }
  if (res.statusCode === 401 && !String(res.headers['www-authenticate'] ?? '').startsWith('Bearer ')) {
    fail(`${where}: 401 without WWW-Authenticate`);
  }
  return body;
}

/** Tokens and ids in a response are secrets (the log checks look for them). */
function collectSecrets(ctx: CaseContext, value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) collectSecrets(ctx, v);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (
      typeof v === 'string' &&
      /^(accessToken|refreshToken|sessionId|sid|token|access_token|refresh_token)$/.test(k)
    )
      ctx.world.secret(v);
    else collectSecrets(ctx, v);
  }
}

interface Owner {
  userId: string;
  jti: string;
  /** The genuine string itself (not another spelling of its signature). */
  exact: boolean;
}

/**
 * Whose live credential `token` is: the same header and payload as a live token of the victim or
 * of the bystander (another signature spelling of a live token names the same credential and may
 * verify, e.g. an ES256 signature (r, n − s)). 'unknown' when the model cannot tell.
 */
function liveOwner(ctx: CaseContext, token: unknown): Owner | null | 'unknown' {
  const t = ctx.model.find(token);
  if (t) {
    if (t.state === 'unknown') return 'unknown';
    return t.state === 'live' ? { userId: ctx.model.userId, jti: t.jti, exact: t.token === token } : null;
  }
  if (typeof token !== 'string' || token.split('.').length !== 3) return null;
  const id = identity(token);
  const c = ctx.world.bystander.creds.find((b) => identity(b.access) === id);
  return c ? { userId: c.userId, jti: c.jti, exact: c.access === token } : null;
}

const handlers = new WeakMap<World, Map<string, unknown>>();

/** The handler the router finds for a spec's route (parameters filled with plain values). */
function handlerOf(world: World, spec: RouteSpec, method: string): unknown {
  let m = handlers.get(world);
  if (!m) {
    m = new Map();
    handlers.set(world, m);
  }
  const key = `${method} ${spec.url}`;
  if (!m.has(key)) {
    const sample = spec.url.replace('*', 'zzz.txt').replace(/:[A-Za-z]+/g, 'x');
    m.set(key, world.app.findRoute({ method, url: sample })?.handler ?? null);
  }
  return m.get(key);
}

async function runHttp(ctx: CaseContext, action: Extract<Action, { a: 'http' }>): Promise<void> {
  const { world, model } = ctx;
  const spec = ROUTES[action.route % ROUTES.length]!;
  const muts = action.mutations;
  const methodMut = muts.filter((m): m is Extract<HttpMutation, { m: 'method' }> => m.m === 'method').at(-1);
  const method = methodMut ? methodMut.method : spec.method === 'GET' && action.head ? 'HEAD' : spec.method;

  // Path
  const paramMut = muts.filter((m): m is Extract<HttpMutation, { m: 'param' }> => m.m === 'param').at(-1);
  let path = spec.url;
  for (const name of spec.params ?? []) {
    const recipe: ParamRecipe = paramMut?.param ?? {
      k: 'ref',
      party: action.clean.party,
      index: action.clean.index,
      enc: 'component',
    };
    const value = paramValue(ctx, name, recipe, spec.destructive === true);
    path = name === '*' ? path.replace('*', value) : path.replace(`:${name}`, value);
  }
  const pathMut = muts.filter((m): m is Extract<HttpMutation, { m: 'path' }> => m.m === 'path').at(-1);
  if (pathMut) path += pathMut.suffix;
  // Query
  const queryMut = muts.filter((m): m is Extract<HttpMutation, { m: 'query' }> => m.m === 'query').at(-1);
  let query = '';
  if (queryMut) {
    query = queryMut.pairs
      .map(([k, v]) => `${encodeParam(k, 'component')}=${encodeParam(v, 'component')}`)
      .join('&');
    if (queryMut.raw !== null) query += `&${queryMut.raw.replace(/[#\s]/g, (c) => encodeURIComponent(c))}`;
  } else if (spec.query) {
    const q = action.clean.query;
    const pairs: string[] = [];
    if (q.since !== null) pairs.push(`since=${q.since}`);
    if (q.until !== null) pairs.push(`until=${q.until}`);
    if (q.limit !== null) pairs.push(`limit=${q.limit}`);
    query = pairs.join('&');
  }
  const url = query === '' ? path : `${path}?${query}`;

  const auth = buildAuth(ctx, spec, action);
  const body = buildBody(ctx, spec, action, spec.url === '/v1/revoke');
  const headers: Record<string, string | string[]> = {};
  if (auth.header !== undefined) headers.authorization = auth.header;
  if (body.contentType !== undefined && body.payload !== undefined)
    headers['content-type'] = body.contentType;
  let extraClean = true;
  for (const m of muts) {
    if (m.m !== 'header') continue;
    headers[m.name] = m.value;
    if (m.name === 'accept-version' || m.name === 'accept') extraClean = false;
  }
  const clean =
    auth.clean &&
    body.clean &&
    extraClean &&
    !methodMut &&
    !paramMut &&
    !pathMut &&
    !queryMut &&
    !muts.some((m) => m.m === 'ct' || m.m === 'body');
  const where = `${method} ${spec.url}`;

  // The route and parameters as the router reads them (effects are judged by what the service saw).
  let normalized = path;
  try {
    normalized = new URL(url, 'http://localhost').pathname;
  } catch {
    // light-my-request will refuse it too
  }
  const found = world.app.findRoute({ method, url: normalized });
  const params = (found?.params ?? {}) as Record<string, string>;
  const routeIntact = found !== null && found.handler === handlerOf(world, spec, method);
  if (spec.destructive && Object.values(params).some((v) => v === world.bystander.userId)) {
    throw new Error('fuzz harness: a destructive request named the bystander');
  }

  const wasLive = model.sessionLive;
  const refreshBefore =
    spec.body === 'refresh'
      ? model.refreshOutcome(body.fields?.refreshToken)
      : spec.body === 'oauthRefresh'
        ? model.refreshOutcome(body.fields?.refresh_token)
        : null;
  let res: LightMyRequestResponse;
  try {
    res = await world.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(body.payload !== undefined ? { payload: body.payload } : {}),
    });
  } catch (err) {
    fail(`${where}: inject failed (the request crashed the app?): ${String(err)}`);
  }
  ctx.trace.push(`${method} ${url.slice(0, 160)} -> ${res.statusCode}`);
  const json = checkResponse(res, method, where, spec, routeIntact);
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  ctx.stats.count(`http ${where}`, String(res.statusCode));
  if (json !== null) collectSecrets(ctx, json);

  // Who may be accepted.
  if (ok && routeIntact && spec.auth === 'service' && !auth.legitService) {
    fail(`${where}: ${res.statusCode} without a valid service key (${String(auth.header).slice(0, 60)})`);
  }
  let userOk: Owner | null | 'unknown' = null;
  if (spec.auth === 'user') {
    userOk = auth.bearer === null ? null : liveOwner(ctx, auth.bearer);
    if (ok && routeIntact && userOk === null) {
      fail(
        `${where}: ${res.statusCode} for a credential that is not live (${String(auth.header).slice(0, 80)})`,
      );
    }
    if (ok && userOk !== 'unknown' && userOk !== null && userOk.userId !== model.userId) {
      fail(`${where}: acted as ${userOk.userId}, not the victim`);
    }
  }
  const mustAccept =
    clean &&
    (spec.auth !== 'user' || (userOk !== null && userOk !== 'unknown' && userOk.exact)) &&
    (spec.auth !== 'service' || auth.legitService);
  if (!routeIntact) return;

  switch (`${spec.method} ${spec.url}`) {
    case 'POST /v1/token/refresh': {
      const presented = body.fields?.refreshToken;
      const outcome = refreshBefore ?? 'reject';
      if (ok) {
        if (outcome !== 'rotate' && outcome !== 'grace') {
          fail(`refresh accepted a token the model says is ${outcome}: ${String(presented).slice(0, 80)}`);
        }
        const pair = json as { accessToken: string; refreshToken: string };
        if (outcome === 'grace') {
          assert.deepEqual(
            { accessToken: pair.accessToken, refreshToken: pair.refreshToken },
            model.prevPair,
            'the grace window answers the same pair',
          );
        } else model.rotated(pair, jtiOf(pair.accessToken));
      } else {
        const code = res.statusCode === 401 ? (json as { error: { code: string } }).error.code : '';
        if (code === 'ERR_REFRESH_REUSED') {
          if (outcome !== 'reuse')
            fail(`refresh answered ERR_REFRESH_REUSED for a token the model says is ${outcome}`);
          model.revokeFamily();
        } else if (clean && outcome === 'reuse')
          fail(`reuse of an old refresh token answered ${res.statusCode} ${code}`);
        if (clean && (outcome === 'rotate' || outcome === 'grace')) {
          fail(
            `refresh refused the victim's ${outcome === 'rotate' ? 'current' : 'just-rotated'} token: ${res.body}`,
          );
        }
      }
      return;
    }
    case 'POST /v1/revoke': {
      if (ok) {
        if (JSON.stringify(json) !== '{}') fail(`revoke answered ${res.body}`);
        applyRevoke(ctx, body.fields?.token);
      } else if (mustAccept) fail(`revoke of a well-formed request answered ${res.statusCode} ${res.body}`);
      return;
    }
    case 'POST /v1/introspect': {
      if (ok) {
        checkIntrospection(ctx, body.fields?.token, json, where);
      } else if (mustAccept)
        fail(`introspect of a well-formed request answered ${res.statusCode} ${res.body}`);
      return;
    }
    case 'POST /v1/sessions': {
      if (ok) {
        const created = json as { session: { sessionId: string; userId: string } };
        if (created.session.userId !== body.fields?.userId) fail('a session was created for another user');
        model.otherSessions.add(created.session.sessionId);
      } else if (mustAccept) fail(`create session answered ${res.statusCode} ${res.body}`);
      return;
    }
    case 'POST /v1/me/logout':
      if (ok) model.endSession();
      else if (mustAccept) fail(`logout answered ${res.statusCode} ${res.body}`);
      return;
    case 'DELETE /v1/me/sessions/:sessionId':
      if (ok) {
        if (params.sessionId !== model.sessionId || !wasLive)
          fail(`ended session ${params.sessionId} of someone else`);
        model.endSession();
      } else if (mustAccept && params.sessionId === model.sessionId)
        fail(`ending my session: ${res.statusCode}`);
      return;
    case 'POST /v1/me/logout-others':
      if (ok) {
        if ((json as { ended: number }).ended !== 0) fail(`logout-others ended ${res.body}`);
      } else if (mustAccept) fail(`logout-others answered ${res.statusCode} ${res.body}`);
      return;
    case 'POST /v1/me/devices':
      if (ok) model.devices.add((json as { deviceId: string }).deviceId);
      else if (mustAccept) fail(`trust device answered ${res.statusCode} ${res.body}`);
      return;
    case 'DELETE /v1/me/devices/:deviceId':
      if (ok) {
        if (!model.devices.has(params.deviceId ?? '')) fail(`removed a device that is not the victim's`);
        model.devices.delete(params.deviceId!);
      } else if (mustAccept && model.devices.has(params.deviceId ?? '')) fail(`untrust: ${res.statusCode}`);
      return;
    case 'GET /v1/me/sessions':
      if (ok && method === 'GET') {
        const list = (json as { sessions: Array<{ sessionId: string; userId: string; current?: boolean }> })
          .sessions;
        if (list.some((s) => s.userId !== model.userId)) fail('my sessions list another user');
        if (!list.some((s) => s.sessionId === model.sessionId && s.current === true))
          fail('my session is missing');
      } else if (!ok && mustAccept) fail(`${where}: ${res.statusCode} ${res.body}`);
      return;
    case 'GET /v1/me/devices':
      if (ok && method === 'GET') {
        const ids = (json as { devices: Array<{ deviceId: string }> }).devices.map((d) => d.deviceId).sort();
        assert.deepEqual(ids, [...model.devices].sort(), 'my devices are the ones I trusted');
      } else if (!ok && mustAccept) fail(`${where}: ${res.statusCode} ${res.body}`);
      return;
    case 'DELETE /v1/admin/users/:userId/sessions':
      if (ok) {
        if (params.userId === model.userId) {
          const ended = (json as { ended: number }).ended;
          if (ended !== (wasLive ? 1 : 0)) fail(`revoke-all ended ${ended}, expected ${wasLive ? 1 : 0}`);
          model.revokeUser();
        }
      } else if (mustAccept) fail(`${where}: ${res.statusCode} ${res.body}`);
      return;
    case 'POST /v1/sessions/:sessionId/mfa':
      if (!ok && mustAccept && params.sessionId === model.sessionId && wasLive)
        fail(`${where}: ${res.statusCode}`);
      return;
    case 'POST /v1/devices/check':
      if (ok && (json as { trusted: boolean }).trusted !== false) fail('a made-up fingerprint is trusted');
      if (!ok && mustAccept) fail(`${where}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      return;
    // A rotation moves the session to a new id: for the model, the old id ended.
    case 'POST /v1/sessions/:sessionId/rotate':
    case 'DELETE /v1/admin/sessions/:sessionId':
      if (ok) {
        if (params.sessionId === model.sessionId && wasLive) model.endSession();
        else if (model.otherSessions.has(params.sessionId ?? ''))
          model.otherSessions.delete(params.sessionId!);
        else if (world.dead.liveSessionIds.includes(params.sessionId ?? '')) {
          world.dead.liveSessionIds.splice(world.dead.liveSessionIds.indexOf(params.sessionId!), 1);
          world.dead.sessionIds.push(params.sessionId!);
        } else fail(`ended ${params.sessionId}, which was not live`);
      } else if (mustAccept && params.sessionId === model.sessionId && wasLive)
        fail(`${where}: ${res.statusCode}`);
      return;
    case 'GET /v1/admin/users/:userId/sessions':
      if (ok && method === 'GET') {
        const list = (json as { sessions: Array<{ sessionId: string; userId: string }> }).sessions;
        if (list.some((s) => s.userId !== params.userId)) fail('admin session list mixes users');
        if (
          params.userId === model.userId &&
          list.some((s) => s.sessionId === model.sessionId) !== model.sessionLive
        ) {
          fail('admin session list disagrees with the model');
        }
      } else if (!ok && mustAccept) fail(`${where}: ${res.statusCode} ${res.body}`);
      return;
    case 'POST /v1/oauth/token': {
      // The same model as /v1/token/refresh; errors are RFC 6749 bodies, where reuse, revoked and
      // unknown are all `invalid_grant`.
      const presented = body.fields?.refresh_token;
      const outcome = refreshBefore ?? 'reject';
      if (ok) {
        if (outcome !== 'rotate' && outcome !== 'grace') {
          fail(
            `oauth refresh accepted a token the model says is ${outcome}: ${String(presented).slice(0, 80)}`,
          );
        }
        const out = json as { access_token: string; refresh_token: string };
        const pair = { accessToken: out.access_token, refreshToken: out.refresh_token };
        if (outcome === 'grace')
          assert.deepEqual(pair, model.prevPair, 'the grace window answers the same pair');
        else model.rotated(pair, jtiOf(pair.accessToken));
      } else {
        const error = (json as { error?: string } | null)?.error;
        // An old token that reached the grant is theft: the family is revoked whatever was said.
        if (outcome === 'reuse' && error === 'invalid_grant') model.revokeFamily();
        else if (clean && outcome === 'reuse') fail(`oauth reuse answered ${res.statusCode} ${error}`);
        if (clean && (outcome === 'rotate' || outcome === 'grace')) {
          fail(`oauth refresh refused the victim's ${outcome} token: ${res.body}`);
        }
      }
      return;
    }
    case 'GET /docs/static/*':
    case 'GET /console/*':
      // A missing asset is a 404; whatever is served must come from the docs or web/ folders.
      if (ok && /root:.*:0:0:|"name":\s*"optix-sessions"|BEGIN (PRIVATE|EC PRIVATE)/.test(res.body)) {
        fail(`${where}: served a file from outside the docs: ${url}`);
      }
      return;
    case 'GET /docs':
    case 'GET /docs/static/index.html':
      // Swagger UI redirects between these.
      if (mustAccept && res.statusCode >= 400) fail(`${where}: ${res.statusCode}`);
      return;
    case 'POST /v1/browser/session':
    case 'POST /v1/browser/refresh':
    case 'POST /v1/browser/logout':
      if (ok) fail(`${where}: ${res.statusCode} with browser mode off`);
      return;
    case 'GET /v1/operator/me':
    case 'GET /v1/operator/overview':
    case 'GET /v1/operator/users/:userId':
    case 'GET /v1/operator/users/:userId/events':
    case 'POST /v1/operator/sessions/:sessionId/end':
    case 'POST /v1/operator/users/:userId/revoke':
      if (ok) fail(`${where}: ${res.statusCode} for a token without the admin role`);
      return;
    default:
      if (!ok && mustAccept) fail(`${where}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
}

/** RFC 7009 accepted `token`: what it may have revoked. */
function applyRevoke(ctx: CaseContext, token: unknown): void {
  const { model } = ctx;
  const t = model.find(token);
  if (t) model.blacklisted(t);
  if (typeof token === 'string' && model.refresh.includes(token)) model.revokeFamily();
}

function checkIntrospection(ctx: CaseContext, token: unknown, json: unknown, where: string): void {
  const owner = liveOwner(ctx, token);
  const body = json as Record<string, unknown>;
  if (body.active === true) {
    if (owner === null)
      fail(`${where}: active:true for a token that is not live: ${String(token).slice(0, 100)}`);
    if (owner !== 'unknown' && (body.sub !== owner.userId || body.jti !== owner.jti)) {
      fail(
        `${where}: active:true for ${String(body.sub)}/${String(body.jti)}, the token is ${owner.userId}/${owner.jti}`,
      );
    }
  } else {
    if (JSON.stringify(body) !== '{"active":false}')
      fail(`${where}: inactive answer is not exactly {"active":false}: ${JSON.stringify(body)}`);
    if (owner !== null && owner !== 'unknown' && owner.exact)
      fail(`${where}: a live token answered {"active":false}`);
  }
}

function expectOptixError(err: unknown, where: string, allowed?: readonly string[]): string {
  if (err instanceof Violation) throw err;
  if (!isOptixError(err))
    fail(`${where}: threw a non-catalog error: ${String((err as Error)?.stack ?? err)}`);
  if (
    err.code === 'ERR_STORE_UNAVAILABLE' ||
    err.code === 'ERR_STORE_TIMEOUT' ||
    err.code === 'ERR_INTERNAL'
  ) {
    fail(
      `${where}: ${err.code} on a healthy store: ${err.message} ${String((err.cause as Error | undefined)?.message ?? '')}`,
    );
  }
  if (allowed && !allowed.includes(err.code))
    fail(`${where}: ${err.code} (${err.message}); expected one of ${allowed}`);
  return err.code;
}

const VERIFY_CODES = [
  'ERR_JWT_MALFORMED',
  'ERR_JWT_SIGNATURE',
  'ERR_JWT_ALGORITHM',
  'ERR_JWT_KEY_UNKNOWN',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_NOT_YET_VALID',
  'ERR_JWT_CLAIM',
  'ERR_TOKEN_REVOKED',
];
const REFRESH_CODES = ['ERR_REFRESH_INVALID', 'ERR_REFRESH_REUSED', 'ERR_REFRESH_REVOKED'];
const ARG_CODES = ['ERR_INVALID_ARGUMENT', 'ERR_INVALID_ID'];

function idOf(ctx: CaseContext, c: IdChoice, name: ParamName): unknown {
  return c.k === 'party' ? partyId(ctx, name, c.party, c.index, true) : c.value;
}
function numOf(n: NumValue): unknown {
  return n.k === 'absent' ? undefined : n.value;
}

async function verifyAs(ctx: CaseContext, token: unknown, where: string): Promise<void> {
  const owner = liveOwner(ctx, token);
  try {
    const { payload } = await ctx.world.optix.jwt.verifyToken(token as string);
    ctx.stats.count(where, 'accepted');
    if (owner === null) fail(`${where}: accepted a token that is not live: ${String(token).slice(0, 120)}`);
    if (owner !== 'unknown' && payload.sub !== owner.userId) fail(`${where}: accepted as ${payload.sub}`);
  } catch (err) {
    const code = expectOptixError(err, where, VERIFY_CODES);
    ctx.stats.count(where, code);
    if (owner !== null && owner !== 'unknown' && owner.exact)
      fail(`${where}: refused a live token (${code})`);
  }
}

async function refreshAs(ctx: CaseContext, token: unknown, where: string): Promise<void> {
  const { model } = ctx;
  const outcome = model.refreshOutcome(token);
  try {
    const pair = await ctx.world.optix.jwt.refreshTokens(token as string);
    ctx.world.secret(pair.accessToken, pair.refreshToken);
    ctx.stats.count(where, 'accepted');
    if (outcome === 'grace') {
      assert.deepEqual({ accessToken: pair.accessToken, refreshToken: pair.refreshToken }, model.prevPair);
    } else if (outcome === 'rotate') model.rotated(pair, pair.record.jti);
    else fail(`${where}: accepted a refresh token the model says is ${outcome}`);
  } catch (err) {
    const code = expectOptixError(err, where, REFRESH_CODES);
    ctx.stats.count(where, code);
    if (outcome === 'rotate' || outcome === 'grace')
      fail(`${where}: refused the victim's live token (${code})`);
    if (outcome === 'reuse') {
      if (code !== 'ERR_REFRESH_REUSED') fail(`${where}: reuse answered ${code}`);
      model.revokeFamily();
    }
  }
}

async function runService(ctx: CaseContext, action: Exclude<Action, { a: 'http' }>): Promise<void> {
  const { world, model } = ctx;
  const jwt = world.optix.jwt;
  const sessions = world.optix.sessions;
  const where = `svc ${action.a}`;
  ctx.trace.push(`${action.a}`);
  switch (action.a) {
    case 'verify':
      return verifyAs(ctx, resolveToken(action.token, poolsOf(ctx)), where);
    case 'verifyValue':
      return verifyAs(ctx, action.value, where);
    case 'refresh':
      return refreshAs(ctx, resolveToken(action.token, poolsOf(ctx)), where);
    case 'revokeAccess': {
      const token = resolveToken(action.token, poolsOf(ctx));
      try {
        const done = await jwt.revokeAccessToken(token, 'fuzz');
        ctx.stats.count(where, String(done));
        const t = model.find(token);
        if (done && t) model.blacklisted(t);
        const id = identity(token);
        const genuine =
          t !== undefined ||
          world.bystander.creds.some((c) => identity(c.access) === id) ||
          world.dead.access.some((d) => identity(d) === id);
        if (done && !genuine) fail(`${where}: revoked something for a token that is not genuine`);
        if (!done && t && t.state === 'live' && t.token === token)
          fail(`${where}: did not revoke a live token`);
      } catch (err) {
        ctx.stats.count(where, expectOptixError(err, where));
      }
      return;
    }
    case 'revokeRefresh': {
      const token = resolveToken(action.token, poolsOf(ctx));
      const mine = model.refresh.includes(token);
      try {
        const done = await jwt.revokeRefreshToken(token, 'fuzz');
        ctx.stats.count(where, String(done));
        if (mine && !done) fail(`${where}: did not revoke the victim's family`);
        if (done && !mine && !world.dead.refresh.includes(token))
          fail(`${where}: revoked for an unknown token`);
        if (mine) model.revokeFamily();
      } catch (err) {
        ctx.stats.count(where, expectOptixError(err, where));
        if (mine) fail(`${where}: failed on the victim's own refresh token`);
      }
      return;
    }
    case 'revokeToken': {
      const jti = action.jti.k === 'victim' ? pickOf(model.tokens, action.jti.index)!.jti : action.jti.value;
      const ttl = numOf(action.ttl);
      try {
        await jwt.revokeToken({
          jti: jti as string,
          userId: idOf(ctx, action.userId, 'userId') as string,
          reason: action.reason as string,
          ...(ttl !== undefined ? { ttlSeconds: ttl as number } : {}),
        });
        ctx.stats.count(where, 'ok');
        markBlacklisted(ctx, [jti], ttl);
      } catch (err) {
        ctx.stats.count(where, expectOptixError(err, where, ARG_CODES));
      }
      return;
    }
    case 'blacklist': {
      const jtis = action.jtis.map((j) => (j.k === 'victim' ? pickOf(model.tokens, j.index)!.jti : j.value));
      const ttl = numOf(action.ttl);
      try {
        const n = await jwt.blacklistUserTokens({
          userId: idOf(ctx, action.userId, 'userId') as string,
          tokenJtis: jtis as string[],
          reason: action.reason as string,
          ...(ttl !== undefined ? { ttlSeconds: ttl as number } : {}),
        });
        ctx.stats.count(where, 'ok');
        if (n !== new Set(jtis).size) fail(`${where}: counted ${n} of ${new Set(jtis).size} jtis`);
        markBlacklisted(ctx, jtis, ttl);
      } catch (err) {
        ctx.stats.count(where, expectOptixError(err, where, ARG_CODES));
      }
      return;
    }
    case 'events': {
      const since = numOf(action.since);
      const until = numOf(action.until);
      const limit = numOf(action.limit);
      try {
        const events = await sessions.listSecurityEvents(idOf(ctx, action.userId, 'userId') as string, {
          ...(since !== undefined ? { since: since as number } : {}),
          ...(until !== undefined ? { until: until as number } : {}),
          ...(limit !== undefined ? { limit: limit as number } : {}),
        });
        ctx.stats.count(where, 'ok');
        const max = typeof limit === 'number' ? Math.min(limit, 1000) : 50;
        if (events.length > max) fail(`${where}: ${events.length} events for limit ${String(limit)}`);
        for (const e of events) {
          if (
            (typeof since === 'number' && e.timestamp < since) ||
            (typeof until === 'number' && e.timestamp > until)
          ) {
            fail(`${where}: an event outside [since, until]`);
          }
        }
      } catch (err) {
        ctx.stats.count(where, expectOptixError(err, where, ARG_CODES));
      }
      return;
    }
    case 'trust': {
      const days = numOf(action.days);
      const userId = idOf(ctx, action.userId, 'userId');
      try {
        const device = await sessions.trustDevice({
          userId: userId as string,
          deviceFingerprint: action.fingerprint as string,
          deviceName: action.name as string,
          deviceType: action.type as string,
          ...(days !== undefined ? { durationDays: days as number } : {}),
        });
        ctx.stats.count(where, 'ok');
        const d = days ?? 30;
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 365)
          fail(`${where}: accepted ${String(d)} days`);
        if (device.expiresAt !== device.trustedAt + d * 86_400_000)
          fail(`${where}: wrong expiry for ${d} days`);
        if (userId === model.userId) model.devices.add(device.deviceId);
      } catch (err) {
        ctx.stats.count(where, expectOptixError(err, where, ARG_CODES));
      }
      return;
    }
    case 'session': {
      // The victim's own id may be terminated; rotation is given other ids only.
      const sid =
        action.op === 'rotate' && action.sid.k === 'party' && action.sid.party === 'victim'
          ? partyId(ctx, 'sessionId', 'dead', action.sid.index, true)
          : idOf(ctx, action.sid, 'sessionId');
      const wasLive = model.sessionLive;
      try {
        let result: unknown;
        if (action.op === 'get') result = await sessions.getSession(sid as string);
        else if (action.op === 'validate') result = await sessions.validateSession(sid as string);
        else if (action.op === 'terminate')
          result = await sessions.terminateSession(sid as string, action.reason as string);
        else result = await sessions.rotateSession(sid as string);
        ctx.stats.count(where, `${action.op}:${result === null ? 'null' : typeof result}`);
        if (sid === model.sessionId) {
          if (action.op === 'terminate') {
            if (result !== wasLive)
              fail(`${where}: terminate answered ${String(result)}, live was ${wasLive}`);
            model.endSession();
          } else if ((result !== null) !== wasLive) fail(`${where}: ${action.op} disagrees with the model`);
        } else if (action.op === 'terminate' && result === true) {
          const i = world.dead.liveSessionIds.indexOf(sid as string);
          if (i !== -1) world.dead.sessionIds.push(...world.dead.liveSessionIds.splice(i, 1));
          else if (!model.otherSessions.delete(sid as string))
            fail(`${where}: terminated ${String(sid)}, which was not live`);
        }
      } catch (err) {
        // A rejected call ends nothing (checked after the case).
        const code = expectOptixError(err, where, [...ARG_CODES, 'ERR_SESSION_NOT_FOUND']);
        ctx.stats.count(where, `${action.op}:${code}`);
      }
      return;
    }
    case 'config': {
      const env = {
        NODE_ENV: 'test',
        JWT_SECRET: 'c'.repeat(40),
        SERVICE_API_KEYS: 'k'.repeat(40),
        [action.name]: action.value,
      };
      try {
        const config = loadConfig(env);
        ctx.stats.count(where, 'ok');
        checkConfigValue(config, action.name, action.value, where);
      } catch (err) {
        ctx.stats.count(where, expectOptixErrorConfig(err, where));
      }
      return;
    }
  }
}

function expectOptixErrorConfig(err: unknown, where: string): string {
  if (!isOptixError(err) || err.code !== 'ERR_CONFIG')
    fail(`${where}: ${String((err as Error)?.stack ?? err)}`);
  return err.code;
}

function checkConfigValue(
  config: ReturnType<typeof loadConfig>,
  name: string,
  raw: string,
  where: string,
): void {
  const value: Record<string, unknown> = {
    ACCESS_TOKEN_TTL_SECONDS: config.jwt.accessTokenTtlSeconds,
    REFRESH_TOKEN_TTL_SECONDS: config.jwt.refreshTokenTtlSeconds,
    REFRESH_GRACE_SECONDS: config.jwt.refreshGraceSeconds,
    JWT_CLOCK_TOLERANCE_SECONDS: config.jwt.clockToleranceSeconds,
    SESSION_IDLE_TIMEOUT_MINUTES: config.sessions.idleTimeoutMinutes,
    SESSION_ABSOLUTE_TIMEOUT_MINUTES: config.sessions.absoluteTimeoutMinutes,
    MAX_SESSIONS_PER_USER: config.sessions.maxSessionsPerUser,
    RATE_LIMIT_REFRESH_PER_MINUTE: config.rateLimits.refreshPerMinute,
    RATE_LIMIT_REVOKE_PER_MINUTE: config.rateLimits.revokePerMinute,
    RATE_LIMIT_INTROSPECT_PER_MINUTE: config.rateLimits.introspectPerMinute,
    BODY_LIMIT_BYTES: config.http.bodyLimitBytes,
    CLEANUP_INTERVAL_SECONDS: config.cleanupIntervalSeconds,
    PORT: config.http.port,
  };
  if (!(name in value)) return;
  const v = value[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(`${where}: ${name}=${JSON.stringify(raw)} gave ${String(v)}`);
  if (raw.trim() !== '' && String(v) !== raw.trim() && Number(raw) !== v) {
    fail(`${where}: ${name}=${JSON.stringify(raw)} was read as ${v}`);
  }
}

/** A successful blacklisting of victim jtis: those tokens are dead (or unknown for a short TTL). */
function markBlacklisted(ctx: CaseContext, jtis: unknown[], ttl: unknown): void {
  const effectiveTtl = ttl === undefined ? ctx.world.optix.jwt.accessTokenTtlSeconds : Number(ttl);
  for (const t of ctx.model.tokens) {
    if (!jtis.includes(t.jti) || t.deadBy === 'session') continue;
    // The entry outlives the case only with a TTL well beyond it (Redis expires in real time).
    if (effectiveTtl >= 60) ctx.model.blacklisted(t);
    // A revocation is never shortened: a token already dead stays dead.
    else if (t.state !== 'dead') t.state = 'unknown';
  }
}

/** After the case: the service agrees with the model, the bystander is intact, the logs are clean. */
async function checkAfterCase(ctx: CaseContext): Promise<void> {
  const { world, model } = ctx;
  const { optix } = world;
  for (const t of model.tokens) {
    if (t.state === 'unknown') continue;
    let accepted = false;
    let code = '';
    try {
      await optix.jwt.verifyToken(t.token);
      accepted = true;
    } catch (err) {
      code = expectOptixError(err, 'after the case: verify a victim token');
    }
    if (accepted && t.state === 'dead') fail(`a victim token the model says is revoked still verifies`);
    if (!accepted && t.state === 'live') fail(`a victim token was revoked by hostile input (${code})`);
  }
  const session = await optix.sessions.getSession(model.sessionId);
  if ((session !== null) !== model.sessionLive) {
    fail(
      `the victim's session is ${session ? 'live' : 'gone'}, the model says ${model.sessionLive ? 'live' : 'gone'}`,
    );
  }
  if (!model.userRevoked) {
    const family = await optix.stores.refreshFamilies.get(model.familyId);
    // A family is deleted with its session (docs/data-model.md): gone is right once the session is.
    if (!family) {
      if (model.sessionLive) fail('the victim family is gone');
    } else if (family.revoked !== model.familyRevoked)
      fail(`the victim family revoked=${family.revoked}, model ${model.familyRevoked}`);
  }
  const devices = (await optix.sessions.listTrustedDevices(model.userId)).map((d) => d.deviceId).sort();
  assert.deepEqual(devices, [...model.devices].sort(), 'the victim trusts exactly the devices it trusted');

  const by = world.bystander;
  for (const c of by.creds) {
    try {
      await optix.jwt.verifyToken(c.access);
    } catch (err) {
      fail(`the bystander's token was revoked: ${String((err as Error).message)}`);
    }
    const family = await optix.stores.refreshFamilies.get(c.familyId);
    if (!family || family.revoked) fail(`the bystander's refresh family was revoked`);
    if ((await optix.sessions.getSession(c.sessionId)) === null) fail(`the bystander's session ended`);
  }
  if ((await optix.stores.trustedDevices.get(by.userId, by.deviceId)) === null)
    fail('the bystander lost its device');

  const logs = world.checkLogs();
  ctx.stats.logBytes += logs.bytes;
  if (logs.leaks.length > 0)
    fail(`secrets in the logs: ${logs.leaks.map((s) => `${s.slice(0, 8)}…`).join(', ')}`);
}

/** Runs one case against the world. Throws (an AssertionError or a Violation) on the first failure. */
export async function runCase(world: World, recipe: CaseRecipe, stats: FuzzStats): Promise<void> {
  const creds = await world.newVictim(recipe.alg);
  const ctx: CaseContext = { world, model: new VictimModel(creds), stats, trace: [] };
  stats.cases++;
  try {
    for (const action of recipe.actions) {
      if (action.a === 'http') await runHttp(ctx, action);
      else await runService(ctx, action);
    }
    await checkAfterCase(ctx);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const wrapped = new Error(`${message}\n  steps: ${ctx.trace.join(' | ')}`);
    wrapped.stack = `${wrapped.message}\n${(err as Error)?.stack ?? ''}`;
    throw wrapped;
  }
}

/** Every dead credential is still refused (run at the end of a world's batch). */
export async function checkDeadPool(world: World): Promise<void> {
  for (const token of world.dead.access) {
    await world.optix.jwt.verifyToken(token).then(
      () => fail(`a dead access token verifies: ${token.slice(0, 40)}`),
      (err: unknown) => expectOptixError(err, 'dead access token', VERIFY_CODES),
    );
  }
  for (const token of world.dead.refresh) {
    await world.optix.jwt.refreshTokens(token).then(
      () => fail('a dead refresh token rotated'),
      (err: unknown) => expectOptixError(err, 'dead refresh token', REFRESH_CODES),
    );
  }
}
