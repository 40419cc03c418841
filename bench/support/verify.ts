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
  options: {
    fastJwtCache: boolean | number;
    before?: (phase: Phase) => Promise<void>;
    /** Also measure ours and fast-jwt one operation at a time (no pipelining for anyone). */
    sequential?: boolean;
  },
): Contender[] {
  const fastVerify = fastJwtVerifier({ cache: options.fastJwtCache });
  const at = (i: number) => {
    const pool = tokens();
    return pool[i % pool.length]!;
  };
  const before = options.before;
  const contenders: Contender[] = [
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
  if (options.sequential) {
    const ours = contenders[0]!;
    const fast = contenders[2]!;
    contenders.push(
      { ...ours, id: 'ours@1', label: 'ours, one at a time (concurrency 1)', concurrency: 1 },
      {
        ...fast,
        id: 'fast-jwt@1',
        label: 'fast-jwt + EXISTS, one at a time (concurrency 1)',
        concurrency: 1,
      },
    );
  }
  return contenders;
}

/**
 * `firstSightTarget`: issue 17's goal for a token seen for the first time (ours ≥ 1.0× fast-jwt +
 * `EXISTS`), which replaces issue 6's 2× for that pair; the other targets stay informational.
 */
export function verifyRatios(
  informational: boolean,
  note?: string,
  sequential = false,
  firstSightTarget = false,
): RatioSpec[] {
  const extra = note ? { note } : {};
  const specs: RatioSpec[] = [
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
      target: firstSightTarget
        ? { min: 1, note: 'issue 17: a token seen for the first time at least as fast as fast-jwt + EXISTS' }
        : { min: 2, informational, ...extra },
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
  if (sequential) {
    specs.push(
      {
        id: 'ours@1/bare',
        label: 'ours / bare verify, one at a time',
        numerator: 'ours@1',
        denominator: 'bare',
      },
      {
        id: 'ours@1/fast-jwt@1',
        label: 'ours / fast-jwt + EXISTS, one at a time',
        numerator: 'ours@1',
        denominator: 'fast-jwt@1',
      },
    );
  }
  return specs;
}
