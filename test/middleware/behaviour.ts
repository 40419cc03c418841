/**
 * What every middleware setup must do, whatever the mode and framework: a good token passes with
 * `auth`, a missing or bad one is 401, a missing role, permission, scope or MFA is 403, all in the
 * project's error format.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Harness, LoginResult } from '../http/harness.js';
import { uniqueUser } from '../http/harness.js';
import type { Reply, ResourceApp } from './apps.js';

/** The service harness listening on a spare port; its base URL. */
export async function listen(h: Harness): Promise<string> {
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = h.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** `POST /v1/revoke` over HTTP, as an app would. */
export async function revokeOverHttp(serviceUrl: string, token: string): Promise<void> {
  const res = await fetch(`${serviceUrl}/v1/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  assert.equal(res.status, 200);
  await res.text();
}

function assertError(res: Reply, status: number, code: RegExp | string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(typeof res.body?.error?.message, 'string');
  if (typeof code === 'string') assert.equal(res.body.error.code, code);
  else assert.match(res.body.error.code, code);
}

export function behaviourTests(
  mode: 'local' | 'remote',
  apps: () => ResourceApp[],
  login: (userId: string, extra?: Record<string, unknown>) => Promise<LoginResult>,
) {
  test(`${mode}: a good token passes with a typed auth on the request`, async () => {
    const userId = uniqueUser();
    const l = await login(userId, { roles: ['trader'], permissions: ['quotes:read'], mfaVerified: true });
    for (const app of apps()) {
      const res = await app.get('/whoami', l.accessToken);
      assert.equal(res.status, 200, `${app.name}: ${JSON.stringify(res.body)}`);
      const { auth } = res.body;
      assert.equal(auth.userId, userId);
      assert.equal(auth.sessionId, l.sessionId);
      assert.deepEqual(auth.roles, ['trader']);
      assert.deepEqual(auth.permissions, ['quotes:read']);
      assert.deepEqual(auth.scope, ['quotes:read']);
      assert.equal(auth.mfa, true);
      assert.equal(auth.mode, mode);
      assert.equal(auth.revocationChecked, true);
      assert.equal(typeof auth.tokenId, 'string');
      assert.ok(auth.expiresAt > Date.now());
      for (const path of ['/trade', '/quotes', '/withdraw']) {
        assert.equal((await app.get(path, l.accessToken)).status, 200, `${app.name} ${path}`);
      }
      const pub = await app.get('/public');
      assert.equal(pub.status, 200, `${app.name}: a public route needs no token`);
      assert.equal(pub.body.auth, null);
    }
  });

  test(`${mode}: a missing or invalid token is 401 in the error format`, async () => {
    const l = await login(uniqueUser());
    const tampered = `${l.accessToken.slice(0, -4)}AAAA`;
    for (const app of apps()) {
      const missing = await app.get('/whoami');
      assertError(missing, 401, 'ERR_UNAUTHORIZED');
      assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
      const garbage = await app.get('/whoami', 'not-a-token');
      assertError(garbage, 401, /^ERR_(JWT_MALFORMED|UNAUTHORIZED)$/);
      assert.match(garbage.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assertError(await app.get('/whoami', tampered), 401, /^ERR_(JWT_SIGNATURE|UNAUTHORIZED)$/);
      assertError(await app.get('/trade', 'not-a-token'), 401, /^ERR_(JWT_MALFORMED|UNAUTHORIZED)$/);
    }
  });

  test(`${mode}: a missing role, permission, scope or MFA is 403 ERR_FORBIDDEN`, async () => {
    const l = await login(uniqueUser(), { roles: ['viewer'] });
    for (const app of apps()) {
      assert.equal((await app.get('/whoami', l.accessToken)).status, 200);
      const trade = await app.get('/trade', l.accessToken);
      assertError(trade, 403, 'ERR_FORBIDDEN');
      assert.match(trade.body.error.message, /trader/);
      assert.match(trade.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      const quotes = await app.get('/quotes', l.accessToken);
      assertError(quotes, 403, 'ERR_FORBIDDEN');
      const withdraw = await app.get('/withdraw', l.accessToken);
      assertError(withdraw, 403, 'ERR_FORBIDDEN');
      assert.match(withdraw.body.error.message, /MFA/);
    }
  });
}
