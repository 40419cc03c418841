/**
 * What operators read from Redis: `INFO` parsed, `SLOWLOG` without its arguments, the eviction
 * policy judged, and the health check's shape. Pure functions over replies; `RedisClient` asks.
 */
import { createHash } from 'node:crypto';

/** What `healthCheck()` returns (the guide's health check). */
export interface RedisHealth {
  status: 'healthy' | 'unhealthy';
  topology: 'standalone' | 'sentinel' | 'cluster';
  connectedClients: number | null;
  opsPerSec: number | null;
  latencyMs: number | null;
  error?: string;
}

/** What `checkEvictionPolicy()` found. */
export interface EvictionPolicyReport {
  /** `maxmemory-policy` (on Cluster: of every master, distinct values joined by `,`). */
  policy: string;
  /** `maxmemory` in bytes (on Cluster: the smallest non-zero limit of a master); 0 = no limit. */
  maxmemoryBytes: number;
  /**
   * `true` only with `noeviction`: every other policy may delete keys when memory runs out, and
   * every key we write has a TTL, so even the `volatile-*` policies can silently drop a
   * blacklist entry, a revoke-all watermark or a revoked family, and a revoked token verifies again.
   */
  safe: boolean;
  /** One line for the operator. */
  message: string;
}

/** `INFO` parsed: numbers where the value is numeric, strings otherwise. */
export type RedisInfo = Record<string, string | number>;

/** Parses the text of `INFO` into an object. */
export function parseInfo(text: string): RedisInfo {
  const out: RedisInfo = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i === -1) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1);
    out[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

/**
 * The `INFO` of every Cluster master as one: numeric fields summed, others from the first master
 * that has them, plus `cluster_masters` (how many were asked).
 */
export function mergeInfo(parts: readonly RedisInfo[]): RedisInfo {
  const merged: RedisInfo = {};
  for (const part of parts) {
    for (const [k, v] of Object.entries(part)) {
      const prev = merged[k];
      merged[k] = typeof v === 'number' && typeof prev === 'number' ? prev + v : (prev ?? v);
    }
  }
  merged.cluster_masters = parts.length;
  return merged;
}

/**
 * Judges the `INFO memory` of every master (one outside Cluster): safe only when every master
 * runs `noeviction` (see `RedisClient.checkEvictionPolicy`).
 */
export function evictionPolicyReport(nodes: readonly RedisInfo[]): EvictionPolicyReport {
  const policies = [...new Set(nodes.map((n) => String(n.maxmemory_policy ?? 'unknown')))];
  const limits = nodes.map((n) => (typeof n.maxmemory === 'number' ? n.maxmemory : 0));
  const nonZero = limits.filter((l) => l > 0);
  const maxmemoryBytes = nonZero.length === 0 ? 0 : Math.min(...nonZero);
  const policy = policies.join(',');
  const safe = policies.length === 1 && policies[0] === 'noeviction';
  const message = safe
    ? `maxmemory-policy noeviction: nothing is evicted; writes fail when memory is full`
    : `maxmemory-policy ${policy} can evict revocation entries (blacklist, watermarks, revoked ` +
      `families) under memory pressure, and a revoked token would then be accepted: set ` +
      `maxmemory-policy noeviction${maxmemoryBytes === 0 ? ' (no maxmemory is set now, so nothing is evicted yet)' : ''}`;
  return { policy, maxmemoryBytes, safe, message };
}

/** One `SLOWLOG GET` entry, without its arguments (see `RedisClient.slowlog`). */
export interface SlowlogEntry {
  readonly id: number;
  /** When the command ran, epoch ms (Redis records whole seconds). */
  readonly timestamp: number;
  readonly durationMicros: number;
  /** Upper-case command name (`EVALSHA`, `ZRANGE` …). */
  readonly command: string;
  /** The SHA1 of the script an `EVALSHA` ran (or of an `EVAL`'s source); otherwise `null`. */
  readonly scriptSha1: string | null;
  /** How many arguments followed the command name. */
  readonly argumentCount: number;
  readonly clientName: string;
  /** `host:port` of the master on Cluster, `''` otherwise. */
  readonly node: string;
}

/** Parses a `SLOWLOG GET` reply, dropping the arguments (they may hold ids). */
export function parseSlowlog(reply: unknown, node = ''): SlowlogEntry[] {
  if (!Array.isArray(reply)) return [];
  const out: SlowlogEntry[] = [];
  for (const raw of reply) {
    if (!Array.isArray(raw) || raw.length < 4) continue;
    const args = Array.isArray(raw[3]) ? (raw[3] as unknown[]).map(String) : [];
    const command = (args[0] ?? '').toUpperCase();
    let scriptSha1: string | null = null;
    if (command === 'EVALSHA' || command === 'EVALSHA_RO')
      scriptSha1 = /^[0-9a-f]{40}$/i.test(args[1] ?? '') ? args[1]!.toLowerCase() : null;
    else if ((command === 'EVAL' || command === 'EVAL_RO') && args[1] !== undefined) {
      // Redis shortens long arguments ("... (N more bytes)"): a full source hashes to the SHA1.
      scriptSha1 = /\(\d+ more bytes\)$/.test(args[1])
        ? null
        : createHash('sha1').update(args[1]).digest('hex');
    }
    out.push({
      id: Number(raw[0]),
      timestamp: Number(raw[1]) * 1000,
      durationMicros: Number(raw[2]),
      command,
      scriptSha1,
      argumentCount: Math.max(0, args.length - 1),
      clientName: raw.length > 5 ? String(raw[5]) : '',
      node,
    });
  }
  return out;
}
