/**
 * Who may talk to the HTTP service from where: `TRUST_PROXY` (whose address counts as the
 * client's) and `CORS_ORIGINS` (which browser origins may call it).
 */
import { isIP } from 'node:net';
import { type Env, type Problems, raw } from './read.js';

/** Address ranges `proxy-addr` (Fastify's `trustProxy`) knows by name. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `TRUST_PROXY`: `false` (default), a hop count (`1`–`32`: trust that many proxies in front, and
 * take the address the outermost of them saw), or a comma-separated list of trusted proxy
 * addresses and CIDR ranges (`10.0.0.0/8,fd00::/8`, or the names `loopback`, `linklocal`,
 * `uniquelocal`). `true` trusts every hop, so the left-most `X-Forwarded-For` address, which the
 * client writes, becomes the client's address: refused in production, a warning elsewhere.
 * Returns the value for Fastify's `trustProxy`.
 */
export function trustProxyOption(
  env: Env,
  p: Problems,
  production: boolean,
  warnings: string[],
): false | true | number | readonly string[] {
  const v = raw(env, 'TRUST_PROXY');
  if (v === undefined) return false;
  const lower = v.toLowerCase();
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  if (['true', 'yes', 'on'].includes(lower)) {
    if (production) {
      p.add(
        'TRUST_PROXY',
        'must not be true when NODE_ENV=production (every hop trusted: a client picks its own address with X-Forwarded-For); give the number of proxies in front or their addresses/CIDR ranges',
      );
      return false;
    }
    warnings.push(
      'TRUST_PROXY=true trusts every X-Forwarded-For hop: a client can pick its own address and escape per-address rate limits (refused in production)',
    );
    return true;
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 32) {
      p.add('TRUST_PROXY', `must be a hop count from 1 to 32, got ${hops}`);
      return false;
    }
    return hops;
  }
  const entries = v.split(',').map((e) => e.trim());
  for (const entry of entries) {
    if (!validProxyRange(entry)) {
      p.add(
        'TRUST_PROXY',
        `must be false, a hop count (1-32) or comma-separated proxy addresses/CIDR ranges, got "${entry.slice(0, 64)}"`,
      );
      return false;
    }
  }
  return Object.freeze(entries);
}

/** An IP address, a CIDR range (`addr/bits`) or a `proxy-addr` range name. */
function validProxyRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * `CORS_ORIGINS`: each entry must be a serialized origin exactly as a browser sends it in `Origin`
 * (`https://app.example.com`, `http://localhost:3000`): no path, no trailing slash, no wildcard.
 * A wildcard would allow every site to use the refresh cookie, so it is refused, not interpreted.
 */
export function corsOrigins(env: Env, p: Problems): string[] {
  const value = raw(env, 'CORS_ORIGINS');
  if (value === undefined) return [];
  const out: string[] = [];
  for (const entry of value.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      const web = url.protocol === 'https:' || url.protocol === 'http:';
      if (web && url.origin === entry && !entry.includes('*')) origin = entry;
    } catch {
      // reported below
    }
    if (origin === null) {
      p.add(
        'CORS_ORIGINS',
        `"${entry.slice(0, 100)}" is not an origin (scheme://host[:port], no path or wildcard)`,
      );
    } else if (!out.includes(origin)) out.push(origin);
  }
  return out;
}
