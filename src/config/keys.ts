/**
 * JWT signing and verification keys from the environment: `JWT_SECRET` or `JWT_PRIVATE_KEY_FILE`
 * (with `JWT_ALG`, `JWT_KID`) for the active key, `JWT_PREVIOUS_KEYS` for retired ones that still
 * verify. Secrets are checked for length; PEM keys for their algorithm.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { JwtKeyConfig } from '../core/types.js';
import { type Env, file, oneOf, type Problems, raw } from './read.js';

const MIN_SECRET_BYTES = 32;

const shortHash = (value: string | Buffer) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 8);
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Checks a PEM key for `alg` and returns its SPKI public PEM. `null` (problem added) when unusable. */
function asymmetricKey(
  p: Problems,
  name: string,
  alg: 'EdDSA' | 'ES256',
  pem: string,
): { publicKeyPem: string; privateKeyPem?: string } | null {
  let publicKey: ReturnType<typeof createPublicKey>;
  let privateKeyPem: string | undefined;
  try {
    if (pem.includes('PRIVATE KEY')) {
      const privateKey = createPrivateKey(pem);
      publicKey = createPublicKey(privateKey);
      privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    } else {
      publicKey = createPublicKey(pem);
    }
  } catch {
    p.add(name, 'is not a PEM key');
    return null;
  }
  const type = publicKey.asymmetricKeyType;
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (alg === 'EdDSA' && type !== 'ed25519') {
    p.add(name, `EdDSA needs an Ed25519 key, got ${type ?? 'unknown'}`);
    return null;
  }
  if (alg === 'ES256' && (type !== 'ec' || curve !== 'prime256v1')) {
    p.add(name, `ES256 needs a P-256 EC key, got ${type ?? 'unknown'}${curve ? ` ${curve}` : ''}`);
    return null;
  }
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return privateKeyPem === undefined ? { publicKeyPem } : { publicKeyPem, privateKeyPem };
}

/** True when `secret` is long enough; otherwise a problem is added. */
export function secretOk(p: Problems, name: string, secret: string): boolean {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    p.add(name, `must be at least ${MIN_SECRET_BYTES} bytes (generate one with: openssl rand -base64 48)`);
    return false;
  }
  return true;
}

function previousKeys(env: Env, p: Problems, readFile: (path: string) => string): JwtKeyConfig[] {
  const v = raw(env, 'JWT_PREVIOUS_KEYS');
  if (v === undefined) return [];
  const out: JwtKeyConfig[] = [];
  v.split(',').forEach((entry, i) => {
    const name = `JWT_PREVIOUS_KEYS[${i}]`;
    const e = entry.trim();
    const a = e.indexOf(':');
    const b = a === -1 ? -1 : e.indexOf(':', a + 1);
    if (b === -1) {
      p.add(name, 'must be ALG:kid:value (HS256:kid:secret, EdDSA:kid:/path.pem or ES256:kid:/path.pem)');
      return;
    }
    const alg = e.slice(0, a);
    const kid = e.slice(a + 1, b);
    const value = e.slice(b + 1);
    if (!KID_PATTERN.test(kid)) {
      p.add(name, 'kid may contain only letters, digits and . _ - (at most 64)');
      return;
    }
    if (alg === 'HS256') {
      if (secretOk(p, name, value)) out.push({ kid, alg, secret: value });
    } else if (alg === 'EdDSA' || alg === 'ES256') {
      const pem = file(p, name, value, readFile);
      const key = pem === undefined ? null : asymmetricKey(p, name, alg, pem);
      // A retired key only verifies: never keep its private half.
      if (key) out.push({ kid, alg, publicKeyPem: key.publicKeyPem });
    } else {
      p.add(name, `unknown algorithm "${alg.slice(0, 16)}" (use HS256, EdDSA or ES256)`);
    }
  });
  return out;
}

/** The active key first, then the retired ones; `generatedSecret` when development made one up. */
export function jwtKeys(
  env: Env,
  p: Problems,
  ctx: {
    production: boolean;
    warnings: string[];
    readFile: (path: string) => string;
    generateSecret: () => string;
  },
): { keys: JwtKeyConfig[]; generatedSecret: boolean } {
  const { production, warnings, readFile, generateSecret } = ctx;
  const keys: JwtKeyConfig[] = [];
  const secret = raw(env, 'JWT_SECRET');
  const keyFile = raw(env, 'JWT_PRIVATE_KEY_FILE');
  const kidOverride = raw(env, 'JWT_KID');
  if (kidOverride !== undefined && !KID_PATTERN.test(kidOverride)) {
    p.add('JWT_KID', 'may contain only letters, digits and . _ - (at most 64)');
  }
  const algRaw = raw(env, 'JWT_ALG');
  const alg = oneOf(env, p, 'JWT_ALG', ['EdDSA', 'ES256'] as const, 'EdDSA');
  let generatedSecret = false;
  if (secret !== undefined && keyFile !== undefined) {
    p.add(
      'JWT_SECRET',
      'set either JWT_SECRET or JWT_PRIVATE_KEY_FILE, not both (keep an old key in JWT_PREVIOUS_KEYS)',
    );
  } else if (keyFile !== undefined) {
    const pem = file(p, 'JWT_PRIVATE_KEY_FILE', keyFile, readFile);
    const key = pem === undefined ? null : asymmetricKey(p, 'JWT_PRIVATE_KEY_FILE', alg, pem);
    if (key && key.privateKeyPem === undefined)
      p.add('JWT_PRIVATE_KEY_FILE', 'must hold a private key (PKCS#8 PEM)');
    else if (key) {
      const kid = kidOverride ?? `${alg.toLowerCase()}-${shortHash(key.publicKeyPem)}`;
      keys.push({ kid, alg, privateKeyPem: key.privateKeyPem!, publicKeyPem: key.publicKeyPem });
    }
  } else {
    if (algRaw !== undefined) p.add('JWT_ALG', 'applies to JWT_PRIVATE_KEY_FILE, which is not set');
    let value = secret;
    if (value === undefined) {
      if (production) p.add('JWT_SECRET', 'or JWT_PRIVATE_KEY_FILE is required when NODE_ENV=production');
      else {
        value = generateSecret();
        generatedSecret = true;
        warnings.push(
          'JWT_SECRET is not set: signing with an ephemeral secret (tokens die with this process)',
        );
      }
    }
    if (value !== undefined && secretOk(p, 'JWT_SECRET', value)) {
      const kid = kidOverride ?? (generatedSecret ? `dev-${shortHash(value)}` : `hs256-${shortHash(value)}`);
      keys.push({ kid, alg: 'HS256', secret: value });
    }
  }
  for (const old of previousKeys(env, p, readFile)) {
    if (keys.some((k) => k.kid === old.kid)) p.add('JWT_PREVIOUS_KEYS', `kid "${old.kid}" is used twice`);
    else keys.push(old);
  }
  return { keys, generatedSecret };
}
