/**
 * Hand-written cases of each hostile-input class the fuzzer generates, with the exact answer
 * expected, and a test for each defect of these kinds it can find:
 *
 * - a malformed percent-encoding in the path is answered `{ error: { code } }`, never by Fastify
 *   itself (`{"error":"Bad Request","code":"FST_ERR_BAD_URL",…}`, which quotes the path);
 * - an over-long path parameter gets a status and code from the catalog, never 414
 *   `FST_ERR_MAX_PARAM_LENGTH`;
 * - a 503 carries no Redis error text (a script hash and line, an address) to the client.
 *
 * A known issue in code this suite does not own runs as `todo` until it is fixed, then as a plain
 * test.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isOptixError, StoreTimeoutError, StoreUnavailableError } from '../../src/core/errors.js';
import { toHttpError } from '../../src/http/errors.js';
import { forged, identity, PUBLIC_KEY_FORMS, resolveToken, type TokenRecipe } from './tokens.js';
import { buildWorld, poolsFor, type World } from './world.js';

let world: World;
before(async () => {
  world = await buildWorld({ backend: 'memory' });
});
after(() => world?.close());

const service = () => ({ authorization: `Bearer ${world.serviceKeys[0]}` });
const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

async function verifyCode(token: unknown): Promise<string> {
  try {
    await world.optix.jwt.verifyToken(token as string);
    return 'accepted';
  } catch (err) {
    assert.ok(isOptixError(err), `not a catalog error: ${String(err)}`);
    return err.code;
  }
}

async function introspect(token: string): Promise<unknown> {
  const res = await world.app.inject({
    method: 'POST',
    url: '/v1/introspect',
    headers: service(),
    payload: { token },
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

describe('the URL itself is hostile', () => {
  test('a malformed percent-encoding answers 400 ERR_VALIDATION in the standard body, without the path', async () => {
    for (const url of ['/v1/admin/users/a%ZZb/sessions', '/docs%E0%A4%A', '/v1/me/sessions/%', '/%C0']) {
      const res = await world.app.inject({ method: 'GET', url, headers: service() });
      assert.equal(res.statusCode, 400, url);
      assert.deepEqual(res.json(), {
        error: { code: 'ERR_VALIDATION', message: 'the URL is not valid (malformed percent-encoding)' },
      });
    }
  });

  test('a path parameter longer than any id answers 400 ERR_INVALID_ID (not 414)', async () => {
    for (const [method, url] of [
      // The router takes parameters up to 800 characters (a 256-byte user id, percent-encoded).
      ['GET', `/v1/admin/users/${'a'.repeat(801)}/sessions`],
      ['DELETE', `/v1/admin/sessions/${'s'.repeat(5000)}`],
      ['DELETE', `/v1/me/devices/${'d'.repeat(801)}`],
    ] as const) {
      const res = await world.app.inject({ method, url, headers: service() });
      assert.equal(res.statusCode, 400, `${url.slice(0, 40)}: ${res.body}`);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'ERR_INVALID_ID');
    }
    // 512 characters still reach the schema, which names the parameter (a user id is at most 256 bytes).
    const res = await world.app.inject({
      method: 'GET',
      url: `/v1/admin/users/${'a'.repeat(512)}/sessions`,
      headers: service(),
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /userId/);
  });
});

describe('server-side failures', () => {
  test('a 503 carries a fixed message, never the Redis error', () => {
    const unavailable = toHttpError(
      new StoreUnavailableError(
        'Redis index_add failed: ERR value is not an integer or out of range script: 1646…, on @user_script:34',
      ),
    );
    assert.equal(unavailable.status, 503);
    assert.deepEqual(unavailable.body, {
      error: { code: 'ERR_STORE_UNAVAILABLE', message: 'the session store is unavailable; retry shortly' },
    });
    const timeout = toHttpError(new StoreTimeoutError(1000, 'EVALSHA on 10.0.0.7:6379'));
    assert.equal(timeout.status, 503);
    assert.doesNotMatch(timeout.body.error.message, /10\.0\.0\.7|EVALSHA/);
    assert.equal(timeout.body.error.code, 'ERR_STORE_TIMEOUT');
  });
});

describe('hostile access tokens', () => {
  let victim: Awaited<ReturnType<World['newVictim']>>;
  let esVictim: Awaited<ReturnType<World['newVictim']>>;
  before(async () => {
    victim = await world.newVictim('ed');
    esVictim = await world.newVictim('es');
  });
  const resolve = (r: TokenRecipe) =>
    resolveToken(r, poolsFor(world, { access: [victim.access], refresh: [victim.refresh] }));

  test('the genuine token is active (the cases below differ from it only in what they say)', async () => {
    assert.equal(await verifyCode(victim.access), 'accepted');
    assert.equal(((await introspect(victim.access)) as { active: boolean }).active, true);
  });

  test('alg none, with or without a signature, is ERR_JWT_ALGORITHM and inactive', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      for (const sig of [{ sig: 'empty' as const }, { sig: 'keep' as const }]) {
        const token = resolve(forged({ alg, kid: '@ed', extra: {} }, sig));
        assert.equal(
          await verifyCode(token),
          sig.sig === 'empty' ? 'ERR_JWT_MALFORMED' : 'ERR_JWT_ALGORITHM',
        );
        assert.deepEqual(await introspect(token), { active: false });
      }
    }
  });

  test('HS/RS confusion: HS256 keyed with the public key of the EdDSA or ES256 key is ERR_JWT_ALGORITHM', async () => {
    for (const kid of ['@ed', '@es'] as const) {
      for (const key of PUBLIC_KEY_FORMS) {
        const token = resolve(forged({ alg: 'HS256', kid, extra: {} }, { sig: 'hmac', key }));
        assert.equal(await verifyCode(token), 'ERR_JWT_ALGORITHM', `${kid} ${key}`);
        assert.deepEqual(await introspect(token), { active: false });
      }
    }
    // By hand as well: the PEM text of the signing key's public half as the HMAC secret.
    const [head, payload] = victim.access.split('.');
    const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: world.keys.ed.kid }));
    const data = `${header}.${payload}`;
    const pem = createPublicKey(world.keys.ed.publicKeyPem).export({ type: 'spki', format: 'pem' });
    const token = `${data}.${createHmac('sha256', pem).update(data).digest('base64url')}`;
    assert.notEqual(head, header);
    assert.equal(await verifyCode(token), 'ERR_JWT_ALGORITHM');
  });

  test('kid tricks: traversal, SQL-ish, huge, non-string, prototype names are ERR_JWT_KEY_UNKNOWN', async () => {
    for (const kid of [
      '../../../../etc/passwd',
      '/dev/null',
      "' OR '1'='1",
      '1; DROP TABLE keys; --',
      '__proto__',
      'constructor',
      'toString',
      `${world.keys.ed.kid}\u0000`,
      world.keys.ed.kid.toUpperCase(),
      'k'.repeat(65),
      123,
      null,
      [world.keys.ed.kid],
      { kid: world.keys.ed.kid },
    ]) {
      const token = resolve(forged({ alg: 'EdDSA', kid, extra: {} }, { sig: 'keep' }));
      assert.equal(await verifyCode(token), 'ERR_JWT_KEY_UNKNOWN', JSON.stringify(kid));
      assert.deepEqual(await introspect(token), { active: false });
    }
    // A kid so large the token exceeds 8192 characters is refused before any parsing.
    const huge = resolve(forged({ alg: 'EdDSA', kid: 'k'.repeat(20_000), extra: {} }, { sig: 'keep' }));
    assert.equal(await verifyCode(huge), 'ERR_JWT_MALFORMED');
  });

  test('bad base64 (standard alphabet, padding, non-canonical bits) and invalid UTF-8 are ERR_JWT_MALFORMED', async () => {
    const base = { who: 'victim' as const, kind: 'access' as const, index: 0 };
    for (const ops of [
      [{ op: 'b64std' as const }],
      [{ op: 'affix' as const, s: '=', end: true }],
      [{ op: 'noncanonical' as const, segment: 0 }],
      [{ op: 'noncanonical' as const, segment: 1 }],
      [{ op: 'noncanonical' as const, segment: 2 }],
      [{ op: 'badutf8' as const, segment: 0, bytes: [0xff, 0xfe] }],
      [{ op: 'badutf8' as const, segment: 1, bytes: [0xc0, 0x80] }],
    ]) {
      const token = resolve({ t: 'mutate', base, ops });
      const code = await verifyCode(token);
      assert.ok(['ERR_JWT_MALFORMED', 'ERR_JWT_SIGNATURE'].includes(code), `${JSON.stringify(ops)}: ${code}`);
      assert.deepEqual(await introspect(token), { active: false });
    }
  });

  test('every truncation of a genuine token is refused with a JWT code', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < victim.access.length; i++) {
      const code = await verifyCode(victim.access.slice(0, i));
      assert.notEqual(code, 'accepted', `prefix of ${i} characters`);
      codes.add(code);
    }
    assert.deepEqual(
      [...codes].sort(),
      ['ERR_JWT_MALFORMED', 'ERR_JWT_SIGNATURE'].filter((c) => codes.has(c)),
    );
  });

  test('a token signed with the genuine HS256 key but a fatal claim is refused (expired, revoked jti, ended session, watermark)', async () => {
    const expected: Record<string, string> = {
      'exp-past': 'ERR_JWT_EXPIRED',
      'exp-infinite': 'ERR_JWT_CLAIM',
      'iat-future': 'ERR_JWT_NOT_YET_VALID',
      'iss-wrong': 'ERR_JWT_CLAIM',
      'sub-bad': 'ERR_JWT_CLAIM',
      'sid-bad': 'ERR_JWT_CLAIM',
      'iat_ms-mismatch': 'ERR_JWT_CLAIM',
      'jti-revoked': 'ERR_TOKEN_REVOKED',
      'sid-ended': 'ERR_TOKEN_REVOKED',
      'fid-revoked': 'ERR_TOKEN_REVOKED',
      'before-watermark': 'ERR_TOKEN_REVOKED',
    };
    for (const [fatal, code] of Object.entries(expected)) {
      const token = resolve(
        forged(
          { alg: 'HS256', kid: '@hs', extra: { typ: 'JWT' } },
          { sig: 'genuine', key: 'hs' },
          {
            fatal: fatal as never,
          },
        ),
      );
      assert.equal(await verifyCode(token), code, fatal);
    }
  });

  test('ES256: the other spelling (r, n − s) of a signature is the same token, revoked together', async () => {
    const twin = resolveToken(
      { t: 'mutate', base: { who: 'victim', kind: 'access', index: 0 }, ops: [{ op: 'es-malleate' }] },
      poolsFor(world, { access: [esVictim.access], refresh: [esVictim.refresh] }),
    );
    assert.notEqual(twin, esVictim.access);
    assert.equal(identity(twin), identity(esVictim.access));
    assert.equal(await verifyCode(twin), 'accepted', 'ECDSA signatures are malleable; node accepts both');
    const revoke = await world.app.inject({ method: 'POST', url: '/v1/revoke', payload: { token: twin } });
    assert.equal(revoke.statusCode, 200);
    assert.equal(await verifyCode(esVictim.access), 'ERR_TOKEN_REVOKED');
    assert.deepEqual(await introspect(esVictim.access), { active: false });
  });
});

describe('issues found in code this suite does not own (reported, fixed since)', () => {
  test('blacklisting a revoked token again with a shorter TTL does not shorten its revocation', async () => {
    const v = await world.newVictim('ed');
    await world.optix.jwt.revokeToken({ jti: v.jti, userId: v.userId, reason: 'logout' });
    await world.optix.jwt.revokeToken({ jti: v.jti, userId: v.userId, reason: 'again', ttlSeconds: 1 });
    world.clock.advance(2000);
    try {
      assert.equal(await verifyCode(v.access), 'ERR_TOKEN_REVOKED', 'revoked for 15 min, verifies after 2 s');
    } finally {
      world.clock.advance(-2000);
    }
  });

  test('fixed since reported: terminateSession with an invalid reason rejects and ends nothing', async () => {
    const victim = await world.newVictim('ed');
    await assert.rejects(world.optix.sessions.terminateSession(victim.sessionId, 'r'.repeat(300)), {
      code: 'ERR_INVALID_ARGUMENT',
    });
    assert.notEqual(
      await world.optix.sessions.getSession(victim.sessionId),
      null,
      'a rejected call ended it',
    );
  });
});
