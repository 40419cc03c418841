/**
 * Every documented way of starting the service (README "Quickstart" and "Production"), started as
 * a child process the way an operator or an orchestrator starts it, then stopped by a signal sent
 * to the pid that was started: the port is free within the drain deadline, the exit code is 0 and
 * nothing of it is left running. The Dockerfile's start command is the production command tested
 * here, and what it copies exists after a build.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { recordSecrets } from '../helpers/log-capture.js';
import { freePort } from '../helpers/ports.js';
import { startService, stopAndCheck, waitHealthy } from '../helpers/service-process.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PRODUCTION_COMMAND = ['node', 'dist/server.js'];
const SERVICE_KEY = 'start-ways-service-key-0123456789abcdef';
recordSecrets(SERVICE_KEY);

/** Resolves when `done()` holds, polling every 10 ms; fails after 10 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    assert.ok(Date.now() < deadline, `no ${what} within 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(() => ensureBuilt());

async function startStop(
  t: { diagnostic(message: string): void },
  name: string,
  command: string,
  args: string[],
  signal: 'SIGTERM' | 'SIGINT',
  options: { group?: boolean; env?: Record<string, string> } = {},
): Promise<void> {
  const port = await freePort();
  const service = startService(command, args, {
    cwd: ROOT,
    port,
    env: { LOG_LEVEL: 'info', ...options.env },
  });
  const upMs = await waitHealthy(service);
  const stopMs = await stopAndCheck(service, signal, options);
  assert.match(service.stdout(), /"msg":"shutdown_completed"/);
  t.diagnostic(`${name}: /healthz after ${upMs} ms; ${signal} → exit 0, port free after ${stopMs} ms`);
}

describe('each documented start command drains and exits 0 on a signal to the started pid', () => {
  test('`npm start` (development): SIGTERM to npm', async (t) => {
    assert.match(
      pkg.scripts.start ?? '',
      /^exec node /,
      'npm start execs node (no shell or tsx CLI in between)',
    );
    await startStop(t, 'npm start', 'npm', ['start'], 'SIGTERM');
  });

  test('`npm start`: Ctrl-C (SIGINT to the whole group, and npm forwards it: the server gets it twice) drains a request in flight and exits 0', async (t) => {
    const port = await freePort();
    const service = startService('npm', ['start'], {
      cwd: ROOT,
      port,
      env: { SERVICE_API_KEYS: SERVICE_KEY, LOG_LEVEL: 'info' },
    });
    await waitHealthy(service);
    // A request in flight (headers read, body not yet sent) keeps the drain going while npm's
    // forwarded copy of the signal arrives.
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    const body = JSON.stringify({ userId: 'ctrl-c-user', ipAddress: '203.0.113.9', userAgent: 'ctrl-c' });
    socket.write(
      'POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\n' +
        `Authorization: Bearer ${SERVICE_KEY}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await until(() => text.startsWith('HTTP/1.1 100 Continue'), '100 Continue');
    text = '';
    try {
      const stopMs = await stopAndCheck(service, 'SIGINT', {
        group: true,
        whileDraining: async () => {
          await new Promise((r) => setTimeout(r, 1_500));
          assert.equal(
            service.child.exitCode,
            null,
            `exited before the request finished:\n${service.stderr()}`,
          );
          socket.write(body);
          await until(() => /"refreshToken"[\s\S]*\}$/.test(text), 'the 201 answer');
          assert.match(text, /^HTTP\/1\.1 201 /);
          const created = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as {
            accessToken: string;
            refreshToken: string;
            session: { sessionId: string };
          };
          recordSecrets(created.accessToken, created.refreshToken, created.session.sessionId);
          socket.end();
        },
      });
      assert.doesNotMatch(service.stderr(), /second SIGINT/);
      t.diagnostic(`npm start, Ctrl-C with a request in flight: 201, then exit 0 after ${stopMs} ms`);
    } finally {
      socket.destroy();
    }
  });

  test('`npm run start:prod` (production, compiled): SIGTERM to npm', async (t) => {
    assert.equal(pkg.scripts['start:prod'], `exec ${PRODUCTION_COMMAND.join(' ')}`);
    await startStop(t, 'npm run start:prod', 'npm', ['run', 'start:prod'], 'SIGTERM');
  });

  test('`node dist/server.js` (the image command): SIGTERM and SIGINT', async (t) => {
    const [command, ...args] = PRODUCTION_COMMAND as [string, ...string[]];
    await startStop(t, 'node dist/server.js', command, args, 'SIGTERM');
    await startStop(t, 'node dist/server.js', command, args, 'SIGINT');
  });

  test('`optix-sessions serve` (the bin, run directly as a PATH lookup runs it): SIGTERM', async (t) => {
    await startStop(
      t,
      'optix-sessions serve',
      join(ROOT, pkg.bin['optix-sessions'] ?? ''),
      ['serve'],
      'SIGTERM',
    );
  });

  test('the README documents the production command and these start commands', () => {
    assert.match(README, /npm run build && npm run start:prod/);
    assert.match(README, /node dist\/server\.js/);
    assert.match(README, /optix-sessions serve/);
  });
});

describe('run time needs no TypeScript tooling', () => {
  test('tsx is a devDependency; dist/ imports nothing from it', () => {
    assert.equal(pkg.dependencies.tsx, undefined);
    assert.ok(pkg.devDependencies.tsx);
    const server = readFileSync(join(ROOT, 'dist/server.js'), 'utf8');
    assert.doesNotMatch(server, /from 'tsx|import\('tsx/);
  });
});

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerInstructions(): Array<{ op: string; args: string; stage: number }> {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const out: Array<{ op: string; args: string; stage: number }> = [];
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\w+)\s+(.*)$/.exec(line);
    assert.ok(match, `Dockerfile line: ${line}`);
    const op = match[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: match[2]!.trim(), stage });
  }
  return out;
}

describe('Dockerfile', () => {
  const instructions = dockerInstructions();
  const last = Math.max(...instructions.map((i) => i.stage));
  const final = instructions.filter((i) => i.stage === last);

  test('multi-stage; the image runs as a non-root user', () => {
    assert.ok(last >= 1, 'at least two stages');
    const user = final.filter((i) => i.op === 'USER').at(-1);
    assert.ok(user, 'USER in the final stage');
    assert.doesNotMatch(user.args, /^(root|0)(:|$)/);
  });

  test('its CMD is exactly the production command tested above, and it overrides no ENTRYPOINT', () => {
    const cmd = final.filter((i) => i.op === 'CMD').at(-1);
    assert.ok(cmd);
    assert.deepEqual(
      JSON.parse(cmd.args),
      PRODUCTION_COMMAND,
      'exec form, so node is pid 1 and gets SIGTERM',
    );
    assert.equal(
      instructions.some((i) => i.op === 'ENTRYPOINT'),
      false,
    );
  });

  test('HEALTHCHECK asks /healthz; NODE_ENV=production and HOST=0.0.0.0 are set', () => {
    const health = final.find((i) => i.op === 'HEALTHCHECK');
    assert.ok(health);
    assert.match(health.args, /\/healthz/);
    const env = final
      .filter((i) => i.op === 'ENV')
      .map((i) => i.args)
      .join(' ');
    assert.match(env, /NODE_ENV=production/);
    assert.match(env, /HOST=0\.0\.0\.0/);
  });

  test('the final stage holds compiled output only, and every file the Dockerfile copies exists (after a build)', () => {
    const copies = instructions.filter((i) => i.op === 'COPY');
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      const parts = copy.args
        .split(/\s+/)
        .filter((p) => !p.startsWith('--chown') && !p.startsWith('--chmod'));
      const fromStage = parts[0]?.startsWith('--from=') === true;
      const sources = parts.slice(fromStage ? 1 : 0, -1);
      for (const source of sources) {
        // `--from=build /app/dist`: the build stage's WORKDIR is /app, its dist/ is ours after a build.
        const local = fromStage ? source.replace(/^\/app\//, '') : source;
        assert.ok(existsSync(join(ROOT, local)), `COPY source ${source} (${local}) exists`);
      }
      if (copy.stage === last) {
        for (const source of sources) assert.doesNotMatch(source, /(^|\/)(src|test|tsconfig[^/]*)(\/|$)/);
      }
    }
    assert.ok(existsSync(join(ROOT, 'dist/server.js')));
    assert.ok(existsSync(join(ROOT, 'dist/stores/redis/lua')), 'Lua scripts are copied into dist/');
    assert.ok(existsSync(join(ROOT, 'dist/web/account/index.html')), 'the web consoles are built into dist/');
  });

  test('docker-compose.yml builds this image and runs it beside Redis', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    assert.match(compose, /^\s+build:/m);
    assert.match(compose, /REDIS_URL: redis:\/\/redis:6379\/0/);
    assert.match(compose, /condition: service_healthy/);
    assert.match(compose, /stop_grace_period:/);
  });
});
