/**
 * Resource-server apps for the middleware tests: the same routes on a real Fastify app and a real
 * Express 5 app, each listening on a spare port, over the `optix-sessions/fastify` and
 * `optix-sessions/express` entry points.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { optixAuth as expressAuth } from '../../src/middleware/express.js';
import optixFastify from '../../src/middleware/fastify.js';
import type { OptixAuthOptions } from '../../src/middleware/types.js';

/** A response: status, parsed JSON body, headers. */
export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read field by field by the tests
  body: any;
  headers: Headers;
}

export interface ResourceApp {
  name: 'fastify' | 'express';
  url: string;
  /** GET `path` with `token` as the bearer (or none). */
  get(path: string, token?: string | null): Promise<Reply>;
  close(): Promise<void>;
}

const ROUTES = {
  whoami: undefined,
  trade: { roles: ['trader'] },
  quotes: { scopes: ['quotes:read'], permissions: ['quotes:read'] },
  withdraw: { mfa: true },
} as const;

function client(name: ResourceApp['name'], url: string, close: () => Promise<void>): ResourceApp {
  return {
    name,
    url,
    async get(path, token) {
      const res = await fetch(`${url}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, body, headers: res.headers };
    },
    close,
  };
}

export async function startFastifyApp(options: OptixAuthOptions): Promise<ResourceApp> {
  const app = Fastify({ logger: false });
  await app.register(optixFastify, options);
  app.get('/public', { config: { optixAuth: false } }, async (request) => ({ auth: request.auth }));
  for (const [path, req] of Object.entries(ROUTES)) {
    app.get(`/${path}`, { config: req ? { optixAuth: req } : {} }, async (request) => ({
      auth: request.auth,
    }));
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  after(close);
  return client('fastify', `http://127.0.0.1:${port}`, close);
}

export async function startExpressApp(options: OptixAuthOptions): Promise<ResourceApp> {
  const app = express();
  const auth = expressAuth(options);
  app.get('/public', (req, res) => {
    res.json({ auth: req.auth ?? null });
  });
  app.use(auth);
  for (const [path, req] of Object.entries(ROUTES)) {
    const handler = (r: express.Request, res: express.Response) => {
      res.json({ auth: r.auth });
    };
    if (req) app.get(`/${path}`, auth.require(req), handler);
    else app.get(`/${path}`, handler);
  }
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await auth.close();
  };
  after(close);
  return client('express', `http://127.0.0.1:${port}`, close);
}

/** Both apps over the same options. */
export async function startApps(options: OptixAuthOptions): Promise<ResourceApp[]> {
  return [await startFastifyApp(options), await startExpressApp(options)];
}

/** Polls `probe` every `intervalMs` until it returns true; the ms it took (from `since`). */
export async function msUntil(
  probe: () => Promise<boolean>,
  since: number,
  limitMs: number,
  intervalMs = 5,
): Promise<number> {
  for (;;) {
    if (await probe()) return performance.now() - since;
    if (performance.now() - since > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
