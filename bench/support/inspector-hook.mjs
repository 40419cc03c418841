/**
 * Preloaded (`--import`) into a bench server by `bench/profile-http.ts`: on the IPC message
 * `{ type: 'profile-start' }` it starts the V8 CPU profiler (sampling every 100 µs), and on
 * `{ type: 'profile-stop', file }` writes the `.cpuprofile` to `file` and answers
 * `{ type: 'profile-written' }`. So a profile covers the timed load only, not the start-up.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();

process.on('message', async (message) => {
  if (message === null || typeof message !== 'object') return;
  if (message.type === 'profile-start') {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    process.send?.({ type: 'profile-started' });
  } else if (message.type === 'profile-stop') {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(message.file, JSON.stringify(profile));
    process.send?.({ type: 'profile-written' });
  }
});
