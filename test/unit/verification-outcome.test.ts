/** Verification outcomes counted in `optix_token_verifications_total`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verificationOutcome } from '../../src/http/metrics.js';

test('an error outside the catalog is counted as error, never as a valid verification', () => {
  assert.equal(verificationOutcome(undefined), 'error');
  assert.equal(verificationOutcome('ERR_JWT_EXPIRED'), 'expired');
  assert.equal(verificationOutcome('ERR_TOKEN_REVOKED'), 'revoked');
  assert.equal(verificationOutcome('ERR_STORE_UNAVAILABLE'), 'store_unavailable');
  assert.equal(verificationOutcome('ERR_STORE_TIMEOUT'), 'store_unavailable');
  assert.equal(verificationOutcome('ERR_JWT_SIGNATURE'), 'invalid');
});
