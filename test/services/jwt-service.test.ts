import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, importPKCS8, jwtVerify, SignJWT } from 'jose';
import { ManualClock } from '../../src/core/clock.js';
import { ConfigError, OptixError, StoreTimeoutError } from '../../src/core/errors.js';
import { createMemoryStores } from '../../src/stores/memory/index.js';
import { createJwtService } from '../../src/services/jwt-service.js';
import { createSessionManager } from '../../src/services/session-manager.js';
import type { JwtKeyConfig, JwtServiceOptions } from '../../src/services/types.js';
import { USER_AGENT, uniqueUserId } from '../helpers/fixtures.js';
import { BACKENDS, TEST_SECRET } from './backends.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function pem(alg: 'EdDSA' | 'ES256') {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

async function rejectsCode(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OptixError, `expected OptixError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

for (const backend of BACKENDS) {
  describe(`JWT service (${backend.name})`, () => {
    async function setup(extra: Partial<JwtServiceOptions> = {}) {
      const { stores, clock } = await backend.make();
      const jwt = createJwtService({
        stores,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'optix-api',
        clock,
        // These tests place exp exactly; the default tolerance (5 s) has its own tests.
        clockToleranceSeconds: 0,
        ...extra,
      });
      const sessions = createSessionManager({ stores, clock });
      const userId = uniqueUserId();
      const session = await sessions.createSession({ userId, ipAddress: '10.0.0.1', userAgent: USER_AGENT });
      return { stores, clock, jwt, sessions, userId, session };
    }

    it('signs and verifies an access token with the guide claims', async () => {
      const { jwt, userId } = await setup();
      const { token, record } = await jwt.createAccessToken({
        userId,
        email: 'user@example.com',
        roles: ['user'],
        permissions: ['read', 'write'],
      });
      const { payload, revocationChecked } = await jwt.verifyToken(token);
      assert.equal(revocationChecked, true);
      assert.equal(payload.sub, userId);
      assert.equal(payload.jti, record.jti);
      assert.deepEqual(payload.roles, ['user']);
      assert.equal(payload.scope, 'read write');
      assert.equal(record.expiresAt - record.issuedAt <= 900_000, true);
    });

    it('a refused reason or a missing input changes nothing (checked before any write)', async () => {
      const { jwt, userId } = await setup();
      const { token, record } = await jwt.createAccessToken({ userId });
      const long = 'r'.repeat(257);
      await rejectsCode(jwt.revokeAllUserTokens(userId, long), 'ERR_INVALID_ARGUMENT');
      await rejectsCode(jwt.revokeAllUserTokens(userId, ''), 'ERR_INVALID_ARGUMENT');
      await rejectsCode(jwt.revokeAccessToken(token, long), 'ERR_INVALID_ARGUMENT');
      await rejectsCode(jwt.revokeToken({ jti: record.jti, userId, reason: '' }), 'ERR_INVALID_ARGUMENT');
      await rejectsCode(
        jwt.blacklistUserTokens({ userId, tokenJtis: [record.jti], reason: long }),
        'ERR_INVALID_ARGUMENT',
      );
      assert.equal((await jwt.verifyToken(token)).payload.jti, record.jti, 'still valid');
      for (const call of [
        () => jwt.createAccessToken(undefined as never),
        () => jwt.issueTokenPair(null as never),
        () => jwt.blacklistUserTokens(undefined as never),
        () => jwt.verifyToken(token, null as never),
      ]) {
        await rejectsCode(call(), 'ERR_INVALID_ARGUMENT');
      }
    });

    it('rejects alg none, HS/ES confusion, unknown kid, tampering, expiry, nbf, iss and aud', async () => {
      const es = pem('ES256');
      const { jwt, userId, clock } = await setup({
        keys: [
          { kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET },
          { kid: 'es-1', alg: 'ES256', ...es },
        ],
      });
      const { token } = await jwt.createAccessToken({ userId });
      const [h, p] = token.split('.') as [string, string, string];
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      // alg: none, with and without a signature
      await rejectsCode(jwt.verifyToken(`${b64({ alg: 'none', kid: 'hs-1' })}.${p}.`), 'ERR_JWT_MALFORMED');
      await rejectsCode(
        jwt.verifyToken(`${b64({ alg: 'none', kid: 'hs-1' })}.${p}.c2ln`),
        'ERR_JWT_ALGORITHM',
      );
      // HS256 keyed with the ES256 public key (the classic confusion attack)
      const confusedHead = b64({ alg: 'HS256', typ: 'JWT', kid: 'es-1' });
      const confusedSig = createHmac('sha256', es.publicKeyPem)
        .update(`${confusedHead}.${p}`)
        .digest('base64url');
      await rejectsCode(jwt.verifyToken(`${confusedHead}.${p}.${confusedSig}`), 'ERR_JWT_ALGORITHM');
      // unknown kid
      const otherHead = b64({ alg: 'HS256', typ: 'JWT', kid: 'nope' });
      const otherSig = createHmac('sha256', TEST_SECRET).update(`${otherHead}.${p}`).digest('base64url');
      await rejectsCode(jwt.verifyToken(`${otherHead}.${p}.${otherSig}`), 'ERR_JWT_KEY_UNKNOWN');
      // tampered payload
      const tampered = b64({ ...payload, sub: 'someone-else' });
      await rejectsCode(jwt.verifyToken(`${h}.${tampered}.${token.split('.')[2]}`), 'ERR_JWT_SIGNATURE');
      // wrong issuer / audience, signed with the right key by another service
      const other = createJwtService({
        stores: createMemoryStores({ clock }),
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'evil',
        audience: 'optix-api',
        clock,
      });
      await rejectsCode(jwt.verifyToken((await other.createAccessToken({ userId })).token), 'ERR_JWT_CLAIM');
      const otherAud = createJwtService({
        stores: createMemoryStores({ clock }),
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'another-api',
        clock,
      });
      await rejectsCode(
        jwt.verifyToken((await otherAud.createAccessToken({ userId })).token),
        'ERR_JWT_CLAIM',
      );
      // not yet valid (nbf in the future), signed correctly
      const nbfBody = b64({ ...payload, nbf: Math.floor(clock.now() / 1000) + 600 });
      const nbfSig = createHmac('sha256', TEST_SECRET).update(`${h}.${nbfBody}`).digest('base64url');
      await rejectsCode(jwt.verifyToken(`${h}.${nbfBody}.${nbfSig}`), 'ERR_JWT_NOT_YET_VALID');
      // exp missing
      const { exp: _exp, ...noExp } = payload;
      const noExpBody = b64(noExp);
      const noExpSig = createHmac('sha256', TEST_SECRET).update(`${h}.${noExpBody}`).digest('base64url');
      await rejectsCode(jwt.verifyToken(`${h}.${noExpBody}.${noExpSig}`), 'ERR_JWT_CLAIM');
      // expired
      clock.advance(901_000);
      await rejectsCode(jwt.verifyToken(token), 'ERR_JWT_EXPIRED');
      // garbage
      for (const junk of [
        '',
        'a.b',
        'a.b.c.d',
        '....',
        `${h}.${p}`,
        '\u0000.\u0000.\u0000',
        'x'.repeat(9000),
      ]) {
        await rejectsCode(jwt.verifyToken(junk), 'ERR_JWT_MALFORMED');
      }
    });

    it('keeps verified tokens by their exact text: time claims and revocation still checked every call', async () => {
      const { jwt, userId, clock } = await setup({ verifiedTokenCacheSize: 2 });
      const { token } = await jwt.createAccessToken({ userId, roles: ['trader'] });
      const first = await jwt.verifyToken(token);
      const again = await jwt.verifyToken(token);
      assert.equal(again.payload, first.payload, 'the second verification used the stored claims');
      assert.ok(
        Object.isFrozen(again.payload) && Object.isFrozen(again.payload.roles),
        'shared claims are frozen',
      );
      // One byte off is a different token, checked in full.
      const [h, p, sig] = token.split('.') as [string, string, string];
      const flipped = `${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
      await rejectsCode(jwt.verifyToken(flipped), 'ERR_JWT_SIGNATURE');
      // Another payload under the stored token's signature (the lookup key) is not the stored token:
      // checked in full, refused, and the stored one is still answered.
      const forged = Buffer.from(JSON.stringify({ ...first.payload, roles: ['admin'] })).toString(
        'base64url',
      );
      await rejectsCode(jwt.verifyToken(`${h}.${forged}.${sig}`), 'ERR_JWT_SIGNATURE');
      assert.equal((await jwt.verifyToken(token)).payload, first.payload);
      // Revocation is checked on every call, stored or not.
      const { token: other, record } = await jwt.createAccessToken({ userId });
      await jwt.verifyToken(other);
      await jwt.revokeToken({ jti: record.jti, userId, reason: 'logout' });
      await rejectsCode(jwt.verifyToken(other), 'ERR_TOKEN_REVOKED');
      // So is expiry.
      clock.advance(901_000);
      await rejectsCode(jwt.verifyToken(token), 'ERR_JWT_EXPIRED');
      assert.throws(
        () =>
          createJwtService({
            stores: createMemoryStores(),
            keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
            issuer: 'i',
            audience: 'a',
            verifiedTokenCacheSize: -1,
          }),
        { code: 'ERR_CONFIG' },
      );
    });

    it('with verifiedTokenCacheSize 0 checks every presentation in full', async () => {
      const { jwt, userId } = await setup({ verifiedTokenCacheSize: 0 });
      const { token } = await jwt.createAccessToken({ userId });
      const a = await jwt.verifyToken(token);
      const b = await jwt.verifyToken(token);
      assert.notEqual(a.payload, b.payload);
      assert.deepEqual(a.payload, b.payload);
    });

    it('accepts one spelling per token: non-canonical base64url and invalid UTF-8 fail even when signed', async () => {
      const { jwt } = await setup({});
      const { token } = await jwt.createAccessToken({ userId: 'encoding-user' });
      const [h, p, sig] = token.split('.') as [string, string, string];
      await jwt.verifyToken(token); // the header is now known to the verifier
      const signed = (head: string, body: string) =>
        `${head}.${body}.${createHmac('sha256', TEST_SECRET).update(`${head}.${body}`).digest('base64url')}`;
      // Trailing bits set on the last character: decodes to the same bytes, other spelling.
      const bump = (seg: string) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(seg.at(-1)!);
        const mask = seg.length % 4 === 2 ? 0x0f : 0x03;
        return seg.slice(0, -1) + alphabet[(last & ~mask) | 1];
      };
      for (const seg of [h, p, sig]) assert.notEqual(seg.length % 4, 0, 'fixture segments have spare bits');
      await rejectsCode(jwt.verifyToken(signed(bump(h), p)), 'ERR_JWT_MALFORMED');
      await rejectsCode(jwt.verifyToken(signed(h, bump(p))), 'ERR_JWT_MALFORMED');
      await rejectsCode(jwt.verifyToken(`${h}.${p}.${bump(sig)}`), 'ERR_JWT_MALFORMED');
      // A length of 1 mod 4 is no base64url at all; padding is not allowed.
      const oneMod4 = p + 'A'.repeat((1 - (p.length % 4) + 4) % 4);
      assert.equal(oneMod4.length % 4, 1);
      await rejectsCode(jwt.verifyToken(signed(h, oneMod4)), 'ERR_JWT_MALFORMED');
      await rejectsCode(jwt.verifyToken(signed(h, `${p}=`)), 'ERR_JWT_MALFORMED');
      // Invalid UTF-8 in a correctly signed payload and header.
      const badUtf8 = Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      await rejectsCode(jwt.verifyToken(signed(h, badUtf8.toString('base64url'))), 'ERR_JWT_MALFORMED');
      await rejectsCode(jwt.verifyToken(signed(badUtf8.toString('base64url'), p)), 'ERR_JWT_MALFORMED');
      // The genuine token still verifies after all that.
      await jwt.verifyToken(token);
    });

    it('refuses a short HS256 secret and keys of the wrong type', async () => {
      const { stores } = await backend.make();
      const base = { stores, issuer: 'i', audience: 'a' };
      assert.throws(
        () => createJwtService({ ...base, keys: [{ kid: 'k', alg: 'HS256', secret: 'short' }] }),
        ConfigError,
      );
      const ed = pem('EdDSA');
      assert.throws(
        () => createJwtService({ ...base, keys: [{ kid: 'k', alg: 'ES256', ...ed }] }),
        ConfigError,
      );
      assert.throws(() => createJwtService({ ...base, keys: [] }), ConfigError);
    });

    it('rotates keys: old tokens keep verifying, tokens of a removed key do not; JWKS interoperates with jose', async () => {
      const ed = pem('EdDSA');
      const es = pem('ES256');
      const { stores, clock, userId } = await setup();
      const opts = { stores, issuer: 'optix-test', audience: 'optix-api', clock };
      const oldKeys: JwtKeyConfig[] = [{ kid: 'ed-1', alg: 'EdDSA', ...ed }];
      const v1 = createJwtService({ ...opts, keys: oldKeys });
      const oldToken = (await v1.createAccessToken({ userId })).token;
      const v2 = createJwtService({ ...opts, keys: [{ kid: 'es-2', alg: 'ES256', ...es }, ...oldKeys] });
      const newToken = (await v2.createAccessToken({ userId })).token;
      assert.equal((await v2.verifyToken(oldToken)).payload.sub, userId);
      assert.equal((await v2.verifyToken(newToken)).payload.sub, userId);
      const v3 = createJwtService({ ...opts, keys: [{ kid: 'es-2', alg: 'ES256', ...es }] });
      await rejectsCode(v3.verifyToken(oldToken), 'ERR_JWT_KEY_UNKNOWN');
      // jose verifies our tokens through our JWKS …
      const jwks = await v2.jwks();
      assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), ['ed-1', 'es-2']);
      const set = createLocalJWKSet(jwks as never);
      for (const t of [oldToken, newToken]) {
        const { payload } = await jwtVerify(t, set, {
          issuer: 'optix-test',
          audience: 'optix-api',
          currentDate: new Date(clock.now()),
        });
        assert.equal(payload.sub, userId);
      }
      // … and we verify jose's.
      const iat = Math.floor(clock.now() / 1000);
      const joseToken = await new SignJWT({ jti: 'jose-made-1' })
        .setProtectedHeader({ alg: 'ES256', kid: 'es-2' })
        .setSubject(userId)
        .setIssuer('optix-test')
        .setAudience('optix-api')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .sign(await importPKCS8(es.privateKeyPem, 'ES256'));
      assert.equal((await v2.verifyToken(joseToken)).payload.sub, userId);
    });

    it('revokes a jti, all of a user (O(1) watermark) and the list form', async () => {
      const { jwt, userId, clock } = await setup();
      const a = await jwt.createAccessToken({ userId });
      const b = await jwt.createAccessToken({ userId });
      await jwt.revokeToken({ jti: a.record.jti, userId, reason: 'security_concern' });
      await rejectsCode(jwt.verifyToken(a.token), 'ERR_TOKEN_REVOKED');
      await jwt.verifyToken(b.token);
      clock.advance(5);
      await jwt.revokeAllUserTokens(userId, 'password_changed');
      await rejectsCode(jwt.verifyToken(b.token), 'ERR_TOKEN_REVOKED');
      clock.advance(1);
      const c = await jwt.createAccessToken({ userId });
      await jwt.verifyToken(c.token);
      const d = await jwt.createAccessToken({ userId });
      assert.equal(
        await jwt.blacklistUserTokens({ userId, tokenJtis: [c.record.jti, d.record.jti], reason: 'x' }),
        2,
      );
      await rejectsCode(jwt.verifyToken(c.token), 'ERR_TOKEN_REVOKED');
      await rejectsCode(jwt.verifyToken(d.token), 'ERR_TOKEN_REVOKED');
      assert.equal(await jwt.revokeAccessToken('not-a-token', 'x'), false);
    });

    it('a refresh may narrow the scope (RFC 6749 §6), never widen it; a refused scope consumes nothing', async () => {
      const { jwt, userId, session } = await setup();
      const pair = await jwt.issueTokenPair({
        userId,
        sessionId: session.sessionId,
        permissions: ['trade', 'read'],
      });
      await rejectsCode(
        jwt.refreshTokens(pair.refreshToken, { scope: ['read', 'admin'] }),
        'ERR_INVALID_ARGUMENT',
      );
      const narrowed = await jwt.refreshTokens(pair.refreshToken, { scope: ['read'] });
      const claims = (await jwt.verifyToken(narrowed.accessToken)).payload;
      assert.equal(claims.scope, 'read');
      assert.deepEqual(claims.permissions, ['read']);
      // The family keeps the grant: the next refresh without a scope has all of it again.
      const full = await jwt.refreshTokens(narrowed.refreshToken);
      assert.equal((await jwt.verifyToken(full.accessToken)).payload.scope, 'trade read');
    });

    it('rotates refresh tokens; 100 concurrent presentations get one child; reuse after the window revokes the family', async () => {
      const { jwt, stores, userId, session, clock } = await setup();
      const pair = await jwt.issueTokenPair({ userId, sessionId: session.sessionId, roles: ['trader'] });
      const results = await Promise.all(
        Array.from({ length: 100 }, () => jwt.refreshTokens(pair.refreshToken)),
      );
      const children = new Set(results.map((r) => r.refreshToken));
      assert.equal(children.size, 1, 'every caller gets the same child');
      assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
      const family = await stores.refreshFamilies.get(
        pair.refreshToken.slice(0, pair.refreshToken.lastIndexOf('.')),
      );
      assert.equal(family?.generation, 1, 'exactly one rotation');
      const child = results[0]!;
      assert.deepEqual((await jwt.verifyToken(child.accessToken)).payload.roles, ['trader']);
      // the child rotates normally
      const grandchild = await jwt.refreshTokens(child.refreshToken);
      await jwt.verifyToken(grandchild.accessToken);
      // the first token presented again, long after: theft
      clock.advance(11_000);
      await rejectsCode(jwt.refreshTokens(pair.refreshToken), 'ERR_REFRESH_REUSED');
      for (const t of [pair.accessToken, child.accessToken, grandchild.accessToken]) {
        await rejectsCode(jwt.verifyToken(t), 'ERR_TOKEN_REVOKED');
      }
      await rejectsCode(jwt.refreshTokens(grandchild.refreshToken), 'ERR_REFRESH_REVOKED');
      assert.equal(await stores.sessionStore.getSession(session.sessionId), null, 'the session ended');
      const events = await stores.securityEvents.listUserEvents(userId, { limit: 100 });
      const reuse = events.find((e) => e.type === 'token_reuse_detected');
      assert.ok(reuse, 'reuse recorded');
      assert.equal(
        JSON.stringify(events).includes(pair.refreshToken.slice(40)),
        false,
        'no secret in events',
      );
    });

    it('a forged secret for a known family is refused without revoking it', async () => {
      const { jwt, userId, session } = await setup();
      const pair = await jwt.issueTokenPair({ userId, sessionId: session.sessionId });
      const familyId = pair.refreshToken.slice(0, pair.refreshToken.lastIndexOf('.'));
      await rejectsCode(jwt.refreshTokens(`${familyId}.${'A'.repeat(43)}`), 'ERR_REFRESH_INVALID');
      assert.equal(await jwt.revokeRefreshToken(`${familyId}.${'B'.repeat(43)}`, 'x'), false);
      const next = await jwt.refreshTokens(pair.refreshToken);
      await jwt.verifyToken(next.accessToken);
      for (const junk of ['', 'x', `${familyId}.short`, `${familyId}`, '{a}.b.c', 'a'.repeat(500)]) {
        await rejectsCode(jwt.refreshTokens(junk), 'ERR_REFRESH_INVALID');
      }
    });

    it('revocation TTLs: the remaining life of a token given whole; the access-token life for a bare jti', async () => {
      const { jwt, stores, userId, clock } = await setup();
      const a = await jwt.createAccessToken({ userId });
      const exp = jwt.decodeVerified(a.token).exp;
      clock.advance(5 * 60_000); // 5 of its 15 minutes gone
      assert.equal(await jwt.revokeAccessToken(a.token, 'user_logout'), true);
      const entry = await stores.tokenBlacklist.getEntry(a.record.jti);
      assert.ok(entry);
      // Kept exactly as long as the token could still verify (whole seconds, rounded up).
      assert.ok(entry.expiresAt >= exp * 1000 && entry.expiresAt < exp * 1000 + 1000, `${entry.expiresAt}`);
      assert.equal(entry.expiresAt - entry.revokedAt, Math.ceil(exp - clock.now() / 1000) * 1000);

      // revokeToken({ jti }) without ttlSeconds cannot know the token's exp: it keeps the entry
      // for the whole access-token life, an upper bound of what is left of it.
      const b = await jwt.createAccessToken({ userId });
      clock.advance(60_000);
      await jwt.revokeToken({ jti: b.record.jti, userId, reason: 'security_concern' });
      const entryB = await stores.tokenBlacklist.getEntry(b.record.jti);
      assert.equal(entryB!.expiresAt - entryB!.revokedAt, jwt.accessTokenTtlSeconds * 1000);
      assert.ok(entryB!.expiresAt >= b.record.expiresAt);
      await rejectsCode(jwt.verifyToken(b.token), 'ERR_TOKEN_REVOKED');
    });

    it('a refresh whose store call fails half-way leaves the family intact: the retry gets the same pair', async () => {
      const { stores, clock, userId, session } = await setup();
      // The rotation lands in the store, but its answer is lost (a timeout after the write).
      let failNext = true;
      const families = stores.refreshFamilies;
      const flaky = {
        ...stores,
        refreshFamilies: {
          create: families.create.bind(families),
          get: families.get.bind(families),
          revokeWithToken: families.revokeWithToken.bind(families),
          async rotate(input: Parameters<typeof families.rotate>[0]) {
            const result = await families.rotate(input);
            if (failNext) {
              failNext = false;
              throw new StoreTimeoutError(1000, 'family_rotate');
            }
            return result;
          },
        },
      };
      const jwt = createJwtService({
        stores: flaky,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'optix-test',
        audience: 'optix-api',
        clock,
      });
      const pair = await jwt.issueTokenPair({ userId, sessionId: session.sessionId });
      await rejectsCode(jwt.refreshTokens(pair.refreshToken), 'ERR_STORE_TIMEOUT');
      clock.advance(2000); // the client retries within the grace window
      const retried = await jwt.refreshTokens(pair.refreshToken);
      const again = await jwt.refreshTokens(pair.refreshToken);
      assert.deepEqual(again, retried, 'the same child each time: no fork');
      await jwt.verifyToken(retried.accessToken);
      const familyId = pair.refreshToken.slice(0, pair.refreshToken.lastIndexOf('.'));
      const family = await stores.refreshFamilies.get(familyId);
      assert.equal(family?.revoked, false, 'not revoked');
      assert.equal(family?.generation, 1, 'exactly one rotation');
      assert.ok(await stores.sessionStore.getSession(session.sessionId), 'the session lives on');
      const events = await stores.securityEvents.listUserEvents(userId, { limit: 100 });
      assert.equal(events.filter((e) => e.type === 'token_reuse_detected').length, 0);
      // The child carries on normally.
      const next = await jwt.refreshTokens(retried.refreshToken);
      await jwt.verifyToken(next.accessToken);
      assert.equal((await stores.refreshFamilies.get(familyId))?.generation, 2);
    });

    it('revoking a refresh token kills its family and its access tokens; an ended session fails its tokens', async () => {
      const { jwt, sessions, userId, session } = await setup();
      const pair = await jwt.issueTokenPair({ userId, sessionId: session.sessionId });
      assert.equal(await jwt.revokeRefreshToken(pair.refreshToken, 'logout'), true);
      await rejectsCode(jwt.verifyToken(pair.accessToken), 'ERR_TOKEN_REVOKED');
      // The logout also ended the session, and the family went with it: refused as unknown.
      await rejectsCode(jwt.refreshTokens(pair.refreshToken), 'ERR_REFRESH_INVALID');
      const s2 = await sessions.createSession({ userId, ipAddress: '10.0.0.2', userAgent: USER_AGENT });
      const pair2 = await jwt.issueTokenPair({ userId, sessionId: s2.sessionId });
      assert.equal(await sessions.terminateSession(s2.sessionId, 'logout'), true);
      await assert.rejects(jwt.verifyToken(pair2.accessToken), {
        code: 'ERR_TOKEN_REVOKED',
        reason: 'session_ended',
      });
      await rejectsCode(jwt.refreshTokens(pair2.refreshToken), 'ERR_REFRESH_INVALID');
    });
  });
}

/** A JWT service over memory stores on a manual clock (tolerance 60 s, access tokens 600 s). */
function manualClockService(extra: Partial<JwtServiceOptions> = {}) {
  const clock = new ManualClock(Date.now());
  const stores = createMemoryStores({ clock });
  const jwt = createJwtService({
    stores,
    keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
    issuer: 'i',
    audience: 'a',
    clock,
    clockToleranceSeconds: 60,
    accessTokenTtlSeconds: 600,
    ...extra,
  });
  return { clock, jwt };
}

describe('JWT service: revocations outlast the clock tolerance', () => {
  // A token verifies until exp + clockToleranceSeconds; its revocation must last as long.

  it('a revoked access token stays revoked after exp, inside the tolerance', async () => {
    const { clock, jwt } = manualClockService();
    const { token } = await jwt.createAccessToken({ userId: 'u-1' });
    assert.equal(await jwt.revokeAccessToken(token, 'logout'), true);
    clock.advance(600_000 + 1_000); // past exp, inside the 60 s tolerance
    await rejectsCode(jwt.verifyToken(token), 'ERR_TOKEN_REVOKED');
    clock.advance(60_000);
    await rejectsCode(jwt.verifyToken(token), 'ERR_JWT_EXPIRED');
  });

  it('the list form and revoke-all too (even with refresh tokens shorter-lived than access + tolerance)', async () => {
    const { clock, jwt } = manualClockService({ refreshTokenTtlSeconds: 620 });
    const listed = await jwt.createAccessToken({ userId: 'u-2' });
    await jwt.blacklistUserTokens({ userId: 'u-2', tokenJtis: [listed.record.jti], reason: 'incident' });
    const all = await jwt.createAccessToken({ userId: 'u-3' });
    await jwt.revokeAllUserTokens('u-3', 'incident');
    clock.advance(600_000 + 30_000);
    await rejectsCode(jwt.verifyToken(listed.token), 'ERR_TOKEN_REVOKED');
    await rejectsCode(jwt.verifyToken(all.token), 'ERR_TOKEN_REVOKED');
  });
});

describe('JWT service: manual clock sanity', () => {
  it('clock tolerance accepts small skew only', async () => {
    const { clock, jwt } = manualClockService({ clockToleranceSeconds: 30, accessTokenTtlSeconds: 60 });
    const { token } = await jwt.createAccessToken({ userId: 'u-1' });
    clock.advance(80_000);
    await jwt.verifyToken(token);
    clock.advance(20_000);
    await assert.rejects(jwt.verifyToken(token), { code: 'ERR_JWT_EXPIRED' });
  });
});

describe('JWT service: the default clock tolerance fits instances with skewed clocks', () => {
  it('a token minted by a clock 2 s ahead verifies at once; 6 s ahead is refused (default 5 s)', async () => {
    const now = Date.now();
    const stores = createMemoryStores({ clock: new ManualClock(now) });
    const make = (clock: ManualClock) =>
      createJwtService({
        stores,
        keys: [{ kid: 'hs-1', alg: 'HS256', secret: TEST_SECRET }],
        issuer: 'i',
        audience: 'a',
        clock,
      });
    const verifier = make(new ManualClock(now));
    for (const ms of [0, 1, 500, 999]) {
      // Every position within the minting second: iat is whole seconds, now is fractional.
      const ahead = make(new ManualClock(Math.floor((now + 2_000) / 1000) * 1000 + ms));
      const { token } = await ahead.createAccessToken({ userId: 'skewed-user' });
      await verifier.verifyToken(token);
    }
    const farAhead = make(new ManualClock(now + 6_000));
    const { token } = await farAhead.createAccessToken({ userId: 'skewed-user' });
    await rejectsCode(verifier.verifyToken(token), 'ERR_JWT_NOT_YET_VALID');
  });
});
