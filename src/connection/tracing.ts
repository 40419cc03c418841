/**
 * One OpenTelemetry CLIENT span per store operation (a command, or one of our scripts by name),
 * child of whatever span is active (the request's). Attributes name the operation, never a key or
 * an argument: key names carry session ids. No OpenTelemetry instrumentation supports node-redis
 * 6's client (`@opentelemetry/instrumentation-redis` patches v4 and older), hence this.
 */
import type { Attributes, Tracer } from '@opentelemetry/api';
import { isOptixError } from '../core/errors.js';
import type { RedisTopology } from './config.js';

export function traced<T>(
  tracer: Tracer,
  topology: RedisTopology,
  operation: string,
  kind: 'command' | 'script',
  run: () => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    'db.system.name': 'redis',
    'db.operation.name': kind === 'script' ? 'EVALSHA' : operation.toUpperCase(),
    'optix.redis.topology': topology,
  };
  if (kind === 'script') attributes['db.stored_procedure.name'] = operation;
  // SpanKind.CLIENT = 2, SpanStatusCode.ERROR = 2: numbers, so that this module loads nothing
  // of OpenTelemetry when tracing is off.
  const span = tracer.startSpan(`redis ${kind === 'script' ? operation : operation.toUpperCase()}`, {
    kind: 2,
    attributes,
  });
  return run().then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      const code = isOptixError(err) ? err.code : 'ERR_STORE_UNAVAILABLE';
      span.setAttribute('error.type', code);
      span.setStatus({ code: 2, message: code });
      span.end();
      throw err;
    },
  );
}
