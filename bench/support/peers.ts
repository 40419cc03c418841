/**
 * The peers every scenario is measured against, each set up the way a performance-minded user
 * would set it up (never tuned down):
 * - the CPU limit: a bare node:crypto HS256 verify;
 * - fast-jwt and jsonwebtoken verifiers (algorithm pinned, iss/aud checked, exp required);
 * - ioredis with auto-pipelining, for the blacklist `EXISTS` per request;
 * - connect-redis over node-redis (`redis`), the express-session store.
 */
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RedisStore as RedisStore9 } from 'connect-redis';
import { createSigner, createVerifier } from 'fast-jwt';
import { Redis } from 'ioredis';
import jsonwebtoken from 'jsonwebtoken';
import { createClient } from 'redis';
import { ACCESS_TTL_SECONDS, AUDIENCE, ISSUER, JWT_SECRET } from './optix.js';

const SECRET = Buffer.from(JWT_SECRET, 'utf8');
/**
 * jsonwebtoken turns a string or Buffer secret into a KeyObject on every call: ~2.8k verifies/s
 * here, against ~100k/s when given the KeyObject. The peer gets the KeyObject (its fastest form).
 */
const SECRET_KEY = createSecretKey(SECRET);

export interface JwtClaims {
  sub: string;
  jti: string;
  exp: number;
  [claim: string]: unknown;
}

/**
 * The CPU limit: split, HMAC-SHA256 over `header.payload` (node:crypto), constant-time compare,
 * parse the payload JSON, check `exp`. Nothing else (no header parse, no iss/aud): the least any
 * HS256 verify can do.
 */
export function bareHs256Verify(token: string): JwtClaims {
  const second = token.lastIndexOf('.');
  const first = token.indexOf('.');
  const expected = createHmac('sha256', SECRET).update(token.slice(0, second)).digest();
  const sig = Buffer.from(token.slice(second + 1), 'base64url');
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) throw new Error('bad signature');
  const payload = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
  if (!(payload.exp > Date.now() / 1000)) throw new Error('expired');
  return payload as JwtClaims;
}

/** fast-jwt's verifier: HS256 pinned, iss/aud checked (exp is checked by default). */
export function fastJwtVerifier(options: { cache: boolean | number }): (token: string) => JwtClaims {
  return createVerifier({
    key: SECRET,
    algorithms: ['HS256'],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp', 'jti', 'sub'],
    cache: options.cache,
  }) as (token: string) => JwtClaims;
}

/** fast-jwt's signer for HS256 access tokens like ours (peer of the refresh rotation). */
export function fastJwtSigner(): (payload: Record<string, unknown>) => string {
  return createSigner({
    key: SECRET,
    algorithm: 'HS256',
    iss: ISSUER,
    aud: AUDIENCE,
    expiresIn: ACCESS_TTL_SECONDS * 1000,
  }) as (payload: Record<string, unknown>) => string;
}

/** jsonwebtoken's synchronous verify: HS256 pinned, iss/aud checked, the secret as a KeyObject. */
export function jsonwebtokenVerify(token: string): JwtClaims {
  return jsonwebtoken.verify(token, SECRET_KEY, {
    algorithms: ['HS256'],
    issuer: ISSUER,
    audience: AUDIENCE,
  }) as JwtClaims;
}

/** The peers' blacklist key, as the usual tutorials name it. */
export const blacklistKey = (jti: string) => `token:blacklist:${jti}`;

/** ioredis with auto-pipelining (commands issued in the same tick share one write). */
export async function connectIoredis(url: string): Promise<Redis> {
  const client = new Redis(url, { enableAutoPipelining: true, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

/**
 * connect-redis over node-redis, as its README sets it up, plus `commandOptions: { timeout: 0 }`:
 * node-redis 6's default 5 s per-command timeout allocates an AbortSignal per command and costs
 * 2-3× throughput (measured with node-redis 6.3). Our client runs without it too.
 */
export async function connectRedisStore(url: string, ttlSeconds: number) {
  const client = createClient({ url, commandOptions: { timeout: 0 } });
  client.on('error', () => {});
  await client.connect();
  const RedisStore = await connectRedisStoreClass();
  const store = new RedisStore({ client, prefix: 'sess:', ttl: ttlSeconds });
  return { client, store, close: () => client.close() };
}

/**
 * The connect-redis peer: the newest major that runs on this Node. connect-redis 10 declares
 * Node >= 22, so Node 20 measures 9 (`connect-redis`); Node 22 and later measure 10, installed
 * beside it under the alias `connect-redis-10` (`npm:connect-redis@^10`). Same store API.
 */
export const CONNECT_REDIS_PACKAGE =
  Number(process.versions.node.split('.')[0]) >= 22 ? 'connect-redis-10' : 'connect-redis';

async function connectRedisStoreClass(): Promise<typeof RedisStore9> {
  if (CONNECT_REDIS_PACKAGE === 'connect-redis') return RedisStore9;
  const { RedisStore } = await import('connect-redis-10');
  return RedisStore as unknown as typeof RedisStore9;
}

/** The installed version of a package (for the results file). */
export function packageVersion(name: string): string {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
