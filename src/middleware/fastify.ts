/**
 * `optix-sessions/fastify`: a Fastify plugin that verifies the bearer token of every request and
 * puts the caller on `request.auth`.
 *
 * @example
 * import optixAuth from 'optix-sessions/fastify';
 * await app.register(optixAuth, { mode: 'remote', url: 'http://sessions:8080',
 *   credentials: { serviceKey: process.env.OPTIX_SERVICE_KEY! } });
 * app.get('/orders', { config: { optixAuth: { roles: ['trader'], mfa: true } } },
 *   async (request) => listOrders(request.auth!.userId));
 * app.get('/status', { config: { optixAuth: false } }, async () => ({ ok: true })); // public
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createAdapterCore, failureResponse } from './core.js';
import type { AuthRequirements, AuthVerifier, OptixAuth, OptixAuthOptions } from './types.js';

export type * from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller (set by the optix-sessions plugin); `null` on a public route. */
    auth: OptixAuth | null;
  }
  interface FastifyContextConfig {
    /** What this route requires of its caller; `false` makes it public (no token needed). */
    optixAuth?: AuthRequirements | false;
  }
  interface FastifyInstance {
    /** The plugin's verifier (closed with the app). */
    optixAuth: AuthVerifier;
  }
}

/** Options of the plugin: either mode's options. */
export type OptixFastifyOptions = OptixAuthOptions;

const plugin: FastifyPluginAsync<OptixFastifyOptions> = async (app, options) => {
  const core = createAdapterCore(options);
  const { verifier } = core;
  // Requirements are checked once per route, when it is declared (a bad one fails at start-up).
  app.addHook('onRoute', (route) => {
    const config = (route.config as { optixAuth?: AuthRequirements | false } | undefined)?.optixAuth;
    if (config !== undefined && config !== false) core.requirements(config);
  });

  app.decorate('optixAuth', verifier);
  app.decorateRequest('auth', null);
  app.addHook('onClose', async () => verifier.close());

  const refuse = (reply: FastifyReply, err: unknown, hadToken: boolean) => {
    const failure = failureResponse(err, hadToken);
    if (failure === null) throw err; // not ours: the app's error handler answers 500
    return reply.code(failure.status).headers(failure.headers).send(failure.body);
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config?.optixAuth;
    if (config === false) return;
    const result = await core.authorize(
      { authorization: request.headers.authorization, endpoint: () => request.routeOptions.url ?? 'unknown' },
      core.requirements(config),
    );
    if (!result.ok) return refuse(reply, result.error, result.hadToken);
    request.auth = result.auth;
  });
};

/** The plugin (fastify-plugin wrapped: its hook applies to the scope it is registered in). */
const optixAuth = fp(plugin, { fastify: '5.x', name: 'optix-sessions-auth' });
export default optixAuth;
export { optixAuth };
