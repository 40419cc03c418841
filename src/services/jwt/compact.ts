/**
 * Compact JWS sign and verify over node:crypto, synchronous.
 *
 * Why by hand: every request on the platform verifies a token. jose's verify is async (WebCrypto)
 * and ran ~7k/s here against ~200k/s for a bare node:crypto HMAC (measured on this machine kind).
 * This file is kept small and strict instead: the header must name a known `kid` whose pinned
 * algorithm equals `alg` (so `none`, HS/RS confusion and foreign keys cannot pass), segments must
 * be canonical base64url, sizes are bounded, signatures are compared in constant time. jose is still used for
 * JWK export, and the tests check interoperability with jose both ways.
 */
import { isUtf8 } from 'node:buffer';
import { createHmac, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { JwtVerificationError } from '../../core/errors.js';
import type { KeyRing, RingKey } from './key-ring.js';

/** Tokens longer than this are rejected before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;
const B64URL = /^[A-Za-z0-9_-]*$/;
/** Value of each base64url character (index = char code), -1 elsewhere. */
const B64URL_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) {
  B64URL_VALUE[c.charCodeAt(0)] = i;
}
/** Distinct valid headers remembered per key ring (a ring issues one or two header spellings). */
const MAX_CACHED_HEADERS = 32;
const validHeaders = new WeakMap<KeyRing, Map<string, RingKey>>();

function b64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function rawSign(key: RingKey, data: string): Buffer {
  switch (key.alg) {
    case 'HS256':
      return createHmac('sha256', key.signKey!).update(data).digest();
    case 'EdDSA':
      return cryptoSign(null, Buffer.from(data), key.signKey!);
    case 'ES256':
      return cryptoSign('sha256', Buffer.from(data), { key: key.signKey!, dsaEncoding: 'ieee-p1363' });
  }
}

function rawVerify(key: RingKey, data: string, sig: Buffer): boolean {
  switch (key.alg) {
    case 'HS256': {
      const expected = createHmac('sha256', key.verifyKey).update(data).digest();
      return sig.length === expected.length && timingSafeEqual(sig, expected);
    }
    case 'EdDSA':
      return sig.length === 64 && cryptoVerify(null, Buffer.from(data), key.verifyKey, sig);
    case 'ES256':
      return (
        sig.length === 64 &&
        cryptoVerify('sha256', Buffer.from(data), { key: key.verifyKey, dsaEncoding: 'ieee-p1363' }, sig)
      );
  }
}

/** Signs `payload` with the ring's active key. */
export function signCompact(ring: KeyRing, payload: object): string {
  const key = ring.active;
  const head = b64urlJson({ alg: key.alg, typ: 'JWT', kid: key.kid });
  const body = b64urlJson(payload);
  const data = `${head}.${body}`;
  return `${data}.${rawSign(key, data).toString('base64url')}`;
}

/**
 * True when `segment` is the one canonical unpadded base64url spelling of its bytes: a length that
 * is not 1 mod 4, and no set bits after the last whole byte (so one token has exactly one spelling).
 */
function isCanonicalLength(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const last = B64URL_VALUE[segment.charCodeAt(segment.length - 1)] ?? -1;
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

function decodeSegment(segment: string, what: string): Buffer {
  if (!B64URL.test(segment)) throw new JwtVerificationError('ERR_JWT_MALFORMED', `${what} is not base64url`);
  if (!isCanonicalLength(segment)) {
    throw new JwtVerificationError('ERR_JWT_MALFORMED', `${what} is not canonical base64url`);
  }
  return Buffer.from(segment, 'base64url');
}

function parseJsonObject(buf: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    if (!isUtf8(buf)) throw new Error('not UTF-8');
    value = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new JwtVerificationError('ERR_JWT_MALFORMED', `${what} is not UTF-8 JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JwtVerificationError('ERR_JWT_MALFORMED', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The key a header segment names, after checking it (a remembered one needs no parsing). */
function headerKey(ring: KeyRing, headSeg: string): RingKey {
  const hit = validHeaders.get(ring)?.get(headSeg);
  if (hit !== undefined) return hit;
  const header = parseJsonObject(decodeSegment(headSeg, 'header'), 'header');
  const alg = header.alg;
  if (typeof alg !== 'string') throw new JwtVerificationError('ERR_JWT_ALGORITHM', 'header has no alg');
  if (header.crit !== undefined)
    throw new JwtVerificationError('ERR_JWT_MALFORMED', 'crit headers are not supported');
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length > 64)
    throw new JwtVerificationError('ERR_JWT_KEY_UNKNOWN', 'unknown key');
  const key = ring.get(kid);
  if (!key) throw new JwtVerificationError('ERR_JWT_KEY_UNKNOWN', 'unknown key');
  if (alg !== key.alg)
    throw new JwtVerificationError('ERR_JWT_ALGORITHM', 'algorithm not allowed for this key');
  return key;
}

/**
 * Remembers a header once a token carrying it was signed by `key`: only our own signers' header
 * spellings get in, so forged tokens cannot crowd the few slots.
 */
function rememberHeader(ring: KeyRing, headSeg: string, key: RingKey): void {
  let known = validHeaders.get(ring);
  if (known === undefined) {
    known = new Map();
    validHeaders.set(ring, known);
  }
  if (known.size < MAX_CACHED_HEADERS && !known.has(headSeg)) known.set(headSeg, key);
}

/**
 * Checks structure, header and signature; returns the payload object (claims not yet checked).
 * @throws JwtVerificationError ERR_JWT_MALFORMED | ERR_JWT_ALGORITHM | ERR_JWT_KEY_UNKNOWN | ERR_JWT_SIGNATURE
 */
export function verifyCompact(ring: KeyRing, token: string): Record<string, unknown> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new JwtVerificationError('ERR_JWT_MALFORMED', 'token is empty or too long');
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second === -1 || token.indexOf('.', second + 1) !== -1 || second === token.length - 1) {
    throw new JwtVerificationError('ERR_JWT_MALFORMED', 'token must have three non-empty segments');
  }
  const headSeg = token.slice(0, first);
  const key = headerKey(ring, headSeg);
  const sig = decodeSegment(token.slice(second + 1), 'signature');
  if (!rawVerify(key, token.slice(0, second), sig)) {
    throw new JwtVerificationError('ERR_JWT_SIGNATURE', 'signature verification failed');
  }
  rememberHeader(ring, headSeg, key);
  return parseJsonObject(decodeSegment(token.slice(first + 1, second), 'payload'), 'payload');
}
