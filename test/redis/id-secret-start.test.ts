/**
 * The id-tag secret is read once at start, often as a process's first command (a cold server,
 * NOSCRIPT then EVAL). A slow answer is asked again before the start fails: a CI run on a busy
 * machine once failed a whole suite's start with "store did not answer id_secret_init within
 * 300 ms". Own server: `CLIENT PAUSE` holds every client of it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { RedisClient } from '../../src/connection/client.js';
import { StoreTimeoutError } from '../../src/core/errors.js';
import { loadIdCodec } from '../../src/stores/redis/index.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';

describe('the id-tag secret at start', async () => {
  const server = await startRedisServer();
  const admin = createClient({ url: server.url });
  await admin.connect();
  const client = new RedisClient({ url: server.url, commandTimeoutMs: 300, clientSideCache: false });
  await client.connect();
  after(async () => {
    await client.close();
    await admin.close();
    await server.stop();
  });

  it('a first answer slower than the command deadline is asked again, and the one secret is kept', async () => {
    const keyPrefix = uniquePrefix();
    // Writes (scripts included) wait 700 ms: the first attempt (300 ms) and the second (600 ms)
    // time out, the third is answered when the pause ends.
    assert.equal(await admin.sendCommand(['CLIENT', 'PAUSE', '700', 'WRITE']), 'OK');
    const started = performance.now();
    const ids = await loadIdCodec(client, { keyPrefix });
    const took = performance.now() - started;
    assert.ok(took >= 600, `answered in ${took.toFixed(0)} ms: the pause did not hold the first attempts`);
    // Every attempt asked SET NX: the secret stored is the one read, and a later start reads it too.
    const again = await loadIdCodec(client, { keyPrefix });
    const id = ids.newId('alice');
    assert.equal(again.parse('sessionId', id).tag, ids.parse('sessionId', id).tag);
  });

  it('a store that stays silent still fails the start, after three attempts', async () => {
    assert.equal(await admin.sendCommand(['CLIENT', 'PAUSE', '1500', 'WRITE']), 'OK');
    const started = performance.now();
    await assert.rejects(loadIdCodec(client, { keyPrefix: uniquePrefix() }), StoreTimeoutError);
    const took = performance.now() - started;
    assert.ok(took >= 850 && took < 1400, `gave up after ${took.toFixed(0)} ms`);
    await admin.sendCommand(['CLIENT', 'UNPAUSE']);
  });
});
