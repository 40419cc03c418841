import { createHash } from 'node:crypto';

/**
 * The narrow set of Redis commands the stores use, in node-redis (`@redis/client` v6) signatures.
 * Standalone clients, Sentinel and Cluster all provide them (Cluster routes each by its key), so
 * stores are written once against this interface and never see which topology is behind it.
 *
 * Multi-key commands (`del` with several keys, scripts) must name keys of one hash slot.
 */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  /** GET and DEL in one atomic command (Redis ≥ 6.2). */
  getDel(key: string): Promise<string | null>;
  set(
    key: string,
    value: string,
    options?: { expiration?: { type: 'PX' | 'EX'; value: number }; condition?: 'NX' | 'XX' },
  ): Promise<string | null>;
  del(keys: string | string[]): Promise<number>;
  exists(keys: string | string[]): Promise<number>;
  pExpire(key: string, ms: number): Promise<number>;
  pTTL(key: string): Promise<number>;
  hGetAll(key: string): Promise<Record<string, string>>;
  hGet(key: string, field: string): Promise<string | null>;
  hmGet(key: string, fields: string[]): Promise<Array<string | null>>;
  zScore(key: string, member: string): Promise<number | null>;
  zCard(key: string): Promise<number>;
  zAdd(
    key: string,
    members: { score: number; value: string } | Array<{ score: number; value: string }>,
  ): Promise<number>;
  zRem(key: string, members: string | string[]): Promise<number>;
  zRangeWithScores(
    key: string,
    min: number | string,
    max: number | string,
    options?: { BY?: 'SCORE' | 'LEX'; REV?: boolean; LIMIT?: { offset: number; count: number } },
  ): Promise<Array<{ value: string; score: number }>>;
  zRange(
    key: string,
    min: number | string,
    max: number | string,
    options?: { BY?: 'SCORE' | 'LEX'; REV?: boolean; LIMIT?: { offset: number; count: number } },
  ): Promise<string[]>;
  zRemRangeByScore(key: string, min: number | string, max: number | string): Promise<number>;
  mGet(keys: string[]): Promise<Array<string | null>>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** Walks the keyspace in bounded steps (on Cluster: every master in turn). */
  scanIterator(options: { MATCH: string; COUNT: number; TYPE?: string }): AsyncIterable<string[]>;
}

/**
 * A Lua script with its SHA1. Scripts live in `src/stores/redis/lua/*.lua`, each with a header
 * listing `KEYS[i]`, `ARGV[i]` (with units) and the return value.
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
  readonly numberOfKeys: number;
  /**
   * A revocation-class write (blacklist, family revocation or rotation, revoke-all watermark,
   * session end): `RedisClient.runScript` confirms it reached the replicas (`WAIT`) before it
   * resolves, on topologies with replicas.
   */
  readonly durable?: boolean;
}

/** Creates a Lua script object (name, source, SHA1). */
export function luaScript(
  name: string,
  source: string,
  numberOfKeys: number,
  options: { durable?: boolean } = {},
): LuaScript {
  return Object.freeze({
    name,
    source,
    numberOfKeys,
    sha1: createHash('sha1').update(source).digest('hex'),
    ...(options.durable ? { durable: true } : {}),
  });
}
