/**
 * The key schema: the only place that builds Redis key names. `docs/data-model.md` documents each
 * key as a command transcript; keep the two in step.
 *
 * Cluster: every key of one user shares the hash tag `{<user tag>}` (see `userTag`), so scripts
 * that change a user's session, index, family and watermark together run on one slot. Generated
 * ids (`<tag>.<random>`) carry the tag, so `sessionKey(sessionId)` needs no lookup.
 */
import { assertUserId, assertId, type IdCodec, PLAIN_ID_CODEC, userTag } from '../../core/ids.js';
import { ConfigError, InvalidIdError } from '../../core/errors.js';
import { assertCodeHash } from '../../core/validate.js';

const PREFIX_PATTERN = /^[A-Za-z0-9._:-]{0,64}$/;

export interface KeySchema {
  readonly prefix: string;
  /** STRING, JSON metadata. TTL: the token's remaining lifetime. */
  blacklist(jti: string): string;
  /** ZSET jti → expiry ms: every blacklist entry, for stats and cleanup. */
  blacklistIndex(): string;
  /**
   * HASH, the refresh family. TTL: the refresh token lifetime, cut to its session's absolute end;
   * deleted once its session has ended (`family_drop.lua`). Tag: the user's.
   */
  family(familyId: string): string;
  /**
   * The family's revocation mark: written and deleted at once by the script that sets the family's
   * `revoked` flag, and never otherwise, so it holds nothing. What counts is the write, pushed to
   * every broadcasting listener (`RevocationWatch`): no write heard under this prefix since a token
   * was minted proves its family was not revoked since, without a read. Tag: the user's.
   */
  familyRevoked(familyId: string): string;
  /** ZSET familyId → expiry ms of revoked families (the guide's SET, scored for pruning). */
  revokedFamilies(): string;
  /**
   * HASH familyId → sessionId: the user's refresh families, so that the families of ended sessions
   * are found and deleted (`family_drop.lua`); at most one entry per live session's family. TTL:
   * the longest family's. Tag: the user's.
   */
  userFamilies(userId: string): string;
  /** `userFamilies` of the session's user, derived from the session id's tag (no lookup). */
  userFamiliesOf(sessionId: string): string;
  /** STRING, the compact session record (`records.ts`). TTL: until `expiresAt`. Tag: the user's. */
  session(sessionId: string): string;
  /** ZSET sessionId → expiresAt ms. The authority on which sessions are live. */
  userSessions(userId: string): string;
  /** `userSessions` of the session's user, derived from the session id's tag (no lookup). */
  userSessionsOf(sessionId: string): string;
  /**
   * Retired: the stores no longer write it (evict-oldest reads `createdAt` from the records, which
   * saved ~85 bytes per session; see docs/data-model.md). The name stays reserved so nothing else
   * takes it and tools can recognise leftover keys.
   */
  userSessionsCreated(userId: string): string;
  /** ZSET sessionId → expiresAt ms; may hold ended members (filtered on read). */
  deviceSessions(deviceId: string): string;
  /**
   * ZSET sessionId → until ms: ids a cleanup sweep found not live and removed from a device index,
   * so a login whose session went live after that re-adds its device entry. TTL: the latest note.
   * Tag: the user's.
   */
  userSweptSessions(userId: string): string;
  /** `userSweptSessions` of the session's user, derived from the session id's tag (no lookup). */
  userSweptSessionsOf(sessionId: string): string;
  /** STRING JSON trusted device. TTL: trust duration. Tag: the user's. */
  trustedDevice(userId: string, deviceId: string): string;
  /** ZSET deviceId → expiresAt ms of the user's trusted devices. */
  userTrustedDevices(userId: string): string;
  /** STRING JSON event. TTL: retention (90 days). Tag: the user's (or the event's own). */
  securityEvent(eventId: string): string;
  /** ZSET eventId → timestamp ms, trimmed to a bound. */
  userSecurityEvents(userId: string): string;
  /** `userSecurityEvents` of the event's user, derived from the event id's tag (no lookup). */
  userSecurityEventsOf(eventId: string): string;
  /**
   * STRING JSON `{beforeMs, expiresAt}` (ms): tokens of the user issued before `beforeMs` are
   * revoked. Tag: the user's.
   */
  userWatermark(userId: string): string;
  /** STRING: the cleanup job's lock (one sweeper at a time across instances). */
  cleanupLock(): string;
  /** STRING holder token, PX = the cleanup interval: the fleet sweeps once per interval (HTTP service). */
  cleanupSchedule(): string;
  /** STRING counter, PX = the window: one rate-limit bucket (HTTP service). `bucket`: `[A-Za-z0-9._-]`. */
  rateLimit(bucket: string): string;
  /** STRING JSON `{p, e}`, PX = the code's life: one browser hand-off code, by its hash. */
  handoff(codeHash: string): string;
  /**
   * STRING counter (or sampled gauge), PX = the overview's retention: one per-minute figure of the
   * operator overview (HTTP service). Tag: the minute, so a minute's figures share one slot.
   * `field`: `[a-z_]`.
   */
  activity(minuteMs: number, field: string): string;
  /** STRING, no TTL: the deployment's id-tag secret (base64url), created once with SET NX. */
  idTagSecret(): string;
  /**
   * The prefixes of every key kind the stores read through the client-side cache's tracked
   * connection (blacklist entries, families, watermarks, user indexes, session records): what a
   * connection tracking in broadcasting mode must cover (`clientSideCache.broadcastPrefixes`). No
   * other kind is under them, so writes to events, device indexes, rate limits… are not pushed.
   */
  readonly trackedPrefixes: readonly string[];
  /**
   * The tracked prefixes whose keys are written only when something is revoked (blacklist entries,
   * family revocation marks): a listener that heard no write to such a key since a token was minted
   * knows it was not revoked that way (`RevocationWatch`).
   */
  readonly revocationOnlyPrefixes: readonly string[];
  /** SCAN patterns used by maintenance (bounded SCAN only). */
  patterns: {
    session: string;
    blacklist: string;
    family: string;
    userSessions: string;
    deviceSessions: string;
    trustedDevice: string;
    userTrustedDevices: string;
    securityEvent: string;
    userSecurityEvents: string;
  };
}

/**
 * Builds the key schema under `prefix` (e.g. `optix:`; letters, digits and `._:-`, at most 64).
 * @throws ConfigError when the prefix has other characters (braces would break Cluster routing).
 */
export function createKeySchema(prefix = '', ids: IdCodec = PLAIN_ID_CODEC): KeySchema {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError('keyPrefix', 'may contain only letters, digits and . _ : - (at most 64)');
  }
  const p = prefix;
  // Keys always carry the plain tag (slot and name as before the ids were sealed): an id of
  // either form names the same key.
  const tagged = (kind: string, id: string): string => {
    const { tag, rest } = ids.parse(kind, id);
    return `{${tag}}.${rest}`;
  };
  return {
    prefix: p,
    blacklist(jti) {
      assertId('jti', jti);
      return `${p}token:blacklist:${jti}`;
    },
    blacklistIndex: () => `${p}token:blacklist_index`,
    family: (familyId) => `${p}token:family:${tagged('familyId', familyId)}`,
    familyRevoked: (familyId) => `${p}token:family_revoked:${tagged('familyId', familyId)}`,
    revokedFamilies: () => `${p}token:revoked_families`,
    userFamilies(userId) {
      assertUserId(userId);
      return `${p}user:families:{${userTag(userId)}}`;
    },
    userFamiliesOf: (sessionId) => `${p}user:families:{${ids.parse('sessionId', sessionId).tag}}`,
    session: (sessionId) => `${p}session:${tagged('sessionId', sessionId)}`,
    userSessions(userId) {
      assertUserId(userId);
      return `${p}user:sessions:{${userTag(userId)}}`;
    },
    userSessionsOf: (sessionId) => `${p}user:sessions:{${ids.parse('sessionId', sessionId).tag}}`,
    userSessionsCreated(userId) {
      assertUserId(userId);
      return `${p}user:sessions_created:{${userTag(userId)}}`;
    },
    userSweptSessions(userId) {
      assertUserId(userId);
      return `${p}user:sessions_swept:{${userTag(userId)}}`;
    },
    userSweptSessionsOf: (sessionId) => `${p}user:sessions_swept:{${ids.parse('sessionId', sessionId).tag}}`,
    deviceSessions(deviceId) {
      assertId('deviceId', deviceId);
      return `${p}device:sessions:${deviceId}`;
    },
    trustedDevice(userId, deviceId) {
      assertUserId(userId);
      assertId('deviceId', deviceId);
      return `${p}trusted:device:{${userTag(userId)}}.${deviceId}`;
    },
    userTrustedDevices(userId) {
      assertUserId(userId);
      return `${p}user:trusted:{${userTag(userId)}}`;
    },
    securityEvent: (eventId) => `${p}security:event:${tagged('eventId', eventId)}`,
    userSecurityEvents(userId) {
      assertUserId(userId);
      return `${p}user:security:{${userTag(userId)}}`;
    },
    userSecurityEventsOf: (eventId) => `${p}user:security:{${ids.parse('eventId', eventId).tag}}`,
    userWatermark(userId) {
      assertUserId(userId);
      return `${p}user:revoked_before:{${userTag(userId)}}`;
    },
    idTagSecret: () => `${p}meta:id_tag_secret`,
    cleanupLock: () => `${p}maintenance:cleanup_lock`,
    cleanupSchedule: () => `${p}maintenance:cleanup_schedule`,
    rateLimit(bucket) {
      if (!/^[A-Za-z0-9._-]{1,128}$/.test(bucket)) throw new InvalidIdError('rate-limit bucket', 'malformed');
      return `${p}ratelimit:${bucket}`;
    },
    handoff(codeHash) {
      assertCodeHash(codeHash);
      return `${p}browser:handoff:${codeHash}`;
    },
    activity(minuteMs, field) {
      if (!Number.isSafeInteger(minuteMs) || minuteMs < 0 || minuteMs % 60_000 !== 0) {
        throw new InvalidIdError('activity minute', 'must be a whole minute in ms since the epoch');
      }
      if (!/^[a-z_]{1,32}$/.test(field)) throw new InvalidIdError('activity field', 'malformed');
      return `${p}activity:{${minuteMs}}:${field}`;
    },
    trackedPrefixes: Object.freeze([
      `${p}token:blacklist:`,
      `${p}token:family:`,
      `${p}token:family_revoked:`,
      `${p}user:revoked_before:`,
      `${p}user:sessions:`,
      `${p}session:`,
    ]),
    revocationOnlyPrefixes: Object.freeze([`${p}token:blacklist:`, `${p}token:family_revoked:`]),
    patterns: {
      session: `${p}session:*`,
      blacklist: `${p}token:blacklist:*`,
      family: `${p}token:family:*`,
      userSessions: `${p}user:sessions:*`,
      deviceSessions: `${p}device:sessions:*`,
      trustedDevice: `${p}trusted:device:*`,
      userTrustedDevices: `${p}user:trusted:*`,
      securityEvent: `${p}security:event:*`,
      userSecurityEvents: `${p}user:security:*`,
    },
  };
}
