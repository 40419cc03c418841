/**
 * What every route plugin receives from `buildApp`: the container, metrics, the auth hooks and the
 * rate-limit settings. Passed as plugin options, so no route imports a global.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Optix } from '../container.js';
import type { Activity } from './activity.js';
import type { ClientAuthenticator } from './clients.js';
import type { Metrics } from './metrics.js';

export interface Lifecycle {
  /** Set when shutdown began: `/readyz` answers 503 so load balancers stop sending traffic. */
  draining: boolean;
}

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
/** A synchronous hook: Fastify continues when it calls `done` (with an error to answer with it). */
type CallbackHook = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;

/** Rate-limit options for one route (`false`: no limit). */
export type RouteRateLimit =
  | false
  | {
      max: number;
      timeWindow: number;
      keyGenerator?: (request: FastifyRequest) => string;
    };

export interface RouteContext {
  readonly optix: Optix;
  readonly metrics: Metrics;
  readonly lifecycle: Lifecycle;
  readonly requireService: Hook;
  /**
   * Whether the request may see operations details (`/metrics`, `/readyz` details): always when
   * `OPS_API_KEYS` is unset, else only with one of those keys as a Bearer token.
   */
  readonly opsAccess: (request: FastifyRequest) => boolean;
  /** Named OAuth clients and service keys (introspection, revocation, token endpoint). */
  readonly clients: ClientAuthenticator;
  /** preValidation: a service key or OAuth client is required; counts its introspection budget. */
  readonly requireIntrospectionClient: CallbackHook;
  /** preValidation: authenticates a caller that presents credentials; anonymous callers pass. */
  readonly optionalClient: CallbackHook;
  readonly requireUser: Hook;
  /** The user's token must carry `ADMIN_ROLE` (the operator console's routes). */
  readonly requireAdmin: Hook;
  /** The operator overview's per-minute figures. */
  readonly activity: Activity;
  /** Salted hash of an id for logs (never log the id). */
  readonly hashId: (id: string) => string;
  readonly rateLimits: {
    readonly refresh: RouteRateLimit;
    readonly revoke: RouteRateLimit;
    /** `/v1/me/*` writes, per user (the route's token check runs first and names the user). */
    readonly meWrite: RouteRateLimit;
  };
}
