/**
 * `optix-sessions admin-link`: the one-time link opens the operator console signed in — its code
 * is exchanged once (browser mode, from an allowed origin) for a token that carries ADMIN_ROLE.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { run } from '../../src/cli/main.js';
import { freePort } from '../helpers/ports.js';
import { createHarness, remember, SERVICE_KEY } from '../http/harness.js';

async function cli(env: Record<string, string>, ...argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { LOG_LEVEL: 'silent', ...env },
    isTTY: false,
  });
  return { code, out, err };
}

describe('optix-sessions admin-link', async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const h = await createHarness({ CORS_ORIGINS: origin });
  await h.app.listen({ port, host: '127.0.0.1' });
  assert.equal((h.app.server.address() as AddressInfo).port, port);

  test('prints a link whose code signs an operator in, once', async () => {
    const res = await cli(
      { OPTIX_SERVICE_KEY: SERVICE_KEY },
      '--url',
      origin,
      'admin-link',
      '--operator',
      'ops-1',
    );
    assert.equal(res.code, 0, res.err);
    const link = res.out.trim();
    const m = /^http:\/\/127\.0\.0\.1:\d+\/admin#code=([A-Za-z0-9_-]{43})$/.exec(link);
    assert.ok(m, link);
    remember(m[1]);
    assert.match(res.err, /works once/);
    const exchange = () =>
      h.inject({
        method: 'POST',
        url: '/v1/browser/session',
        headers: { origin, 'x-optix-csrf': '1', 'content-type': 'application/json' },
        payload: { code: m[1] },
      });
    const first = await exchange();
    assert.equal(first.statusCode, 200, first.body);
    const me = await h.inject({
      method: 'GET',
      url: '/v1/operator/me',
      headers: { authorization: `Bearer ${first.json().accessToken}` },
    });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().userId, 'ops-1');
    assert.equal((await exchange()).statusCode, 401, 'a code works once');
  });

  test('without --url it says what it needs (exit 2); a wrong key exits 77', async () => {
    const none = await cli({}, 'admin-link');
    assert.equal(none.code, 2);
    assert.match(none.err, /--url/);
    const wrong = await cli(
      { OPTIX_SERVICE_KEY: 'not-the-key-0000000000000000' },
      '--url',
      origin,
      'admin-link',
    );
    assert.equal(wrong.code, 77);
  });
});
