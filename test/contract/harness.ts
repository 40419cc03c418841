/**
 * What every contract suite shares: the backend-agnostic factory type, time helpers that work with
 * a `ManualClock` (memory) or the real clock (Redis), and the bad inputs every port must refuse.
 */
import assert from 'node:assert/strict';
import type { ManualClock } from '../../src/core/clock.js';
import { newUserScopedId, randomToken, sha256 } from '../../src/core/ids.js';
import type { GuideStores } from '../../src/core/ports.js';
import type { RefreshFamily, Session } from '../../src/core/types.js';
import { makeSession } from '../helpers/fixtures.js';

/** One backend instance for one test. */
export interface ContractStores {
  stores: GuideStores;
  /** The stores' clock when tests may move it; `null` when the stores run on real time. */
  clock: ManualClock | null;
  /** Releases what the factory opened (connections, key prefix). Called once, after the test. */
  close(): Promise<void>;
}

/** Options a factory must pass on to its backend (the memory and Redis stores share them). */
export interface ContractStoreOptions {
  /** Security event retention in seconds (the backend default when absent: 90 days). */
  securityEventTtlSeconds?: number;
  /** Bound of each user's security event index (the backend default when absent: 1000). */
  maxEventsPerUser?: number;
}

/**
 * Builds fresh, isolated stores (a new memory state, or a new Redis key prefix). Each test calls it
 * once and closes what it got.
 */
export type MakeStores = (options?: ContractStoreOptions) => Promise<ContractStores>;

/** Runs `fn` with fresh stores and always closes them. */
export async function withStores(
  make: MakeStores,
  fn: (ctx: ContractStores) => Promise<void>,
  options?: ContractStoreOptions,
): Promise<void> {
  const ctx = await make(options);
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** The stores' current time in ms. */
export function now(ctx: ContractStores): number {
  return ctx.clock?.now() ?? Date.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Lets `ms` pass: the manual clock is moved, or (on real time) the test waits exactly that long
 * plus a margin for clock granularity.
 */
export async function passTime(ctx: ContractStores, ms: number): Promise<void> {
  if (ctx.clock) ctx.clock.advance(ms);
  else await sleep(ms + 25);
}

/**
 * Asserts that something present now is gone once `ttlMs` has passed.
 *
 * With a manual clock the boundary is exact: still present at `ttlMs - 1`, gone at `ttlMs`. On
 * real time it polls every 25 ms until gone, failing after `ttlMs + 3000` ms, and checks that it did
 * not vanish long before `ttlMs`, both counted from `writtenAt`: when the write was sent (default:
 * now). Pass it for writes that may be acknowledged late — a revocation on Cluster or Sentinel waits
 * for a replica — since the TTL runs from when Redis applied the write, not from the answer.
 */
export async function assertExpires(
  ctx: ContractStores,
  ttlMs: number,
  isPresent: () => Promise<boolean>,
  what: string,
  writtenAt = Date.now(),
): Promise<void> {
  const start = writtenAt;
  assert.equal(await isPresent(), true, `${what}: present before its TTL`);
  if (ctx.clock) {
    ctx.clock.advance(ttlMs - 1);
    assert.equal(await isPresent(), true, `${what}: still present 1 ms before its TTL`);
    ctx.clock.advance(1);
    assert.equal(await isPresent(), false, `${what}: gone once its TTL has passed`);
    return;
  }
  const deadline = start + ttlMs + 3000;
  while (await isPresent()) {
    assert.ok(
      Date.now() < deadline,
      `${what}: still present ${Date.now() - start} ms after a TTL of ${ttlMs} ms`,
    );
    await sleep(25);
  }
  const elapsed = Date.now() - start;
  assert.ok(elapsed >= ttlMs - 250, `${what}: gone after ${elapsed} ms, before its TTL of ${ttlMs} ms`);
}

/**
 * Caller-supplied ids every store must refuse with ERR_INVALID_ID: glob characters, the key
 * separator, hash-tag braces, control characters, 257 characters, the empty string.
 */
export const BAD_IDS: readonly string[] = [
  'a*b',
  'a?b',
  'a[b',
  'a:b',
  'a{b',
  'a}b',
  'a\nb',
  'a\0b',
  '*',
  '?',
  '[',
  ':',
  '{',
  '}',
  '\n',
  '\0',
  'x'.repeat(257),
  '',
];

/**
 * User ids every store must refuse with ERR_INVALID_ID: empty, control characters, line
 * separators, a lone surrogate, more than 256 UTF-8 bytes. (Any printable Unicode is a user id:
 * it reaches keys only as a digest.)
 */
export const BAD_USER_IDS: readonly string[] = [
  '',
  'a\nb',
  'a\0b',
  '\x7f',
  'a\u2028b',
  '\ud800',
  'x'.repeat(257),
  'é'.repeat(129),
];

/** User ids every store must accept and keep as they are (none of them reaches a key in clear). */
export const ODD_USER_IDS: readonly string[] = [
  'tenant:kim',
  'Kim Lee',
  'ユーザー',
  'a{b}*?[c]',
  '😀 emoji',
  'x'.repeat(256),
  'é'.repeat(128),
];

/** Ids that must be refused where a generated `<tag>.<random>` id is expected. */
export function badScopedIds(userId = 'user-for-bad-ids'): string[] {
  const valid = newUserScopedId(userId);
  return [
    ...BAD_IDS,
    'plain-caller-id',
    `${valid}x`,
    valid.slice(1),
    `${valid.slice(0, -1)}*`,
    `${valid.slice(0, -1)}:`,
    `{${valid.slice(1, -1)}}`,
    valid.replace('.', ':'),
  ];
}

/** TTLs every store must refuse with ERR_INVALID_ARGUMENT. */
export const BAD_TTLS: readonly number[] = [
  0,
  -1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 20 ? `${JSON.stringify(value.slice(0, 20))}…` : JSON.stringify(value);
  return String(value);
}

/** Asserts that `call(value)` rejects with `code` for every value. */
export async function assertRejectsAll<T>(
  values: readonly T[],
  code: 'ERR_INVALID_ID' | 'ERR_INVALID_ARGUMENT',
  call: (value: T) => Promise<unknown>,
  what: string,
): Promise<void> {
  for (const value of values) {
    await assert.rejects(
      // Wrapped so a synchronous throw counts too.
      async () => call(value),
      (err: unknown) => {
        assert.equal(
          (err as { code?: unknown }).code,
          code,
          `${what}(${describeValue(value)}): ${String(err)}`,
        );
        return true;
      },
      `${what}(${describeValue(value)}) must reject with ${code}`,
    );
  }
}

/** Sorted copy, for comparing sets of ids. */
export function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

/** A live session of `userId` and a refresh family for it whose current token hash is returned. */
export async function setupFamily(
  ctx: ContractStores,
  userId: string,
  options: { ttlSeconds?: number; sessionTtlMs?: number } = {},
): Promise<{ session: Session; family: RefreshFamily; tokenHash: string }> {
  const t = now(ctx);
  const session = makeSession(
    userId,
    options.sessionTtlMs === undefined ? {} : { expiresAt: t + options.sessionTtlMs },
    t,
  );
  await ctx.stores.sessionStore.createSession(session);
  const tokenHash = sha256(randomToken());
  const family = await ctx.stores.refreshFamilies.create({
    familyId: newUserScopedId(userId),
    userId,
    sessionId: session.sessionId,
    tokenHash,
    ttlSeconds: options.ttlSeconds ?? 30 * 24 * 3600,
  });
  return { session, family, tokenHash };
}

/** A fresh refresh-token hash, as the service would store it. */
export function newTokenHash(): string {
  return sha256(randomToken());
}
