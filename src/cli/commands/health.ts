/** `optix-sessions health`: the guide's health check (PING, connected clients, ops/s, latency). */
import { type CliIo, EXIT, type GlobalOptions, printJson, withOptix } from '../context.js';

export async function healthCommand(io: CliIo, options: GlobalOptions): Promise<number> {
  return withOptix(io, options, async (optix) => {
    const health = await optix.health();
    if (options.json) printJson(io, { backend: optix.backend, ...health });
    else if (health.topology === 'memory') {
      io.stdout.write('healthy: in-memory backend (REDIS_URL is not set)\n');
    } else {
      const url = optix.config.redis?.redactedUrl ?? '';
      if (health.status === 'healthy') {
        io.stdout.write(
          `healthy: redis ${health.topology} ${url}\n` +
            `  connected clients ${health.connectedClients ?? '-'}, ops/s ${health.opsPerSec ?? '-'}, latency ${health.latencyMs ?? '-'} ms\n`,
        );
      } else {
        io.stdout.write(`unhealthy: redis ${health.topology} ${url}: ${health.error ?? 'no answer'}\n`);
      }
    }
    return health.status === 'healthy' ? EXIT.OK : EXIT.FAILURE;
  });
}
