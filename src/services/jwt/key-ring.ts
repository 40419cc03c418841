/**
 * The key ring: every configured key, each with its algorithm pinned. Keys are imported once with
 * node:crypto; `jose` exports the public JWKs.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { ConfigError } from '../../core/errors.js';
import type { JwtKeyConfig } from '../types.js';

export type JwtAlg = 'HS256' | 'EdDSA' | 'ES256';

export interface RingKey {
  readonly kid: string;
  readonly alg: JwtAlg;
  /** HS256: the secret. Asymmetric: the public key. */
  readonly verifyKey: KeyObject;
  /** HS256: the secret. Asymmetric: the private key, when this key can sign. */
  readonly signKey: KeyObject | null;
}

export interface KeyRing {
  readonly active: RingKey;
  get(kid: string): RingKey | undefined;
  jwks(): Promise<{ keys: Array<Record<string, unknown>> }>;
}

const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_HS256_BYTES = 32;

function importKey(cfg: JwtKeyConfig, i: number): RingKey {
  const path = `keys[${i}]`;
  if (!cfg || typeof cfg !== 'object') throw new ConfigError(path, 'must be an object');
  if (typeof cfg.kid !== 'string' || !KID_PATTERN.test(cfg.kid)) {
    throw new ConfigError(`${path}.kid`, 'must be 1-64 letters, digits, . _ -');
  }
  if (cfg.alg === 'HS256') {
    const secret = typeof cfg.secret === 'string' ? Buffer.from(cfg.secret, 'utf8') : cfg.secret;
    if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_HS256_BYTES) {
      throw new ConfigError(`${path}.secret`, `HS256 secret must be at least ${MIN_HS256_BYTES} bytes`);
    }
    const key = createSecretKey(Buffer.from(secret));
    return { kid: cfg.kid, alg: 'HS256', verifyKey: key, signKey: key };
  }
  if (cfg.alg !== 'EdDSA' && cfg.alg !== 'ES256') {
    throw new ConfigError(`${path}.alg`, 'must be HS256, EdDSA or ES256');
  }
  let signKey: KeyObject | null = null;
  let verifyKey: KeyObject;
  try {
    if (cfg.privateKeyPem) signKey = createPrivateKey(cfg.privateKeyPem);
    if (cfg.publicKeyPem) verifyKey = createPublicKey(cfg.publicKeyPem);
    else if (signKey) verifyKey = createPublicKey(signKey);
    else throw new ConfigError(path, 'needs privateKeyPem or publicKeyPem');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, 'could not read the PEM key', { cause: err });
  }
  const type = verifyKey.asymmetricKeyType;
  const curve = verifyKey.asymmetricKeyDetails?.namedCurve;
  if (cfg.alg === 'EdDSA' && type !== 'ed25519') throw new ConfigError(path, 'EdDSA needs an Ed25519 key');
  if (cfg.alg === 'ES256' && (type !== 'ec' || curve !== 'prime256v1')) {
    throw new ConfigError(path, 'ES256 needs a P-256 EC key');
  }
  if (signKey && signKey.asymmetricKeyType !== type)
    throw new ConfigError(path, 'private and public keys differ');
  return { kid: cfg.kid, alg: cfg.alg, verifyKey, signKey };
}

/** Imports and checks the keys. @throws ConfigError naming the key and the problem. */
export function createKeyRing(keys: readonly JwtKeyConfig[], activeKid?: string): KeyRing {
  if (!Array.isArray(keys) || keys.length === 0)
    throw new ConfigError('keys', 'at least one key is required');
  const byKid = new Map<string, RingKey>();
  keys.forEach((cfg, i) => {
    const key = importKey(cfg, i);
    if (byKid.has(key.kid)) throw new ConfigError(`keys[${i}].kid`, `duplicate kid "${key.kid}"`);
    byKid.set(key.kid, key);
  });
  const active = byKid.get(activeKid ?? keys[0]!.kid);
  if (!active) throw new ConfigError('activeKid', 'names no configured key');
  if (!active.signKey) throw new ConfigError('activeKid', 'the active key has no private key');
  return {
    active,
    get: (kid) => byKid.get(kid),
    async jwks() {
      const out: Array<Record<string, unknown>> = [];
      for (const key of byKid.values()) {
        if (key.alg === 'HS256') continue;
        const jwk = await exportJWK(key.verifyKey);
        out.push({ ...jwk, kid: key.kid, alg: key.alg, use: 'sig' });
      }
      return { keys: out };
    },
  };
}
