/**
 * Shared by `scripts/session-bytes.ts` and `scripts/scale.ts`: a throwaway redis-server on a spare
 * port (never 6379), an admin connection for INFO / MEMORY / SLOWLOG / LATENCY, realistic sessions,
 * and a small bounded-concurrency runner with progress output.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { createIdCodec, fingerprintDigest, randomToken, trustedDeviceId } from '../../src/core/ids.js';
import type { Session } from '../../src/core/types.js';
import { type StandaloneTopology, startStandalone } from '../../test/topologies/harness.js';

/** A real desktop Chrome user agent: 110 characters. */
export const USER_AGENT =
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36';
export const IDLE_MS = 30 * 60_000;
export const ABSOLUTE_MS = 12 * 60 * 60_000;

function makeAdmin(url: string) {
  return createClient({ url });
}
export type Admin = ReturnType<typeof makeAdmin>;

export interface BenchRedis {
  server: StandaloneTopology;
  url: string;
  admin: Admin;
  stop(): Promise<void>;
}

/** Starts `redis-server` (no persistence) on a spare port and connects an admin client to it. */
export async function startBenchRedis(args: readonly string[] = []): Promise<BenchRedis> {
  const server = await startStandalone({ args });
  const admin = makeAdmin(server.url);
  admin.on('error', () => {});
  await admin.connect();
  return {
    server,
    url: server.url,
    admin,
    async stop() {
      await admin.close().catch(() => {});
      await server.stop();
    },
  };
}

/** `INFO <section>` as key → string. */
export async function info(admin: Admin, section: string): Promise<Record<string, string>> {
  const text = String(await admin.info(section));
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export async function usedMemory(admin: Admin): Promise<number> {
  return Number((await info(admin, 'memory')).used_memory);
}

/** A user id as a caller would pass it (14 characters). */
export function makeUserId(): string {
  return `user-${randomToken(9)}`;
}

/** Everything a login supplies: 64-hex fingerprint, an IPv4 address, the 110-character user agent. */
export interface Login {
  fingerprint: string;
  ipAddress: string;
}

export function makeLogin(): Login {
  const b = randomBytes(3);
  return {
    fingerprint: randomBytes(32).toString('hex'),
    ipAddress: `198.51.${b[0]! % 256}.${1 + (b[1]! % 254)}`,
  };
}

/**
 * Sealed ids, 45 characters, as a deployment issues them; pass to `createRedisStores({ ids })`.
 */
export const BENCH_IDS = createIdCodec(randomBytes(32));

/**
 * The session the session manager would build for `userId` logging in at `now` (30 min idle,
 * 12 h absolute; the fingerprint kept as its SHA-256 hex digest and the device id derived from it,
 * as `createSession` does when the client sends only a fingerprint).
 */
export function makeSession(userId: string, login: Login, now: number, mfaVerified = true): Session {
  const digest = fingerprintDigest(login.fingerprint);
  return {
    sessionId: BENCH_IDS.newId(userId),
    userId,
    deviceId: trustedDeviceId(userId, digest),
    deviceFingerprint: digest,
    ipAddress: login.ipAddress,
    userAgent: USER_AGENT,
    createdAt: now,
    lastActivity: now,
    lastEndpoint: null,
    expiresAt: now + IDLE_MS,
    absoluteExpiresAt: now + ABSOLUTE_MS,
    mfaVerified,
  };
}

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; calls `onProgress`
 * about every `every` completions.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
  every = 10_000,
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      await task(i);
      done++;
      if (onProgress && done % every === 0) onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** The q-quantile (0..1) of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}
