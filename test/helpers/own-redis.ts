/**
 * A throwaway redis-server of the suite's own (never the shared 6379 one), an admin connection to it
 * without a client-side cache (to count commands, kill connections, write raw keys), and every
 * `RedisClient` the suite opens, all closed and stopped after the suite. Call inside `describe`.
 */
import { after, before } from 'node:test';
import { RedisClient } from '../../src/connection/client.js';
import { type RedisServerHandle, startRedisServer } from './redis-server.js';

export interface OwnRedis {
  readonly server: RedisServerHandle;
  readonly admin: RedisClient;
  /** Closes `client` after the suite; returns it. */
  opened(client: RedisClient): RedisClient;
}

export function ownRedisServer(): OwnRedis {
  let server: RedisServerHandle | undefined;
  let admin: RedisClient | undefined;
  const clients: RedisClient[] = [];
  before(async () => {
    server = await startRedisServer();
    admin = new RedisClient({ url: server.url, clientSideCache: false });
    await admin.connect();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await admin?.close();
    await server?.stop();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('ownRedisServer: used before the suite started');
      return server;
    },
    get admin() {
      if (admin === undefined) throw new Error('ownRedisServer: used before the suite started');
      return admin;
    },
    opened(client) {
      clients.push(client);
      return client;
    },
  };
}
