/**
 * OpenTelemetry for the service process (composition root only; the library takes a
 * `TracerProvider` or nothing). Loaded by `server.ts` with a dynamic `import()` only when
 * `OTEL_TRACES_EXPORTER` (or an OTLP endpoint) asks for tracing: with tracing off none of the SDK
 * is loaded.
 *
 * `register()` installs, process-wide, the provider, an AsyncLocalStorage context manager (a Redis
 * span finds its request's span as parent) and the W3C `traceparent`/`baggage` propagator (an
 * incoming `traceparent` is continued).
 */
import type { TracerProvider } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import type { TracingConfig } from './config/types.js';

export interface Tracing {
  readonly provider: TracerProvider;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Starts tracing for `config` (whose `exporter` is not `none`) and registers it globally. */
export function startTracing(config: TracingConfig, options: { exporter?: SpanExporter } = {}): Tracing {
  const exporter =
    options.exporter ??
    (config.exporter === 'console'
      ? new ConsoleSpanExporter()
      : new OTLPTraceExporter(config.endpoint !== null ? { url: config.endpoint } : {}));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  return { provider, shutdown: () => provider.shutdown() };
}
