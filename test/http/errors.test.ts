/** The error catalog, its HTTP table and docs/errors.md stay in step. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ERROR_CODES, InvalidIdError, OptixError, StoreUnavailableError } from '../../src/core/errors.js';
import { HTTP_STATUS, toHttpError } from '../../src/http/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => ({
    code: m[1]!,
    status: Number(m[2]),
  }));

  test('lists every code of ERROR_CODES exactly once, and nothing else', () => {
    assert.deepEqual(rows.map((r) => r.code).sort(), [...ERROR_CODES].sort());
  });

  test('states the HTTP status the service uses for each code', () => {
    for (const { code, status } of rows) {
      assert.equal(status, HTTP_STATUS[code as keyof typeof HTTP_STATUS], code);
    }
  });
});

describe('toHttpError', () => {
  test('every code maps to a 4xx or 5xx', () => {
    for (const code of ERROR_CODES) {
      const status = HTTP_STATUS[code];
      assert.ok(status >= 400 && status < 600, code);
    }
  });

  test('client-side codes are 4xx; store codes 503', () => {
    assert.equal(toHttpError(new InvalidIdError('userId', 'bad')).status, 400);
    assert.equal(toHttpError(new StoreUnavailableError('down')).status, 503);
  });

  test('internal details never reach the client', () => {
    const view = toHttpError(new Error('secret internal detail at /srv/app.js:12'));
    assert.equal(view.status, 500);
    assert.deepEqual(view.body, { error: { code: 'ERR_INTERNAL', message: 'internal error' } });
    const config = toHttpError(new OptixError('ERR_CONFIG', 'JWT_SECRET: too short'));
    assert.equal(config.body.error.message, 'internal error');
  });

  test('framework errors become our codes', () => {
    const cases: Array<[object, number, string]> = [
      [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413, message: 'x' }, 413, 'ERR_PAYLOAD_TOO_LARGE'],
      [
        { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415, message: 'x' },
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
      ],
      [{ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400, message: 'x' }, 400, 'ERR_VALIDATION'],
      [{ statusCode: 400, message: 'x', validation: [], validationContext: 'body' }, 400, 'ERR_VALIDATION'],
      [{ statusCode: 400, message: 'x', validation: [], validationContext: 'params' }, 400, 'ERR_INVALID_ID'],
      [{ statusCode: 404, message: 'x' }, 404, 'ERR_NOT_FOUND'],
      [{ statusCode: 418, message: 'x' }, 400, 'ERR_VALIDATION'],
    ];
    for (const [err, status, code] of cases) {
      const view = toHttpError(Object.assign(new Error('x'), err));
      assert.equal(view.status, status, JSON.stringify(err));
      assert.equal(view.body.error.code, code, JSON.stringify(err));
    }
  });
});
