/**
 * The web consoles (`/account`, and `/admin` when registered): their pages and assets, served by the
 * service itself under a strict Content-Security-Policy. The front end is TypeScript under `web/`
 * (`web/shared/` for both consoles, `web/<console>/` for each); the consoles call the same public
 * HTTP API as every other client (browser mode, `/v1/me/*`).
 *
 * Where the assets come from depends on how the service runs:
 * - compiled (`dist/http/console.js`): `dist/web/`, which `npm run build` writes (`tsc -p
 *   web/tsconfig.json`, then `scripts/copy-web.mjs` for the HTML and CSS);
 * - from source (`npm start`, this file is `src/http/console.ts`): `web/` itself, each `.ts` module
 *   transpiled on its first request with TypeScript's `transpileModule` (no type check: `npm run
 *   typecheck` does that) and kept until the file changes. TypeScript is loaded lazily on the first
 *   asset request, so `/healthz` and the start-up time are not touched.
 *
 * URLs: `GET /<console>` is the page; `GET /console/<dir>/<name>.js|.css` an asset (`dir` one of
 * `shared`, `account`, `admin`). Nothing else under `web/` is reachable (strict name pattern).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpError } from './errors.js';

/** The consoles served, each a page at `/<name>` from `web/<name>/index.html`. */
export const CONSOLES = ['account', 'admin'] as const;
export type ConsoleName = (typeof CONSOLES)[number];

/** Where the assets are served from (`/console/shared/api.js`). */
export const CONSOLE_ASSET_PREFIX = '/console';

export interface ConsoleOptions {
  /**
   * Origins allowed to frame the consoles (CSP `frame-ancestors`, besides the service's own
   * origin): the browser-mode apps (`CORS_ORIGINS`), so the trading web app can embed `/account`.
   */
  readonly frameAncestors: readonly string[];
  /** Consoles to serve (default: all of `CONSOLES`). */
  readonly consoles?: readonly string[];
  /** Where `web/` (or the built `dist/web/`) is; default: found from this module's location. */
  readonly webRoot?: URL;
  /** Serve from sources (transpile on request) rather than a build; default: when running as `.ts`. */
  readonly fromSource?: boolean;
}

/** An asset path: directories and a name of lower-case letters, digits and dashes; `.js` or `.css`. */
const ASSET_PATH = /^(?:[a-z0-9-]+\/)+[a-z0-9-]+\.(js|css)$/;

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/**
 * The Content-Security-Policy of every console response. Scripts and styles from the service's own
 * origin only: no inline script or style, no `eval`, no CDN. `connect-src 'self'`: the consoles
 * talk to this service only. `frame-ancestors`: the service itself and the browser-mode apps.
 */
export function consoleCsp(frameAncestors: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${["'self'", ...frameAncestors].join(' ')}`,
  ].join('; ');
}

function securityHeaders(reply: FastifyReply, csp: string, frameable: boolean): void {
  reply.header('content-security-policy', csp);
  reply.header('x-content-type-options', 'nosniff');
  // The hand-off code arrives in the URL fragment (never sent anyway); no URL leaves in a Referer.
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
  // Old browsers without CSP frame-ancestors: only when no other origin may frame the page.
  if (!frameable) reply.header('x-frame-options', 'SAMEORIGIN');
}

interface Asset {
  readonly body: Buffer;
  readonly etag: string;
  readonly mtimeMs: number;
}

const etagOf = (body: Buffer) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

type Transpile = (source: string, fileName: string) => string;
let transpiler: Promise<Transpile> | null = null;
/** TypeScript's single-file transpiler, loaded once on first use (a dev dependency: source mode only). */
function loadTranspiler(): Promise<Transpile> {
  transpiler ??= import('typescript').then((mod) => {
    const ts = mod.default;
    return (source, fileName) =>
      ts.transpileModule(source, {
        fileName,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ES2022,
          sourceMap: false,
          removeComments: false,
        },
      }).outputText;
  });
  // A failed load (no TypeScript installed) is tried again on the next request, not cached.
  transpiler.catch(() => {
    transpiler = null;
  });
  return transpiler;
}

/** Reads assets from the build, or from `web/` transpiling TypeScript, with a cache by mtime. */
function createAssetSource(webRoot: URL, fromSource: boolean) {
  const cache = new Map<string, Asset>();
  return async function load(path: string): Promise<Asset | null> {
    // From source, a `.js` URL is served from the `.ts` module of the same name.
    const file = fromSource && path.endsWith('.js') ? `${path.slice(0, -3)}.ts` : path;
    const url = new URL(file, webRoot);
    let mtimeMs: number;
    try {
      const info = await stat(url);
      if (!info.isFile()) return null;
      mtimeMs = info.mtimeMs;
    } catch {
      return null;
    }
    const cached = cache.get(path);
    if (cached !== undefined && cached.mtimeMs === mtimeMs) return cached;
    let body = await readFile(url);
    if (file.endsWith('.ts')) {
      const transpile = await loadTranspiler();
      body = Buffer.from(transpile(body.toString('utf8'), file), 'utf8');
    }
    const asset = { body, etag: etagOf(body), mtimeMs };
    cache.set(path, asset);
    return asset;
  };
}

/** Where this module runs from decides the default web root: `src/http` → `web/`, `dist/http` → `dist/web/`. */
function defaults(): { webRoot: URL; fromSource: boolean } {
  const fromSource = import.meta.url.endsWith('.ts');
  return {
    fromSource,
    webRoot: new URL(fromSource ? '../../web/' : '../web/', import.meta.url),
  };
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset, type: string, cache: string) {
  reply.header('content-type', type);
  reply.header('cache-control', cache);
  reply.header('etag', asset.etag);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.send(asset.body);
}

/**
 * Registers the console pages and assets with their security headers. Encapsulated (not wrapped
 * in `fastify-plugin`): the headers hook applies to these routes only, never to the API.
 */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const found = defaults();
  const webRoot = options.webRoot ?? found.webRoot;
  const fromSource = options.fromSource ?? found.fromSource;
  const load = createAssetSource(webRoot, fromSource);
  const csp = consoleCsp(options.frameAncestors);
  const frameable = options.frameAncestors.length > 0;

  // The operator console is never framed by another origin (a framed "revoke everything" button
  // could be clickjacked): `frame-ancestors 'self'` and X-Frame-Options for its page.
  const ownCsp = consoleCsp([]);
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.url === '/admin') securityHeaders(reply, ownCsp, false);
    else securityHeaders(reply, csp, frameable);
    return payload;
  });

  const missing = (what: string) =>
    httpError(
      'ERR_NOT_FOUND',
      fromSource ? `no console asset ${what}` : `no console asset ${what} (was npm run build run?)`,
    );

  for (const name of options.consoles ?? CONSOLES) {
    app.get(`/${name}`, { schema: { hide: true } }, async (request, reply) => {
      // From source, start loading TypeScript now: the page's modules are requested next.
      if (fromSource) void loadTranspiler().catch(() => undefined);
      const page = await load(`${name}/index.html`);
      if (page === null) throw missing(`${name}/index.html`);
      // The page holds no data (everything comes from the API with the user's token): still, no
      // shared cache keeps it, and every load revalidates.
      return send(request, reply, page, TYPES.html!, 'no-store');
    });
  }

  app.get(`${CONSOLE_ASSET_PREFIX}/*`, { schema: { hide: true } }, async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    const match = ASSET_PATH.exec(path);
    if (match === null) throw httpError('ERR_NOT_FOUND', 'no such console asset');
    const asset = await load(path);
    if (asset === null) throw missing(path);
    // Revalidated on every load (ETag): a new build is picked up at once, unchanged files cost a 304.
    return send(request, reply, asset, TYPES[match[1]!]!, 'no-cache');
  });
}
