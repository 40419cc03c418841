/**
 * Refresh tokens: `<familyId>.<secret>` where the family id is a generated id (`<sealed user tag>.<128 random bits>`, see `IdCodec`) and
 * the secret is 256 random bits. Only `sha256(secret)` is stored.
 *
 * The grace window must hand the same child to a repeated presentation of the parent, but the
 * child's secret may not be stored raw. It is stored sealed with AES-256-GCM under a key derived
 * (HKDF-SHA256) from the parent's secret: only a holder of the parent can open it, and Redis alone
 * reveals nothing usable.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { type IdCodec, randomToken, sha256 } from '../../core/ids.js';
import { randomBuffer } from '../../core/random.js';

export interface ParsedRefreshToken {
  familyId: string;
  secret: string;
  hash: string;
}

const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A fresh refresh token for a family. */
export function newRefreshToken(familyId: string): ParsedRefreshToken {
  const secret = randomToken(32);
  return { familyId, secret, hash: sha256(secret) };
}

export function formatRefreshToken(t: ParsedRefreshToken): string {
  return `${t.familyId}.${t.secret}`;
}

/** Parses a presented refresh token, or `null` when it is not of our shape. */
export function parseRefreshToken(ids: IdCodec, token: unknown): ParsedRefreshToken | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const last = token.lastIndexOf('.');
  if (last === -1) return null;
  const familyId = token.slice(0, last);
  const secret = token.slice(last + 1);
  if (!ids.is(familyId) || !SECRET_PATTERN.test(secret)) return null;
  return { familyId, secret, hash: sha256(secret) };
}

const SEAL_INFO = Buffer.from('optix-refresh-grace-v1\x01', 'latin1');

/**
 * HKDF-SHA256 (RFC 5869) of the parent secret, salt = the family id, info
 * `optix-refresh-grace-v1`, 32 bytes: one block, so extract and expand are one HMAC each. Written
 * out because `hkdfSync` costs ~14 µs a call here (a crypto job per call) and two HMACs ~7 µs; the
 * output is the same bytes (`test/unit/refresh-token.test.ts` compares them).
 */
function sealKey(parentSecret: string, familyId: string): Buffer {
  const prk = createHmac('sha256', familyId).update(parentSecret).digest();
  return createHmac('sha256', prk).update(SEAL_INFO).digest();
}

/** Seals `plaintext` for whoever holds `parentSecret`. Output: base64url(iv | tag | ciphertext). */
export function sealChild(parentSecret: string, familyId: string, plaintext: string): string {
  // A fresh 96-bit IV per seal (each key also seals one child only: one key per parent secret).
  const iv = randomBuffer(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(parentSecret, familyId), iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
}

/** Opens a sealed child, or `null` when the key is wrong or the blob was altered. */
export function openChild(parentSecret: string, familyId: string, blob: string): string | null {
  try {
    const buf = Buffer.from(blob, 'base64url');
    if (buf.length < 29) return null;
    const decipher = createDecipheriv('aes-256-gcm', sealKey(parentSecret, familyId), buf.subarray(0, 12));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
