/**
 * `optix-sessions health`: the guide's health check (PING, connected clients, ops/s, latency) on
 * Redis; with `--url`, the service's readiness (`/readyz`, which runs the same check). Without
 * `REDIS_URL` or `--url` there is no shared store to check: it asks the service this configuration
 * would run (`http://HOST:PORT`), so a stopped development server is reported as such.
 */
import { configFrom, type CliIo, EXIT, type GlobalOptions, printJson, withOptix } from '../context.js';
import { ServiceClient } from '../remote.js';

interface Readiness {
  status?: string;
  [field: string]: unknown;
}

async function serviceHealth(io: CliIo, client: ServiceClient, options: GlobalOptions): Promise<number> {
  const res = await client.call<Readiness>('GET', '/readyz', { auth: false, accept: [503] });
  const ready = res.status === 200;
  if (options.json) printJson(io, { service: client.baseUrl, httpStatus: res.status, ...res.body });
  else {
    const detail = Object.entries(res.body ?? {})
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    io.stdout.write(
      `${ready ? 'healthy' : 'unhealthy'}: service ${client.baseUrl}${detail ? `\n  ${detail}` : ''}\n`,
    );
  }
  return ready ? EXIT.OK : EXIT.FAILURE;
}

export async function healthCommand(io: CliIo, options: GlobalOptions): Promise<number> {
  if (options.url !== undefined) {
    return serviceHealth(io, new ServiceClient(options.url, null), options);
  }
  const config = configFrom(io, options);
  if (config.redis === null) {
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    const local = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
    return serviceHealth(io, new ServiceClient(`http://${local}:${config.http.port}`, null), options);
  }
  return withOptix(io, { ...options, config }, async (optix) => {
    const health = await optix.health();
    if (options.json) printJson(io, { backend: optix.backend, ...health });
    else {
      const url = optix.config.redis?.redactedUrl ?? '';
      if (health.status === 'healthy') {
        io.stdout.write(
          `healthy: redis ${health.topology} ${url}\n` +
            `  connected clients ${'connectedClients' in health ? (health.connectedClients ?? '-') : '-'}, ops/s ${'opsPerSec' in health ? (health.opsPerSec ?? '-') : '-'}, latency ${'latencyMs' in health ? (health.latencyMs ?? '-') : '-'} ms\n`,
        );
      } else {
        io.stdout.write(
          `unhealthy: redis ${health.topology} ${url}: ${'error' in health ? (health.error ?? 'no answer') : 'no answer'}\n`,
        );
      }
    }
    return health.status === 'healthy' ? EXIT.OK : EXIT.FAILURE;
  });
}
