/**
 * middleware: the resource-server middleware's verifier (`src/middleware`, what `optixAuth` runs
 * per request, framework aside) in both modes.
 * - local: verification against the shared Redis in process, beside the warm library path it
 *   wraps (`jwt.verifyToken`) on the same already-seen tokens;
 * - remote: introspection by the running service (`POST /v1/introspect`, its own process), with
 *   the default 1 s positive cache and with none (every request asks the service), beside one
 *   upstream call to the Fastify hello-world (`fetch` GET, same client), the least a remote check
 *   can cost.
 */
import { createVerifier } from '../../src/middleware/core.js';
import { compareTimed, type Contender } from '../support/measure.js';
import { createOurSide } from '../support/optix.js';
import { ratios } from '../support/report.js';
import type { Scenario } from '../support/scenario.js';
import { createSessions, issueAccessTokens } from '../support/tokens.js';
import { type Child, SERVICE_KEY, startChild } from './http-introspect.js';
import { JWT_SECRET } from '../support/optix.js';

const TOKENS = 1000;
const ENDPOINT = '/v1/orders';

export const scenario: Scenario = {
  name: 'middleware',
  aliases: ['mw'],
  title: 'resource-server middleware: local and remote modes',
  async run({ redis, settings, log }) {
    const our = await createOurSide(redis.url);
    const children: Child[] = [];
    const local = createVerifier({ mode: 'local', jwt: our.jwt, sessions: our.sessions });
    let remote: ReturnType<typeof createVerifier> | null = null;
    let remoteNoCache: ReturnType<typeof createVerifier> | null = null;
    try {
      log(
        `  setup: ${TOKENS} sessions and tokens here; the service and the hello-world in their own processes`,
      );
      const sessions = await createSessions(our, 'mw', TOKENS);
      const tokens = await issueAccessTokens(our, sessions, TOKENS);
      for (const t of tokens) await our.jwt.verifyToken(t);
      const service = await startChild('optix-app.ts', {
        BENCH_REDIS_URL: redis.url,
        BENCH_SERVICE_KEY: SERVICE_KEY,
        BENCH_JWT_SECRET: JWT_SECRET,
        BENCH_TOKENS: String(TOKENS),
        BENCH_LOG_LEVEL: 'warn',
      });
      children.push(service);
      const hello = await startChild('hello-world.ts', {});
      children.push(hello);
      const base = {
        mode: 'remote' as const,
        url: `http://127.0.0.1:${service.port}`,
        credentials: { serviceKey: SERVICE_KEY },
      };
      remote = createVerifier(base);
      remoteNoCache = createVerifier({ ...base, cacheMaxAgeMs: 0 });
      const remoteTokens = service.tokens;
      for (const t of remoteTokens.slice(0, 10)) await remoteNoCache.verify(t, ENDPOINT);
      const helloUrl = `http://127.0.0.1:${hello.port}/`;
      const mustBe = (ok: boolean) => {
        if (!ok) throw new Error('verification failed');
      };

      const contenders: Contender[] = [
        {
          id: 'local',
          label: 'ours: local mode verify (warm token, activity recorded)',
          role: 'ours',
          async op(i) {
            mustBe((await local.verify(tokens[i % TOKENS]!, ENDPOINT)).revocationChecked);
          },
        },
        {
          id: 'library',
          label: 'the warm library path: jwt.verifyToken',
          role: 'reference',
          async op(i) {
            mustBe((await our.jwt.verifyToken(tokens[i % TOKENS]!)).revocationChecked);
          },
        },
        {
          id: 'remote',
          label: 'ours: remote mode verify (service introspection, 1 s cache)',
          role: 'ours',
          async op(i) {
            mustBe((await remote!.verify(remoteTokens[i % TOKENS]!, ENDPOINT)).revocationChecked);
          },
        },
        {
          id: 'remote-no-cache',
          label: 'ours: remote mode verify, no cache (one introspection each)',
          role: 'ours',
          async op(i) {
            mustBe((await remoteNoCache!.verify(remoteTokens[i % TOKENS]!, ENDPOINT)).revocationChecked);
          },
        },
        {
          id: 'hello-upstream',
          label: 'one upstream call: fetch GET to the Fastify hello-world',
          role: 'peer',
          async op() {
            const res = await fetch(helloUrl);
            await res.arrayBuffer();
            mustBe(res.status === 200);
          },
        },
      ];
      const { load, results } = await compareTimed(contenders, settings, log);
      return {
        scenario: 'middleware',
        title: 'resource-server middleware: local and remote modes',
        measures:
          `The verifier the Fastify and Express middleware run per request (framework aside), on ${TOKENS} already-seen tokens in turn. ` +
          'Local: signature, claims and the revocation check against the shared Redis, and the activity of the session, in process; reference: the library call it wraps. ' +
          'Remote: the service (its own process, NODE_ENV=production, logs at warn) introspects; with its default 1 s positive cache and with none; peer: one fetch GET to the Fastify hello-world (its own process), the least a call to another process costs.',
        settings: {
          ...load,
          rounds: settings.rounds,
          warmupMs: settings.warmupMs,
          tokens: TOKENS,
          endpoint: ENDPOINT,
        },
        results,
        ratios: ratios(results, [
          {
            id: 'local/library',
            label: 'local mode / warm library verify',
            numerator: 'local',
            denominator: 'library',
          },
          {
            id: 'remote-no-cache/hello-upstream',
            label: 'remote mode, no cache / one upstream call',
            numerator: 'remote-no-cache',
            denominator: 'hello-upstream',
          },
          {
            id: 'remote/hello-upstream',
            label: 'remote mode (1 s cache) / one upstream call',
            numerator: 'remote',
            denominator: 'hello-upstream',
          },
        ]),
        notes: [
          "The service, the hello-world, redis-server and this process share the machine: the remote rows include the service's CPU taken from the same cores.",
          'Remote mode with its cache answers a token it introspected less than 1 s ago in process; the no-cache row asks the service every time (concurrent requests with one token still share one introspection).',
        ],
      };
    } finally {
      await local.close();
      await remote?.close();
      await remoteNoCache?.close();
      await Promise.all(children.map((c) => c.stop()));
      await our.close();
    }
  },
};
