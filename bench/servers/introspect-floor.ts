/**
 * Child process of the http-introspect scenario (a reference row, and `profile-http.ts --server`):
 * the least an introspection endpoint can do, with no framework. A bare `node:http` server on a
 * spare port answers `POST /v1/introspect` by checking the service key (SHA-256 digests compared
 * in constant time), reading and parsing the JSON body, verifying the token with the service's own
 * container (the same JWT service, stores and Redis as `optix-app.ts`, recording the session's use
 * as the route does) and sending the serialized answer (built once per token, as the route keeps
 * it). No request id, rate limit, body or response schema, metrics, logs, content-type or error
 * handling: what the hello-world has over this is the ceiling a faster framework, or none, could
 * give the service. Anything but a well-formed request for an active token answers 400.
 *
 * Environment: BENCH_REDIS_URL, BENCH_SERVICE_KEY, BENCH_JWT_SECRET.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { activeAnswer } from '../../src/http/routes/tokens.js';
import { need, startBenchService } from '../support/service.js';

// The container (the limiter is configured off; this server does not use the service's routes).
const service = await startBenchService({ logLevel: 'warn', rateLimitPerMinute: '0' });
const { jwt } = service.optix;
const expected = hash('sha256', `Bearer ${need('BENCH_SERVICE_KEY')}`, 'buffer');
const INTROSPECTION = Object.freeze({ recordActivity: Object.freeze({ endpoint: '/v1/introspect' }) });
type Payload = Awaited<ReturnType<typeof jwt.verifyToken>>['payload'];
const answers = new WeakMap<Payload, string>();

const server = createServer((req, res) => {
  const fail = () => {
    res.writeHead(400, { 'content-length': '0' });
    res.end();
  };
  const auth = req.headers.authorization;
  if (
    req.method !== 'POST' ||
    req.url !== '/v1/introspect' ||
    auth === undefined ||
    !timingSafeEqual(hash('sha256', auth, 'buffer'), expected)
  ) {
    return fail();
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    body += chunk;
  });
  req.on('end', () => {
    let token: unknown;
    try {
      token = (JSON.parse(body) as { token?: unknown }).token;
    } catch {
      return fail();
    }
    if (typeof token !== 'string') return fail();
    jwt.verifyToken(token, INTROSPECTION).then(({ payload }) => {
      let answer = answers.get(payload);
      if (answer === undefined) {
        // The route's answer (its serializer aside), for a session made with MFA, as the bench's are.
        answer = JSON.stringify(activeAnswer(payload, true));
        answers.set(payload, answer);
      }
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(answer),
        'cache-control': 'no-store',
      });
      res.end(answer);
    }, fail);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;

process.on('message', (message) => {
  if (message === 'stop') {
    server.close();
    void service.stop().finally(() => process.exit(0));
  }
});
process.send?.({ type: 'ready', port, tokens: [] });
