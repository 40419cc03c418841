/** The contenders of both verify scenarios (warm and first sight). */
import type { Redis } from 'ioredis';
import type { Contender, Phase } from './measure.js';
import type { OurSide } from './optix.js';
import { bareHs256Verify, blacklistKey, fastJwtVerifier, jsonwebtokenVerify } from './peers.js';
import type { RatioSpec } from './report.js';

/** `tokens()` is read at every operation: a scenario may swap the pool between rounds. */
export function verifyContenders(
  our: OurSide,
  io: Redis,
  tokens: () => readonly string[],
  options: { fastJwtCache: boolean | number; before?: (phase: Phase) => Promise<void> },
): Contender[] {
  const fastVerify = fastJwtVerifier({ cache: options.fastJwtCache });
  const at = (i: number) => {
    const pool = tokens();
    return pool[i % pool.length]!;
  };
  const before = options.before;
  return [
    {
      id: 'ours',
      label: 'ours: jwt.verifyToken (signature, claims, 4 revocations)',
      role: 'ours',
      async op(i) {
        const { revocationChecked } = await our.jwt.verifyToken(at(i));
        if (!revocationChecked) throw new Error('revocation was not checked');
      },
      ...(before ? { before } : {}),
    },
    {
      id: 'bare',
      label: 'bare node:crypto HS256 verify (no revocation)',
      role: 'cpu-limit',
      op(i) {
        bareHs256Verify(at(i));
      },
    },
    {
      id: 'fast-jwt',
      label: `fast-jwt verify${options.fastJwtCache ? ' (its cache on)' : ''} + ioredis EXISTS`,
      role: 'peer',
      async op(i) {
        const claims = fastVerify(at(i));
        if ((await io.exists(blacklistKey(claims.jti))) !== 0) throw new Error('blacklisted');
      },
    },
    {
      id: 'jsonwebtoken',
      label: 'jsonwebtoken verify (KeyObject secret) + ioredis EXISTS',
      role: 'peer',
      async op(i) {
        const claims = jsonwebtokenVerify(at(i));
        if ((await io.exists(blacklistKey(claims.jti))) !== 0) throw new Error('blacklisted');
      },
    },
  ];
}

export function verifyRatios(informational: boolean, note?: string): RatioSpec[] {
  const extra = note ? { note } : {};
  return [
    {
      id: 'ours/bare',
      label: 'ours / bare verify',
      numerator: 'ours',
      denominator: 'bare',
      target: { min: 0.65, informational, ...extra },
    },
    {
      id: 'ours/fast-jwt',
      label: 'ours / fast-jwt + EXISTS (strongest peer)',
      numerator: 'ours',
      denominator: 'fast-jwt',
      target: { min: 2, informational, ...extra },
    },
    {
      id: 'ours/jsonwebtoken',
      label: 'ours / jsonwebtoken + EXISTS (common peer)',
      numerator: 'ours',
      denominator: 'jsonwebtoken',
    },
    {
      id: 'fast-jwt/bare',
      label: 'fast-jwt + EXISTS / bare verify',
      numerator: 'fast-jwt',
      denominator: 'bare',
    },
  ];
}
