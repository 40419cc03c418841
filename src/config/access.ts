/**
 * Who may call the service: `SERVICE_API_KEYS` (the API), `OPS_API_KEYS` (`/metrics`, the details
 * of `/readyz`), `OAUTH_CLIENTS` and `OAUTH_ISSUER_URL` (RFC 7662 introspection).
 */
import { type Env, type Problems, raw } from './read.js';
import type { OAuthClientConfig } from './types.js';

const MIN_SERVICE_KEY_LENGTH = 32;

/** A comma-separated list of bearer keys in `name`, each long and printable. */
function apiKeyList(env: Env, p: Problems, name: string): string[] {
  const keys = (raw(env, name) ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  keys.forEach((key, i) => {
    if (key.length < MIN_SERVICE_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
      p.add(
        name,
        `key #${i + 1} must be at least ${MIN_SERVICE_KEY_LENGTH} printable characters without spaces`,
      );
    }
  });
  return keys;
}

/**
 * `SERVICE_API_KEYS`: required in production; elsewhere one is generated when none is set
 * (`generatedServiceKey`, to print once).
 */
export function serviceKeys(
  env: Env,
  p: Problems,
  ctx: { production: boolean; warnings: string[]; generateSecret: () => string },
): { serviceApiKeys: string[]; generatedServiceKey: string | null } {
  let generatedServiceKey: string | null = null;
  const serviceApiKeys = apiKeyList(env, p, 'SERVICE_API_KEYS');
  if (serviceApiKeys.length === 0) {
    if (ctx.production) p.add('SERVICE_API_KEYS', 'is required when NODE_ENV=production');
    else {
      generatedServiceKey = `dev-${ctx.generateSecret()}`;
      serviceApiKeys.push(generatedServiceKey);
      ctx.warnings.push('SERVICE_API_KEYS is not set: generated a service key for this process only');
    }
  }
  return { serviceApiKeys, generatedServiceKey };
}

/** `OPS_API_KEYS`: when set, `/metrics` and the details of `/readyz` need one (Bearer). */
export function opsKeys(env: Env, p: Problems, ctx: { production: boolean; warnings: string[] }): string[] {
  const opsApiKeys = apiKeyList(env, p, 'OPS_API_KEYS');
  if (opsApiKeys.length === 0 && ctx.production) {
    ctx.warnings.push('OPS_API_KEYS is not set: /metrics and the Redis details of /readyz are public');
  }
  return opsApiKeys;
}

/** `OAUTH_CLIENTS`: `id:sha256:<64 hex>[:<introspections per minute>]`, comma-separated. */
export function oauthClientList(env: Env, p: Problems): OAuthClientConfig[] {
  const oauthClients: OAuthClientConfig[] = [];
  for (const [i, entry] of (raw(env, 'OAUTH_CLIENTS') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .entries()) {
    const m = /^([A-Za-z0-9._-]{1,64}):sha256:([0-9a-fA-F]{64})(?::(\d{1,9}))?$/.exec(entry);
    if (!m) {
      p.add(
        'OAUTH_CLIENTS',
        `entry #${i + 1} must be client_id:sha256:<64 hex digits>[:<introspections per minute>]`,
      );
      continue;
    }
    const clientId = m[1]!;
    if (oauthClients.some((c) => c.clientId === clientId)) {
      p.add('OAUTH_CLIENTS', `client "${clientId}" is listed twice`);
      continue;
    }
    oauthClients.push(
      Object.freeze({
        clientId,
        secretSha256: Buffer.from(m[2]!, 'hex'),
        introspectPerMinute: m[3] === undefined ? undefined : Number(m[3]),
      }),
    );
  }
  return oauthClients;
}

/** `OAUTH_ISSUER_URL`: https (http outside production), no query, fragment or credentials. */
export function oauthIssuer(env: Env, p: Problems, production: boolean): string | null {
  const oauthIssuerUrl = raw(env, 'OAUTH_ISSUER_URL') ?? null;
  if (oauthIssuerUrl !== null) {
    let ok = false;
    try {
      const u = new URL(oauthIssuerUrl);
      ok =
        (u.protocol === 'https:' || (u.protocol === 'http:' && !production)) &&
        u.search === '' &&
        u.hash === '' &&
        u.username === '' &&
        u.password === '';
    } catch {
      ok = false;
    }
    if (!ok) {
      p.add(
        'OAUTH_ISSUER_URL',
        'must be an https:// URL without query or fragment (http:// only outside production)',
      );
    }
  }
  return oauthIssuerUrl;
}
