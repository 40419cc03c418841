/** `OTEL_*`: where spans go, if anywhere (see `src/telemetry.ts`). */
import type { TracingConfig } from './types.js';
import { bool, type Env, httpUrl, oneOf, type Problems, raw } from './read.js';

/** The standard `OTEL_*` variables this service honours; off unless asked for. */
export function tracingConfig(env: Env, p: Problems): TracingConfig {
  const base = httpUrl(p, 'OTEL_EXPORTER_OTLP_ENDPOINT', raw(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'));
  const traces = httpUrl(
    p,
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    raw(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
  );
  const endpoint = traces ?? (base !== undefined ? `${base.replace(/\/+$/, '')}/v1/traces` : null);
  const fallback = endpoint !== null ? 'otlp' : 'none';
  let exporter = oneOf(env, p, 'OTEL_TRACES_EXPORTER', ['none', 'otlp', 'console'] as const, fallback);
  if (bool(env, p, 'OTEL_SDK_DISABLED', false)) exporter = 'none';
  const serviceName = raw(env, 'OTEL_SERVICE_NAME') ?? 'optix-sessions';
  return Object.freeze({ exporter, endpoint, serviceName });
}
